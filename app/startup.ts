// Start-up waits for the dependencies: Redis and PostgreSQL reachable and, for a worker, the database schema migrated
// (by a server: workers never migrate). Each wait is bounded by STARTUP_WAIT_S: the log says in one line what is
// unreachable and that it is retrying, and when time is up start-up fails with one line naming it (the entry point
// exits non-zero), instead of hanging or printing a stack trace per reconnect.
import { Redis } from 'ioredis';
import { errorMessage, RolecallError } from '../agents/errors';
import type { Database } from '../orchestrator/db';
import type { Logger } from '../orchestrator/log';

/** A dependency did not become reachable (or ready) within STARTUP_WAIT_S. */
export class DependencyUnavailableError extends RolecallError {}

const RETRY_EVERY_MS = 1_000;

/** Tries `attempt` until it succeeds or `waitMs` has passed; says once what it is waiting for. */
export async function waitForDependency<T>(what: string, attempt: () => Promise<T>, waitMs: number, log: Logger, hint = ''): Promise<T> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    let reason: string;
    try {
      const value = await attempt();
      if (told) log.info(`${what}: available, going on`);
      return value;
    } catch (e) {
      reason = firstLine(errorMessage(e));
    }
    if (Date.now() + RETRY_EVERY_MS > deadline) {
      throw new DependencyUnavailableError(`${what}: ${reason} (gave up after ${Math.round(waitMs / 1000)} s; STARTUP_WAIT_S sets how long to wait)`);
    }
    if (!told) log.warn(`${what}: ${reason}; retrying for up to ${Math.round(waitMs / 1000)} s${hint}`);
    told = true;
    await new Promise((r) => setTimeout(r, RETRY_EVERY_MS));
  }
}

const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean).at(-1)?.slice(0, 300) ?? 'unknown error';

/** One connection attempt and a PING, with no reconnects and every error handled (no "Unhandled error event"). */
async function pingRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2_000, retryStrategy: () => null });
  let cause: unknown;
  redis.on('error', (e) => void (cause = e)); // the socket's own error (ECONNREFUSED, ...): connect() only says "closed"
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    throw new Error(`unreachable (${errorMessage(cause ?? e) || 'connection refused'})`);
  } finally {
    redis.disconnect();
  }
}

export const redactRedisUrl = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@');

export function waitForRedis(url: string, waitMs: number, log: Logger): Promise<void> {
  return waitForDependency(`Redis at ${redactRedisUrl(url)}`, () => pingRedis(url), waitMs, log);
}

export function waitForDatabase(db: Database, waitMs: number, log: Logger): Promise<void> {
  return waitForDependency(`Database (${db.describe})`, async () => {
    try {
      await db.prisma.$queryRaw`SELECT 1`;
    } catch (e) {
      throw new Error(`unreachable (${firstLine(errorMessage(e))})`);
    }
  }, waitMs, log);
}

/** A worker waits until the server has applied every migration of this build (it never migrates itself). */
export function waitForSchema(db: Database, waitMs: number, log: Logger): Promise<void> {
  return waitForDependency('Database schema', async () => {
    const pending = await db.pendingMigrations();
    if (pending.length) throw new Error(`waiting for a server to apply ${pending.length} migration${pending.length === 1 ? '' : 's'} (latest: ${pending.at(-1)})`);
  }, waitMs, log, ' (start a server, `npm run start:server`, or run `npm run db:migrate`)');
}
