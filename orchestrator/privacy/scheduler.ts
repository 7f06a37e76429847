// The retention schedule (issue 18): its own small BullMQ queue ("rolecall-retention") with one repeatable job (a job
// scheduler, so every process that starts it upserts the same schedule and Redis runs it once per period) and one
// worker of concurrency 1. A run that crashes leaves its RetentionRun "running"; the next tick continues it
// (retention.ts). Invariant: runs never overlap in one process; across processes BullMQ hands each tick to one worker.
// The same queue carries erasures a platform asked for (a Slack user deleted: `requestErasure`), one job per person
// with a deterministic id, so a signal delivered twice erases once and a failed erasure is retried, never lost.
import { createHash } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { z } from 'zod';
import type { Redis } from 'ioredis';
import type { Db } from '../db';
import type { Logger } from '../log';
import { runRetention, type RetentionOptions } from './retention';
import { eraseSubject } from './subject';

export const RETENTION_QUEUE = 'rolecall-retention';

export interface RetentionSchedule extends RetentionOptions {
  everyMs: number;
  /** The HMAC key of erasure pseudonyms (as the console's erasure uses). */
  pseudonymSecret: string;
}

/** A person the platform says was deleted: erased like a console erasure, audited as done by the platform. */
const erasureJob = z.object({ platform: z.enum(['slack', 'teams']), teamId: z.string().min(1).max(200), userId: z.string().min(1).max(200) });
export type ErasureRequest = z.infer<typeof erasureJob>;

/** The job id of one person's erasure: the same person always gives the same id (a redelivered signal is one job). */
export const erasureJobId = (r: ErasureRequest) => `erase-${createHash('sha256').update(`${r.platform}\n${r.teamId}\n${r.userId}`).digest('base64url').slice(0, 32)}`;

/** Queues an erasure (any process may: the server receives the platform's signal, a worker runs it). Rejects when
 *  Redis cannot keep it, so the edge answers 5xx and the platform delivers the signal again. */
export function erasureRequests(connection: Redis, prefix: string): { request(r: ErasureRequest): Promise<void>; close(): Promise<void> } {
  const queue = new Queue(RETENTION_QUEUE, { connection, prefix });
  return {
    request: async (r) => {
      const data = erasureJob.parse(r);
      await queue.add('erase', data, { jobId: erasureJobId(data), attempts: 8, backoff: { type: 'exponential', delay: 2_000 }, removeOnComplete: 1000, removeOnFail: 1000 });
    },
    close: () => queue.close(),
  };
}

export async function startRetentionScheduler(connection: Redis, prefix: string, prisma: Db, opts: RetentionSchedule, log: Logger): Promise<{ close(): Promise<void> }> {
  const queue = new Queue(RETENTION_QUEUE, { connection, prefix });
  await queue.upsertJobScheduler('retention', { every: opts.everyMs }, { name: 'retention', data: {}, opts: { removeOnComplete: 50, removeOnFail: 50 } });
  const worker = new Worker(RETENTION_QUEUE, async (job) => {
    if (job.name === 'erase') {
      const r = erasureJob.parse(job.data);
      const counts = await eraseSubject(prisma, { userIds: [r.userId], emails: [] }, `${r.platform}:user_deleted`, { pseudonymSecret: opts.pseudonymSecret, ...(opts.files ? { files: opts.files } : {}) });
      log.info(`erased a person ${r.platform} reported deleted`, { platform: r.platform, team: r.teamId, counts });
      return;
    }
    const run = await runRetention(prisma, opts);
    log.info('retention run done', { run: run.id, counts: run.counts });
  }, { connection, prefix, concurrency: 1 });
  worker.on('failed', (_job, e) => log.warn('retention run failed (the next run continues it)', { error: String(e) }));
  return { close: async () => { await worker.close(); await queue.close(); } };
}
