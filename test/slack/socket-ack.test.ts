// Socket Mode's durable ack without the rest of Rolecall: the edge (bot/slack/socket.ts) on the fake's socket-mode
// WebSocket acknowledges an envelope only once its work was kept; one whose work could not be kept (Redis and
// PostgreSQL unreachable) is left unacknowledged, so that Slack sends it again, and the retry is then acked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '@slack/bolt';
import { SocketModeEdge } from '../../bot/slack/socket';
import type { EventOutcome } from '../../bot/slack/events';
import { InfraError } from '../../orchestrator/infra';
import { createLogger } from '../../orchestrator/log';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { waitFor } from '../support/wait';

let slack: FakeSlack;
let edge: SocketModeEdge;
let storeDown = true;
const kept: string[] = [];
let refused!: () => void;
const firstRefused = new Promise<void>((r) => { refused = r; });
beforeAll(async () => {
  slack = await startFakeSlack();
  const events = async (body: Record<string, unknown>): Promise<EventOutcome> => {
    if (storeDown) {
      refused();
      throw new InfraError('redis', 'neither Redis nor PostgreSQL could keep the job');
    }
    kept.push(String(body.event_id));
    return 'queued';
  };
  edge = new SocketModeEdge({ appToken: 'xapp-1-test', apiUrl: slack.url }, createLogger('silent'), events, async () => ({ response_type: 'ephemeral', text: 'ok' }));
  new App({ receiver: edge, authorize: async () => ({ botToken: 'xoxb-test' }) });
  await edge.start();
});
afterAll(async () => {
  await edge?.stop();
  await slack?.close();
});

const callback = (id: string) => ({ type: 'event_callback', team_id: 'T1', event_id: id, event: { type: 'app_mention' } });

describe('Socket Mode acks', () => {
  it('leaves an envelope whose work was not kept unacknowledged, and acks the redelivery once it is', async () => {
    const lost = slack.socket.send('events_api', callback('Ev1'));
    await firstRefused; // its handler ran and could not keep the work
    storeDown = false;
    // the second envelope is acked; by then the first's handler has long returned without acking
    const other = slack.socket.send('events_api', callback('Ev2'));
    await other.acked;
    expect(slack.socket.acks.map((a) => a.envelopeId)).not.toContain(lost.envelopeId);
    const retry = slack.socket.send('events_api', callback('Ev1'), { retryAttempt: 1 });
    await retry.acked;
    expect(kept).toEqual(['Ev2', 'Ev1']);
    await waitFor(() => slack.socket.acks.length === 2 || undefined, 'two acks');
  });

  it('answers a slash command in its ack', async () => {
    const sent = slack.socket.send('slash_commands', { command: '/rolecall', text: 'help', team_id: 'T1', channel_id: 'C1', user_id: 'U1' });
    expect(await sent.acked).toEqual({ response_type: 'ephemeral', text: 'ok' });
  });
});
