// The HTTP app: health endpoints now; the admin console and platform endpoints are mounted on it.
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** No request we serve (chat events, card actions, MCP calls, console forms) comes near this; larger ones are refused. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ReadinessProbe {
  name: string;
  check(): Promise<void>;
}

export function createHttpApp(probes: ReadinessProbe[]): Hono {
  const app = new Hono();
  app.use('*', bodyLimit({ maxSize: MAX_BODY_BYTES, onError: (c) => c.text('request body too large', 413, { connection: 'close' }) }));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    const results = await Promise.all(probes.map(async (p) => {
      try {
        await p.check();
        return [p.name, 'ok'] as const;
      } catch (e) {
        return [p.name, `error: ${(e as Error).message}`] as const;
      }
    }));
    const ok = results.every(([, r]) => r === 'ok');
    return c.json({ status: ok ? 'ready' : 'not ready', checks: Object.fromEntries(results) }, ok ? 200 : 503);
  });
  return app;
}
