// /metrics in the Prometheus text format. The rolecall_* gauges below are read from PostgreSQL and the queue at scrape
// time, so every server process reports the same values (dashboards take max() across instances, never sum()); the
// process's own metrics (ConsoleDeps.processRegistry: Node, HTTP requests) are appended and differ per instance. With
// METRICS_TOKEN set, a scrape needs `Authorization: Bearer <token>` (401 otherwise). Invariant: a scrape answers even
// while PostgreSQL or Redis is down: a gauge whose source fails is left out of that scrape, rolecall_dependency_up
// says which dependency failed, and rolecall_metrics_collect_errors_total counts the failed collections.
// The workflow, step, gate, LLM and violation gauges come from counters kept at write time (orchestrator/metric-counters.ts):
// a scrape reads a few hundred counter rows and one index entry, never the large tables, however many rows they hold.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { Counter, Gauge, Registry } from 'prom-client';
import { budgetOverview } from '../../orchestrator/budgets';
import { withDeadline } from '../../orchestrator/deadline';
import { waitingByLane } from '../../orchestrator/lanes';
import { foldMetricCounters, oldestPendingGate, quantileOfBuckets, readCounters, type CounterRow } from '../../orchestrator/metric-counters';
import type { ConsoleDeps } from '../context';

type Collector = (reg: Registry, deps: ConsoleDeps, failed: () => void) => void;

// Every source gets this long per scrape (all run in parallel), so a scrape answers within a second even when
// PostgreSQL or Redis hangs rather than refusing.
const DEPENDENCY_TIMEOUT_MS = 800;

/** `work`, or a rejection once DEPENDENCY_TIMEOUT_MS have passed. */
const bounded = <T>(work: Promise<T>): Promise<T> => withDeadline(work, DEPENDENCY_TIMEOUT_MS, () => new Error('timeout'));

const gauge = <L extends string>(reg: Registry, failed: () => void, name: string, help: string, labelNames: L[], collect: (g: Gauge<L>) => Promise<void>) =>
  new Gauge<L>({
    name, help, labelNames, registers: [reg],
    async collect() {
      this.reset();
      try {
        await bounded(collect(this));
      } catch {
        this.reset(); // nothing rather than a partial or stale value; rolecall_dependency_up tells why
        failed();
      }
    },
  });

const secondsSince = (d: Date | null | undefined, now: number) => (d ? Math.max(0, (now - d.getTime()) / 1000) : 0);

async function answers(check: () => Promise<unknown>): Promise<number> {
  try {
    await bounded(check());
    return 1;
  } catch {
    return 0;
  }
}

const COLLECTORS: Collector[] = [
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_dependency_up', 'Whether PostgreSQL and Redis answered this scrape (1) or not (0)', ['dependency'], async (g) => {
    const [postgres, redis] = await Promise.all([answers(() => deps.prisma.$queryRaw`SELECT 1`), answers(() => deps.queueCounts())]);
    g.set({ dependency: 'postgres' }, postgres);
    g.set({ dependency: 'redis' }, redis);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_queue_jobs', 'Jobs on the BullMQ queue by state', ['state'], async (g) => {
    for (const [state, n] of Object.entries(await deps.queueCounts())) g.set({ state }, n);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_queue_waiting_jobs', 'Jobs waiting for a worker by lane: continuations of running work (BullMQ wait list, taken first) and new intakes (its prioritized set, fair across workspaces); queue depth is their sum', ['lane'], async (g) => {
    for (const [lane, n] of Object.entries(waitingByLane(await deps.queueCounts()))) g.set({ lane }, n);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_queue_workers', 'Worker connections on the queue (one per running worker process)', [], async (g) => {
    if (deps.queueHealth) g.set((await deps.queueHealth()).workers);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_queue_oldest_waiting_seconds', 'Age of the oldest job waiting for a worker, in seconds (0: none waits)', [], async (g) => {
    if (deps.queueHealth) g.set((await deps.queueHealth()).oldestWaitingSeconds);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_budget_used_ratio', 'Most used budget of this period by scope (workspace, channel) and period (day, month, total): spend over its limit (plus any raise), in USD or tokens, whichever is nearer; 1 = spent. Absent without budget limits', ['scope', 'period'], async (g) => {
    if (!deps.budgets) return;
    const most = new Map<string, { scope: string; period: string; ratio: number }>();
    for (const w of (await budgetOverview(deps.prisma, deps.budgets)).windows) {
      const ratios = [
        w.limitUsd !== undefined && w.limitUsd + Number(w.extraUsd) > 0 ? Number(w.spentUsd) / (w.limitUsd + Number(w.extraUsd)) : undefined,
        w.limitTokens !== undefined && w.limitTokens + Number(w.extraTokens) > 0 ? Number(w.spentTokens) / (w.limitTokens + Number(w.extraTokens)) : undefined,
      ].filter((r): r is number => r !== undefined);
      if (!ratios.length) continue;
      const key = `${w.scope}/${w.period}`;
      const ratio = Math.max(...ratios);
      if (ratio > (most.get(key)?.ratio ?? -1)) most.set(key, { scope: w.scope, period: w.period, ratio });
    }
    for (const m of most.values()) g.set({ scope: m.scope, period: m.period }, m.ratio);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_workflows', 'Workflows by status', ['status'], async (g) => {
    for (const r of counted(await counters(deps), 'workflows')) g.set({ status: r.l1 }, r.value);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_step_duration_seconds', 'Finished step durations in seconds by role: quantiles over all finished steps (within 2.5%)', ['role', 'quantile'], async (g) => {
    for (const [role, buckets] of bucketsBy(await counters(deps), 'step_duration')) {
      for (const q of [0.5, 0.95]) {
        const v = quantileOfBuckets(buckets, q);
        if (v !== undefined) g.set({ role, quantile: String(q) }, v);
      }
    }
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_steps', 'Steps by role and status', ['role', 'status'], async (g) => {
    for (const r of counted(await counters(deps), 'steps')) g.set({ role: r.l1, status: r.l2 }, r.value);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_llm_tokens', 'LLM tokens used, by role, model and kind (prompt or completion)', ['role', 'model', 'kind'], async (g) => {
    for (const r of llmTotals(await counters(deps))) { g.set({ role: r.role, model: r.model, kind: 'prompt' }, r.prompt); g.set({ role: r.role, model: r.model, kind: 'completion' }, r.completion); }
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_llm_cost_usd', 'LLM cost in USD by role and model', ['role', 'model'], async (g) => {
    for (const r of llmTotals(await counters(deps))) g.set({ role: r.role, model: r.model }, r.cost);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_llm_calls', 'LLM calls by role and model (failed ones included)', ['role', 'model'], async (g) => {
    for (const r of llmTotals(await counters(deps))) g.set({ role: r.role, model: r.model }, r.calls);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_llm_errors', 'Failed LLM calls by role and model', ['role', 'model'], async (g) => {
    for (const r of llmTotals(await counters(deps))) g.set({ role: r.role, model: r.model }, r.errors);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_llm_unknown_price_calls', 'LLM calls priced $0 because their model has no known price (set LLM_PRICES), by role and model', ['role', 'model'], async (g) => {
    for (const r of counted(await counters(deps), 'llm_unknown_price')) g.set({ role: r.l1, model: r.l2 }, r.value);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_approvals', 'Gate approvals by status', ['status'], async (g) => {
    for (const r of counted(await counters(deps), 'approvals')) g.set({ status: r.l1 }, r.value);
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_gate_oldest_pending_seconds', 'How long the oldest undecided gate has waited, in seconds (0: none waits)', [], async (g) => {
    g.set(secondsSince(await oldestPendingGate(deps.prisma), Date.now()));
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_gate_wait_seconds', 'Time from a gate being posted to its decision, in seconds: quantiles over all decided gates (within 2.5%)', ['quantile'], async (g) => {
    const buckets = new Map((await counters(deps)).filter((r) => r.metric === 'gate_wait').map((r) => [r.l1, r.value]));
    for (const q of [0.5, 0.95]) {
      const v = quantileOfBuckets(buckets, q);
      if (v !== undefined) g.set({ quantile: String(q) }, v);
    }
  }),
  (reg, deps, failed) => gauge(reg, failed, 'rolecall_constraint_violations', 'Role constraint violations by role and kind', ['role', 'kind'], async (g) => {
    for (const r of counted(await counters(deps), 'violations')) g.set({ role: r.l1, kind: r.l2 }, r.value);
  }),
];

// One read of the counters serves every gauge of a scrape (they collect in parallel); the pending deltas are folded
// first (best effort: a failed fold changes nothing, the read adds the deltas either way).
const SCRAPE_CACHE_MS = 1_000;
const scrapes = new WeakMap<ConsoleDeps, { at: number; rows: Promise<CounterRow[]> }>();

function counters(deps: ConsoleDeps): Promise<CounterRow[]> {
  const cached = scrapes.get(deps);
  if (cached && Date.now() - cached.at < SCRAPE_CACHE_MS) return cached.rows;
  const rows = foldMetricCounters(deps.prisma).catch(() => 0).then(() => readCounters(deps.prisma));
  scrapes.set(deps, { at: Date.now(), rows });
  return rows;
}

/** The counters of `metric` above zero (a count that went back to zero is left out, as a GROUP BY would). */
const counted = (rows: CounterRow[], metric: string) => rows.filter((r) => r.metric === metric && Math.round(r.value) > 0).map((r) => ({ ...r, value: Math.round(r.value) }));

/** Duration buckets of `metric` by their first label (the role). */
function bucketsBy(rows: CounterRow[], metric: string): Map<string, Map<string, number>> {
  const by = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (r.metric !== metric) continue;
    const buckets = by.get(r.l1) ?? new Map<string, number>();
    buckets.set(r.l2, r.value);
    by.set(r.l1, buckets);
  }
  return by;
}

const LLM_FIELDS = new Map<string, 'prompt' | 'completion' | 'cost' | 'calls' | 'errors'>([['llm_prompt', 'prompt'], ['llm_completion', 'completion'], ['llm_cost', 'cost'], ['llm_calls', 'calls'], ['llm_errors', 'errors']]);

/** Per role and model: every (role, model) with at least one call. */
function llmTotals(rows: CounterRow[]): { role: string; model: string; prompt: number; completion: number; cost: number; calls: number; errors: number }[] {
  const by = new Map<string, { role: string; model: string; prompt: number; completion: number; cost: number; calls: number; errors: number }>();
  for (const r of rows) {
    const f = LLM_FIELDS.get(r.metric);
    if (!f) continue;
    const key = JSON.stringify([r.l1, r.l2]);
    const t = by.get(key) ?? { role: r.l1, model: r.l2, prompt: 0, completion: 0, cost: 0, calls: 0, errors: 0 };
    t[f] += r.value;
    by.set(key, t);
  }
  return [...by.values()].filter((t) => Math.round(t.calls) > 0).map((t) => ({ ...t, prompt: Math.round(t.prompt), completion: Math.round(t.completion), calls: Math.round(t.calls), errors: Math.round(t.errors) }));
}

export function mountMetrics(app: Hono, deps: ConsoleDeps): void {
  const own = new Registry();
  const errors = new Counter({ name: 'rolecall_metrics_collect_errors_total', help: 'Gauges left out of a scrape because their source (PostgreSQL, Redis) failed', registers: [own] });
  for (const add of COLLECTORS) add(own, deps, () => errors.inc());
  const registry = deps.processRegistry ? Registry.merge([own, deps.processRegistry]) : own;
  app.get('/metrics', async (c) => {
    if (deps.metricsToken && !bearerMatches(c.req.header('authorization'), deps.metricsToken)) {
      return c.text('Unauthorized: /metrics needs "Authorization: Bearer <METRICS_TOKEN>"\n', 401, { 'WWW-Authenticate': 'Bearer realm="rolecall-metrics"' });
    }
    return c.body(await registry.metrics(), 200, { 'content-type': registry.contentType });
  });
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return !!m && timingSafeEqual(digest(m[1]!), digest(token));
}
