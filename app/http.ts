// The one HTTP app: health and readiness, then each edge's routes mounted with `route` (Slack, Teams, MCP, the admin
// console). Invariant: every request body is bounded before anything reads it, and an error that escapes a route is
// logged once here and answered with a generic 500 that names an error id, never the error's own text.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { errorMessage, errorStack } from '../agents/errors';
import type { Logger } from '../orchestrator/log';

/** No request we serve (chat events, card actions, MCP calls, console forms) comes near this; larger ones are refused. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Each readiness check gets this long (they run in parallel), so /ready answers within a second even when a
 *  dependency hangs instead of refusing. */
export const PROBE_TIMEOUT_MS = 800;

/** `work`, or a rejection with `message` once `ms` have passed (the work itself is left to finish or fail). */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(message)), ms); });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export interface ReadinessProbe {
  name: string;
  check(): Promise<void>;
}

export function createHttpRoot(probes: ReadinessProbe[], edges: Hono[], log: Logger): Hono {
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('request body too large', 413, { connection: 'close' }) }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  // Anonymous: it says which dependency is down, never why (the error names hosts, ports and paths); the detail is
  // logged under the error id it answers with.
  app.get('/ready', async (c) => {
    const failures: Record<string, string> = {};
    const results = await Promise.all(probes.map(async (p) => {
      try {
        await withTimeout(p.check(), PROBE_TIMEOUT_MS, `${p.name}: no answer within ${PROBE_TIMEOUT_MS} ms`);
        return [p.name, 'ok'] as const;
      } catch (e) {
        failures[p.name] = errorMessage(e);
        return [p.name, 'down'] as const;
      }
    }));
    const checks = Object.fromEntries(results);
    if (!Object.keys(failures).length) return c.json({ status: 'ready', checks }, 200);
    const errorId = randomUUID();
    log.warn('readiness check failed', { errorId, failures });
    return c.json({ status: 'not ready', checks, errorId }, 503);
  });
  for (const edge of edges) app.route('/', edge);
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    const errorId = randomUUID();
    log.error('request failed', { errorId, method: c.req.method, path: c.req.path, error: errorStack(e) });
    return c.json({ error: 'internal error', errorId }, 500);
  });
  return app;
}
