// Durable enqueue: a job goes to Redis (BullMQ) at once or, while Redis is unreachable, into the PostgreSQL inbox
// table (InboxJob), from which the relay adds it to the queue when Redis is back. Only when both refuse does enqueue
// fail (InfraError), so an edge answers a chat platform with 2xx only for an event that is kept somewhere durable.
// Invariants: an inbox row's id is the job's deterministic id (a redelivery is kept once, ON CONFLICT DO NOTHING); the
// relay deletes a row only in the transaction that saw the job added to the queue (a crash in between adds it again,
// which the job id makes harmless); nothing here waits longer than a few seconds for either store.
import { keepCarrier } from './traced';
import { Prisma } from '../generated/prisma/client';
import type { Db } from './db';
import { withDeadline } from './deadline';
import { InfraError } from './infra';
import { jobId, JobDataSchema, type JobData, type JobQueue } from './jobs';
import type { Logger } from './log';
import { errorMessage } from '../agents/errors';

/** How long the inbox write may take before the job counts as not kept. */
export const INBOX_WRITE_TIMEOUT_MS = 1_500;
const RELAY_BATCH = 100;

/** `queue` (which fails at once while Redis is unreachable), with the PostgreSQL inbox behind it. */
export function durableQueue(queue: JobQueue, prisma: Db, log: Logger): JobQueue {
  return {
    ...(queue.wake ? { wake: (data: JobData) => queue.wake!(data) } : {}),
    async enqueue(data: JobData) {
      try {
        return await queue.enqueue(data);
      } catch (redisError) {
        if (!(redisError instanceof InfraError)) throw redisError;
        const id = jobId(data);
        try {
          await withDeadline(
            prisma.inboxJob.createMany({ data: [{ id, data: toJson(data) }], skipDuplicates: true }),
            INBOX_WRITE_TIMEOUT_MS, () => new InfraError('database', 'the inbox write timed out'),
          );
        } catch (dbError) {
          throw new InfraError('redis', `neither Redis (${errorMessage(redisError)}) nor PostgreSQL (${errorMessage(dbError)}) could keep job ${id}`, { cause: dbError });
        }
        log.warn('Redis unreachable: job kept in the PostgreSQL inbox until it is back', { job: id, error: errorMessage(redisError) });
      }
    },
  };
}

export interface InboxRelay {
  /** Moves what the inbox holds to the queue; returns how many jobs were moved. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Moves inbox rows to the queue every `intervalMs` (in every process that has both stores; they share the work). */
export function startInboxRelay(queue: JobQueue, prisma: Db, log: Logger, intervalMs = 1_000): InboxRelay {
  let stopped = false;
  let failing = false;
  let running: Promise<number> | undefined;
  const runOnce = async (): Promise<number> => {
    if (!(await prisma.inboxJob.findFirst({ select: { id: true } }))) return 0;
    return prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRaw<{ id: string; data: unknown }[]>`
        SELECT id, data FROM "InboxJob" ORDER BY "createdAt" LIMIT ${RELAY_BATCH} FOR UPDATE SKIP LOCKED`;
      for (const row of rows) {
        const parsed = JobDataSchema.safeParse(row.data);
        if (parsed.success) await queue.enqueue(keepCarrier(parsed.data, row.data)); // throws while Redis is down: nothing is deleted
        else log.error('dropped an unreadable inbox job', { job: row.id, issues: parsed.error.issues.map((i) => i.path.join('.')) });
      }
      if (rows.length) await tx.inboxJob.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
      if (rows.length) log.info(`moved ${rows.length} job(s) from the PostgreSQL inbox to the queue`);
      return rows.length;
    }, { timeout: 30_000, maxWait: 5_000 });
  };
  const tick = async () => {
    if (stopped) return;
    running = runOnce();
    try {
      const moved = await running;
      if (failing) log.info('inbox relay: working again');
      failing = false;
      if (moved === RELAY_BATCH) return void setImmediate(tick); // more waiting
    } catch (e) {
      if (!failing) log.warn('inbox relay: cannot move jobs yet (retrying)', { error: errorMessage(e).split('\n').at(-1) });
      failing = true;
    } finally {
      running = undefined;
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  let timer: NodeJS.Timeout | undefined = setTimeout(tick, 0);
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** JobData is plain JSON by construction (strings, numbers, booleans, nested objects). */
const toJson = (data: JobData): Prisma.InputJsonObject => JSON.parse(JSON.stringify(data)) as Prisma.InputJsonObject;
