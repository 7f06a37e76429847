// Privacy (issue 18): Slack's user-deletion signal (a signed user_change event whose user is `deleted`) erases what
// Rolecall holds about that person, as the console's erasure does, through a durable job, their stored Slack display
// name included; a profile change that is not a deletion, and other people's data, are left alone; a redelivered
// signal is harmless.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { mention, sign } from '../support/slack-requests';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.close(); });

function userChange(user: Record<string, unknown>) {
  const body = JSON.stringify({
    type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${randomUUID()}`, event_time: Math.floor(Date.now() / 1000),
    event: { type: 'user_change', user, event_ts: '1.1', cache_ts: 1 },
  });
  return h.post.raw(body, 'application/json', sign(body));
}

describe('a Slack user deleted', () => {
  it('erases that person\'s requests, ids and stored name, audited as the platform\'s request; nobody else changes', async () => {
    h.slack.setUser('U_GONE', { name: 'alice', real_name: 'Alice Private', display_name: 'ALICE-NAME-9921' });
    h.slack.setUser('U_STAYS', { name: 'bob', display_name: 'Bob Keeps' });
    const a = mention('we need a login page with SSO for ALICE-PRIVATE-7731 portal', { user: 'U_GONE' });
    const b = mention('we need a billing export feature for BOB-KEEP-4410', { user: 'U_STAYS' });
    expect((await h.post.event(a)).status).toBe(200);
    expect((await h.post.event(b)).status).toBe(200);
    await waitFor(async () => (await h.prisma.workflow.count({ where: { threadTs: { in: [a.ts, b.ts] } } })) === 2, 'both workflows');
    // both names were looked up (users.info) and stored when Rolecall met them
    await waitFor(async () => (await h.prisma.slackUser.findUnique({ where: { id: 'U_GONE' } }))?.name === 'ALICE-NAME-9921', 'the stored name of U_GONE');
    await waitFor(async () => (await h.prisma.slackUser.findUnique({ where: { id: 'U_STAYS' } }))?.name === 'Bob Keeps', 'the stored name of U_STAYS');

    // a profile change that is not a deletion erases nothing
    expect((await userChange({ id: 'U_GONE', team_id: 'T1', deleted: false, name: 'alice' })).status).toBe(200);
    // the deletion, delivered twice (Slack retries): one erasure
    expect((await userChange({ id: 'U_GONE', team_id: 'T1', deleted: true })).status).toBe(200);
    expect((await userChange({ id: 'U_GONE', team_id: 'T1', deleted: true })).status).toBe(200);

    const gone = await waitFor(async () => {
      const wf = await h.prisma.workflow.findFirst({ where: { threadTs: a.ts } });
      return wf?.requestedBy.startsWith('erased:') ? wf : undefined;
    }, 'the erased workflow');
    expect(gone.requestText).not.toContain('ALICE-PRIVATE');
    expect(await h.prisma.workflow.count({ where: { requestedBy: 'U_GONE' } })).toBe(0);
    const kept = await h.prisma.workflow.findFirstOrThrow({ where: { threadTs: b.ts } });
    expect(kept).toMatchObject({ requestedBy: 'U_STAYS' });
    expect(kept.requestText).toContain('BOB-KEEP-4410');
    // the stored Slack name is gone with the person; someone else's stays
    await waitFor(async () => (await h.prisma.slackUser.count({ where: { id: 'U_GONE' } })) === 0, 'the erased name');
    expect(await h.prisma.slackUser.count({ where: { name: { contains: 'ALICE-NAME' } } })).toBe(0);
    expect(await h.prisma.slackUser.findUnique({ where: { id: 'U_STAYS' } })).toMatchObject({ name: 'Bob Keeps' });

    const audits = await waitFor(async () => {
      const rows = await h.prisma.auditLog.findMany({ where: { action: 'privacy.erase' } });
      return rows.length ? rows : undefined;
    }, 'the erasure audit');
    expect(audits).toHaveLength(1);
    expect(audits[0]!.actor).toBe('slack:user_deleted');
    expect(JSON.stringify(audits)).not.toContain('U_GONE');
  });

  it('answers 200 and drops a user_change it cannot read', async () => {
    expect((await userChange({ name: 'no id' })).status).toBe(200);
  });
});
