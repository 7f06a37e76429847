// People by name (issue 14) on the Slack path, on real Postgres and Redis with the fake Slack: the requester of a
// mention and a gate's decider are looked up with users.info (display name, else real name) and shown by name on the
// console's workflow page and audit log, the id in the tooltip, HTML in a name escaped; a failed lookup is logged and
// the workflow goes on, the person shown by id; a person is looked up at most once a day.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineDeps } from '../orchestrator/deps';
import { createLogger } from '../orchestrator/log';
import { REFRESH_MS, rememberPerson } from '../orchestrator/people';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { tsOf, waitForGate, workflowOf } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, mention } from './support/slack-requests';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
let owner: AdminClient;
const logLines: string[] = [];

beforeAll(async () => {
  h = await startHarness({
    env: { ADMIN_SESSION_SECRET: 'slack-people-names-session-secret-0123456789' },
    log: createLogger('warn', (line) => void logLines.push(line)),
  });
  app = h.runtime.app!;
  await upsertAdminUser(h.prisma, 'owner@example.com', PASSWORD, 'owner');
  owner = adminClient(app);
  expect((await owner.signIn('owner@example.com', PASSWORD)).status).toBe(303);
});
afterAll(async () => { await h?.close(); });

const page = async (path: string) => {
  const res = await owner.get(path);
  expect(res.status, path).toBe(200);
  return res.text();
};
const storedName = (id: string) => h.prisma.slackUser.findUnique({ where: { id } });

describe('Slack people on the console', () => {
  it('shows a workflow\'s requester and gate decider by their Slack names, ids in the tooltip, HTML escaped', async () => {
    h.slack.setUser('U_ANN', { name: 'ann', real_name: 'Ann Real', display_name: 'Ann <b>Ops</b> & "co"' });
    h.slack.setUser('U_DEE', { name: 'dee', real_name: 'Dee Cider' }); // no display name: the real name
    const ev = mention('we need a login page with SSO for our customer portal', { user: 'U_ANN' });
    expect((await h.post.event(ev)).status).toBe(200);
    const gate = await waitForGate(h, ev.ts, 1);
    const res = await h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts, user: 'U_DEE' }));
    expect(res.status).toBe(200);
    await waitFor(async () => (await workflowOf(h, ev.ts))?.approvals.find((a) => a.decidedBy === 'U_DEE'), 'the approval by U_DEE');
    await waitFor(async () => (await storedName('U_ANN'))?.name, 'Ann\'s stored name');
    await waitFor(async () => (await storedName('U_DEE'))?.name, 'Dee\'s stored name');
    expect(await storedName('U_ANN')).toMatchObject({ teamId: 'T1', name: 'Ann <b>Ops</b> & "co"' });
    expect((await storedName('U_DEE'))?.name).toBe('Dee Cider');
    const asked = h.slack.callsTo('users.info');
    expect(asked.map((c) => c.params.user).sort()).toEqual(['U_ANN', 'U_DEE']);
    expect(asked.every((c) => c.auth === 'Bearer xoxb-test')).toBe(true); // the workspace's bot token

    const wf = (await workflowOf(h, ev.ts))!;
    const html = await page(`/admin/workflows/${wf.id}`);
    expect(html).toContain('by <span class="person" title="U_ANN">Ann &lt;b&gt;Ops&lt;/b&gt; &amp; &quot;co&quot;</span>');
    expect(html).not.toContain('<b>Ops</b>');
    expect(html).toContain('<span class="person" title="U_DEE">Dee Cider</span>'); // the approvals table's decider
    expect(await page('/admin/workflows')).toContain('<span class="person" title="U_ANN">Ann &lt;b&gt;Ops&lt;/b&gt;');
    expect(await page('/admin/audit?actor=slack')).toContain('<span class="person" title="slack:U_DEE">Dee Cider</span>');
  });

  it('goes on with the workflow when the name lookup fails, logs it, and shows the person by id', async () => {
    h.slack.setUser('U_FAIL', { display_name: 'Never Seen' });
    h.slack.failNext('users.info', 'fatal_error', 1);
    const before = h.slack.callsTo('users.info').length;
    const ev = mention('add CSV export to the billing report', { user: 'U_FAIL' });
    expect((await h.post.event(ev)).status).toBe(200);
    await waitForGate(h, ev.ts, 1); // the workflow went on: its first step ran and asked for approval
    await waitFor(() => logLines.some((l) => l.includes('could not look up a Slack person') && l.includes('fatal_error')), 'the logged failure');
    expect(h.slack.callsTo('users.info').slice(before).map((c) => c.params.user)).toEqual(['U_FAIL']);
    expect((await storedName('U_FAIL'))?.name ?? null).toBeNull();
    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf.requestedBy).toBe('U_FAIL');
    const html = await page(`/admin/workflows/${wf.id}`);
    expect(html).toContain('by <span class="person">U_FAIL</span>');
    expect(html).not.toContain('Never Seen');
  });
});

describe('rememberPerson', () => {
  it('looks a person up at most once a day, keeps the newest name, and never throws', async () => {
    const asked: string[] = [];
    let answer: string | undefined | Error = 'First Name';
    const deps = {
      ...h.runtime.deps,
      chat: { slack: { lookupName: async (_team: string, user: string) => { asked.push(user); if (answer instanceof Error) throw answer; return answer; } } },
    } as unknown as EngineDeps;
    const t0 = new Date();
    await rememberPerson(deps, { platform: 'slack', teamId: 'T1', userId: 'U_DAILY' }, t0);
    await rememberPerson(deps, { platform: 'slack', teamId: 'T1', userId: 'U_DAILY' }, new Date(t0.getTime() + REFRESH_MS - 60_000));
    expect(asked).toEqual(['U_DAILY']);
    expect((await storedName('U_DAILY'))?.name).toBe('First Name');

    answer = 'Renamed';
    await rememberPerson(deps, { platform: 'slack', teamId: 'T1', userId: 'U_DAILY' }, new Date(t0.getTime() + REFRESH_MS));
    expect(asked).toEqual(['U_DAILY', 'U_DAILY']);
    expect((await storedName('U_DAILY'))?.name).toBe('Renamed');

    answer = new Error('Slack is down');
    await expect(rememberPerson(deps, { platform: 'slack', teamId: 'T1', userId: 'U_DAILY' }, new Date(t0.getTime() + 2 * REFRESH_MS))).resolves.toBeUndefined();
    expect(asked).toHaveLength(3);
    expect((await storedName('U_DAILY'))?.name).toBe('Renamed'); // a failed lookup keeps the name it had

    // not Slack, or not an id: nothing is asked
    await rememberPerson(deps, { platform: 'teams', teamId: 'T1', userId: 'U_OTHER' });
    await rememberPerson(deps, { platform: 'slack', teamId: 'T1', userId: 'unknown id <x>' });
    expect(asked).toHaveLength(3);
  });
});
