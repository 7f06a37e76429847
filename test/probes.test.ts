// /ready and /metrics answer within a second while Redis is down (each check bounded, all in parallel), and say which
// dependency is down; they recover when it is back. Uses a redis-server of its own, which it stops.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './support/harness';
import { startOwnRedis, type OwnRedis } from './support/redis-server';

let h: Harness | undefined;
let redis: OwnRedis | undefined;
afterEach(async () => {
  await redis?.start().catch(() => undefined); // let the app close its connections cleanly
  await h?.close();
  await redis?.close();
  h = undefined;
  redis = undefined;
});

/** GET with a client-side limit: a probe that hangs fails the test instead of waiting for ever. */
const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(10_000) });

describe('probes while Redis is down', () => {
  it('/ready and /metrics answer at once and name Redis as down, then recover', async () => {
    redis = await startOwnRedis();
    h = await startHarness({ env: { REDIS_URL: redis.url }, worker: false });
    expect((await get(`${h.url}/ready`)).status).toBe(200);

    await redis.stop('SIGKILL');
    for (let i = 0; i < 3; i++) { // several in a row: none queues behind the last
      const ready = await get(`${h.url}/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('not ready');
      expect(body.checks.postgres).toBe('ok');
      expect(body.checks.redis).toBeDefined();
      expect(body.checks.redis).not.toBe('ok');
    }
    const metrics = await get(`${h.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^rolecall_dependency_up\{dependency="redis"\} 0$/m);
    expect(text).toMatch(/^rolecall_dependency_up\{dependency="postgres"\} 1$/m);
    expect(text).toMatch(/^rolecall_gate_oldest_pending_seconds 0$/m); // what PostgreSQL answers is still there

    await redis.start();
    await waitFor(async () => (await get(`${h!.url}/ready`)).status === 200, '/ready once Redis is back');
    expect(await (await get(`${h.url}/metrics`)).text()).toMatch(/^rolecall_dependency_up\{dependency="redis"\} 1$/m);
  });
});
