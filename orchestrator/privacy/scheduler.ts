// The retention schedule (issue 18): its own small BullMQ queue ("rolecall-retention") with one repeatable job (a job
// scheduler, so every process that starts it upserts the same schedule and Redis runs it once per period) and one
// worker of concurrency 1. A run that crashes leaves its RetentionRun "running"; the next tick continues it
// (retention.ts). Invariant: runs never overlap in one process; across processes BullMQ hands each tick to one worker.
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Db } from '../db';
import type { Logger } from '../log';
import { runRetention, type RetentionOptions } from './retention';

export const RETENTION_QUEUE = 'rolecall-retention';

export interface RetentionSchedule extends RetentionOptions {
  everyMs: number;
}

export async function startRetentionScheduler(connection: Redis, prefix: string, prisma: Db, opts: RetentionSchedule, log: Logger): Promise<{ close(): Promise<void> }> {
  const queue = new Queue(RETENTION_QUEUE, { connection, prefix });
  await queue.upsertJobScheduler('retention', { every: opts.everyMs }, { name: 'retention', data: {}, opts: { removeOnComplete: 50, removeOnFail: 50 } });
  const worker = new Worker(RETENTION_QUEUE, async () => {
    const run = await runRetention(prisma, opts);
    log.info('retention run done', { run: run.id, counts: run.counts });
  }, { connection, prefix, concurrency: 1 });
  worker.on('failed', (_job, e) => log.warn('retention run failed (the next run continues it)', { error: String(e) }));
  return { close: async () => { await worker.close(); await queue.close(); } };
}
