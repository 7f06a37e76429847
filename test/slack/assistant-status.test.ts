// Slack's AI app features end to end on real Redis and Postgres: a request written in an assistant thread (a DM
// channel, D…, whose messages are replies under the thread Slack opened) runs like a mention, and while a role works
// the thread's status says so (assistant.threads.setStatus: "<role> is working…", its persona's name and icon), set
// right after the role's status post went out (Slack clears the status when the app posts in the thread). Never in a
// channel thread, never without assistant:write; a status Slack refuses is logged and the workflow goes on. Opening an
// assistant thread sets its suggested prompts.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSISTANT_PROMPTS } from '../../bot/slack/assistant';
import { BOT_SCOPES } from '../../bot/slack/oauth';
import { createLogger } from '../../orchestrator/log';
import { defaultScript } from '../support/fake-openai';
import { FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, type SlackCall } from '../support/fake-slack';
import { gatePost, workflowOf } from '../support/flow';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { mention, nextTs, sign } from '../support/slack-requests';

/** A person's message in an assistant thread: a DM reply under the thread Slack opened (`root`). */
const assistantMessage = (text: string, root: string, channel = 'D_ALICE') => {
  const ts = nextTs();
  return { type: 'message', channel_type: 'im', channel, user: 'U_ALICE', text, ts, thread_ts: root, event_ts: ts };
};

const statusCalls = (h: Harness, channel: string) => h.slack.callsTo('assistant.threads.setStatus').filter((c) => c.params.channel_id === channel);
const workingPost = (h: Harness, threadTs: string, role: string) => h.threadPosts(threadTs).find((c) => c.params.username === role && new RegExp(`\\*${role}\\* is working`).test(c.params.text));
const indexOf = (h: Harness, call: SlackCall) => h.slack.calls.indexOf(call);

/** Holds each model call until the role's "working…" post is out, so the poster sends it as it is (not merged with
 *  the output), which is when the status is set. */
function modelAfterWorkingPost(h: Harness, threadTs: () => string) {
  h.openai.script = async (req, n) => {
    await waitFor(() => h.threadPosts(threadTs()).some((c) => / is working/.test(c.params.text)) || undefined, 'a working post');
    return defaultScript(req, n);
  };
}

describe('Slack assistant threads, with assistant:write', () => {
  let h: Harness;
  const lines: string[] = [];
  let current = '';
  beforeAll(async () => {
    h = await startHarness({ log: createLogger('info', (l) => void lines.push(l)) });
    modelAfterWorkingPost(h, () => current);
  });
  afterAll(async () => { await h?.close(); });

  it('runs a request written in an assistant thread, and shows the working role as the thread\'s status, after its status post', async () => {
    const root = nextTs();
    current = root;
    expect((await h.post.event(assistantMessage('we need a login page with SSO for our customer portal', root))).status).toBe(200);
    const wf = await waitFor(() => workflowOf(h, root), 'the workflow of the assistant thread');
    expect(wf).toMatchObject({ channelId: 'D_ALICE', threadTs: root, requestedBy: 'U_ALICE' });
    const gate = await waitFor(() => gatePost(h, root, 1), 'the first gate');

    const calls = statusCalls(h, 'D_ALICE');
    expect(calls).toHaveLength(1);
    const [status] = calls;
    expect(status!.params).toMatchObject({ channel_id: 'D_ALICE', thread_ts: root, status: 'is working…', username: 'Business Analyst', icon_emoji: ':memo:' });
    expect(status!.response).toMatchObject({ ok: true });
    // after the analyst's "working…" post (which would clear it), before the gate card (which clears it)
    const post = workingPost(h, root, 'Business Analyst')!;
    expect(post).toBeDefined();
    expect(indexOf(h, status!)).toBeGreaterThan(indexOf(h, post));
    expect(indexOf(h, status!)).toBeLessThan(indexOf(h, gate));
  });

  it('sets no status in a channel thread', async () => {
    const ev = mention('we need a login page with SSO for our customer portal', { channel: 'C_TEAM' });
    current = ev.ts;
    await h.post.event(ev);
    await waitFor(() => gatePost(h, ev.ts, 1), 'the first gate in the channel thread');
    expect(workingPost(h, ev.ts, 'Business Analyst')).toBeDefined();
    expect(statusCalls(h, 'C_TEAM')).toEqual([]);
    expect(h.slack.callsTo('assistant.threads.setStatus').filter((c) => c.params.thread_ts === ev.ts)).toEqual([]);
  });

  it('goes on when Slack refuses the status: the refusal is logged (info), the step finishes and its gate is posted', async () => {
    const root = nextTs();
    current = root;
    h.slack.failNext('assistant.threads.setStatus', 'channel_not_found');
    await h.post.event(assistantMessage('we need a login page with SSO for our customer portal', root, 'D_BOB'));
    await waitFor(() => gatePost(h, root, 1), 'the first gate despite the refused status');
    const [refused] = statusCalls(h, 'D_BOB');
    expect(refused!.response).toMatchObject({ ok: false, error: 'channel_not_found' });
    const wf = await workflowOf(h, root);
    expect(wf!.steps[0]!.status).toBe('awaiting_approval');
    const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; error?: string }).filter((l) => l.msg.startsWith('could not show the working status'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'info', error: expect.stringContaining('channel_not_found') });
  });

  it('sets the suggested prompts when a person opens an assistant thread', async () => {
    const root = nextTs();
    const res = await h.post.event({ type: 'assistant_thread_started', assistant_thread: { user_id: 'U_ALICE', channel_id: 'D_ALICE', thread_ts: root, context: { channel_id: 'C_TEAM', team_id: 'T1' } }, event_ts: nextTs() });
    expect(res.status).toBe(200);
    const set = await waitFor(() => h.slack.callsTo('assistant.threads.setSuggestedPrompts').find((c) => c.params.thread_ts === root), 'the suggested prompts');
    expect(set.params).toMatchObject({ channel_id: 'D_ALICE', thread_ts: root, prompts: ASSISTANT_PROMPTS });
    expect(set.response).toMatchObject({ ok: true });
  });
});

describe('Slack direct messages, without assistant:write (an install from before the AI app features)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    h.slack.setScopes(BOT_SCOPES.filter((s) => s !== 'assistant:write'));
  });
  afterAll(async () => { await h?.close(); });

  it('sets no status: the DM is not an assistant thread', async () => {
    const root = nextTs();
    modelAfterWorkingPost(h, () => root);
    await h.post.event(assistantMessage('we need a login page with SSO for our customer portal', root));
    await waitFor(() => gatePost(h, root, 1), 'the first gate');
    expect(workingPost(h, root, 'Business Analyst')).toBeDefined();
    expect(h.slack.callsTo('assistant.threads.setStatus')).toEqual([]);
  });
});

describe('Slack assistant threads of an "Add to Slack" install', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      env: {
        SLACK_BOT_TOKEN: '', SLACK_CLIENT_ID: FAKE_CLIENT_ID, SLACK_CLIENT_SECRET: FAKE_CLIENT_SECRET,
        SLACK_STATE_SECRET: 'state-secret-0123456789abcdef-0123456789', SLACK_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      },
    });
  });
  afterAll(async () => { await h?.close(); });

  it('sets the status with the workspace\'s own token, the install having asked for assistant:write', async () => {
    // the browser's trip through the install pages (test/slack/oauth-install.test.ts checks it in detail)
    const app = h.runtime.app!;
    const page = await app.request('http://rolecall.test/slack/install');
    expect(await page.text()).toMatch(/scope=[^"&]*assistant%3Awrite/);
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('slack-app-oauth-state='))!.split(';')[0]!;
    const state = cookie.slice(cookie.indexOf('=') + 1);
    expect((await app.request(`http://rolecall.test/slack/oauth_redirect?code=code-T7&state=${encodeURIComponent(state)}`, { headers: { cookie } })).status).toBe(200);

    const root = nextTs();
    modelAfterWorkingPost(h, () => root);
    const body = JSON.stringify({ type: 'event_callback', team_id: 'T7', api_app_id: 'A1', event_id: `Ev${randomUUID()}`, event_time: Math.floor(Date.now() / 1000), event: assistantMessage('we need a login page with SSO for our customer portal', root, 'D_T7'), authorizations: [{ team_id: 'T7', user_id: 'U_BOT_T7', is_bot: true }] });
    expect((await h.post.raw(body, 'application/json', sign(body))).status).toBe(200);
    await waitFor(() => gatePost(h, root, 1), 'the first gate in T7');
    const [status] = statusCalls(h, 'D_T7');
    expect(status).toMatchObject({ auth: 'Bearer xoxb-T7', params: { thread_ts: root, status: 'is working…', username: 'Business Analyst' }, response: { ok: true } });
  });
});
