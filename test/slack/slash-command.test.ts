// The /rolecall slash command over HTTP (signed form posts to /slack/events) on real Postgres and Redis: help, status
// of this channel, cancel with the same conversation and RBAC checks as the Cancel button (audited), and everything
// echoed escaped; answered ephemerally in the response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { mention, sign } from '../support/slack-requests';

let h: Harness;
let workflowId: string;
beforeAll(async () => {
  h = await startHarness();
  const ev = mention('we need a login page with SSO for our customer portal');
  await h.post.event(ev);
  workflowId = (await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow')).id;
});
afterAll(async () => { await h?.close(); });

async function command(text: string, opts: { user?: string; channel?: string; team?: string } = {}) {
  const body = new URLSearchParams({
    token: 'legacy', team_id: opts.team ?? 'T1', team_domain: 'fake', channel_id: opts.channel ?? 'C_TEAM', channel_name: 'team', user_id: opts.user ?? 'U_ALICE',
    user_name: 'alice', command: '/rolecall', text, api_app_id: 'A1', response_url: 'https://hooks.slack.test/commands/x', trigger_id: 'trig-1',
  }).toString();
  const res = await h.post.raw(body, 'application/x-www-form-urlencoded', sign(body));
  expect(res.status).toBe(200);
  const answer = await res.json() as { response_type: string; text: string };
  expect(answer.response_type).toBe('ephemeral');
  return answer.text;
}

describe('/rolecall', () => {
  it('answers help, and escapes what it echoes', async () => {
    expect(await command('')).toContain('/rolecall status');
    expect(await command('help')).toContain('/rolecall cancel <id>');
    const unknown = await command('<!channel> <@U_BOSS>');
    expect(unknown).toContain('&lt;!channel&gt;');
    expect(unknown).not.toContain('<!channel>');
  });

  it('refuses an unsigned command', async () => {
    const body = new URLSearchParams({ command: '/rolecall', text: 'status', team_id: 'T1', channel_id: 'C_TEAM', user_id: 'U_ALICE' }).toString();
    expect((await h.post.raw(body, 'application/x-www-form-urlencoded', {})).status).toBe(401);
  });

  it('lists this channel\'s workflows only, of this workspace only', async () => {
    expect(await command('status')).toContain(`\`${workflowId.slice(0, 8)}\``);
    expect(await command('status', { channel: 'C_OTHER' })).toContain('No workflows in this channel');
    expect(await command('status', { team: 'T_OTHER' })).toContain('No workflows in this channel');
    expect(await command(`cancel ${workflowId.slice(0, 8)}`, { team: 'T_OTHER' })).toContain('No workflow');
  });

  it('cancels only in the workflow\'s channel, for people the gate policies allow, and audits it', async () => {
    const prefix = workflowId.slice(0, 8);
    expect(await command('cancel')).toContain('Say which workflow');
    expect(await command('cancel not-an-id!')).toContain('Say which workflow');
    expect(await command(`cancel ${prefix}`, { channel: 'C_OTHER' })).toContain('another channel');
    await h.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    expect(await command(`cancel ${prefix}`, { user: 'U_EVE' })).toMatch(/^You may not cancel this workflow/);
    expect((await h.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId } })).status).not.toBe('cancelled');
    await h.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_BOSS', role: 'approver' } });
    expect(await command(`cancel ${prefix}`, { user: 'U_BOSS' })).toBe('Workflow cancelled.');
    expect((await h.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId } })).status).toBe('cancelled');
    const audits = await h.prisma.auditLog.findMany({ where: { target: workflowId }, orderBy: { at: 'asc' } });
    expect(audits.map((a) => [a.actor, a.action])).toEqual(expect.arrayContaining([['slack:U_BOSS', 'workflow.cancelled']]));
    expect(await command(`cancel ${workflowId}`, { user: 'U_BOSS' })).toContain('not running any more');
  });
});
