// Processes killed without warning (SIGKILL). A worker killed mid-step: BullMQ's stalled-job check gives the step to
// the next worker, which runs it again; post keys keep every post single. A server killed during a burst of mentions:
// the server enqueues before it answers, so the window "acknowledged but not yet enqueued" is empty; what it did not
// answer, Slack delivers again, and the deterministic job ids and the intake's dedupe make that one workflow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultScript } from '../support/fake-openai';
import { deliver, expectExactlyOnceAndCompleted, mentionIn, startRunningFaultEnv, type Delivery, type FaultEnv } from './fault-env';
import { slackPoster } from '../support/slack-requests';
import { waitFor } from '../support/wait';

let env: FaultEnv;
let releaseHungCall: (() => void) | undefined;
beforeAll(async () => {
  // The first model call hangs (its worker is killed during it); every later call answers at once.
  env = await startRunningFaultEnv({
    script: (req, n) => (n === 1 ? new Promise((resolve) => { releaseHungCall = () => resolve({ content: 'too late' }); }) : defaultScript(req, n)),
    env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000' },
  });
}, 300_000);
afterAll(async () => {
  releaseHungCall?.();
  await env?.close();
});

describe('processes killed', () => {
  it('a worker killed mid-step: another worker runs the step again and nothing is posted twice', async () => {
    const ev = mentionIn('C_WORKER', 1);
    expect(await deliver(env, ev).accepted).toBe(true);
    await waitFor(() => env.openai.requests.length >= 1, 'the step to be in its model call');
    env.worker!.signal('SIGKILL');
    await env.worker!.exited;
    await env.startWorker();
    await expectExactlyOnceAndCompleted(env, [ev]);
    expect(env.openai.requests.length).toBeGreaterThanOrEqual(2); // the step ran again on the new worker
  }, 300_000);

  it('a server killed during a burst: every event Slack delivers again becomes exactly one workflow', async () => {
    const events = Array.from({ length: 30 }, (_, i) => mentionIn('C_SERVER', i + 1));
    const deliveries: Delivery[] = [];
    for (const [i, e] of events.entries()) {
      deliveries.push(deliver(env, e, { retryEveryMs: 2_000 }));
      if (i === 9) {
        // a third of the way in: some were answered, some are in flight, the rest find no server until it is back
        await waitFor(() => deliveries.filter((d) => d.statuses.length > 0).length >= 5, 'some answers');
        env.server!.signal('SIGKILL');
        await env.server!.exited;
      }
    }
    await env.startServer();
    for (const d of deliveries) expect(await d.accepted).toBe(true);
    expect(deliveries.some((d) => d.statuses[0] === 0)).toBe(true); // the kill did cut deliveries off

    // Slack may also deliver again what was answered (e.g. when the answer came after its 3 s): still one workflow.
    const post = slackPoster(env.base);
    for (const d of deliveries.slice(0, 5)) {
      const res = await post.event(d.event, { headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
      expect(res.status).toBe(200);
    }
    await expectExactlyOnceAndCompleted(env, events);
  }, 300_000);
});
