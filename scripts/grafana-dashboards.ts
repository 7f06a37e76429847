// `npx tsx scripts/grafana-dashboards.ts`: writes the Grafana dashboards of deploy/grafana/dashboards/*.json (which
// compose provisions) from the definitions below, so that every panel is a short PromQL line here. Invariant: every
// metric a panel uses is one Rolecall's /metrics exposes (test/ops/observability.test.ts scrapes a real server and a
// real worker and checks each name, and that the JSON files are what this script writes). Database gauges are taken
// with max() across server instances (each reports the same value); process counters are summed.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const DASHBOARD_DIR = path.resolve(import.meta.dirname, '../deploy/grafana/dashboards');

interface Panel { title: string; exprs: [legend: string, expr: string][]; unit?: string; kind?: 'timeseries' | 'stat' | 'bargauge' }
interface Dashboard { uid: string; title: string; description: string; panels: Panel[] }

export const DASHBOARDS: Dashboard[] = [
  {
    uid: 'rolecall-workflows', title: 'Rolecall · Workflows and steps', description: 'Workflows by status, steps per role, step durations, constraint violations',
    panels: [
      { title: 'Workflows by status', kind: 'bargauge', exprs: [['{{status}}', 'max by (status) (rolecall_workflows)']] },
      { title: 'Workflows finished per hour', exprs: [['{{status}}', 'max by (status) (delta(rolecall_workflows{status=~"completed|rejected|cancelled"}[1h]))']] },
      { title: 'Steps per role by status', kind: 'bargauge', exprs: [['{{role}} {{status}}', 'max by (role, status) (rolecall_steps)']] },
      { title: 'Running and waiting steps per role', exprs: [['{{role}} {{status}}', 'max by (role, status) (rolecall_steps{status=~"running|awaiting_approval|waiting_input"})']] },
      { title: 'Step duration per role (p50, p95 over finished steps)', unit: 's', exprs: [['{{role}} p{{quantile}}', 'max by (role, quantile) (rolecall_step_duration_seconds)']] },
      { title: 'Step jobs per second by outcome (all workers)', unit: 'ops', exprs: [['{{outcome}}', 'sum by (outcome) (rate(rolecall_jobs_total{kind="step"}[5m]))']] },
      { title: 'Constraint violations per role', exprs: [['{{role}} {{kind}}', 'max by (role, kind) (rolecall_constraint_violations)']] },
    ],
  },
  {
    uid: 'rolecall-models', title: 'Rolecall · Model cost and tokens', description: 'LLM cost, tokens, calls and errors per role and model',
    panels: [
      { title: 'Cost so far (USD) per role and model', unit: 'currencyUSD', kind: 'bargauge', exprs: [['{{role}} {{model}}', 'max by (role, model) (rolecall_llm_cost_usd)']] },
      { title: 'Cost per hour (USD)', unit: 'currencyUSD', exprs: [['{{role}}', 'sum by (role) (max by (role, model) (delta(rolecall_llm_cost_usd[1h])))']] },
      { title: 'Cost in the last 24 h (USD)', unit: 'currencyUSD', kind: 'stat', exprs: [['total', 'sum(max by (role, model) (delta(rolecall_llm_cost_usd[24h])))']] },
      { title: 'Tokens per hour by kind', exprs: [['{{kind}}', 'sum by (kind) (max by (role, model, kind) (delta(rolecall_llm_tokens[1h])))']] },
      { title: 'Tokens so far per role', kind: 'bargauge', exprs: [['{{role}} {{kind}}', 'max by (role, kind) (rolecall_llm_tokens)']] },
      { title: 'Model calls and errors per hour', exprs: [['calls {{model}}', 'sum by (model) (max by (role, model) (delta(rolecall_llm_calls[1h])))'], ['errors {{model}}', 'sum by (model) (max by (role, model) (delta(rolecall_llm_errors[1h])))']] },
      { title: 'Model error ratio (15 min)', unit: 'percentunit', exprs: [['errors / calls', 'sum(max by (role, model) (delta(rolecall_llm_errors[15m]))) / sum(max by (role, model) (delta(rolecall_llm_calls[15m])))']] },
    ],
  },
  {
    uid: 'rolecall-queue', title: 'Rolecall · Queue and workers', description: 'Queue depth and age, workers, job throughput, durations and queue hops',
    panels: [
      { title: 'Jobs waiting by lane (continuations run first; intakes fair across workspaces)', exprs: [['{{lane}}', 'max by (lane) (rolecall_queue_waiting_jobs)'], ['total', 'sum(max by (lane) (rolecall_queue_waiting_jobs))']] },
      { title: 'Jobs on the queue by state', exprs: [['{{state}}', 'max by (state) (rolecall_queue_jobs{state=~"waiting|prioritized|active|delayed|failed"})']] },
      { title: 'Oldest waiting job age', unit: 's', exprs: [['oldest', 'max(rolecall_queue_oldest_waiting_seconds)']] },
      { title: 'Workers connected', kind: 'stat', exprs: [['queue', 'max(rolecall_queue_workers)'], ['scraped', 'sum(up{job="rolecall-worker"})']] },
      { title: 'Jobs per second by kind and outcome', unit: 'ops', exprs: [['{{kind}} {{outcome}}', 'sum by (kind, outcome) (rate(rolecall_jobs_total[5m]))']] },
      { title: 'Job duration p95 by kind', unit: 's', exprs: [['{{kind}}', 'histogram_quantile(0.95, sum by (kind, le) (rate(rolecall_job_duration_seconds_bucket[5m])))']] },
      { title: 'Queue hop p95 (added → started) by kind', unit: 's', exprs: [['{{kind}}', 'histogram_quantile(0.95, sum by (kind, le) (rate(rolecall_job_wait_seconds_bucket[5m])))']] },
      { title: 'Worker memory (RSS)', unit: 'bytes', exprs: [['{{instance}}', 'process_resident_memory_bytes{job="rolecall-worker"}']] },
      { title: 'Worker event loop lag p99', unit: 's', exprs: [['{{instance}}', 'nodejs_eventloop_lag_p99_seconds{job="rolecall-worker"}']] },
    ],
  },
  {
    uid: 'rolecall-gates', title: 'Rolecall · Gates', description: 'Approval gates: waiting, decided, how long people take',
    panels: [
      { title: 'Gates by status', kind: 'bargauge', exprs: [['{{status}}', 'max by (status) (rolecall_approvals)']] },
      { title: 'Gates waiting for a decision', exprs: [['pending', 'max(rolecall_approvals{status="pending"})']] },
      { title: 'Oldest waiting gate', unit: 's', exprs: [['oldest', 'max(rolecall_gate_oldest_pending_seconds)']] },
      { title: 'Gate wait (posted → decided) p50 / p95', unit: 's', exprs: [['p{{quantile}}', 'max by (quantile) (rolecall_gate_wait_seconds)']] },
      { title: 'Decisions per hour', exprs: [['{{status}}', 'max by (status) (delta(rolecall_approvals{status!="pending"}[1h]))']] },
    ],
  },
  {
    uid: 'rolecall-errors', title: 'Rolecall · Errors and HTTP', description: 'HTTP rate, latency and status; failures; dependencies',
    panels: [
      { title: 'HTTP requests per second by route', unit: 'reqps', exprs: [['{{method}} {{route}}', 'sum by (method, route) (rate(rolecall_http_requests_total[5m]))']] },
      { title: 'HTTP requests per second by status', unit: 'reqps', exprs: [['{{status}}', 'sum by (status) (rate(rolecall_http_requests_total[5m]))']] },
      { title: 'HTTP latency p95 by route', unit: 's', exprs: [['{{route}}', 'histogram_quantile(0.95, sum by (route, le) (rate(rolecall_http_request_duration_seconds_bucket[5m])))']] },
      { title: 'HTTP 5xx ratio', unit: 'percentunit', exprs: [['5xx', 'sum(rate(rolecall_http_requests_total{status=~"5.."}[5m])) / sum(rate(rolecall_http_requests_total[5m]))']] },
      { title: 'Failed job attempts per second by kind', unit: 'ops', exprs: [['{{kind}}', 'sum by (kind) (rate(rolecall_jobs_total{outcome="failed"}[5m]))']] },
      { title: 'Failed steps and workflows', exprs: [['failed steps', 'sum(max by (role) (rolecall_steps{status="failed"}))'], ['workflows waiting on a failed step', 'max(rolecall_workflows{status="step_failed"})']] },
      { title: 'Dependencies up (PostgreSQL, Redis)', kind: 'stat', exprs: [['{{dependency}}', 'min by (dependency) (rolecall_dependency_up)']] },
      { title: 'Scrape problems', exprs: [['gauges left out', 'sum(rate(rolecall_metrics_collect_errors_total[5m]))'], ['targets down', 'count(up{job=~"rolecall-.*"} == 0)']] },
      { title: 'Processes by kind', kind: 'stat', exprs: [['{{kind}}', 'count by (kind) (rolecall_process_info)']] },
      { title: 'Server memory (RSS)', unit: 'bytes', exprs: [['{{instance}}', 'process_resident_memory_bytes{job="rolecall-server"}']] },
    ],
  },
];

/** The Grafana JSON of one dashboard (schema 39, panels two per row). */
export function dashboardJson(d: Dashboard): Record<string, unknown> {
  const ds = { type: 'prometheus', uid: 'prometheus' };
  return {
    uid: d.uid, title: d.title, description: d.description, tags: ['rolecall'], editable: false, schemaVersion: 39, version: 1,
    time: { from: 'now-6h', to: 'now' }, refresh: '30s', timezone: '',
    templating: { list: [] }, annotations: { list: [] },
    panels: d.panels.map((p, i) => ({
      id: i + 1, type: p.kind ?? 'timeseries', title: p.title, datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
      options: {},
      targets: p.exprs.map(([legend, expr], j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr, legendFormat: legend })),
    })),
  };
}

export const dashboardFile = (d: Dashboard) => path.join(DASHBOARD_DIR, `${d.uid}.json`);
export const renderDashboard = (d: Dashboard) => `${JSON.stringify(dashboardJson(d), null, 2)}\n`;

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  for (const d of DASHBOARDS) writeFileSync(dashboardFile(d), renderDashboard(d));
  process.stdout.write(`wrote ${DASHBOARDS.length} dashboards to ${path.relative(process.cwd(), DASHBOARD_DIR)}/\n`);
}
