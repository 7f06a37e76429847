// BullMQ on Redis: one queue of orchestration jobs, retried with exponential backoff, recovered when stalled.
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { jobId, type JobData, type JobQueue } from './jobs';

export const QUEUE_NAME = 'rolecall';

export interface JobContext {
  attempt: number;
  maxAttempts: number;
}

export type JobHandler = (data: JobData, ctx: JobContext) => Promise<void>;

export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** Tries per step and the exponential backoff base between them. */
export interface StepRetryOptions {
  attempts: number;
  backoffMs: number;
}

/** Jobs per worker process and BullMQ's stalled-job recovery timings. */
export interface WorkerOptions {
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

export function createJobQueue(connection: Redis, prefix: string, steps: StepRetryOptions): JobQueue & { queue: Queue; close(): Promise<void> } {
  const queue = new Queue<JobData>(QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: steps.attempts,
      backoff: { type: 'exponential', delay: steps.backoffMs, jitter: 0.2 },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    },
  });
  return {
    queue,
    async enqueue(data) {
      await queue.add(data.kind, data, { jobId: jobId(data) });
    },
    close: () => queue.close(),
  };
}

export function createJobWorker(connection: Redis, prefix: string, cfg: WorkerOptions, handle: JobHandler, onError: (e: unknown, job?: Job) => void): Worker<JobData> {
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    async (job) => handle(job.data, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 }),
    {
      connection,
      prefix,
      concurrency: cfg.concurrency,
      lockDuration: cfg.lockDurationMs,
      stalledInterval: cfg.stalledIntervalMs,
      maxStalledCount: 1,
    },
  );
  worker.on('failed', (job, err) => onError(err, job));
  worker.on('error', (err) => onError(err));
  return worker;
}
