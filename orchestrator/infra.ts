// Infrastructure failures: the database, Redis or a chat platform's API is unreachable or overloaded for a while.
// Such a failure says nothing about the work itself, so a job that meets one is retried until the infrastructure is
// back (up to a cap in hours), without using up the attempts a person sees in the thread (STEP_ATTEMPTS).
// Invariant: `InfraError` is the one class for these failures; errors thrown by libraries (Prisma, pg, ioredis,
// @slack/web-api, Node's sockets) are recognised by class or by their documented error codes in `asInfraError`,
// never by guessing from a model's or a person's words.
import { Prisma } from '../generated/prisma/client';
import { errorMessage, RolecallError } from '../agents/errors';

/** The database, Redis or a chat platform's API could not be reached (or asked us to wait). */
export class InfraError extends RolecallError {
  constructor(
    readonly dependency: 'database' | 'redis' | 'chat' | 'network',
    message: string,
    options?: ErrorOptions & { retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** What the dependency asked for (e.g. Slack's Retry-After), when it said. */
  readonly retryAfterMs?: number;
}

// Prisma: P1001 can't reach the server, P1002 timed out, P1008 operation timed out, P1017 server closed the connection,
// P2024 timed out fetching a connection from the pool, P2028 transaction API error (e.g. the transaction was closed
// because its connection was lost).
const PRISMA_INFRA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
// Driver adapter error kinds (@prisma/driver-adapter-utils) that mean the connection, not the query, failed.
const ADAPTER_INFRA_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);
// PostgreSQL SQLSTATE classes 08 (connection exception), 53 (insufficient resources), 57P (operator intervention:
// admin shutdown, crash shutdown, cannot connect now).
const PG_INFRA_STATE = /^(08|53|57P)/;
// Node's socket errors.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
// Slack Web API platform errors that are Slack's own trouble, not ours.
const SLACK_TRANSIENT = new Set(['ratelimited', 'rate_limited', 'internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);
// pg's own errors for a connection that went away carry no code; these are its fixed messages.
const PG_CONNECTION_LOST = /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)$/;

/** The InfraError this failure is, or undefined when it is not an infrastructure failure. Looks through `cause`. */
export function asInfraError(e: unknown, depth = 0): InfraError | undefined {
  if (e instanceof InfraError) return e;
  if (!(e instanceof Error) || depth > 5) return undefined;
  const wrap = (dependency: InfraError['dependency'], retryAfterMs?: number) => new InfraError(dependency, errorMessage(e), { cause: e, retryAfterMs });
  if (e instanceof Prisma.PrismaClientInitializationError) return wrap('database');
  if (e instanceof Prisma.PrismaClientKnownRequestError) {
    if (PRISMA_INFRA_CODES.has(e.code)) return wrap('database');
    const cause = (e.meta as { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown } } } | undefined)?.driverAdapterError?.cause;
    if (typeof cause?.kind === 'string' && ADAPTER_INFRA_KINDS.has(cause.kind)) return wrap('database');
    if (cause?.kind === 'postgres' && typeof cause.code === 'string' && PG_INFRA_STATE.test(cause.code)) return wrap('database');
    return undefined;
  }
  if (e instanceof Prisma.PrismaClientUnknownRequestError || e instanceof Prisma.PrismaClientRustPanicError) {
    return PG_CONNECTION_LOST.test(e.message.split('\n').at(-1)?.trim() ?? '') ? wrap('database') : undefined;
  }
  const coded = e as Error & { code?: unknown; statusCode?: unknown; retryAfter?: unknown; data?: { error?: unknown; response_metadata?: { retryAfter?: unknown } } };
  if (typeof coded.code === 'string') {
    if (SOCKET_CODES.has(coded.code)) return wrap('network');
    if (PG_INFRA_STATE.test(coded.code) && 'severity' in coded) return wrap('database');
    // @slack/web-api (ErrorCode): network failures, HTTP 429/5xx, rate limits, and Slack's own server errors.
    if (coded.code === 'slack_webapi_request_error') return wrap('chat');
    if (coded.code === 'slack_webapi_rate_limited_error') return wrap('chat', seconds(coded.retryAfter));
    if (coded.code === 'slack_webapi_http_error' && typeof coded.statusCode === 'number' && (coded.statusCode === 429 || coded.statusCode >= 500)) return wrap('chat');
    if (coded.code === 'slack_webapi_platform_error' && typeof coded.data?.error === 'string' && SLACK_TRANSIENT.has(coded.data.error)) {
      return wrap('chat', seconds(coded.data.response_metadata?.retryAfter));
    }
  }
  if (PG_CONNECTION_LOST.test(e.message)) return wrap('database');
  return e.cause !== undefined ? asInfraError(e.cause, depth + 1) : undefined;
}

export const isInfraError = (e: unknown): boolean => asInfraError(e) !== undefined;

const seconds = (s: unknown): number | undefined => (typeof s === 'number' && Number.isFinite(s) && s >= 0 ? s * 1000 : undefined);

/** How long infrastructure failures are retried, and the longest wait between two tries. */
export interface InfraRetryOptions {
  maxHours: number;
  maxDelayMs: number;
}

/** The wait before the n-th consecutive infrastructure retry (1-based): 1 s doubling up to maxDelayMs, ±20% jitter;
 * at least what the dependency asked for. */
export function infraRetryDelay(n: number, opts: InfraRetryOptions, retryAfterMs?: number): number {
  const base = Math.min(opts.maxDelayMs, 1000 * 2 ** Math.max(0, Math.min(n - 1, 20)));
  const jittered = Math.round(base * (0.8 + Math.random() * 0.4));
  return Math.max(jittered, retryAfterMs ?? 0);
}
