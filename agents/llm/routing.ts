// Model tiers: which tier a step starts on, and when it moves up. A role's `models.tiers` (cheapest first) are the
// tiers; a role without them has one tier, its llm_config model. A step starts on the cheapest tier allowed for its
// role and template (models.start / start_by_template), and moves one tier up when its output fails its constraints
// or the model judge rejects it; a revision a person asked for starts one tier above the one that produced the
// previous output. Nothing here touches the database: orchestrator/tiers.ts records what happened.
// Invariant: a step never runs on a tier above the role's ceiling, nor on a tier whose provider is not configured.
import { runAgent, type AgentHooks, type AgentResult, type ToolRunner } from '../agent';
import type { Violation } from '../constraints';
import type { StepContext } from '../prompt';
import type { Role } from '../role-schema';
import type { LlmRouter } from './router';

export interface Tier {
  name: string;
  provider: Role['llm_config']['provider'];
  model: string;
  temperature: number;
  fallback_model?: string;
}

/** The tiers a step may use, cheapest first, already cut at the ceiling and to configured providers. */
export interface TierPlan {
  tiers: Tier[];
  /** Index into `tiers` of the tier a first revision starts on. */
  start: number;
}

export type EscalationReason = 'constraints' | 'judge' | 'changes_requested';

export interface Escalation {
  from: string;
  to: string;
  reason: EscalationReason;
  detail: string;
}

/** One run of the role on one tier: what it cost and whether its output passed (constraints and judge). */
export interface TierRun {
  tier: Tier;
  outcome: 'passed' | 'failed' | 'question' | 'error';
  reasons: string;
  costUsd: number;
  promptTokens: number;
  completionTokens: number;
  priceUnknown: boolean;
}

/** Shadow mode: the share of step revisions (0..1) also run on the next cheaper tier; recommendations need at least
 *  `minSamples` shadow runs of a role, template and tier. */
export interface TierOptions {
  shadowSample: number;
  minSamples: number;
}

/** The name a role without `models` gives its one tier. */
export const SINGLE_TIER = 'default';

/** The role's tiers as written, cheapest first (one, from llm_config, when it has no `models`). */
export function tiersOf(role: Role): Tier[] {
  if (!role.models) return [{ name: SINGLE_TIER, ...role.llm_config }];
  return role.models.tiers.map((t) => ({ ...t, temperature: t.temperature ?? role.llm_config.temperature }));
}

/** The tiers a step of `template` may use: up to the ceiling, those whose provider is configured; where it starts. */
export function planTiers(role: Role, template: string, available: (provider: string) => boolean): TierPlan {
  const all = tiersOf(role);
  const ceiling = role.models?.ceiling ? all.findIndex((t) => t.name === role.models!.ceiling) : all.length - 1;
  const wanted = role.models?.start_by_template[template] ?? role.models?.start;
  const startAt = Math.max(0, wanted ? all.findIndex((t) => t.name === wanted) : 0);
  const allowed = all.slice(0, ceiling + 1).map((t, i) => ({ t, i })).filter(({ t }) => available(t.provider));
  if (allowed.length === 0) return { tiers: [all[Math.min(startAt, ceiling)]!], start: 0 }; // the router says why it cannot run
  const start = allowed.findIndex(({ i }) => i >= startAt);
  return { tiers: allowed.map(({ t }) => t), start: start === -1 ? allowed.length - 1 : start };
}

/** Where a revision starts: a first revision at the plan's start; a revision a person asked for one tier above the
 *  tier that produced the output they sent back (never past the ceiling). */
export function startFor(plan: TierPlan, previousTier: string | undefined): { index: number; escalation?: Escalation } {
  if (previousTier === undefined) return { index: plan.start };
  const prev = plan.tiers.findIndex((t) => t.name === previousTier);
  if (prev === -1) return { index: plan.start };
  const index = Math.min(prev + 1, plan.tiers.length - 1);
  if (index === prev) return { index };
  return { index, escalation: { from: previousTier, to: plan.tiers[index]!.name, reason: 'changes_requested', detail: 'a person requested changes to the previous revision' } };
}

/** The role as it runs on `tier`: that tier's model, and the role's retries only on the last tier it may reach. */
export function roleOnTier(role: Role, tier: Tier, last: boolean): Role {
  const { name: _name, ...llm } = tier;
  const retries = last ? role.constraints.max_retries : Math.min(role.constraints.max_retries, role.models?.retries_below_ceiling ?? 0);
  return { ...role, llm_config: llm, constraints: { ...role.constraints, max_retries: retries } };
}

/** Why an output was sent up a tier: the judge alone, or its checks (schema, size, lexical rules). */
export function reasonOf(reasons: Violation[]): EscalationReason {
  return reasons.length > 0 && reasons.every((r) => r.source === 'judge') ? 'judge' : 'constraints';
}

export interface TieredResult {
  /** The last tier's result, with the calls and violations of every tier it took. */
  result: AgentResult;
  tier: Tier;
  runs: TierRun[];
  escalations: Escalation[];
}

export interface TierHooks extends AgentHooks {
  /** Told when the step moves up a tier (e.g. to say so in the thread's status line). Its failure stops nothing. */
  onEscalate?(e: Escalation): Promise<void> | void;
}

export type AgentRunner = typeof runAgent;

/** Runs the role from tier `from` of the plan, moving up while the output fails its checks and a tier is left. */
export async function runTiered(role: Role, router: LlmRouter, ctx: StepContext, plan: TierPlan, from: number, tools?: ToolRunner, hooks: TierHooks = {}, run: AgentRunner = runAgent): Promise<TieredResult> {
  const runs: TierRun[] = [];
  const escalations: Escalation[] = [];
  const calls: AgentResult['calls'] = [];
  const violations: AgentResult['violations'] = [];
  for (let i = from; ; i++) {
    const tier = plan.tiers[i]!;
    const last = i === plan.tiers.length - 1;
    const result = await run(roleOnTier(role, tier, last), router, ctx, tools, hooks);
    calls.push(...result.calls);
    violations.push(...result.violations);
    runs.push(tierRun(tier, result));
    const merged = { ...result, calls: [...calls], violations: [...violations] } as AgentResult;
    if (result.kind !== 'escalate' || last) return { result: merged, tier, runs, escalations };
    const next = plan.tiers[i + 1]!;
    const e: Escalation = { from: tier.name, to: next.name, reason: reasonOf(result.reasons), detail: result.reasons.map((r) => `${r.kind}: ${r.detail}`).join('; ').slice(0, 1_000) };
    escalations.push(e);
    try {
      await hooks.onEscalate?.(e);
    } catch { /* telling people must never stop the step */ }
  }
}

/** A run's record: its outcome and what its calls cost. */
export function tierRun(tier: Tier, result: AgentResult): TierRun {
  const outcome = result.kind === 'ok' ? 'passed' : result.kind === 'escalate' ? 'failed' : result.kind === 'question' ? 'question' : 'error';
  const reasons = result.kind === 'escalate' ? result.reasons.map((r) => `${r.kind}: ${r.detail}`).join('; ').slice(0, 1_000) : result.kind === 'llm_error' ? result.error.message.slice(0, 1_000) : '';
  return {
    tier, outcome, reasons,
    costUsd: result.calls.reduce((s, c) => s + c.costUsd, 0),
    promptTokens: result.calls.reduce((s, c) => s + c.promptTokens, 0),
    completionTokens: result.calls.reduce((s, c) => s + c.completionTokens, 0),
    priceUnknown: result.calls.some((c) => c.priceUnknown),
  };
}

/** The cheaper tier a shadow run uses: the one just below where this revision started (none on the cheapest). */
export function shadowTier(plan: TierPlan, start: number, allTiers: Tier[], available: (provider: string) => boolean): Tier | undefined {
  const startName = plan.tiers[start]?.name;
  const at = allTiers.findIndex((t) => t.name === startName);
  for (let i = at - 1; i >= 0; i--) if (available(allTiers[i]!.provider)) return allTiers[i];
  return undefined;
}

/** Whether this step revision is in the shadow sample: a fixed draw per step and revision (a re-run job draws the
 *  same), so `sample` of the revisions are shadowed. */
export function inShadowSample(stepId: string, revision: number, sample: number): boolean {
  if (sample <= 0) return false;
  if (sample >= 1) return true;
  let h = 2166136261;
  for (const ch of `${stepId}:${revision}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h / 2 ** 32 < sample;
}
