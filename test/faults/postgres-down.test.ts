// PostgreSQL stops for 20 s while mentions arrive and steps are in their model calls. The ack path reads nothing from
// the database, so Slack still gets 200 (the events are on the queue); the intake and step jobs that meet the outage
// are put back without using an attempt and go on when the database is back. Nobody sees a failure card.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultScript } from '../support/fake-openai';
import { deliver, deliverOneASecond, expectExactlyOnceAndCompleted, mentionIn, startRunningFaultEnv, type FaultEnv } from './fault-env';
import { waitFor } from '../support/wait';

let env: FaultEnv;
beforeAll(async () => {
  // every model call takes 4 s, so steps are mid-call when the database goes away
  env = await startRunningFaultEnv({ script: async (req, n) => ({ ...(await defaultScript(req, n)), delayMs: 4_000 }) });
}, 300_000);
afterAll(async () => { await env?.close(); });

describe('PostgreSQL down for 20 s', () => {
  it('acknowledges every mention, retries intake and steps until the database is back, and completes each workflow once', async () => {
    const before = [1, 2].map((n) => mentionIn('C_PG', n));
    for (const d of before.map((e) => deliver(env, e))) expect(await d.accepted).toBe(true);
    await waitFor(() => env.openai.requests.length >= 2, 'both steps to be in their model calls');

    env.pg.stop('fast');
    const outageStarted = Date.now();
    const during = [3, 4, 5, 6].map((n) => mentionIn('C_PG', n));
    const deliveries = await deliverOneASecond(env, during);
    for (const d of deliveries) {
      expect(await d.accepted).toBe(true);
      expect(d.statuses).toEqual([200]); // no retry needed: the queue alone keeps them
    }
    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - outageStarted))));
    env.pg.start();

    await expectExactlyOnceAndCompleted(env, [...before, ...during]);
    // the outage was never counted as a failed attempt: no step failed, no failure card was posted
    expect(await env.db.prisma.step.count({ where: { status: 'failed' } })).toBe(0);
    expect(env.slack.callsTo('chat.postMessage').filter((c) => /failed|Retry/.test(String(c.params.text)))).toEqual([]);
    expect(env.worker!.stdout()).toMatch(/database unavailable: job \S+ retried in \d+ s \(not counted as an attempt\)/);
  }, 400_000);
});
