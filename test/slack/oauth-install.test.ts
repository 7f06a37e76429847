// "Add to Slack" on real Postgres and Redis against the fake Slack: two workspaces install through the OAuth pages
// (state cookie verified), their bot tokens are sealed at rest, each workspace's posts use its own token, the console
// separates their data (an admin bound to workspace T1 sees nothing of T2, attacked by direct URLs), and an
// uninstall / token revocation stops that workspace's posting and says so in the console.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelUnreachableError } from '../../orchestrator/chat';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { adminClient, tokenIn, type AdminClient } from '../support/admin-client';
import { FAKE_CLIENT_ID, FAKE_CLIENT_SECRET } from '../support/fake-slack';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { mention, sign } from '../support/slack-requests';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const wf: Record<'T1' | 'T2', string> = { T1: '', T2: '' };

beforeAll(async () => {
  h = await startHarness({
    env: {
      SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: FAKE_CLIENT_ID, SLACK_CLIENT_SECRET: FAKE_CLIENT_SECRET,
      SLACK_STATE_SECRET: 'state-secret-0123456789abcdef-0123456789', SLACK_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef',
    },
  });
  app = h.runtime.app!;
});
afterAll(async () => { await h?.close(); });

/** The browser's trip: the install page (sets the state cookie), Slack's authorize page (here: skipped, it would
 *  send the browser back with a code for the chosen workspace), the redirect. */
async function install(team: string, tamper: { cookie?: string; state?: string } = {}): Promise<Response> {
  const page = await app.request('http://rolecall.test/slack/install');
  expect(page.status).toBe(200);
  const cookie = page.headers.getSetCookie().find((c) => c.startsWith('slack-app-oauth-state='))!.split(';')[0]!;
  const state = cookie.slice(cookie.indexOf('=') + 1);
  const html = await page.text();
  expect(html).toContain('Add to Slack');
  expect(html).toMatch(/client_id=fake-client-id/);
  expect(html).toMatch(/scope=[^"&]*commands/);
  return app.request(`http://rolecall.test/slack/oauth_redirect?code=code-${team}&state=${encodeURIComponent(tamper.state ?? state)}`, { headers: tamper.cookie === undefined ? { cookie } : tamper.cookie ? { cookie: tamper.cookie } : {} });
}

function event(team: string, ev: Record<string, unknown>) {
  const body = JSON.stringify({ type: 'event_callback', team_id: team, api_app_id: 'A1', event_id: `Ev${randomUUID()}`, event_time: Math.floor(Date.now() / 1000), event: ev, authorizations: [{ team_id: team, user_id: `U_BOT_${team}`, is_bot: true }] });
  return h.post.raw(body, 'application/json', sign(body));
}

async function startIn(team: 'T1' | 'T2', text: string): Promise<string> {
  const ev = mention(text);
  expect((await event(team, ev)).status).toBe(200);
  const plan = await waitFor(() => h.threadPosts(ev.ts)[0], `the plan in ${team}`);
  expect(plan.auth).toBe(`Bearer xoxb-${team}`); // that workspace's own token
  return (await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow')).id;
}

describe('"Add to Slack" install', () => {
  it('refuses an install whose state is not this browser\'s, or forged', async () => {
    expect((await install('T9', { cookie: '' })).status).toBe(400); // no state cookie
    expect((await install('T9', { state: 'forged.state' })).status).toBe(400);
    expect((await install('T9', { cookie: 'slack-app-oauth-state=another' })).status).toBe(400);
    expect(h.slack.callsTo('oauth.v2.access')).toHaveLength(0);
    expect(await h.prisma.slackInstallation.count()).toBe(0);
  });

  it('installs two workspaces, with their tokens sealed at rest, and escapes the team name', async () => {
    for (const team of ['T1', 'T2']) {
      const res = await install(team);
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain('Rolecall is installed');
      expect(html).toContain(`Team ${team} &lt;b&gt;&amp;&lt;/b&gt;`);
    }
    const rows = await h.prisma.slackInstallation.findMany({ orderBy: { teamId: 'asc' } });
    expect(rows.map((r) => [r.teamId, r.status, r.botUserId])).toEqual([['T1', 'active', 'U_BOT_T1'], ['T2', 'active', 'U_BOT_T2']]);
    for (const r of rows) {
      expect(r.botTokenSealed).toMatch(/^v1\./);
      expect(r.botTokenSealed).not.toContain('xoxb');
    }
    // a sealed token moved to another workspace's row does not open
    await h.prisma.slackInstallation.update({ where: { teamId: 'T2' }, data: { botTokenSealed: rows[0]!.botTokenSealed } });
    await expect(h.runtime.deps.chat.slack!.post({ platform: 'slack', teamId: 'T2', channelId: 'C2', threadTs: '1.1' }, { displayName: 'x' }, { text: 'x' }))
      .rejects.toMatchObject({ code: 'token_unreadable' });
    await install('T2'); // installing again replaces it
  });

  it('posts each workspace\'s workflow with its own token', async () => {
    wf.T1 = await startIn('T1', 'we need a login page with SSO for our customer portal');
    wf.T2 = await startIn('T2', 'secret plans of workspace two for a payroll export');
  });
});

describe('per-workspace data separation in the console', () => {
  let global: AdminClient;
  let scoped: AdminClient;
  beforeAll(async () => {
    await upsertAdminUser(h.prisma, 'owner@example.com', PASSWORD, 'owner');
    await upsertAdminUser(h.prisma, 'admin-a@example.com', PASSWORD, 'admin');
    global = adminClient(app);
    scoped = adminClient(app);
    expect((await global.signIn('owner@example.com', PASSWORD)).status).toBe(303);
    // the owner binds admin-a to workspace T1 in the console
    const page = await (await global.get('/admin/workspaces')).text();
    const adminA = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'admin-a@example.com' } });
    expect((await global.post(`/admin/workspaces/users/${adminA.id}`, { teams: 'T1' }, { csrf: tokenIn(page) })).status).toBe(303);
    expect((await scoped.signIn('admin-a@example.com', PASSWORD)).status).toBe(303);
  });

  it('shows the global admin both workspaces and their installs', async () => {
    const list = await (await global.get('/admin/api/workflows')).json() as { id: string }[];
    expect(list.map((w) => w.id)).toEqual(expect.arrayContaining([wf.T1, wf.T2]));
    const page = await (await global.get('/admin/workspaces')).text();
    expect(page).toContain('T1');
    expect(page).toContain('T2');
  });

  it('shows an admin of workspace T1 nothing of T2, whatever the URL', async () => {
    const list = await (await scoped.get('/admin/api/workflows')).json() as { id: string; teamId: string }[];
    expect(list.map((w) => w.teamId)).toEqual(list.map(() => 'T1'));
    expect(list.map((w) => w.id)).toContain(wf.T1);
    const html = await (await scoped.get('/admin/workflows')).text();
    expect(html).not.toContain('payroll');
    expect(html).not.toContain('href="/admin/audit"'); // only the pages they may open are linked
    expect((await scoped.get(`/admin/workflows/${wf.T1}`)).status).toBe(200);
    // direct URLs to T2's workflow: answered as if it did not exist
    const page = await scoped.get(`/admin/workflows/${wf.T2}`);
    expect(page.status).toBe(404);
    expect(await page.text()).not.toContain('payroll');
    expect((await scoped.get(`/admin/api/workflows/${wf.T2}`)).status).toBe(404);
    expect((await scoped.get(`/admin/api/workflows?platform=slack&channel=C_TEAM`)).status).toBe(200);
    const csrf = tokenIn(html);
    expect((await scoped.post(`/admin/workflows/${wf.T2}/cancel`, {}, { csrf })).status).toBe(404);
    expect((await h.prisma.workflow.findUniqueOrThrow({ where: { id: wf.T2 } })).status).not.toBe('cancelled');
    // pages that span every workspace are refused
    for (const path of ['/admin', '/admin/audit', '/admin/api/rbac', '/admin/analytics', '/admin/workspaces', '/admin/roles', '/admin/intents']) {
      const res = await scoped.get(path);
      expect([303, 403], path).toContain(res.status);
      if (res.status === 303) expect(res.headers.get('location')).toBe('/admin/workflows');
    }
    // and a bound admin cannot unbind themself
    const me = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'admin-a@example.com' } });
    expect((await scoped.post(`/admin/workspaces/users/${me.id}`, { teams: '' }, { csrf })).status).toBe(403);
    expect(await h.prisma.adminWorkspace.count({ where: { userId: me.id } })).toBe(1);
  });
});

describe('uninstall and token revocation', () => {
  it('stops posting to an uninstalled workspace and says so in the console, while the other goes on', async () => {
    expect((await event('T2', { type: 'app_uninstalled', event_ts: '1.2' })).status).toBe(200);
    const row = await h.prisma.slackInstallation.findUniqueOrThrow({ where: { teamId: 'T2' } });
    expect(row).toMatchObject({ status: 'uninstalled', botTokenSealed: null });
    const port = h.runtime.deps.chat.slack!;
    const err = await port.post({ platform: 'slack', teamId: 'T2', channelId: 'C_TEAM', threadTs: '1.1' }, { displayName: 'x' }, { text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelUnreachableError);
    expect(err).toMatchObject({ code: 'app_uninstalled' });
    const owner = adminClient(app);
    await owner.signIn('owner@example.com', PASSWORD);
    expect(await (await owner.get(`/admin/workflows/${wf.T2}`)).text()).toContain('Rolecall was uninstalled from this workspace');
    expect(await (await owner.get('/admin/workspaces')).text()).toContain('uninstalled: nothing is posted');
    // T1 still works
    await startIn('T1', 'another request in the first workspace for a report');
  });

  it('disables a workspace whose bot token was revoked, not one where only people\'s tokens were', async () => {
    await event('T1', { type: 'tokens_revoked', tokens: { oauth: ['U_SOMEONE'] }, event_ts: '1.3' });
    expect((await h.prisma.slackInstallation.findUniqueOrThrow({ where: { teamId: 'T1' } })).status).toBe('active');
    await event('T1', { type: 'tokens_revoked', tokens: { bot: ['U_BOT_T1'] }, event_ts: '1.4' });
    expect(await h.prisma.slackInstallation.findUniqueOrThrow({ where: { teamId: 'T1' } })).toMatchObject({ status: 'tokens_revoked', botTokenSealed: null });
  });

  it('takes a workspace back when it installs again', async () => {
    expect((await install('T2')).status).toBe(200);
    expect((await h.prisma.slackInstallation.findUniqueOrThrow({ where: { teamId: 'T2' } })).status).toBe('active');
    await startIn('T2', 'back again with a request for an onboarding checklist');
  });
});
