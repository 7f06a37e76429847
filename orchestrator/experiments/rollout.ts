// Starting and stopping experiments, and rolling a winner out. A winning role variation is written through the same
// audited path as the console's role editor: validated as a role file (the operator's policy), stored for every
// process (RoleDefinition via orchestrator/role-sync.ts), and audited as "config.role" with before and after.
// A winning template variation is written through the template store (orchestrator/template-store.ts: stored for
// every process, laid over the file when a workflow is created), audited as "config.template" with before and after.
// Invariants: state changes are conditional writes (draft → running → stopped) whose row count decides, so two
// operators pressing Stop at once roll out once; a variation that does not validate rolls nothing out and leaves
// the experiment running; a template save is conditional on the version read before the stop (a template changed
// meanwhile is reported, not overwritten); an intent threshold is recorded in the audit entry (it is configuration:
// INTENT_MIN_CONFIDENCE), never silently dropped.
import { parseDocument } from 'yaml';
import { parseRoleFile, policyOf, type Role } from '../../agents/roles';
import { audit } from '../audit';
import type { Db } from '../db';
import { experimentSchema, parseExperiment, type Arm, type ExperimentDefinition } from './definition';
import { outcomesOf, plannedSampleSize } from './analysis';
import { applyTemplateVariation, saveTemplate, stepIdsOf, storedTemplate, templateFiles, TemplateConflictError, validateTemplate } from '../template-store';

export class ExperimentStateError extends Error {
  override name = 'ExperimentStateError';
}
export class RolloutError extends Error {
  override name = 'RolloutError';
}

/** The role editor's store (orchestrator/role-sync.ts RoleSync, or the console's roleStore). */
export interface RoleStore {
  save(roleId: string, yaml: string, by: string): Promise<void>;
  storedYaml(roleId: string): Promise<string | undefined>;
}

export interface RolloutDeps {
  prisma: Db;
  roles: Map<string, Role>;
  roleStore?: RoleStore;
  /** The role's YAML file, when no definition is stored (ROLES_DIR). */
  roleFileYaml(roleId: string): string;
  /** TEMPLATES_DIR: the template files a template variation is applied to, when no definition is stored. */
  templatesDir?: string;
}

/** Saves a new definition (draft) or replaces a draft's; a running or stopped experiment cannot be redefined. */
export async function saveDraft(prisma: Db, yaml: string, actor: string): Promise<ExperimentDefinition> {
  const def = parseExperiment(yaml);
  const n = await prisma.$executeRaw`
    INSERT INTO "Experiment" ("id", "name", "yaml", "definition", "createdBy") VALUES (${def.id}, ${def.name}, ${yaml}, ${JSON.stringify(def)}::jsonb, ${actor})
    ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "yaml" = EXCLUDED."yaml", "definition" = EXCLUDED."definition"
    WHERE "Experiment"."status" = 'draft'`;
  if (n !== 1) throw new ExperimentStateError(`experiment "${def.id}" has already started: a started experiment cannot be changed (copy it under a new id)`);
  await audit(prisma, { actor, action: 'experiment.saved', target: def.id, detail: { yaml } });
  return def;
}

/** draft → running, with the fixed-horizon sample size planned from the design (and the template's history). */
export async function startExperiment(prisma: Db, id: string, actor: string): Promise<number> {
  const row = await prisma.experiment.findUnique({ where: { id } });
  if (!row) throw new ExperimentStateError(`no experiment "${id}"`);
  const def = experimentSchema.parse(row.definition);
  const history = await historyOf(prisma, def);
  const planned = plannedSampleSize(def, history);
  const { count } = await prisma.experiment.updateMany({ where: { id, status: 'draft' }, data: { status: 'running', startedAt: new Date(), plannedPerArm: planned } });
  if (count !== 1) throw new ExperimentStateError(`experiment "${id}" is not a draft`);
  await audit(prisma, { actor, action: 'experiment.started', target: id, detail: { plannedPerArm: planned } });
  return planned;
}

/** The last 500 completed workflows' cost or time (eligible templates), to plan the sample size of such a metric. */
async function historyOf(prisma: Db, def: ExperimentDefinition): Promise<number[]> {
  if (def.primary_metric !== 'cost_per_completed' && def.primary_metric !== 'time_to_completion') return [];
  const templates = def.eligibility.templates;
  const wfs = await prisma.workflow.findMany({
    where: { status: 'completed', finishedAt: { not: null }, ...(templates.length ? { template: { in: templates } } : {}) },
    select: { id: true, createdAt: true, finishedAt: true }, orderBy: { createdAt: 'desc' }, take: 500,
  });
  if (def.primary_metric === 'time_to_completion') return wfs.map((w) => (w.finishedAt!.getTime() - w.createdAt.getTime()) / 1000);
  const costs = await prisma.llmCall.groupBy({ by: ['workflowId'], where: { workflowId: { in: wfs.map((w) => w.id) } }, _sum: { costUsd: true } });
  return costs.map((c) => Number(c._sum.costUsd ?? 0));
}

/** The role's YAML with an arm's role variation applied (comments and layout kept). */
export function applyRoleVariation(yaml: string, v: NonNullable<Arm['role']>): string {
  const doc = parseDocument(yaml);
  if (v.instructions !== undefined) doc.setIn(['instructions'], v.instructions);
  if (v.display_name !== undefined) doc.setIn(['persona', 'display_name'], v.display_name);
  if (v.icon_emoji !== undefined || v.icon_url !== undefined) { // the arm's avatar replaces the role's, either kind
    doc.deleteIn(['persona', 'icon_emoji']);
    doc.deleteIn(['persona', 'icon_url']);
    if (v.icon_emoji !== undefined) doc.setIn(['persona', 'icon_emoji'], v.icon_emoji);
    if (v.icon_url !== undefined) doc.setIn(['persona', 'icon_url'], v.icon_url);
  }
  if (v.model !== undefined) doc.setIn(['llm_config', 'model'], v.model);
  if (v.tier !== undefined) doc.setIn(['models', 'start'], v.tier);
  return doc.toString();
}

/**
 * running → stopped; with a winner that is not the control, rolls its variation out: a role variation through the
 * role editor's audited path, a template variation through the template store (both audited, "config.role" /
 * "config.template", before and after), an intent threshold recorded in the audit log. Returns what was done.
 */
export async function stopExperiment(deps: RolloutDeps, id: string, winner: string | undefined, actor: string): Promise<string> {
  const row = await deps.prisma.experiment.findUnique({ where: { id } });
  if (!row) throw new ExperimentStateError(`no experiment "${id}"`);
  const def = experimentSchema.parse(row.definition);
  const arm = winner === undefined ? undefined : def.arms.find((a) => a.id === winner);
  if (winner !== undefined && !arm) throw new ExperimentStateError(`experiment "${id}" has no arm "${winner}"`);
  const rollout = arm && arm !== def.arms[0] ? arm : undefined;

  // validate the rollout before the state changes: a variation that no longer validates stops nothing
  let role: { roleId: string; before: string; after: string } | undefined;
  if (rollout?.role) {
    const roleId = rollout.role.id;
    if (!deps.roles.has(roleId)) throw new RolloutError(`role "${roleId}" does not exist here`);
    const before = (await deps.roleStore?.storedYaml(roleId)) ?? deps.roleFileYaml(roleId);
    const after = applyRoleVariation(before, rollout.role);
    try {
      parseRoleFile(`${roleId}.yaml`, after, policyOf(deps.roles));
    } catch (e) {
      throw new RolloutError(`the winning variation of ${roleId} does not validate: ${(e as Error).message}`);
    }
    role = { roleId, before, after };
  }

  const templates = rollout?.template ? await templateRollout(deps, def, rollout.template) : [];

  const { count } = await deps.prisma.experiment.updateMany({ where: { id, status: 'running' }, data: { status: 'stopped', stoppedAt: new Date(), winner: winner ?? null } });
  if (count !== 1) throw new ExperimentStateError(`experiment "${id}" is not running`);

  const done: string[] = [];
  if (role) {
    const parsed = parseRoleFile(`${role.roleId}.yaml`, role.after, policyOf(deps.roles));
    if (deps.roleStore) await deps.roleStore.save(role.roleId, role.after, actor); // every process, from its next step
    deps.roles.set(role.roleId, parsed);
    await audit(deps.prisma, { actor, action: 'config.role', target: role.roleId, detail: { before: role.before, after: role.after, via: `experiment:${id}:${winner}` } });
    done.push(`role ${role.roleId} updated`);
  }
  for (const t of templates) {
    try {
      await saveTemplate(deps.prisma, t.templateId, t.after, actor, t.version, new Set(deps.roles.keys()));
    } catch (e) {
      if (!(e instanceof TemplateConflictError)) throw e;
      done.push(`template ${t.templateId} NOT updated: ${e.message}`);
      continue;
    }
    await audit(deps.prisma, { actor, action: 'config.template', target: t.templateId, detail: { before: t.before, after: t.after, via: `experiment:${id}:${winner}` } });
    done.push(`template ${t.templateId} updated`);
  }
  if (rollout?.intent_threshold !== undefined) done.push(`intent threshold ${rollout.intent_threshold} recorded (set INTENT_MIN_CONFIDENCE)`);
  await audit(deps.prisma, { actor, action: 'experiment.stopped', target: id, detail: { winner: winner ?? null, rolledOut: done, template: rollout?.template ?? null, intentThreshold: rollout?.intent_threshold ?? null, outcomes: (await outcomesOf(deps.prisma, id)).length } });
  return done.length ? done.join('; ') : 'stopped; the control is kept';
}

/**
 * The templates a winning template variation changes, before and after, validated: the eligible templates (or, when
 * any template was eligible, those that have a step the variation names), each from its stored definition or its file.
 */
async function templateRollout(deps: RolloutDeps, def: ExperimentDefinition, v: NonNullable<Arm['template']>): Promise<{ templateId: string; before: string; after: string; version: number }[]> {
  if (!deps.templatesDir) throw new RolloutError('the template files are not known here (TEMPLATES_DIR): the template variation cannot be rolled out');
  const files = templateFiles(deps.templatesDir);
  const named = new Set([...Object.keys(v.gates ?? {}), ...(v.drop_steps ?? [])]);
  const out: { templateId: string; before: string; after: string; version: number }[] = [];
  for (const templateId of def.eligibility.templates.length ? def.eligibility.templates : [...files.keys()]) {
    const stored = await storedTemplate(deps.prisma, templateId);
    const before = stored?.yaml ?? files.get(templateId);
    if (before === undefined) throw new RolloutError(`template "${templateId}" does not exist here`);
    if (!def.eligibility.templates.length && !stepIdsOf(before).some((s) => named.has(s))) continue;
    const after = applyTemplateVariation(before, v);
    try {
      validateTemplate(templateId, after, new Set(deps.roles.keys()));
    } catch (e) {
      throw new RolloutError(`the winning variation of template ${templateId} does not validate: ${(e as Error).message}`);
    }
    out.push({ templateId, before, after, version: stored?.version ?? 0 });
  }
  if (!out.length) throw new RolloutError('no template has a step the winning variation changes');
  return out;
}
