// Slack Socket Mode end to end on real Redis and Postgres: Rolecall opens apps.connections.open with the app token,
// connects to the fake's socket-mode WebSocket (hello, pings), and each envelope (a mention, a gate click, the
// /rolecall command, App Home opened) runs the same paths as over HTTP; every envelope is acknowledged with its
// envelope_id once its work is kept, and the posts go out through the (fake) Web API.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonsOf, startHarness, waitFor, type Harness } from '../support/harness';
import { buttonClick, mention } from '../support/slack-requests';

let h: Harness;
beforeAll(async () => {
  // Socket Mode only: no signing secret, so POST /slack/events is not served at all
  h = await startHarness({ env: { SLACK_APP_TOKEN: 'xapp-1-A1-test', SLACK_SIGNING_SECRET: '' } });
  await waitFor(() => h.slack.socket.connected() > 0 || undefined, 'the socket-mode connection');
});
afterAll(async () => { await h?.close(); });

const envelope = (event: Record<string, unknown>) => ({
  type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${randomUUID()}`, event_time: Math.floor(Date.now() / 1000), event,
  authorizations: [{ team_id: 'T1', user_id: 'U_BOT', is_bot: true }],
});

describe('Slack Socket Mode', () => {
  it('connects with the app token, without a public URL', async () => {
    expect(h.slack.callsTo('apps.connections.open')[0]?.auth).toBe('Bearer xapp-1-A1-test');
    const events = await fetch(`${h.url}/slack/events`, { method: 'POST', body: '{}' });
    expect(events.status).toBe(503); // said to be off (app/home.tsx), never handled
    expect(await events.text()).toContain('Socket Mode');
  });

  it('runs a mention to a workflow, a gate click and the slash command over the socket, acking each envelope', async () => {
    const ev = mention('we need a login page with SSO for our customer portal');
    const sent = h.slack.socket.send('events_api', envelope(ev));
    expect(await sent.acked).toEqual({});
    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'the plan, posted through the Web API');
    expect(plan.auth).toBe('Bearer xoxb-test');
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow');
    expect(wf).toMatchObject({ platform: 'slack', teamId: 'T1', channelId: 'C_TEAM', requestedBy: 'U_ALICE' });

    // a gate click arrives as an "interactive" envelope and goes through Bolt's listener, queued before the ack
    const gate = await waitFor(() => h.prisma.approval.findFirst({ where: { workflowId: wf.id, status: 'pending', messageTs: { not: null } } }), 'the first gate');
    const gateCall = h.slack.callsTo('chat.postMessage').find((c) => c.response?.ts === gate.messageTs)!;
    expect(buttonsOf(gateCall).approve).toBe(gate.id);
    const click = h.slack.socket.send('interactive', buttonClick('approve', gate.id, { messageTs: gate.messageTs!, threadTs: ev.ts, user: 'U_BOB' }));
    expect(await click.acked).toEqual({});
    await waitFor(async () => (await h.prisma.approval.findUnique({ where: { id: gate.id } }))?.status === 'approved' || undefined, 'the gate approved');

    // /rolecall status answers in the ack, ephemerally
    const status = h.slack.socket.send('slash_commands', { command: '/rolecall', text: 'status', team_id: 'T1', channel_id: 'C_TEAM', user_id: 'U_ALICE', trigger_id: 'trig-1' });
    const answer = await status.acked;
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toContain(wf.id.slice(0, 8));
    expect(h.slack.socket.acks.map((a) => a.envelopeId)).toEqual(expect.arrayContaining([sent.envelopeId, click.envelopeId, status.envelopeId]));
  });

  it('publishes the App Home when it is opened, with the person\'s workflows escaped', async () => {
    const ev = mention('<!channel> read <https://evil.example|this> & *now*', { user: 'U_CAROL' });
    await h.slack.socket.send('events_api', envelope(ev)).acked;
    await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'Carol\'s workflow');
    const opened = h.slack.socket.send('events_api', envelope({ type: 'app_home_opened', user: 'U_CAROL', channel: 'D1', tab: 'home', event_ts: '1.1' }));
    expect(await opened.acked).toEqual({});
    const published = await waitFor(() => h.slack.callsTo('views.publish').find((c) => c.params.user_id === 'U_CAROL'), 'views.publish');
    const text = JSON.stringify(published.params.view);
    expect(published.params.view.type).toBe('home');
    expect(text).toContain('&lt;!channel&gt;');
    expect(text).toContain('&lt;https://evil.example|this&gt; &amp;');
    expect(text).not.toMatch(/[^;]<!channel>|<https:\/\/evil/);
    // only Carol's own requests: not Alice's from the test before
    expect(text).not.toContain('login page with SSO');
  });

  it('takes a direct message in the Messages tab as a request', async () => {
    const ts = `${Math.floor(Date.now() / 1000)}.000777`;
    await h.slack.socket.send('events_api', envelope({ type: 'message', channel_type: 'im', channel: 'D_ALICE', user: 'U_ALICE', text: 'write a privacy policy draft for our app', ts, event_ts: ts })).acked;
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ts } }), 'the workflow from a direct message');
    expect(wf).toMatchObject({ channelId: 'D_ALICE', teamId: 'T1' });
  });
});
