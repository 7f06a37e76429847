// The chart specs behind /admin/api/analytics/<chart>: { type, labels, datasets }, as Chart.js draws them.
// Invariant: every number is finite (no NaN reaches a chart), and a chart with nothing to draw (no rows, or only
// zeros where zero means "nothing happened", such as $0 of spend) carries `empty`: the sentence the page shows instead
// of empty axes.
import type { Db } from '../../orchestrator/db';
import * as q from './queries';

export interface ChartSpec {
  type: 'bar' | 'line' | 'doughnut';
  title: string;
  labels: string[];
  datasets: { label: string; data: number[] }[];
  /** Set when there is nothing to draw: what to show instead, and what to do next. */
  empty?: string;
}

const TRY = 'Try a workflow in the Playground (/admin/playground).';
/** Per chart: when it has nothing to draw ('rows': no labels; 'zeros': every value 0 too) and what it says then. */
const EMPTY: Record<string, [when: 'rows' | 'zeros', text: string]> = {
  completion: ['rows', `No workflows in this range yet. ${TRY}`],
  'step-latency': ['rows', `No finished steps in this range yet. ${TRY}`],
  'cost-role': ['zeros', 'No spend yet ($0): nothing ran, or only free models did (the offline demo model, local models).'],
  'cost-workflow': ['zeros', 'No spend yet ($0): nothing ran, or only free models did (the offline demo model, local models).'],
  'cost-day': ['zeros', 'No spend yet ($0): nothing ran, or only free models did (the offline demo model, local models).'],
  intervention: ['rows', `No steps in this range yet. ${TRY}`],
  'approval-wait': ['rows', 'No gate was decided in this range yet.'],
  satisfaction: ['zeros', 'No votes yet: people rate a finished workflow with 👍 / 👎 in its thread.'],
  violations: ['rows', 'No constraint violations in this range.'],
};

/** NaN and infinities become 0; `empty` is set when the chart has nothing to draw. */
export function finish(name: string, spec: ChartSpec): ChartSpec {
  const datasets = spec.datasets.map((d) => ({ ...d, data: d.data.map((v) => (Number.isFinite(v) ? v : 0)) }));
  const [when, text] = EMPTY[name] ?? ['rows', 'Nothing to show yet.'];
  const nothing = spec.labels.length === 0 || datasets.length === 0 || (when === 'zeros' && datasets.every((d) => d.data.every((v) => v === 0)));
  return { ...spec, datasets, ...(nothing ? { empty: text } : {}) };
}

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

const CHARTS = {
  completion: async (db, since) => {
    const c = await q.completion(db, since);
    return { type: 'doughnut', title: 'Workflows by status', labels: c.byStatus.map((s) => s.label), datasets: [{ label: 'workflows', data: c.byStatus.map((s) => s.value) }] };
  },
  'step-latency': async (db, since) => {
    const rows = await q.stepLatency(db, since);
    return { type: 'bar', title: 'Step latency per role (s)', labels: rows.map((r) => r.roleId), datasets: [{ label: 'p50', data: rows.map((r) => round(r.p50)) }, { label: 'p95', data: rows.map((r) => round(r.p95)) }] };
  },
  'cost-role': async (db, since) => costChart(await q.costBy(db, since, 'role'), 'bar', 'Cost per role (USD)'),
  'cost-workflow': async (db, since) => costChart(await q.costBy(db, since, 'workflow'), 'bar', 'Cost per workflow (USD, top 20)'),
  'cost-day': async (db, since) => costChart(await q.costBy(db, since, 'day'), 'line', 'Cost per day (USD)'),
  intervention: async (db, since) => {
    const rows = await q.intervention(db, since);
    return { type: 'bar', title: 'Human intervention rate per role (%)', labels: rows.map((r) => r.roleId), datasets: [{ label: '% of steps', data: rows.map((r) => round((100 * r.intervened) / r.steps, 1)) }] };
  },
  'approval-wait': async (db, since) => {
    const rows = await q.approvalWait(db, since);
    return { type: 'bar', title: 'Approval wait per gate (s)', labels: rows.map((r) => r.roleId), datasets: [{ label: 'p50', data: rows.map((r) => round(r.p50)) }, { label: 'p95', data: rows.map((r) => round(r.p95)) }] };
  },
  satisfaction: async (db, since) => {
    const s = await q.satisfaction(db, since);
    return { type: 'doughnut', title: 'Satisfaction', labels: ['thumbs up', 'thumbs down'], datasets: [{ label: 'votes', data: [s.up, s.down] }] };
  },
  violations: async (db, since) => {
    const rows = await q.violations(db, since);
    const roles = [...new Set(rows.map((r) => r.roleId))];
    const kinds = [...new Set(rows.map((r) => r.kind))];
    return {
      type: 'bar', title: 'Constraint violations per role', labels: roles,
      datasets: kinds.map((k) => ({ label: k, data: roles.map((r) => rows.find((x) => x.roleId === r && x.kind === k)?.n ?? 0) })),
    };
  },
} satisfies Record<string, (db: Db, since: Date) => Promise<ChartSpec>>;

export type ChartName = keyof typeof CHARTS;
export const CHART_NAMES = Object.keys(CHARTS) as ChartName[];

export const chartSpec = async (db: Db, name: ChartName, since: Date): Promise<ChartSpec> => finish(name, await CHARTS[name](db, since));

function costChart(rows: q.Labeled[], type: 'bar' | 'line', title: string): ChartSpec {
  return { type, title, labels: rows.map((r) => r.label), datasets: [{ label: 'USD', data: rows.map((r) => round(r.value, 6)) }] };
}
