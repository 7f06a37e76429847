// The HTTP app: health endpoints now; the admin console and platform endpoints are mounted on it.
import { Hono } from 'hono';

export interface ReadinessProbe {
  name: string;
  check(): Promise<void>;
}

export function createHttpApp(probes: ReadinessProbe[]): Hono {
  const app = new Hono();
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
