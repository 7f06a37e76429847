// Assigning workflows to experiment arms, and applying the arm's variation to the plan before the workflow is created.
// Invariants: the arm is a pure function of (experiment id, thread key) — a SHA-256 of both mapped onto the arms'
// weights — so a re-delivered message, a retry or a second worker assigns the same arm without reading anything;
// only running experiments whose eligibility matches assign; the assignment row is written in the workflow's own
// transaction (one row per experiment and workflow); nothing here posts to a thread. An arm's persona is what every
// post of its workflow's role carries (the outbox asks `variantPersonas`); an arm's intent threshold is the one the
// thread's message is decided with (`thresholdFrom`, before the workflow exists: the same hash).
import { createHash } from 'node:crypto';
import type { Role } from '../../agents/roles';
import { Prisma } from '../../generated/prisma/client';
import type { Db } from '../db';
import type { Persona } from '../chat';
import type { Plan } from '../planning';
import { experimentSchema, type Arm, type ExperimentDefinition } from './definition';

/** A uniform number in [0, 1) from the experiment id and the thread key (52 bits of SHA-256). */
export function bucketOf(experimentId: string, threadKey: string): number {
  const h = createHash('sha256').update(`${experimentId}\u0000${threadKey}`).digest();
  return (h.readUInt32BE(0) * 2 ** 20 + (h.readUInt32BE(4) >>> 12)) / 2 ** 52;
}

/** The arm of `threadKey` in `def`: sticky (deterministic) and split by the arms' weights. */
export function armFor(def: Pick<ExperimentDefinition, 'id' | 'arms'>, threadKey: string): Arm {
  const total = def.arms.reduce((n, a) => n + a.weight, 0);
  let x = bucketOf(def.id, threadKey) * total;
  for (const arm of def.arms) {
    if (x < arm.weight) return arm;
    x -= arm.weight;
  }
  return def.arms[def.arms.length - 1]!;
}

/** The thread a workflow belongs to: the same key for every message of one thread. */
export const threadKeyOf = (t: { platform: string; teamId: string; channelId: string; threadTs: string }) => `${t.platform}:${t.teamId}:${t.channelId}:${t.threadTs}`;

export interface Eligible { templateId: string; channelId: string; teamId: string }

export function eligible(def: ExperimentDefinition, w: Eligible): boolean {
  const e = def.eligibility;
  return (!e.templates.length || e.templates.includes(w.templateId)) && (!e.channels.length || e.channels.includes(w.channelId)) && (!e.workspaces.length || e.workspaces.includes(w.teamId));
}

/** The plan with an arm's template variation: gates switched, steps left out (dependants lose that dependency). */
export function applyArm(plan: Plan, arm: Arm): Plan {
  if (!arm.template) return plan;
  const drop = new Set(arm.template.drop_steps ?? []);
  const steps = plan.steps.filter((s) => !drop.has(s.key));
  if (!steps.length) return plan; // never an empty workflow
  const gates = arm.template.gates ?? {};
  return {
    ...plan,
    steps: steps.map((s) => ({ ...s, dependsOn: s.dependsOn.filter((d) => !drop.has(d)), gateAfter: gates[s.key] ?? s.gateAfter })),
  };
}

export interface Assigned { experimentId: string; arm: string; threadKey: string }

/** A running experiment as read for a new workflow: its id and its stored definition (validated where used). */
export interface RunningExperiment { id: string; definition: unknown }

/** The running experiments (at most 50, by id) as one JSON column, for a query that reads more than them (intake's
 *  look, orchestrator/intake.ts; start.ts). */
export const RUNNING_EXPERIMENTS_JSON = Prisma.sql`(SELECT coalesce(json_agg(json_build_object('id', e.id, 'definition', e.definition) ORDER BY e.id), '[]'::json)
  FROM (SELECT id, definition FROM "Experiment" WHERE status = 'running' ORDER BY id LIMIT 50) e)`;

/** The running experiments (one query: RUNNING_EXPERIMENTS_JSON on its own). */
export async function runningExperiments(prisma: Db): Promise<RunningExperiment[]> {
  const [row] = await prisma.$queryRaw<{ running: RunningExperiment[] }[]>`SELECT ${RUNNING_EXPERIMENTS_JSON} AS running`;
  return row!.running;
}

/**
 * The running experiments this workflow is eligible for, its arm in each, and the plan with the arms' template
 * variations applied. Read-only: the caller writes `assignments` with the workflow (start.ts, in the statement that
 * writes its steps).
 */
export async function assignExperiments(prisma: Db, w: Eligible & { platform: string; threadTs: string }, plan: Plan): Promise<{ plan: Plan; assignments: Assigned[] }> {
  return assignFrom(await runningExperiments(prisma), w, plan);
}

/** assignExperiments on running experiments already read (the same reading as the message's threshold). */
export function assignFrom(running: readonly RunningExperiment[], w: Eligible & { platform: string; threadTs: string }, plan: Plan): { plan: Plan; assignments: Assigned[] } {
  const threadKey = threadKeyOf(w);
  const assignments: Assigned[] = [];
  let out = plan;
  for (const row of running) {
    const parsed = experimentSchema.safeParse(row.definition);
    if (!parsed.success || !eligible(parsed.data, w)) continue;
    const arm = armFor(parsed.data, threadKey);
    out = applyArm(out, arm);
    assignments.push({ experimentId: row.id, arm: arm.id, threadKey });
  }
  return { plan: out, assignments };
}

/**
 * The role variation a workflow's arms apply to `roleId` (instructions, display name, model, tier), for the step
 * runner to lay over the role before a step. Undefined when no arm of this workflow varies that role.
 */
export async function roleVariationFor(prisma: Db, workflowId: string, roleId: string): Promise<NonNullable<Arm['role']> | undefined> {
  const rows = await prisma.experimentAssignment.findMany({ where: { workflowId }, select: { arm: true, experiment: { select: { definition: true } } } });
  for (const r of rows) {
    const def = experimentSchema.safeParse(r.experiment.definition);
    const arm = def.success ? def.data.arms.find((a) => a.id === r.arm) : undefined;
    if (arm?.role?.id === roleId) return arm.role;
  }
  return undefined;
}

/**
 * The role a step of this workflow runs as: the live role with its arm's variation laid over it (instructions, persona
 * display name, model, starting tier — a tier the role does not have is ignored). The role itself when no arm
 * varies it; never a change to the shared role map.
 */
export async function withRoleVariation(prisma: Db, workflowId: string, role: Role): Promise<Role> {
  const v = await roleVariationFor(prisma, workflowId, role.role_id);
  if (!v) return role;
  const tierOk = v.tier !== undefined && role.models?.tiers.some((t) => t.name === v.tier);
  const avatar = v.icon_emoji !== undefined || v.icon_url !== undefined; // replaces the role's avatar, either kind
  return {
    ...role,
    ...(v.instructions !== undefined ? { instructions: v.instructions } : {}),
    persona: {
      ...role.persona,
      display_name: v.display_name ?? role.persona.display_name,
      ...(avatar ? { icon_emoji: v.icon_emoji, icon_url: v.icon_url } : { icon_emoji: role.persona.icon_emoji, icon_url: role.persona.icon_url }),
    },
    llm_config: v.model !== undefined ? { ...role.llm_config, model: v.model } : role.llm_config,
    ...(tierOk && role.models ? { models: { ...role.models, start: v.tier } } : {}),
  };
}

/** A post's persona with an arm's persona variation (display name, avatar) laid over it. */
export function variantPersona(p: Persona, v: NonNullable<Arm['role']>): Persona {
  const avatar = v.icon_emoji !== undefined || v.icon_url !== undefined;
  const icons = avatar ? { iconEmoji: v.icon_emoji, iconUrl: v.icon_url } : { iconEmoji: p.iconEmoji, iconUrl: p.iconUrl };
  return {
    displayName: v.display_name ?? p.displayName,
    ...(icons.iconEmoji ? { iconEmoji: icons.iconEmoji } : {}),
    ...(icons.iconUrl ? { iconUrl: icons.iconUrl } : {}),
  };
}

/**
 * The persona variations of these workflows' roles, by `${workflowId} ${roleId}` (one query; empty when none of the
 * workflows is in an experiment whose arm varies a persona). The outbox lays them over the posts it writes, so every
 * post of a varied role in that thread — Slack username and icon, Teams card header, web playground — is the arm's.
 */
export async function variantPersonas(db: Pick<Prisma.TransactionClient, 'experimentAssignment'>, workflowIds: string[]): Promise<Map<string, NonNullable<Arm['role']>>> {
  const out = new Map<string, NonNullable<Arm['role']>>();
  const ids = [...new Set(workflowIds)].filter((id) => id.length > 0);
  if (!ids.length) return out;
  const rows = await db.experimentAssignment.findMany({ where: { workflowId: { in: ids } }, select: { workflowId: true, arm: true, experiment: { select: { definition: true } } }, orderBy: { experimentId: 'asc' } });
  for (const r of rows) {
    const def = experimentSchema.safeParse(r.experiment.definition);
    const v = def.success ? def.data.arms.find((a) => a.id === r.arm)?.role : undefined;
    const key = v && `${r.workflowId} ${v.id}`;
    if (v && key && !out.has(key) && (v.display_name !== undefined || v.icon_emoji !== undefined || v.icon_url !== undefined)) out.set(key, v);
  }
  return out;
}

/**
 * The intent threshold a new message in this thread is decided with: the arm's of the first running experiment
 * (by id) that varies the threshold and whose channels and workspaces take the thread (an intent-threshold
 * experiment cannot be limited by template: definition.ts). Undefined: the configured threshold. The same hash as
 * the assignment, so the workflow the decision starts records the arm whose threshold decided it. `running`: the
 * running experiments as intake's look read them with the thread (RUNNING_EXPERIMENTS_JSON).
 */
export function thresholdFrom(running: readonly RunningExperiment[], t: { platform: string; teamId: string; channelId: string; threadTs: string }): { experimentId: string; arm: string; threshold: number } | undefined {
  for (const row of running) {
    const parsed = experimentSchema.safeParse(row.definition);
    if (!parsed.success || !parsed.data.arms.some((a) => a.intent_threshold !== undefined)) continue;
    const e = parsed.data.eligibility;
    if ((e.channels.length && !e.channels.includes(t.channelId)) || (e.workspaces.length && !e.workspaces.includes(t.teamId))) continue;
    const arm = armFor(parsed.data, threadKeyOf(t));
    return arm.intent_threshold === undefined ? undefined : { experimentId: row.id, arm: arm.id, threshold: arm.intent_threshold };
  }
  return undefined;
}
