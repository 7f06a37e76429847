// Thread replies reach the roles in the order people wrote them (the message's own ts), not in the order Slack
// delivered them: Slack does not guarantee event order.
import { afterEach, describe, expect, it } from 'vitest';
import { roleOf } from './support/fake-openai';
import { startThread, tsOf, waitForGate } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, nextTs } from './support/slack-requests';
import { sentAtOf } from '../bot/teams/activity';
import { slackTsToIso } from '../bot/slack/app';

let h: Harness | undefined;
afterEach(async () => { await h?.close(); h = undefined; });

const reply = (text: string, threadTs: string, ts: string) =>
  ({ type: 'message', channel_type: 'channel', user: 'U_CAROL', text, ts, thread_ts: threadTs, channel: 'C_TEAM', event_ts: ts });

describe('thread reply order', () => {
  it('gives the next role the replies in written order when they were delivered in reverse', async () => {
    h = await startHarness();
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1); // the Business Analyst is done; the Technical Architect comes next
    const first = nextTs();
    const second = nextTs(); // written later
    // Slack delivers the later message first
    expect((await h.post.event(reply('correction: use Azure AD instead', ev.ts, second))).status).toBe(200);
    await waitFor(() => h!.prisma.threadReply.findFirst({ where: { messageTs: second } }), 'the correction stored');
    expect((await h.post.event(reply('first: use Okta', ev.ts, first))).status).toBe(200);
    await waitFor(() => h!.prisma.threadReply.findFirst({ where: { messageTs: first } }), 'the first reply stored');

    await h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts }));
    const architect = await waitFor(() => h!.openai.requests.find((r) => roleOf(r) === 'Technical Architect'), 'the Technical Architect\'s model request');
    const prompt = architect.messages[1]!.content;
    expect(prompt).toContain('## Notes from people in the thread');
    const okta = prompt.indexOf('first: use Okta');
    const azure = prompt.indexOf('correction: use Azure AD instead');
    expect(okta).toBeGreaterThan(-1);
    expect(azure).toBeGreaterThan(okta); // the correction reads as the latest word
  });

  it('reads each platform\'s own timestamp', () => {
    expect(slackTsToIso('1700000000.000100')).toBe('2023-11-14T22:13:20.000Z');
    expect(slackTsToIso('not a ts')).toBeUndefined();
    const activity = { type: 'message', channelId: 'msteams', serviceUrl: 'https://smba.example/', conversation: { id: 'c' }, from: { id: 'u' }, recipient: { id: 'b' } };
    expect(sentAtOf({ ...activity, timestamp: '2016-10-19T20:17:52.2891902Z' })).toBe('2016-10-19T20:17:52.289Z');
    expect(sentAtOf({ ...activity, timestamp: 'yesterday' })).toBeUndefined();
    expect(sentAtOf(activity)).toBeUndefined();
  });
});
