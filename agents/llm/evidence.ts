// Routing by evidence: from recorded tier runs, how each role does on each tier (acceptance, cost), and what moving a
// role down a tier would cost in quality, from shadow runs paired with the routed run of the same step revision.
// Pure functions over rows the console (web-admin/analytics/tiers.ts) and the benchmark (bench/cost.ts) read.
// Invariant: a recommendation is only made from at least `minSamples` pairs; below that it says "not enough data"
// with the sample size, and every figure it prints comes with its n.

/** One shadow run and the routed run it shadowed (same step, revision and run; the routed run on the tier the
 *  revision started on). `passed`: the role's checks and the model judge let the output through. */
export interface ShadowPair {
  roleId: string;
  template: string;
  /** The cheaper tier the shadow ran on, and the tier the routed run started on. */
  candidate: string;
  base: string;
  candidatePassed: boolean;
  basePassed: boolean;
  candidateCostUsd: number;
  baseCostUsd: number;
}

export type Verdict = 'move_down' | 'keep' | 'not_enough_data';

export interface Recommendation {
  roleId: string;
  template: string;
  candidate: string;
  base: string;
  n: number;
  candidateAcceptance: number;
  baseAcceptance: number;
  /** Relative cost change of the candidate against the base (−0.61: 61% cheaper); null when the base cost nothing. */
  costChange: number | null;
  verdict: Verdict;
  text: string;
}

export interface RecommendOptions {
  minSamples: number;
  /** How many points of acceptance a cheaper tier may lose and still be recommended (default 0.02: 2 points). */
  tolerance?: number;
  /** Display names (roles, templates); the ids are shown otherwise. */
  roleName?(roleId: string): string;
  templateName?(template: string): string;
}

export const pct = (x: number) => `${Math.round(x * 100)}%`;
const signedPct = (x: number) => `${x < 0 ? '−' : '+'}${Math.abs(Math.round(x * 100))}%`;

/** One recommendation per role, template, candidate tier and base tier, most data first. */
export function recommend(pairs: ShadowPair[], opts: RecommendOptions): Recommendation[] {
  const groups = new Map<string, ShadowPair[]>();
  for (const p of pairs) {
    const key = JSON.stringify([p.roleId, p.template, p.candidate, p.base]);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  const tolerance = opts.tolerance ?? 0.02;
  const out: Recommendation[] = [];
  for (const ps of groups.values()) {
    const { roleId, template, candidate, base } = ps[0]!;
    const n = ps.length;
    const candidateAcceptance = ps.filter((p) => p.candidatePassed).length / n;
    const baseAcceptance = ps.filter((p) => p.basePassed).length / n;
    const candCost = ps.reduce((s, p) => s + p.candidateCostUsd, 0) / n;
    const baseCost = ps.reduce((s, p) => s + p.baseCostUsd, 0) / n;
    const costChange = baseCost > 0 ? (candCost - baseCost) / baseCost : null;
    const verdict: Verdict = n < opts.minSamples ? 'not_enough_data' : candidateAcceptance >= baseAcceptance - tolerance ? 'move_down' : 'keep';
    const who = `${opts.roleName?.(roleId) ?? roleId} on ${candidate} for ${opts.templateName?.(template) ?? template}`;
    const figures = `${pct(candidateAcceptance)} acceptance vs ${pct(baseAcceptance)} on ${base}, ${costChange === null ? 'cost n/a' : `${signedPct(costChange)} cost`} (n=${n})`;
    const advice = verdict === 'not_enough_data' ? `not enough data (n=${n}, needs ${opts.minSamples})` : verdict === 'move_down' ? `consider starting on ${candidate}` : `keep ${base}`;
    out.push({ roleId, template, candidate, base, n, candidateAcceptance, baseAcceptance, costChange, verdict, text: `${who}: ${figures}: ${advice}` });
  }
  return out.sort((a, b) => b.n - a.n || a.roleId.localeCompare(b.roleId));
}

/** One routed run of a role on a tier, with the decision on its revision's gate, if any. */
export interface RoutedRun {
  roleId: string;
  template: string;
  tier: string;
  outcome: 'passed' | 'failed' | 'question' | 'error' | string;
  /** The gate of the run's revision: null when the step had none (or it is still open: then `pending`). */
  approval: 'pending' | 'approved' | 'changes_requested' | 'rejected' | null;
  costUsd: number;
  priceUnknown: boolean;
}

export interface TierStats {
  roleId: string;
  template: string;
  tier: string;
  runs: number;
  /** Share of runs whose output passed the checks and judge (of those that answered: no question, no model error). */
  passed: number | null;
  /** Share of gated passed runs approved without changes (of those decided), and how many were decided. */
  approved: number | null;
  decided: number;
  /** Passed and (no gate, or approved without changes): of the runs with an outcome known by now. */
  acceptance: number | null;
  costUsd: number;
  avgCostUsd: number;
  priceUnknown: boolean;
}

/** Acceptance and cost per role, template and tier. */
export function tierStats(rows: RoutedRun[]): TierStats[] {
  const groups = new Map<string, RoutedRun[]>();
  for (const r of rows) {
    const key = JSON.stringify([r.roleId, r.template, r.tier]);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const share = (num: number, den: number) => (den > 0 ? num / den : null);
  return [...groups.values()].map((rs) => {
    const answered = rs.filter((r) => r.outcome === 'passed' || r.outcome === 'failed');
    const passed = answered.filter((r) => r.outcome === 'passed');
    const decided = passed.filter((r) => r.approval && r.approval !== 'pending');
    const known = answered.filter((r) => !(r.outcome === 'passed' && r.approval === 'pending'));
    const accepted = known.filter((r) => r.outcome === 'passed' && (r.approval === null || r.approval === 'approved'));
    const cost = rs.reduce((s, r) => s + r.costUsd, 0);
    return {
      roleId: rs[0]!.roleId, template: rs[0]!.template, tier: rs[0]!.tier, runs: rs.length,
      passed: share(passed.length, answered.length),
      approved: share(decided.filter((r) => r.approval === 'approved').length, decided.length), decided: decided.length,
      acceptance: share(accepted.length, known.length),
      costUsd: cost, avgCostUsd: cost / rs.length, priceUnknown: rs.some((r) => r.priceUnknown),
    };
  }).sort((a, b) => a.roleId.localeCompare(b.roleId) || a.template.localeCompare(b.template) || a.tier.localeCompare(b.tier));
}
