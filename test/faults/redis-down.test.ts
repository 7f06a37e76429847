// Redis stops for 20 s while mentions arrive, and the server is killed during the outage. Acks stay honest: an event
// answered 2xx is in the PostgreSQL inbox (not in a process's memory), so the server's death loses nothing; when Redis
// is back the relay moves the inbox to the queue and every workflow runs, exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, deliverOneASecond, expectExactlyOnceAndCompleted, LONG_WAIT_MS, mentionIn, startRunningFaultEnv, type FaultEnv } from './fault-env';
import { waitFor } from '../support/wait';

let env: FaultEnv;
beforeAll(async () => { env = await startRunningFaultEnv(); }, 300_000);
afterAll(async () => { await env?.close(); });

describe('Redis down for 20 s', () => {
  it('acknowledges only what PostgreSQL keeps, survives a server kill, and runs every workflow once when Redis is back', async () => {
    const before = [1, 2].map((n) => mentionIn('C_REDIS', n));
    for (const d of before.map((e) => deliver(env, e))) expect(await d.accepted).toBe(true);

    await env.redis.stop();
    const outageStarted = Date.now();
    const during = [3, 4, 5, 6].map((n) => mentionIn('C_REDIS', n));
    const deliveries = await deliverOneASecond(env, during);
    for (const d of deliveries) expect(await d.accepted).toBe(true);
    // every event answered 2xx while Redis was down is a row in the PostgreSQL inbox (beside it there may be the next
    // jobs of the workflows started before the outage, which the worker kept there the same way: their steps, the
    // poster's drains of their posts, their gates' reminder timers)
    const kept = await env.db.prisma.inboxJob.findMany();
    expect(kept.map((r) => r.id).filter((id) => id.startsWith('intake-')).sort()).toEqual(during.map((e) => `intake-slack-C_REDIS-${e.ts}`).sort());
    expect(kept.map((r) => r.id).filter((id) => !/^(intake|step|drain|gate)-/.test(id))).toEqual([]);

    // The server dies before Redis is back: under the old design those events lived only in its memory.
    env.server!.signal('SIGKILL');
    await env.server!.exited;
    const late = [7, 8].map((n) => mentionIn('C_REDIS', n));
    const lateDeliveries = late.map((e) => deliver(env, e)); // no server: Slack keeps retrying

    await new Promise((r) => setTimeout(r, Math.max(0, 20_000 - (Date.now() - outageStarted))));
    await env.redis.start();
    await env.startServer();
    for (const d of lateDeliveries) expect(await d.accepted).toBe(true);
    expect(lateDeliveries.every((d) => d.statuses[0] === 0)).toBe(true); // those first attempts found no server

    await waitFor(async () => (await env.db.prisma.inboxJob.count()) === 0, 'the inbox to be relayed', LONG_WAIT_MS);
    await expectExactlyOnceAndCompleted(env, [...before, ...during, ...late]);
  }, 400_000);
});
