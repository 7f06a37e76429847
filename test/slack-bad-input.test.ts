// Bad or repeated input gets a clear answer and loses nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './support/harness';
import { startThread, threadMessages, workflowOf } from './support/flow';
import { mention, sign, SIGNING_SECRET, threadReply } from './support/slack-requests';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h.close(); });

const jobCount = async () => Object.values(await h.runtime.queueCounts()).reduce((a, b) => a + b, 0);

describe('Slack request verification', () => {
  const body = () => JSON.stringify({ type: 'event_callback', team_id: 'T1', event_id: 'EvBad', event: mention('should never run') });
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, (b: string) => Record<string, string>][] = [
    ['a wrong signature', (b) => ({ ...sign(b, now(), 'not-the-secret') })],
    ['no signature headers', () => ({})],
    ['a signature over a different body', (b) => sign(b + ' ')],
    ['a timestamp 6 minutes old', (b) => sign(b, now() - 360)],
    ['a timestamp 6 minutes in the future', (b) => sign(b, now() + 360)],
    ['a non-numeric timestamp', (b) => ({ ...sign(b), 'x-slack-request-timestamp': 'yesterday' })],
  ];
  for (const [what, headers] of cases) {
    it(`answers 401 and enqueues nothing for ${what}`, async () => {
      const before = await jobCount();
      const b = body();
      const res = await h.post.raw(b, 'application/json', headers(b));
      expect(res.status).toBe(401);
      expect(await jobCount()).toBe(before);
    });
  }

  it('accepts a timestamp 4 minutes off', async () => {
    const b = JSON.stringify({ type: 'url_verification', challenge: 'c1' });
    const res = await h.post.raw(b, 'application/json', sign(b, Math.floor(Date.now() / 1000) - 240, SIGNING_SECRET));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'c1' });
  });

  it('answers 413 to a body over 1 MiB, before reading it as an event', async () => {
    const b = JSON.stringify({ type: 'event_callback', team_id: 'T1', event_id: 'EvBig', event: mention('x'.repeat(1_100_000)) });
    const before = await jobCount();
    const res = await h.post.raw(b, 'application/json', sign(b));
    expect(res.status).toBe(413);
    expect(await jobCount()).toBe(before);
  });

  it('answers 400 to a signed body that is not JSON', async () => {
    const res = await h.post.raw('{not json', 'application/json', sign('{not json'));
    expect(res.status).toBe(400);
  });
});

describe('every signed request gets a deliberate answer', () => {
  const send = (b: string) => h.post.raw(b, 'application/json', sign(b));
  const form = (payload: unknown) => {
    const b = 'payload=' + encodeURIComponent(JSON.stringify(payload));
    return h.post.raw(b, 'application/x-www-form-urlencoded', sign(b));
  };

  it('answers 400 to JSON that is not an object, and to an object without a type or an event', async () => {
    for (const b of ['[1,2,3]', '42', 'null', '"text"', '{}', '{"type":"event_callback","team_id":"T1"}']) {
      const before = await jobCount();
      const res = await send(b);
      expect(res.status, b).toBe(400);
      expect(await jobCount(), b).toBe(before);
    }
    expect((await form([1, 2, 3])).status).toBe(400);
  });

  it("answers 200 to Slack's app_rate_limited notice and queues nothing", async () => {
    const before = await jobCount();
    const res = await send('{"token":"t","type":"app_rate_limited","team_id":"T1","minute_rate_limited":1518467820,"api_app_id":"A1"}');
    expect(res.status).toBe(200);
    expect(await jobCount()).toBe(before);
  });

  it('answers 200 to request types and buttons Rolecall does not handle', async () => {
    const before = await jobCount();
    expect((await send(JSON.stringify({ type: 'some_future_type', team_id: 'T1' }))).status).toBe(200);
    expect((await form({ type: 'shortcut', callback_id: 'x', trigger_id: 't', user: { id: 'U1' }, team: { id: 'T1' } })).status).toBe(200);
    expect((await form({ type: 'block_actions', user: { id: 'U1' }, team: { id: 'T1' }, trigger_id: 't', actions: [{ action_id: 'not_ours', value: 'v' }] })).status).toBe(200);
    expect((await send(JSON.stringify({ type: 'event_callback', team_id: 'T1', event_id: 'EvX', event: { type: 'reaction_added', user: 'U1' } }))).status).toBe(200);
    expect(await jobCount()).toBe(before);
  });
});

describe('repeated and self-made events', () => {
  it("runs exactly one workflow for Slack's retries of the same event", async () => {
    const ev = mention('please build a signup page with email verification');
    const first = await h.post.event(ev, { eventId: 'EvRetry1' });
    const retries = await Promise.all([1, 2, 3].map((n) => h.post.event(ev, { eventId: 'EvRetry1', headers: { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_timeout' } })));
    expect([first, ...retries].map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await waitFor(() => threadMessages(h, ev.ts).find((c) => c.params.username === 'Business Analyst' && /says: done/.test(c.params.text)), 'first output');
    expect(await h.prisma.workflow.count({ where: { threadTs: ev.ts } })).toBe(1);
    expect(h.threadPosts(ev.ts).filter((c) => c.params.username === 'Rolecall')).toHaveLength(1);
  });

  it("ignores the bot's own persona posts and other bot messages", async () => {
    const ev = await startThread(h, 'add a dark mode toggle to the mobile app');
    await waitFor(() => h.threadPosts(ev.ts).length > 0, 'plan');
    const own = { ...threadReply('Business Analyst says: hello', ev.ts), bot_id: 'B_SELF', user: undefined, subtype: 'bot_message', username: 'Business Analyst' };
    const mentionByBot = { ...mention('start something', { user: 'U_BOT' }), bot_id: 'B_SELF' };
    for (const e of [own, mentionByBot]) expect((await h.post.event(e)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.prisma.workflow.count({ where: { OR: [{ threadTs: mentionByBot.ts }, { threadTs: ev.ts }] } })).toBe(1);
    expect(await h.prisma.threadReply.count()).toBe(0);
  });

  it('routes a thread reply during a workflow to that workflow as context, never a second workflow', async () => {
    h.openai.script = (req) => ({ content: `${/You are the ([A-Za-z ]+?)[.,]/.exec(req.messages[0]!.content)![1]} says: done` });
    const ev = await startThread(h, 'we need a login page with SSO for the partner portal');
    await waitFor(() => h.threadPosts(ev.ts).some((c) => c.params.username === 'Business Analyst' && c.params.blocks?.some((b: any) => b.type === 'actions')), 'gate');
    const reply = threadReply('Please also support Okta', ev.ts, { user: 'U_CAROL' });
    const mentionInThread = mention('and keep it accessible', { thread_ts: ev.ts });
    await h.post.event(reply);
    await h.post.event(mentionInThread);
    await waitFor(async () => (await h.prisma.threadReply.count({ where: { workflow: { threadTs: ev.ts } } })) === 2, 'two replies stored');
    expect(await h.prisma.workflow.count({ where: { threadTs: ev.ts } })).toBe(1);
    // each reply gets 👀 so its writer sees it was taken (as context: no step was waiting for an answer)
    const seen = await waitFor(() => {
      const r = h.slack.callsTo('reactions.add');
      return r.length === 2 ? r : undefined;
    }, 'two reactions');
    expect(seen.map((c) => [c.params.name, c.params.timestamp]).sort()).toEqual([['eyes', mentionInThread.ts], ['eyes', reply.ts]].sort());
    const wf = (await workflowOf(h, ev.ts))!;
    const approvalId = wf.approvals[0]!.id;
    const { buttonClick } = await import('./support/slack-requests');
    const gate = h.threadPosts(ev.ts).find((c) => c.params.blocks?.some((b: any) => b.type === 'actions'))!;
    await h.post.interaction(buttonClick('approve', approvalId, { messageTs: gate.response!.ts, threadTs: ev.ts }));
    const architectRequest = await waitFor(() => h.openai.requests.find((r) => r.messages[0]!.content.startsWith('You are the Technical Architect') && r.messages[1]!.content.includes('Please also support Okta')), 'architect prompt with the reply');
    expect(architectRequest.messages[1]!.content).toContain('U_CAROL: Please also support Okta');
    expect(architectRequest.messages[1]!.content).toContain('and keep it accessible');
  });
});
