// An experiment's results: per arm, the observations of each metric (from Workflow, Approval, LlmCall, Satisfaction),
// each treatment arm compared with the control (stats.ts), the planned sample size and how much is still needed.
// Fixed horizon, stated to the operator: results are shown as data arrives, but a decision (a winner) is offered
// only once every arm has reached the sample size planned at the start — peeking never ends an experiment early.
// Invariants: read-only; a workflow counts for a metric only once it has an outcome for it (e.g. a rate of
// completion counts finished workflows only); guard-rails are checked in the direction that would hurt.
import type { Db } from '../db';
import { LOWER_IS_BETTER, RATE_METRICS, type ExperimentDefinition, type MetricId } from './definition';
import { rankComparison, sampleSizeRate, sampleSizeShift, twoProportion, type Comparison } from './stats';

/** One assigned workflow's outcomes (null: no outcome for that metric yet). */
export interface Outcome {
  arm: string;
  completed: boolean | null;
  approvedUnchanged: boolean | null;
  satisfied: boolean | null;
  cost: number | null;
  seconds: number | null;
}

const TERMINAL = ['completed', 'rejected', 'cancelled', 'step_failed'];

export async function outcomesOf(prisma: Db, experimentId: string): Promise<Outcome[]> {
  const rows = await prisma.$queryRaw<{ arm: string; status: string; seconds: number | null; cost: number; decided: number; changed: number; votes: number; score: number | null }[]>`
    SELECT a.arm, w.status::text AS status, EXTRACT(EPOCH FROM (w."finishedAt" - w."createdAt"))::float8 AS seconds,
      (SELECT coalesce(sum(l."costUsd"), 0)::float8 FROM "LlmCall" l WHERE l."workflowId" = w.id) AS cost,
      (SELECT count(*)::int FROM "Approval" p WHERE p."workflowId" = w.id AND p.status <> 'pending') AS decided,
      (SELECT count(*)::int FROM "Approval" p WHERE p."workflowId" = w.id AND p.status IN ('changes_requested', 'rejected')) AS changed,
      (SELECT count(*)::int FROM "Satisfaction" s WHERE s."workflowId" = w.id) AS votes,
      (SELECT avg(s.score)::float8 FROM "Satisfaction" s WHERE s."workflowId" = w.id) AS score
    FROM "ExperimentAssignment" a JOIN "Workflow" w ON w.id = a."workflowId"
    WHERE a."experimentId" = ${experimentId}`;
  return rows.map((r) => {
    const done = r.status === 'completed';
    return {
      arm: r.arm,
      completed: TERMINAL.includes(r.status) ? done : null,
      approvedUnchanged: r.decided > 0 ? r.changed === 0 : null,
      satisfied: r.votes > 0 ? (r.score ?? 0) > 0 : null,
      cost: done ? r.cost : null,
      seconds: done && r.seconds != null ? r.seconds : null,
    };
  });
}

const FIELD: Record<MetricId, keyof Omit<Outcome, 'arm'>> = {
  completion: 'completed', approval_unchanged: 'approvedUnchanged', satisfaction: 'satisfied', cost_per_completed: 'cost', time_to_completion: 'seconds',
};
export const METRIC_LABEL: Record<MetricId, string> = {
  completion: 'Completion rate', approval_unchanged: 'Approved without changes', satisfaction: 'Satisfaction (thumbs up)', cost_per_completed: 'Cost per completed workflow (USD)', time_to_completion: 'Time to completion (s)',
};

export interface ArmSummary { arm: string; n: number; value: number | null }
export interface MetricResult {
  metric: MetricId;
  test: 'two-proportion z-test' | 'Mann-Whitney U';
  arms: ArmSummary[];
  /** Each treatment arm against the control (the first arm). */
  vsControl: ({ arm: string; better: boolean | null; significant: boolean } & Comparison)[];
}

export interface Analysis {
  plannedPerArm: number;
  /** Per arm: observations of the primary metric so far. */
  observed: Record<string, number>;
  /** How many more primary observations the arm furthest behind needs. */
  stillNeeded: number;
  enoughData: boolean;
  primary: MetricResult;
  guardrails: MetricResult[];
  /** Only when enoughData: the arm to roll out (undefined: keep the control), and why. */
  decision?: { winner?: string; reason: string };
}

function values(outcomes: Outcome[], arm: string, metric: MetricId): number[] {
  const f = FIELD[metric];
  const out: number[] = [];
  for (const o of outcomes) {
    if (o.arm !== arm) continue;
    const v = o[f];
    if (v === null) continue;
    out.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
  return out;
}

export function compareMetric(def: ExperimentDefinition, outcomes: Outcome[], metric: MetricId): MetricResult {
  const rate = RATE_METRICS.has(metric);
  const alpha = def.design.alpha;
  const byArm = def.arms.map((a) => ({ arm: a.id, xs: values(outcomes, a.id, metric) }));
  const control = byArm[0]!;
  const lowerBetter = LOWER_IS_BETTER.has(metric);
  return {
    metric,
    test: rate ? 'two-proportion z-test' : 'Mann-Whitney U',
    arms: byArm.map((a) => ({ arm: a.arm, n: a.xs.length, value: !a.xs.length ? null : rate ? sum(a.xs) / a.xs.length : medianOf(a.xs) })),
    vsControl: byArm.slice(1).map((t) => {
      const c = rate
        ? twoProportion(sum(control.xs), control.xs.length, sum(t.xs), t.xs.length, alpha)
        : rankComparison(control.xs, t.xs, alpha);
      const significant = c.pValue !== null && c.pValue < alpha;
      return { arm: t.arm, ...c, significant, better: c.diff === null || c.diff === 0 ? null : lowerBetter ? c.diff < 0 : c.diff > 0 };
    }),
  };
}

const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
const medianOf = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * The fixed-horizon sample size per arm for the primary metric. Rates: from the design's baseline and effect; times
 * and costs: from the observed spread (history of the same template, or the design's effect on a unit spread).
 */
export function plannedSampleSize(def: ExperimentDefinition, history: number[] = []): number {
  const { alpha, power, min_detectable_effect: mde, baseline } = def.design;
  if (RATE_METRICS.has(def.primary_metric)) return Math.max(10, sampleSizeRate(baseline, Math.min(mde, 0.99 - baseline) || mde, alpha, power));
  const mean = history.length ? sum(history) / history.length : 1;
  const sd = history.length > 1 ? Math.sqrt(sum(history.map((x) => (x - mean) ** 2)) / (history.length - 1)) : 1;
  return Math.max(10, sampleSizeShift(sd, mde * (mean || 1), alpha, power));
}

export function analyse(def: ExperimentDefinition, outcomes: Outcome[], plannedPerArm: number): Analysis {
  const primary = compareMetric(def, outcomes, def.primary_metric);
  const guardrails = def.guardrails.filter((g) => g !== def.primary_metric).map((g) => compareMetric(def, outcomes, g));
  const observed = Object.fromEntries(primary.arms.map((a) => [a.arm, a.n]));
  const least = Math.min(...primary.arms.map((a) => a.n));
  const stillNeeded = Math.max(0, plannedPerArm - least);
  const enoughData = stillNeeded === 0;
  const result: Analysis = { plannedPerArm, observed, stillNeeded, enoughData, primary, guardrails };
  if (!enoughData) return result;
  const hurt = (arm: string) => guardrails.filter((g) => g.vsControl.some((v) => v.arm === arm && v.significant && v.better === false)).map((g) => g.metric);
  const winners = primary.vsControl.filter((v) => v.significant && v.better).sort((a, b) => Math.abs(b.diff ?? 0) - Math.abs(a.diff ?? 0));
  for (const w of winners) {
    const broke = hurt(w.arm);
    if (!broke.length) return { ...result, decision: { winner: w.arm, reason: `${w.arm} beats the control on ${METRIC_LABEL[def.primary_metric]} (p = ${w.pValue!.toFixed(4)}) and no guard-rail is significantly worse` } };
  }
  const reason = winners.length
    ? `${winners.map((w) => w.arm).join(', ')} beat the control but worsen a guard-rail (${winners.flatMap((w) => hurt(w.arm)).join(', ')}): keep the control`
    : `no arm differs significantly from the control on ${METRIC_LABEL[def.primary_metric]} at alpha ${def.design.alpha}: keep the control`;
  return { ...result, decision: { reason } };
}
