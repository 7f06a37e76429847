// Model tiers in a workflow step: picks the tier a step revision starts on (a revision a person sent back starts one
// tier up), runs the role through agents/llm/routing.ts (moving up on failed constraints or a judge's rejection, never
// past the ceiling), runs a sampled revision on a cheaper tier as well (shadow mode: scored, never posted), and
// records every tier run and escalation (TierRun, TierEscalation) for the console and the recommendations.
// Invariant: a shadow run posts nothing, offers the model no tools (no side effects) and its failure never touches
// the step; records are keyed by step, revision and run, so a job that runs again adds no duplicates.
import type { AgentHooks, AgentResult, ToolRunner } from '../agents/agent';
import { runAgent } from '../agents/agent';
import { errorMessage } from '../agents/errors';
import type { StepContext } from '../agents/prompt';
import type { Role } from '../agents/roles';
import { inShadowSample, planTiers, roleOnTier, runTiered, shadowTier, startFor, tierRun, tiersOf, type AgentRunner, type Escalation, type Tier, type TierOptions, type TierRun } from '../agents/llm/routing';
import { Prisma, type Step } from '../generated/prisma/client';
import type { MessageView } from './chat';
import type { EngineDeps } from './deps';

export type { TierOptions };

export type TieredStep = Pick<Step, 'id' | 'workflowId' | 'roleId' | 'revision' | 'runCount' | 'feedback'>;
type StepWithTemplate = TieredStep & { template: string };

export interface RoutedStepHooks extends AgentHooks {
  /** Shows a view in the step's status line (the thread says briefly that the step moved up a tier); `tag` is unique
   *  per escalation of the run. */
  status?(tag: string, view: MessageView): Promise<unknown>;
  /** When given, the tier runs are pushed here for the caller to record with the step's result (tierRunsInsert, in
   *  the statement that finishes the step) instead of being written now. */
  runs?: Prisma.TierRunCreateManyInput[];
}

/** Which providers can run a tier: the configured ones. With none configured the demo model answers for the role's
 *  own provider only (one tier: escalating from demo to demo would tell nothing). */
export function availability(llm: Pick<EngineDeps['llm'], 'providers'>, role: Role): (provider: string) => boolean {
  return (p) => (llm.providers.size === 0 ? p === role.llm_config.provider : llm.providers.has(p));
}

/** Runs the step's role on the right tier, escalating as the policy says, and records it all. */
export async function runRoutedStep(
  deps: Pick<EngineDeps, 'prisma' | 'llm' | 'log'> & { tiers?: TierOptions },
  stepRow: TieredStep & { template?: string }, role: Role, ctx: StepContext, tools?: ToolRunner, hooks: RoutedStepHooks = {}, run: AgentRunner = runAgent,
): Promise<AgentResult> {
  // a workflow step carries its template (read by the statement that started it); otherwise it is looked up
  const template = stepRow.template ?? (await deps.prisma.workflow.findUniqueOrThrow({ where: { id: stepRow.workflowId }, select: { template: true } })).template;
  const step: StepWithTemplate = { ...stepRow, template };
  const available = availability(deps.llm, role);
  const plan = planTiers(role, step.template, available);
  const previous = step.revision > 1 && step.feedback ? await routedTierOf(deps, step.id, step.revision - 1) : undefined;
  const start = startFor(plan, previous);
  const escalations: Escalation[] = start.escalation ? [start.escalation] : [];
  const tell = async (e: Escalation) => {
    await recordEscalations(deps, step, [e]); // at once, so the workflow page shows it while the step still runs
    await hooks.status?.(`tier-${e.from}-${e.to}`, escalatedView(role, e))?.catch(() => undefined);
  };
  if (start.escalation) await tell(start.escalation);
  const shadowOn = inShadowSample(step.id, step.revision, deps.tiers?.shadowSample ?? 0) ? shadowTier(plan, start.index, tiersOf(role), available) : undefined;
  const [routed, shadow] = await Promise.all([
    runTiered(role, deps.llm, ctx, plan, start.index, tools, { ...hooks, onEscalate: async (e) => { escalations.push(e); await tell(e); } }, run),
    shadowOn ? shadowRun(deps, role, shadowOn, ctx, run) : Promise.resolve(undefined),
  ]);
  await recordEscalations(deps, step, escalations);
  const rows = routed.runs.map((r) => runRow(step, r, 'routed'));
  if (shadow) rows.push({ ...runRow(step, shadow.record, 'shadow'), baseTier: plan.tiers[start.index]!.name });
  if (hooks.runs) hooks.runs.push(...rows);
  else await deps.prisma.$executeRaw`${tierRunsInsert(rows)}`;
  if (shadow?.calls.length) {
    // their spend was counted against the budgets as each call returned (the step's budgetedRouter, budgets.ts)
    await deps.prisma.llmCall.createMany({ data: shadow.calls.map((c) => ({ ...c, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, purpose: 'shadow' })) });
  }
  return withTierLine(routed.result, plan.tiers.length > 1 ? routed.tier.name : undefined, escalations);
}

/** The output's model line says which tier did the work and how it got there ("gpt-4.1 · tier premium, up from
 *  local: constraints"): the thread's brief record of an escalation. A role with one tier keeps its plain line. */
function withTierLine(result: AgentResult, tier: string | undefined, escalations: Escalation[]): AgentResult {
  if ((result.kind !== 'ok' && result.kind !== 'escalate') || (!tier && !escalations.length)) return result;
  const up = escalations.length ? `, up from ${escalations.map((e) => `${e.from} (${REASON_SHORT[e.reason] ?? e.reason})`).join(', ')}` : '';
  return { ...result, model: `${result.model} · tier ${tier ?? escalations.at(-1)!.to}${up}` };
}

const REASON_SHORT: Record<string, string> = { constraints: 'failed checks', judge: 'judge rejected', changes_requested: 'changes requested' };

/** The cheaper tier's run: the same task, no tools, nothing posted; a failure is recorded as its outcome. */
async function shadowRun(deps: Pick<EngineDeps, 'llm' | 'log'>, role: Role, tier: Tier, ctx: StepContext, run: AgentRunner): Promise<{ record: TierRun; calls: AgentResult['calls'] } | undefined> {
  try {
    const result = await run(roleOnTier(role, tier, false), deps.llm, { ...ctx, mayAsk: false }, undefined, { sleep: async () => undefined });
    return { record: tierRun(tier, result), calls: result.calls };
  } catch (e) {
    deps.log.warn('shadow run failed', { role: role.role_id, tier: tier.name, error: errorMessage(e) });
    return undefined;
  }
}

/** Tier runs as one statement, repeats adding nothing (unique step, revision, run, tier, mode); `guard`: RAN as a CTE
 *  body of the statement that finishes a step (workflow/transitions.ts finishStepRunLocked: only when the run
 *  finished); alone, none. */
export const tierRunsInsert = (rows: Prisma.TierRunCreateManyInput[], guard: Prisma.Sql = Prisma.sql`true`): Prisma.Sql => Prisma.sql`
  INSERT INTO "TierRun" (id, "workflowId", "stepId", revision, run, "roleId", template, tier, provider, model, mode, outcome, reasons, "baseTier", "costUsd", "promptTokens", "completionTokens", "priceUnknown")
  SELECT gen_random_uuid()::text, r."workflowId", r."stepId", r.revision, r.run, r."roleId", r.template, r.tier, r.provider, r.model, r.mode, r.outcome, coalesce(r.reasons, ''), r."baseTier",
    r."costUsd"::numeric, r."promptTokens", r."completionTokens", r."priceUnknown"
  FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r("workflowId" text, "stepId" text, revision int, run int, "roleId" text, template text, tier text, provider text, model text, mode text,
    outcome text, reasons text, "baseTier" text, "costUsd" text, "promptTokens" int, "completionTokens" int, "priceUnknown" boolean)
  WHERE ${guard}
  ON CONFLICT ("stepId", revision, run, tier, mode) DO NOTHING`;

function runRow(step: StepWithTemplate, r: TierRun, mode: 'routed' | 'shadow'): Prisma.TierRunCreateManyInput {
  return {
    workflowId: step.workflowId, stepId: step.id, revision: step.revision, run: step.runCount, roleId: step.roleId, template: step.template,
    tier: r.tier.name, provider: r.tier.provider, model: r.tier.model, mode, outcome: r.outcome, reasons: r.reasons,
    costUsd: new Prisma.Decimal(r.costUsd.toFixed(6)), promptTokens: r.promptTokens, completionTokens: r.completionTokens, priceUnknown: r.priceUnknown,
  };
}

async function recordEscalations(deps: Pick<EngineDeps, 'prisma'>, step: TieredStep, es: Escalation[]): Promise<void> {
  if (!es.length) return;
  await deps.prisma.tierEscalation.createMany({
    data: es.map((e) => ({ workflowId: step.workflowId, stepId: step.id, revision: step.revision, run: step.runCount, roleId: step.roleId, fromTier: e.from, toTier: e.to, reason: e.reason, detail: e.detail.slice(0, 1_000) })),
    skipDuplicates: true,
  });
}

/** The tier that produced a revision's output (its last routed run). */
async function routedTierOf(deps: Pick<EngineDeps, 'prisma'>, stepId: string, revision: number): Promise<string | undefined> {
  const last = await deps.prisma.tierRun.findFirst({ where: { stepId, revision, mode: 'routed' }, orderBy: [{ run: 'desc' }, { createdAt: 'desc' }] });
  return last?.tier;
}

const REASON_WORDS: Record<string, string> = { constraints: 'its output failed the role’s checks', judge: 'the model judge rejected its output', changes_requested: 'changes were requested' };

export function escalatedView(role: Role, e: Escalation): MessageView {
  return { text: `:arrow_up: *${role.persona.display_name}* moved up from the ${e.from} tier to ${e.to}: ${REASON_WORDS[e.reason] ?? e.reason}.`, context: `model tier ${e.to}` };
}
