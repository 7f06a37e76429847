// BullMQ on Redis: one queue of orchestration jobs, retried with exponential backoff, recovered when stalled.
// Invariants: adding a job never waits for Redis to come back (the producer connection has no offline queue, and an
// add has a short deadline that this process's own event-loop lag does not trip), so a caller learns at once that Redis is unreachable (InfraError) and can keep the job
// elsewhere (orchestrator/inbox.ts); a job that fails on infrastructure is put back with a delay that does not use up
// one of its attempts (BullMQ's moveToDelayed + DelayedError), until the infrastructure is back or the cap is reached.
import { DelayedError, Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { withDeadline } from './deadline';
import { asInfraError, infraRetryDelay, InfraError, type InfraRetryOptions } from './infra';
import { delayOf, jobId, type JobData, type JobQueue } from './jobs';
import { fairPriorities, laneOf, workspaceOf, type FairKeys } from './lanes';
import { errorMessage, RetryLaterError } from '../agents/errors';

export const QUEUE_NAME = 'rolecall';

export interface JobContext {
  attempt: number;
  maxAttempts: number;
}

export type JobHandler = (data: JobData, ctx: JobContext) => Promise<void>;

/** A connection for BullMQ workers: commands wait while Redis reconnects (BullMQ requires this for workers). */
export function redisConnection(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // reconnects by itself; BullMQ reports failures through the worker's 'error' event
  return redis;
}

/** How long adding a job may take before Redis counts as unreachable (a lag-tolerant deadline, orchestrator/deadline.ts). */
export const PRODUCER_COMMAND_TIMEOUT_MS = 1_000;
/** ioredis' own limit per command: it frees what a hung Redis never answers; decisions use the deadline above. */
const PRODUCER_COMMAND_BACKSTOP_MS = 10_000;

/** A connection for adding jobs: fails at once while Redis is unreachable instead of queueing the command in memory. */
export function producerConnection(url: string): Redis {
  const redis = new Redis(url, { enableOfflineQueue: false, commandTimeout: PRODUCER_COMMAND_BACKSTOP_MS, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined); // reconnects by itself; failed commands say what went wrong to their callers
  return redis;
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

/** How adds behave: `addTimeoutMs` (default PRODUCER_COMMAND_TIMEOUT_MS) is how long a batch of adds may take before
 *  Redis counts as unreachable and its callers get an InfraError (their jobs then go to the inbox). */
export interface AddOptions {
  addTimeoutMs?: number;
}

export function createJobQueue(connection: Redis, prefix: string, steps: StepRetryOptions, adds: AddOptions = {}): JobQueue & { queue: Queue; close(): Promise<void> } {
  const addTimeoutMs = adds.addTimeoutMs ?? PRODUCER_COMMAND_TIMEOUT_MS;
  const queue = new Queue<JobData>(QUEUE_NAME, {
    connection,
    prefix,
    // How many finished jobs Redis keeps is the worker's setting (KEEP_JOBS below), not carried by every job.
    defaultJobOptions: {
      attempts: steps.attempts,
      backoff: { type: 'exponential', delay: steps.backoffMs, jitter: 0.2 },
    },
  });
  queue.on('error', () => undefined); // every failed add is reported to its caller
  const fairKeys: FairKeys = { prioritized: queue.keys.prioritized!, tags: queue.toKey('fair') };
  // Adds made in one turn of the event loop go to Redis together: one alone as a plain add, several as one addBulk
  // (one pipeline: one write, one read), so a burst of acks costs a round trip per turn instead of one per event.
  // A batch shares its fate: if it fails, every caller in it learns so (jobs that did get in stay; their ids are
  // deterministic, so keeping them again in the inbox is harmless).
  let batch: { data: JobData; resolve: () => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const jobs = batch;
    batch = [];
    if (!jobs.length) return;
    const added = (async () => {
      // Continuations without a priority (the wait list, taken first), intakes with their fair priority (lanes.ts).
      const intakes = jobs.map(({ data }) => workspaceOf(data)).filter((w): w is string => w !== undefined);
      const priorities = await fairPriorities(connection, fairKeys, intakes);
      const opts = jobs.map(({ data }) => {
        const delay = delayOf(data); // a gate timer waits in BullMQ's delayed set until it is due
        return { jobId: jobId(data), ...(laneOf(data) === 'intake' ? { priority: priorities.shift()! } : {}), ...(delay ? { delay } : {}) };
      });
      if (jobs.length === 1) await queue.add(jobs[0]!.data.kind, jobs[0]!.data, opts[0]);
      else await queue.addBulk(jobs.map(({ data }, i) => ({ name: data.kind, data, opts: opts[i] })));
    })();
    withDeadline(added, addTimeoutMs, () => new Error(`no answer from Redis within ${addTimeoutMs} ms`)).then(
      () => { for (const j of jobs) j.resolve(); },
      (e: unknown) => {
        const failure = new InfraError('redis', `could not add a job to the queue: ${errorMessage(e)}`, { cause: e });
        for (const j of jobs) j.reject(failure);
      },
    );
  };
  return {
    queue,
    // A delayed job (a step held by a budget) runs now; one that is not delayed any more is left as it is.
    wake: async (data) => {
      const woken = (async () => {
        const job = await Job.fromId<JobData>(queue, jobId(data));
        if (job && (await job.isDelayed())) await job.promote().catch(() => undefined); // raced: it started by itself
      })();
      await withDeadline(woken, PRODUCER_COMMAND_TIMEOUT_MS, () => new InfraError('redis', `no answer from Redis within ${PRODUCER_COMMAND_TIMEOUT_MS} ms`));
    },
    enqueue: (data) => new Promise<void>((resolve, reject) => {
      if (!batch.length) setImmediate(flush);
      batch.push({ data, resolve, reject });
      if (batch.length >= MAX_ADD_BATCH) flush();
    }),
    close: () => queue.close(),
  };
}

/** Finished jobs kept in Redis (for the console and debugging); older ones are removed as workers finish jobs. */
const KEEP_JOBS = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } } as const;

/** The most jobs one round trip to Redis carries. */
const MAX_ADD_BATCH = 250;

/** Runs a job; an infrastructure failure puts it back, delayed, without using one of its attempts (up to the cap). */
export async function runWithInfraRetry(job: Job<JobData>, token: string | undefined, handle: JobHandler, infra: InfraRetryOptions, onDelay: (e: InfraError, delayMs: number) => void): Promise<void> {
  try {
    await handle(job.data, { attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 });
  } catch (e) {
    if (e instanceof RetryLaterError) {
      // a provider's rate limit or a spent budget (orchestrator/budgets.ts): not an attempt, and no cap in hours
      await job.moveToDelayed(Date.now() + Math.max(1, e.delayMs), token);
      throw new DelayedError();
    }
    const failure = asInfraError(e);
    if (!failure) throw e;
    if (Date.now() - job.timestamp > infra.maxHours * 3_600_000) {
      throw new UnrecoverableError(`gave up after ${infra.maxHours} h of infrastructure failures: ${failure.message}`);
    }
    // attemptsStarted counts every start, attemptsMade only counted failures: the difference is this run of delays.
    const delayMs = infraRetryDelay(Math.max(1, (job.attemptsStarted ?? 1) - job.attemptsMade), infra, failure.retryAfterMs);
    onDelay(failure, delayMs);
    await job.moveToDelayed(Date.now() + delayMs, token); // Redis down too: this fails and the job is recovered as stalled
    throw new DelayedError();
  }
}

export function createJobWorker(
  connection: Redis, prefix: string, cfg: WorkerOptions & { infra: InfraRetryOptions }, handle: JobHandler,
  onError: (e: unknown, job?: Job) => void, onDelay: (job: Job, e: InfraError, delayMs: number) => void,
): Worker<JobData> {
  const worker = new Worker<JobData>(
    QUEUE_NAME,
    (job, token) => runWithInfraRetry(job, token, handle, cfg.infra, (e, ms) => onDelay(job, e, ms)),
    {
      connection,
      prefix,
      concurrency: cfg.concurrency,
      lockDuration: cfg.lockDurationMs,
      stalledInterval: cfg.stalledIntervalMs,
      maxStalledCount: 1,
      ...KEEP_JOBS,
    },
  );
  worker.on('failed', (job, err) => onError(err, job));
  worker.on('error', (err) => onError(err));
  return worker;
}
