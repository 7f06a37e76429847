// The one HTTP app: health and readiness, then each edge's routes mounted with `route` (Slack, Teams, MCP, the admin
// console). Invariant: every request body is bounded before anything reads it, and an error that escapes a route is
// logged once here and answered with a generic 500 that names an error id, never the error's own text. A failure of
// the database or Redis (unreachable, or refusing connections: too many clients) is answered 503 with Retry-After.
import { randomUUID } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { errorMessage, errorStack } from '../agents/errors';
import { SpanKind, withSpan } from '../agents/tracing';
import { withDeadline } from '../orchestrator/deadline';
import { asInfraError } from '../orchestrator/infra';
import type { Logger } from '../orchestrator/log';

/** Retry-After (seconds) of a 503 answered because the database or Redis refused or could not be reached. */
export const INFRA_RETRY_AFTER_S = 5;

/** No request we serve (chat events, card actions, MCP calls, console forms) comes near this; larger ones are refused. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Each readiness check gets this long (they run in parallel), so /ready answers within a second even when a
 *  dependency hangs instead of refusing. */
export const PROBE_TIMEOUT_MS = 800;

export interface ReadinessProbe {
  name: string;
  check(): Promise<unknown>;
}

/** Runs every check in parallel, each bounded by `timeoutMs`: which are ok or down, and why (for the log only: the
 *  reasons name hosts, ports and paths, so /ready never answers them). Used by the server's and the worker's /ready. */
export async function runProbes(probes: ReadinessProbe[], timeoutMs: number): Promise<{ checks: Record<string, 'ok' | 'down'>; failures: Record<string, string> }> {
  const failures: Record<string, string> = {};
  const results = await Promise.all(probes.map(async (p) => {
    try {
      await withDeadline(p.check(), timeoutMs, () => new Error(`${p.name}: no answer within ${timeoutMs} ms`));
      return [p.name, 'ok'] as const;
    } catch (e) {
      failures[p.name] = errorMessage(e);
      return [p.name, 'down'] as const;
    }
  }));
  return { checks: Object.fromEntries(results), failures };
}

/** One SERVER span per request ("<method> <route pattern>"), continuing the caller's trace when the request carries a
 *  W3C traceparent header; the route is the matched pattern (/admin/roles/:id), never the raw path with its ids.
 *  app/runtime.ts puts it first, only when tracing is on. */
export function httpTracing(): MiddlewareHandler {
  return (c, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, { keys: (h) => [...h.keys()], get: (h, k) => h.get(k) ?? undefined });
    return withSpan(c.req.method, {
      kind: SpanKind.SERVER,
      parent,
      attributes: { 'http.request.method': c.req.method, 'url.scheme': new URL(c.req.url).protocol.replace(':', '') },
    }, async (span) => {
      await next();
      const route = c.req.routePath;
      span.updateName(`${c.req.method} ${route}`);
      span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status });
      if (c.res.status >= 500) span.setStatus({ code: 2, message: `HTTP ${c.res.status}` }); // SpanStatusCode.ERROR
    });
  };
}

/** `first`: middlewares that see every request before anything else (e.g. the request metrics). */
export function createHttpRoot(probes: ReadinessProbe[], edges: Hono[], log: Logger, first: MiddlewareHandler[] = []): Hono {
  const app = new Hono();
  for (const m of first) app.use('*', m);
  const tooLarge = (c: Context) => c.text('request body too large', 413, { connection: 'close' });
  const countingLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  // A declared Content-Length is judged from the header alone (Node's parser refuses a body of another length), and a
  // request with neither it nor Transfer-Encoding has no body; only chunked bodies are counted as they stream in.
  // (hono's bodyLimit alone would first turn every request into a web-stream Request, a cost on the Slack ack path.)
  app.use('*', (c, next) => {
    const length = c.req.header('content-length');
    const chunked = c.req.header('transfer-encoding') !== undefined;
    if (length !== undefined && !chunked) return Number(length) > MAX_BODY_BYTES ? Promise.resolve(tooLarge(c)) : next();
    return chunked ? countingLimit(c, next) : next();
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));
  // Anonymous: it says which dependency is down, never why (the error names hosts, ports and paths); the detail is
  // logged under the error id it answers with.
  app.get('/ready', async (c) => {
    const { checks, failures } = await runProbes(probes, PROBE_TIMEOUT_MS);
    if (!Object.keys(failures).length) return c.json({ status: 'ready', checks }, 200);
    const errorId = randomUUID();
    log.warn('readiness check failed', { errorId, failures });
    return c.json({ status: 'not ready', checks, errorId }, 503);
  });
  for (const edge of edges) app.route('/', edge);
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    const infra = asInfraError(e);
    if (infra) {
      log.warn('request refused: a dependency is unavailable', { method: c.req.method, path: c.req.path, dependency: infra.dependency, error: errorMessage(e).split('\n').at(-1) });
      return c.json({ error: 'temporarily unavailable, retry later' }, 503, { 'Retry-After': String(Math.max(INFRA_RETRY_AFTER_S, Math.ceil((infra.retryAfterMs ?? 0) / 1000))) });
    }
    const errorId = randomUUID();
    log.error('request failed', { errorId, method: c.req.method, path: c.req.path, error: errorStack(e) });
    return c.json({ error: 'internal error', errorId }, 500);
  });
  return app;
}
