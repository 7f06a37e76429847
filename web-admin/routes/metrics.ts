// /metrics in the Prometheus text format. Values are read from PostgreSQL and the queue at scrape time, so every
// server process reports the same totals (sum nothing across instances: scrape one). With METRICS_TOKEN set, a scrape
// needs `Authorization: Bearer <token>` (401 otherwise).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { Gauge, Registry } from 'prom-client';
import type { ConsoleDeps } from '../context';

type Collector = (reg: Registry, deps: ConsoleDeps) => void;

const gauge = <L extends string>(reg: Registry, name: string, help: string, labelNames: L[], collect: (g: Gauge<L>) => Promise<void>) =>
  new Gauge<L>({ name, help, labelNames, registers: [reg], async collect() { this.reset(); await collect(this); } });

const COLLECTORS: Collector[] = [
  (reg, deps) => gauge(reg, 'rolecall_queue_jobs', 'Jobs on the BullMQ queue by state', ['state'], async (g) => {
    for (const [state, n] of Object.entries(await deps.queueCounts())) g.set({ state }, n);
  }),
  (reg, deps) => gauge(reg, 'rolecall_workflows', 'Workflows by status', ['status'], async (g) => {
    for (const r of await deps.prisma.workflow.groupBy({ by: ['status'], _count: { _all: true } })) g.set({ status: r.status }, r._count._all);
  }),
  (reg, deps) => gauge(reg, 'rolecall_step_duration_seconds', 'Finished step durations in seconds by role: quantiles over all finished steps', ['role', 'quantile'], async (g) => {
    const rows = await deps.prisma.$queryRaw<{ roleId: string; p50: number; p95: number }[]>`
      SELECT "roleId", percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::float8 AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY d)::float8 AS p95
      FROM (SELECT "roleId", EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")) AS d FROM "Step" WHERE "finishedAt" IS NOT NULL AND "startedAt" IS NOT NULL) s GROUP BY 1`;
    for (const r of rows) { g.set({ role: r.roleId, quantile: '0.5' }, r.p50); g.set({ role: r.roleId, quantile: '0.95' }, r.p95); }
  }),
  (reg, deps) => gauge(reg, 'rolecall_steps', 'Steps by role and status', ['role', 'status'], async (g) => {
    for (const r of await deps.prisma.step.groupBy({ by: ['roleId', 'status'], _count: { _all: true } })) g.set({ role: r.roleId, status: r.status }, r._count._all);
  }),
  (reg, deps) => gauge(reg, 'rolecall_llm_tokens', 'LLM tokens used, by role, model and kind (prompt or completion)', ['role', 'model', 'kind'], async (g) => {
    for (const r of await llmTotals(deps)) { g.set({ role: r.roleId, model: r.model, kind: 'prompt' }, r.prompt); g.set({ role: r.roleId, model: r.model, kind: 'completion' }, r.completion); }
  }),
  (reg, deps) => gauge(reg, 'rolecall_llm_cost_usd', 'LLM cost in USD by role and model', ['role', 'model'], async (g) => {
    for (const r of await llmTotals(deps)) g.set({ role: r.roleId, model: r.model }, r.cost);
  }),
  (reg, deps) => gauge(reg, 'rolecall_llm_errors', 'Failed LLM calls by role and model', ['role', 'model'], async (g) => {
    for (const r of await llmTotals(deps)) g.set({ role: r.roleId, model: r.model }, r.errors);
  }),
  (reg, deps) => gauge(reg, 'rolecall_approvals', 'Gate approvals by status', ['status'], async (g) => {
    for (const r of await deps.prisma.approval.groupBy({ by: ['status'], _count: { _all: true } })) g.set({ status: r.status }, r._count._all);
  }),
  (reg, deps) => gauge(reg, 'rolecall_constraint_violations', 'Role constraint violations by role and kind', ['role', 'kind'], async (g) => {
    for (const r of await deps.prisma.constraintViolation.groupBy({ by: ['roleId', 'kind'], _count: { _all: true } })) g.set({ role: r.roleId, kind: r.kind }, r._count._all);
  }),
];

const llmTotals = (deps: ConsoleDeps) => deps.prisma.$queryRaw<{ roleId: string; model: string; prompt: number; completion: number; cost: number; errors: number }[]>`
  SELECT COALESCE(l."roleId", s."roleId", '(' || l.purpose || ')') AS "roleId", l.model, sum(l."promptTokens")::float8 AS prompt, sum(l."completionTokens")::float8 AS completion,
    sum(l."costUsd")::float8 AS cost, (count(*) FILTER (WHERE NOT l.ok))::float8 AS errors
  FROM "LlmCall" l LEFT JOIN "Step" s ON s.id = l."stepId" GROUP BY 1, 2`;

export function mountMetrics(app: Hono, deps: ConsoleDeps): void {
  const registry = new Registry();
  for (const add of COLLECTORS) add(registry, deps);
  app.get('/metrics', async (c) => {
    if (deps.metricsToken && !bearerMatches(c.req.header('authorization'), deps.metricsToken)) {
      return c.text('Unauthorized: /metrics needs "Authorization: Bearer <METRICS_TOKEN>"\n', 401, { 'WWW-Authenticate': 'Bearer realm="rolecall-metrics"' });
    }
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!), digest(token));
}
