// Adding jobs (orchestrator/queue.ts): adds made in one turn of the event loop go to Redis together, each still one
// job with its deterministic id (a repeated add is still one job); with Redis unreachable, every caller of a batch
// gets an InfraError within the add deadline, which is what sends its job to the PostgreSQL inbox.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { InfraError } from '../orchestrator/infra';
import type { JobData } from '../orchestrator/jobs';
import { createJobQueue, producerConnection } from '../orchestrator/queue';
import { freePort } from './support/app-process';
import { deleteQueueKeys, REDIS_URL } from './support/harness';

const prefix = `t_batch_${randomBytes(4).toString('hex')}`;
afterAll(() => deleteQueueKeys(prefix));

const intake = (i: number): JobData => ({
  kind: 'intake',
  message: { platform: 'slack', teamId: 'T1', channelId: 'C_BATCH', threadTs: `1800000000.${String(i).padStart(6, '0')}`, messageTs: `1800000000.${String(i).padStart(6, '0')}`, userId: 'U1', text: `request ${i}`, mentioned: true },
});

describe('createJobQueue', () => {
  it('keeps every job of a burst once, duplicates included', async () => {
    const redis = producerConnection(REDIS_URL);
    // what is checked is that every job is kept once, not how fast: a busy machine may take more than the product's
    // 1 s add deadline for 650 adds (the deadline itself is the next test's)
    const q = createJobQueue(redis, prefix, { attempts: 1, backoffMs: 10 }, { addTimeoutMs: 120_000 });
    try {
      await q.queue.waitUntilReady();
      const jobs = Array.from({ length: 600 }, (_, i) => intake(i));
      await Promise.all([...jobs, ...jobs.slice(0, 50)].map((j) => q.enqueue(j)));
      expect((await q.queue.getJobCounts('prioritized')).prioritized).toBe(600); // intakes wait in the prioritized set (orchestrator/lanes.ts)
    } finally {
      await q.close();
      await redis.quit();
    }
  });

  it('fails every add of a batch with InfraError while Redis is unreachable', async () => {
    const redis = producerConnection(`redis://127.0.0.1:${await freePort()}`);
    const q = createJobQueue(redis, prefix, { attempts: 1, backoffMs: 10 });
    try {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => q.enqueue(intake(1000 + i))));
      expect(results.every((r) => r.status === 'rejected' && r.reason instanceof InfraError)).toBe(true);
    } finally {
      await q.close().catch(() => undefined);
      redis.disconnect();
    }
  });
});
