// Slack event callbacks taken by the receiver without Bolt (bot/slack/events.ts): a mention in a thread that Slack
// delivers twice, as a `message` first and then as an `app_mention`, starts one workflow, as a mention; the bot's own
// user id comes from one auth.test, not from a Slack call per event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './support/harness';
import { mention, nextTs, threadReply } from './support/slack-requests';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h.close(); });

describe('Slack event callbacks', () => {
  it('starts one workflow for a thread mention delivered as message, then as app_mention', async () => {
    const root = nextTs();
    const asMessage = threadReply('<@U_BOT> we need a password reset page for the partner portal', root);
    const asMention = mention('we need a password reset page for the partner portal', { ts: asMessage.ts, thread_ts: root });
    expect((await h.post.event(asMessage)).status).toBe(200);
    expect((await h.post.event(asMention)).status).toBe(200);
    await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: root } }), 'a workflow for the thread (the message twin alone starts none)');
    expect(await h.prisma.workflow.count({ where: { threadTs: root } })).toBe(1);
  });

  it('asks auth.test once, however many replies mention someone', async () => {
    const root = nextTs();
    for (let i = 0; i < 5; i++) expect((await h.post.event(threadReply(`<@U_CAROL> have a look ${i}`, root))).status).toBe(200);
    expect(h.slack.callsTo('auth.test')).toHaveLength(1);
  });
});
