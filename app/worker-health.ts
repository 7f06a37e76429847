// A worker process's own small HTTP listener (WORKER_HEALTH_PORT; off when unset): /health answers 200 while its
// BullMQ worker runs (liveness), /ready 200 when PostgreSQL and Redis answer too (readiness), and /metrics this
// process's metrics (Node, jobs it ran), behind METRICS_TOKEN like the server's. Container health checks and
// Kubernetes probes use it; Prometheus scrapes every worker's /metrics. Invariant: it serves nothing else, reads no
// request body, and each check gives up after CHECK_TIMEOUT_MS.
import { randomUUID } from 'node:crypto';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { Logger } from '../orchestrator/log';
import { bearerMatches } from '../web-admin/routes/metrics';
import { runProbes, type ReadinessProbe } from './http';

const CHECK_TIMEOUT_MS = 3_000;

export interface WorkerHealthOptions {
  host: string;
  port: number;
  metricsToken?: string;
  registry: Registry;
  /** True while the BullMQ worker is running (not closing, not closed). */
  running(): boolean;
  checks: ReadinessProbe[];
}

export function workerHealthApp(opts: WorkerHealthOptions, log: Logger): Hono {
  const app = new Hono();
  app.get('/health', (c) => (opts.running() ? c.json({ status: 'ok' }) : c.json({ status: 'stopped' }, 503)));
  // Unauthenticated like the server's /ready: it names what is down, never why; the detail is logged under its error id.
  app.get('/ready', async (c) => {
    const { checks, failures } = await runProbes(opts.checks, CHECK_TIMEOUT_MS);
    const ok = opts.running() && Object.values(checks).every((r) => r === 'ok');
    const body = { status: ok ? 'ready' : 'not ready', worker: opts.running() ? 'running' : 'stopped', checks };
    if (!Object.keys(failures).length) return c.json(body, ok ? 200 : 503);
    const errorId = randomUUID();
    log.warn('worker readiness check failed', { errorId, failures });
    return c.json({ ...body, errorId }, 503);
  });
  app.get('/metrics', async (c) => {
    if (opts.metricsToken && !bearerMatches(c.req.header('authorization'), opts.metricsToken)) {
      return c.text('Unauthorized: /metrics needs "Authorization: Bearer <METRICS_TOKEN>"\n', 401, { 'WWW-Authenticate': 'Bearer realm="rolecall-metrics"' });
    }
    return c.body(await opts.registry.metrics(), 200, { 'content-type': opts.registry.contentType });
  });
  return app;
}

export async function startWorkerHealth(opts: WorkerHealthOptions, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const server: ServerType = serve({ fetch: workerHealthApp(opts, log).fetch, port: opts.port, hostname: opts.host });
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as { port: number };
  const url = `http://${opts.host}:${port}`;
  log.info(`Worker health: ${url}/health, ${url}/ready and ${url}/metrics`);
  return { url, close: () => new Promise((r) => server.close(() => r())) };
}

