// Metrics that belong to one process (unlike /metrics' database gauges, which every server reports alike): Node's own
// (CPU, memory, event loop, GC), HTTP requests (rate, latency, status per route) and, in worker processes, the jobs it
// ran. Prometheus scrapes every server and worker and sums these across instances. Also the queue's health as the
// server sees it (workers connected, age of the oldest waiting job). Invariant: every label has a bounded set of
// values (route patterns, job kinds, outcomes), never raw paths or ids.
import { prometheus } from '@hono/prometheus';
import type { MiddlewareHandler } from 'hono';
import type { Queue, Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ProcessMetrics {
  registry: Registry;
  /** The middleware that counts and times every request (rolecall_http_requests_total, …_duration_seconds): the HTTP
   *  root (app/http.ts) runs it first, before any other middleware or route. */
  httpMetrics: MiddlewareHandler;
  /** Counts and times the jobs a BullMQ worker finishes (rolecall_jobs_total, rolecall_job_duration_seconds). */
  observeWorker(worker: Worker): void;
}

export function createProcessMetrics(processKind: 'server' | 'worker' | 'all'): ProcessMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'rolecall_process_info', help: 'One per Rolecall process: what it runs (server, worker or all)', labelNames: ['kind'], registers: [registry] })
    .set({ kind: processKind }, 1);
  const { registerMetrics } = prometheus({ registry, prefix: 'rolecall_' });
  let jobs: { total: Counter<'kind' | 'outcome'>; duration: Histogram<'kind'>; wait: Histogram<'kind'> } | undefined;
  return {
    registry,
    httpMetrics: registerMetrics,
    observeWorker(worker) {
      jobs ??= {
        total: new Counter({ name: 'rolecall_jobs_total', help: 'Jobs this worker process finished, by kind and outcome (completed, failed: one failed attempt)', labelNames: ['kind', 'outcome'], registers: [registry] }),
        duration: new Histogram({ name: 'rolecall_job_duration_seconds', help: 'How long a job ran in this worker, by kind', labelNames: ['kind'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], registers: [registry] }),
        wait: new Histogram({ name: 'rolecall_job_wait_seconds', help: 'Queue hop: from a job being added (or retried) to a worker starting it, by kind', labelNames: ['kind'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [registry] }),
      };
      const m = jobs;
      const record = (job: { name: string; timestamp: number; processedOn?: number; finishedOn?: number } | undefined, outcome: 'completed' | 'failed') => {
        if (!job) return;
        const kind = jobKind(job.name);
        m.total.inc({ kind, outcome });
        if (job.processedOn && job.finishedOn) m.duration.observe({ kind }, Math.max(0, job.finishedOn - job.processedOn) / 1000);
        if (job.processedOn) m.wait.observe({ kind }, Math.max(0, job.processedOn - job.timestamp) / 1000);
      };
      worker.on('completed', (job) => record(job, 'completed'));
      worker.on('failed', (job) => record(job, 'failed'));
    },
  };
}

/** Job names are the JobData kinds (intake, step, decision, …); anything else is counted as "other". */
const jobKind = (name: string) => (/^[a-z][a-z_-]{0,31}$/.test(name) ? name : 'other');

export interface QueueHealth {
  /** Worker connections BullMQ sees on the queue (every worker process has one). */
  workers: number;
  /** Age in seconds of the oldest job waiting for a worker (0 when none waits). */
  oldestWaitingSeconds: number;
}

export async function queueHealth(queue: Queue, now = Date.now()): Promise<QueueHealth> {
  const [workers, oldest] = await Promise.all([
    queue.getWorkersCount(),
    // The wait list's oldest is its end; the prioritized set is in fair order (orchestrator/lanes.ts), where the
    // oldest intakes are among the first few: each workspace's oldest waits at the head's priority.
    queue.getJobs(['wait', 'prioritized'], 0, 9, true),
  ]);
  const ages = oldest.filter(Boolean).map((j) => (now - j.timestamp) / 1000);
  return { workers, oldestWaitingSeconds: Math.max(0, ...ages) };
}
