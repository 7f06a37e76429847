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

export interface ReadinessProbe {
  name: string;
  check(): Promise<void>;
}

export function createHttpRoot(probes: ReadinessProbe[], edges: Hono[], log: Logger): Hono {
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('request body too large', 413, { connection: 'close' }) }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    const results = await Promise.all(probes.map(async (p) => {
      try {
        await p.check();
        return [p.name, 'ok'] as const;
      } catch (e) {
        return [p.name, `error: ${errorMessage(e)}`] as const;
      }
    }));
    const ok = results.every(([, r]) => r === 'ok');
    return c.json({ status: ok ? 'ready' : 'not ready', checks: Object.fromEntries(results) }, ok ? 200 : 503);
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
