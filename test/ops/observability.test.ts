// Dashboards, alert rules and the runbook against the real /metrics: the Prometheus config and alert rules pass
// promtool (Debian's, fetched by .ci/tools) and their unit tests fire as stated; every dashboard expression is valid
// PromQL and the JSON files are what scripts/grafana-dashboards.ts writes; every metric a dashboard or an alert uses
// appears in a real scrape of a Rolecall process that has run a workflow to its first gate; every alert has a runbook
// line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { DASHBOARDS, dashboardFile, renderDashboard } from '../../scripts/grafana-dashboards';
import { REPO_ROOT } from '../support/app-process';
import { startThread, waitForGate } from '../support/flow';
import { startHarness, waitFor, type Harness } from '../support/harness';

const PROMTOOL = path.join(REPO_ROOT, '.tools/bin/promtool');
const promtool = (...args: string[]) => execFileSync(PROMTOOL, args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const tmp = mkdtempSync(path.join(os.tmpdir(), 'rolecall-prom-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const rulesSchema = z.object({
  groups: z.array(z.object({
    name: z.string(),
    rules: z.array(z.object({
      alert: z.string(), expr: z.string(), for: z.string(),
      labels: z.object({ severity: z.enum(['info', 'warning', 'critical']) }),
      annotations: z.object({ summary: z.string().min(1), runbook_url: z.string().startsWith('docs/runbook.md#') }),
    }).strict()),
  })),
});
const alerts = rulesSchema.parse(parse(readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/alerts.yml'), 'utf8'))).groups.flatMap((g) => g.rules);
const dashboardExprs = DASHBOARDS.flatMap((d) => d.panels.flatMap((p) => p.exprs.map(([, e]) => e)));

/** Metric names in a PromQL expression (identifiers that name series; `up` is Prometheus' own). */
function metricNames(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  return [...withoutStrings.matchAll(/\b((?:rolecall|process|nodejs)_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

describe('Prometheus config and alert rules', () => {
  it('pass promtool: the rules check, their unit tests, and the scrape config', () => {
    expect(promtool('check', 'rules', 'deploy/prometheus/alerts.yml')).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(promtool('test', 'rules', 'deploy/prometheus/alerts.test.yml')).toContain('SUCCESS');
    // The config names in-container paths: check a copy pointing at local files.
    writeFileSync(path.join(tmp, 'metrics-token'), 'token');
    writeFileSync(path.join(tmp, 'alerts.yml'), readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/alerts.yml')));
    writeFileSync(path.join(tmp, 'prometheus.yml'), readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8').replaceAll('/etc/prometheus/', `${tmp}/`));
    expect(promtool('check', 'config', path.join(tmp, 'prometheus.yml'))).toContain('SUCCESS');
  });

  it('has a unit test for every alert, and a runbook entry for each', () => {
    const tests = readFileSync(path.join(REPO_ROOT, 'deploy/prometheus/alerts.test.yml'), 'utf8');
    const runbook = readFileSync(path.join(REPO_ROOT, 'docs/runbook.md'), 'utf8');
    for (const a of alerts.filter((x) => x.labels.severity !== 'info')) expect(tests, a.alert).toContain(`alertname: ${a.alert}`);
    for (const a of alerts) {
      expect(runbook, a.alert).toMatch(new RegExp(`^### ${a.alert}$`, 'm'));
      expect(a.annotations.runbook_url).toBe(`docs/runbook.md#${a.alert.toLowerCase()}`);
    }
  });
});

describe('Grafana dashboards', () => {
  it('are the files scripts/grafana-dashboards.ts writes, one per topic, with unique uids', () => {
    for (const d of DASHBOARDS) expect(readFileSync(dashboardFile(d), 'utf8'), d.uid).toBe(renderDashboard(d));
    expect(new Set(DASHBOARDS.map((d) => d.uid)).size).toBe(DASHBOARDS.length);
    const titles = DASHBOARDS.map((d) => d.title).join(' | ');
    for (const topic of ['Workflows', 'steps', 'cost and tokens', 'Queue', 'Gates', 'Errors']) expect(titles).toContain(topic);
  });

  it('use valid PromQL (promtool parses each expression as a recording rule)', () => {
    const rules = { groups: [{ name: 'dashboards', rules: dashboardExprs.map((expr, i) => ({ record: `rolecall:dashboard_expr_${i}`, expr })) }] };
    writeFileSync(path.join(tmp, 'dashboard-exprs.yml'), JSON.stringify(rules));
    expect(promtool('check', 'rules', path.join(tmp, 'dashboard-exprs.yml'))).toContain(`SUCCESS: ${dashboardExprs.length} rules found`);
  });
});

describe('every metric a dashboard or an alert uses', () => {
  let h: Harness;
  let scrape: string;
  beforeAll(async () => {
    // One process running server and worker (`npm start` mode): database gauges, HTTP and job metrics in one scrape.
    // a daily workspace budget far above what the workflow spends: the budget gauge shows how much of it is used
    h = await startHarness({ env: { METRICS_TOKEN: 'observability-test-token-0123', BUDGETS: JSON.stringify([{ scope: 'workspace', period: 'day', tokens: 10_000_000 }]) } });
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    await fetch(`${h.url}/no-such-route`); // a 404 for the HTTP status metric
    // On a loaded machine one scrape's source may miss its time bound (that gauge is then left out): scrape again.
    scrape = await waitFor(async () => {
      const res = await fetch(`${h.url}/metrics`, { headers: { authorization: 'Bearer observability-test-token-0123' } });
      expect(res.status).toBe(200);
      const text = await res.text();
      return /^rolecall_dependency_up\{dependency="redis"\} 1$/m.test(text) && /^rolecall_dependency_up\{dependency="postgres"\} 1$/m.test(text)
        && /^rolecall_queue_workers [1-9]/m.test(text) && /^rolecall_llm_calls\{/m.test(text) && /^rolecall_gate_oldest_pending_seconds /m.test(text) && /^rolecall_budget_used_ratio\{/m.test(text) ? text : undefined;
    }, 'a complete scrape');
  });
  afterAll(async () => { await h?.close(); });

  it('is in a real /metrics scrape', () => {
    const exposed = new Set([...scrape.matchAll(/^(?:# TYPE )?([a-z_:][a-z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
    const used = new Set([...alerts.map((a) => a.expr), ...dashboardExprs].flatMap(metricNames));
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
  });

  it('has the values a running system shows', () => {
    expect(scrape).toMatch(/^rolecall_dependency_up\{dependency="postgres"\} 1$/m);
    expect(scrape).toMatch(/^rolecall_dependency_up\{dependency="redis"\} 1$/m);
    expect(scrape).toMatch(/^rolecall_queue_workers [1-9]/m);
    // Queue depth by lane (orchestrator/lanes.ts): continuations on the wait list, intakes in the prioritized set.
    expect(scrape).toMatch(/^rolecall_queue_waiting_jobs\{lane="continuation"\} \d+$/m);
    expect(scrape).toMatch(/^rolecall_queue_waiting_jobs\{lane="intake"\} \d+$/m);
    expect(scrape).toMatch(/^rolecall_gate_oldest_pending_seconds \d/m);
    expect(scrape).toMatch(/^rolecall_llm_calls\{role="business_analyst",model="[^"]+"\} [1-9]/m);
    expect(scrape).toMatch(/^rolecall_jobs_total\{kind="step",outcome="completed"\} [1-9]/m);
    expect(scrape).toMatch(/^rolecall_http_requests_total\{method="GET",route="\/\*",status="404",ok="false"\} 1$/m);
    expect(scrape).toMatch(/^rolecall_metrics_collect_errors_total \d+$/m);
    const used = Number(/^rolecall_budget_used_ratio\{scope="workspace",period="day"\} (\S+)$/m.exec(scrape)?.[1]);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThan(0.5); // a collection may time out on a loaded machine
  });
});
