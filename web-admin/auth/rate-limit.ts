// Console sign-in limits, shared by every server process through PostgreSQL (table ConsoleLoginThrottle):
// - every attempt is counted BEFORE its password is checked, by one atomic INSERT … ON CONFLICT DO UPDATE … RETURNING,
//   so parallel requests cannot all slip under the limit (each gets its own count back);
// - per IP+email (maxFailures), per IP whatever the email (maxPerIp: rotating emails from one address is limited too)
//   and per email from any IP (maxPerAccount); IPv6 clients count per /64;
// - a successful sign-in does not count: the IP+email count restarts and the IP and email counts give the attempt back;
// - at most maxConcurrentHashes password hashes run at once in this process; an attempt beyond that is refused at
//   once (503) instead of queueing CPU work;
// - failed sign-ins are audited as one row per IP and email per window, with a count (see failed()).
// Why not rate-limiter-flexible: its RateLimiterPrisma reads then writes (a parallel burst loses counts), and its
// Postgres and Redis stores need a raw pg/ioredis client that the console does not hold (and embedded PGlite has none).
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Prisma } from '../../generated/prisma/client';
import type { Db } from '../../orchestrator/db';

export interface LoginLimits {
  maxFailures: number;
  maxPerIp: number;
  maxPerAccount: number;
  windowMs: number;
  maxConcurrentHashes: number;
}

type LimitKind = 'ip+account' | 'ip' | 'account';
export type Attempt = { allowed: true } | { allowed: false; limit: LimitKind; retryAfterSeconds: number };

export interface LoginLimiter {
  /** Counts one sign-in attempt (before the password is checked) and says whether it may go on. */
  attempt(ip: string, email: string): Promise<Attempt>;
  /** The attempt succeeded: it does not count, and the IP+email count starts again. */
  succeeded(ip: string, email: string): Promise<void>;
  /** Audits a failed sign-in: one AuditLog row per IP and email per window, its detail.count incremented. */
  failed(ip: string, email: string): Promise<void>;
  /** Takes one of the concurrent password-hash slots of this process; null when all are busy. Call the result to free it. */
  hashSlot(): (() => void) | null;
}

const keysOf = (ip: string, email: string) => ({ 'ip+account': `ip+account:${ip}|${email}`, ip: `ip:${ip}`, account: `account:${email}` });
const CLEANUP_EVERY_MS = 5 * 60_000;

export function createLoginLimiter(prisma: Db, limits: LoginLimits): LoginLimiter {
  let hashing = 0;
  let lastCleanup = 0;
  const windowMs = Math.max(1, Math.round(limits.windowMs));

  /** Adds one to each key (a new window when its last one is over) and returns each key's count and seconds left. */
  const count = async (keys: string[]) => {
    const sorted = [...keys].sort(); // one lock order for every statement: no deadlocks between parallel attempts
    const rows = await prisma.$queryRaw<{ key: string; count: number; retryAfter: number }[]>`
      INSERT INTO "ConsoleLoginThrottle" AS t ("key", "count", "resetAt")
      VALUES ${Prisma.join(sorted.map((k) => Prisma.sql`(${k}, 1, timezone('UTC', now()) + ${windowMs}::int * interval '1 millisecond')`))}
      ON CONFLICT ("key") DO UPDATE SET
        "count" = CASE WHEN t."resetAt" <= timezone('UTC', now()) THEN 1 ELSE t."count" + 1 END,
        "resetAt" = CASE WHEN t."resetAt" <= timezone('UTC', now()) THEN EXCLUDED."resetAt" ELSE t."resetAt" END
      RETURNING "key", "count", GREATEST(1, CEIL(EXTRACT(EPOCH FROM ("resetAt" - timezone('UTC', now())))))::int AS "retryAfter"`;
    return new Map(rows.map((r) => [r.key, { count: Number(r.count), retryAfter: Number(r.retryAfter) }]));
  };

  const cleanup = async () => {
    if (Date.now() - lastCleanup < CLEANUP_EVERY_MS) return;
    lastCleanup = Date.now();
    await prisma.$executeRaw`DELETE FROM "ConsoleLoginThrottle" WHERE "resetAt" < timezone('UTC', now()) - interval '1 hour'`;
  };

  /** The first refusal of a key in its window is audited (one row per key per window, however many follow). */
  const refuse = async (ip: string, email: string, limit: LimitKind, c: { count: number; retryAfter: number }, max: number): Promise<Attempt> => {
    if (c.count === max + 1) {
      await prisma.auditLog.create({ data: { actor: `console:${email}`, action: 'auth.signin_throttled', detail: { ip, limit, max, windowMinutes: windowMs / 60_000 } } });
    }
    return { allowed: false, limit, retryAfterSeconds: c.retryAfter };
  };

  return {
    async attempt(ip, email) {
      await cleanup();
      const k = keysOf(ip, email);
      // The IP's counts first: an address over its limit does not also use up the account's allowance.
      const byIp = await count([k['ip+account'], k.ip]);
      const pair = byIp.get(k['ip+account'])!;
      if (pair.count > limits.maxFailures) return refuse(ip, email, 'ip+account', pair, limits.maxFailures);
      const single = byIp.get(k.ip)!;
      if (single.count > limits.maxPerIp) return refuse(ip, email, 'ip', single, limits.maxPerIp);
      const account = (await count([k.account])).get(k.account)!;
      if (account.count > limits.maxPerAccount) return refuse(ip, email, 'account', account, limits.maxPerAccount);
      return { allowed: true };
    },

    async succeeded(ip, email) {
      const k = keysOf(ip, email);
      await prisma.$executeRaw`DELETE FROM "ConsoleLoginThrottle" WHERE "key" = ${k['ip+account']}`;
      await prisma.$executeRaw`UPDATE "ConsoleLoginThrottle" SET "count" = GREATEST("count" - 1, 0) WHERE "key" IN (${k.account}, ${k.ip})`;
    },

    async failed(ip, email) {
      const window = Math.floor(Date.now() / windowMs);
      const id = uuidFrom(`auth.signin_failed|${ip}|${email}|${window}`);
      const now = new Date().toISOString();
      await prisma.$executeRaw`
        INSERT INTO "AuditLog" AS a ("id", "at", "actor", "action", "target", "detail")
        VALUES (${id}, timezone('UTC', now()), ${`console:${email}`}, 'auth.signin_failed', NULL,
                jsonb_build_object('ip', ${ip}::text, 'count', 1, 'lastAt', ${now}::text, 'windowMinutes', ${windowMs / 60_000}::float8))
        ON CONFLICT ("id") DO UPDATE SET "detail" = a."detail"
          || jsonb_build_object('count', COALESCE((a."detail"->>'count')::int, 1) + 1, 'lastAt', ${now}::text)`;
    },

    hashSlot() {
      if (hashing >= limits.maxConcurrentHashes) return null;
      hashing++;
      let freed = false;
      return () => {
        if (!freed) hashing--;
        freed = true;
      };
    },
  };
}

/** A UUID-shaped id derived from a string (the audit row that aggregates one IP's failures for one email). */
function uuidFrom(s: string): string {
  const h = createHash('sha256').update(s).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The network a client is counted as: its IPv4 address (also when IPv4-mapped), or the /64 of an IPv6 address
 * (one host usually holds a whole /64). No proxy header is trusted: behind a reverse proxy every client is the proxy.
 */
export function clientNetwork(address: string): string {
  const a = address.trim().toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (!isIPv6(a)) return a;
  const part = (s: string) => (s ? s.split(':') : []).flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const [head = '', tail] = a.split('::');
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  const groups = tail === undefined ? h : [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => parseInt(g || '0', 16).toString(16)).join(':')}::/64`;
}
