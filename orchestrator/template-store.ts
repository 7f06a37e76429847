// Template edits shared by every process: a workflow template changed in the console (today: an experiment's winning
// template variation, rolled out on stop by orchestrator/experiments/rollout.ts) is stored in PostgreSQL
// (TemplateDefinition) and laid over the file of the same template in TEMPLATES_DIR whenever a workflow is created
// (orchestrator/start.ts), in every process, from the next workflow on. No restart, no shared volume.
// Invariants: a definition is validated (template schema, known roles, a DAG, the same id) before it is saved and
// again before it is used — one that no longer validates here is ignored and the file's plan is used; a save is a
// conditional write on the version the editor read (0: none stored), so of two concurrent saves one wins and the
// other gets TemplateConflictError; only the steps (and name) of a plan are taken from the stored template.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { OperatorError } from '../agents/errors';
import { Prisma } from '../generated/prisma/client';
import type { Db } from './db';
import { stepsOf, type Plan } from './planning';
import { parseTemplateFile, TemplateDefinitionError, type WorkflowTemplate } from './templates';

/** Someone saved the template since it was read: the save did not happen. */
export class TemplateConflictError extends OperatorError {
}

/** The stored definition of a template, if the console saved one. */
export async function storedTemplate(prisma: Db, templateId: string): Promise<{ yaml: string; version: number } | undefined> {
  return (await prisma.templateDefinition.findUnique({ where: { templateId }, select: { yaml: true, version: true } })) ?? undefined;
}

/** Validates a template's YAML as a template file of `templateId` (throws TemplateDefinitionError). */
export function validateTemplate(templateId: string, yaml: string, roleIds: Set<string>): WorkflowTemplate {
  if (yaml.length > 200_000) throw new TemplateDefinitionError(`TemplateDefinition/${templateId}.yaml: longer than 200 kB`);
  const t = parseTemplateFile(`TemplateDefinition/${templateId}.yaml`, yaml, roleIds);
  if (t.id !== templateId) throw new TemplateDefinitionError(`TemplateDefinition/${templateId}.yaml: id is "${t.id}", not "${templateId}"`);
  return t;
}

/** Stores a validated definition for every process, if nobody saved one since `readVersion` (0: none stored). */
export async function saveTemplate(prisma: Db, templateId: string, yaml: string, by: string, readVersion: number, roleIds: Set<string>): Promise<number> {
  validateTemplate(templateId, yaml, roleIds);
  const n = readVersion === 0
    ? (await prisma.templateDefinition.createMany({ data: [{ templateId, yaml, updatedBy: by }], skipDuplicates: true })).count
    : (await prisma.templateDefinition.updateMany({ where: { templateId, version: readVersion }, data: { yaml, updatedBy: by, updatedAt: new Date(), version: readVersion + 1 } })).count;
  if (n !== 1) throw new TemplateConflictError(`template "${templateId}" was changed by someone else meanwhile: nothing saved`);
  return readVersion + 1;
}

const parsed = new Map<string, WorkflowTemplate | null>(); // `${id}:${version}` → the template, or null: not valid here

/** The plan with the stored template's steps when the console saved one for its template (one small query). */
export async function withStoredTemplate(prisma: Db, plan: Plan, roleIds: Set<string>): Promise<Plan> {
  return laidOver(plan, await storedTemplate(prisma, plan.templateId), roleIds);
}

/** The version of every stored template, by template id, as one JSON column ({} when none is stored), for a query
 *  that reads more than them (intake's look, orchestrator/intake.ts; start.ts). */
export const STORED_TEMPLATE_VERSIONS_JSON = Prisma.sql`(SELECT coalesce(json_object_agg("templateId", version), '{}'::json) FROM "TemplateDefinition")`;

/**
 * withStoredTemplate when the stored version was read already (STORED_TEMPLATE_VERSIONS_JSON; undefined: none
 * stored): no query when that version was parsed in this process before, else the definition's one read. A version
 * is never changed in place (a save writes version + 1), so a parse kept by `${id}:${version}` is never stale.
 */
export async function withStoredVersion(prisma: Db, plan: Plan, roleIds: Set<string>, version: number | undefined): Promise<Plan> {
  if (version === undefined) return plan;
  const known = parsed.get(`${plan.templateId}:${version}`);
  if (known !== undefined) return known ? { ...plan, templateName: known.name, steps: stepsOf(known) } : plan;
  return withStoredTemplate(prisma, plan, roleIds);
}

function laidOver(plan: Plan, stored: { yaml: string; version: number } | undefined, roleIds: Set<string>): Plan {
  if (!stored) return plan;
  const key = `${plan.templateId}:${stored.version}`;
  if (!parsed.has(key)) {
    if (parsed.size > 200) parsed.clear();
    let t: WorkflowTemplate | null = null;
    try {
      t = validateTemplate(plan.templateId, stored.yaml, roleIds);
    } catch {
      t = null; // the file's plan is used (the console shows the stored definition and its error)
    }
    parsed.set(key, t);
  }
  const t = parsed.get(key);
  return t ? { ...plan, templateName: t.name, steps: stepsOf(t) } : plan;
}

/** The template files of `dir` by id (the id inside each file; unreadable files are left out). */
export function templateFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().slice(0, 500);
  } catch {
    return out;
  }
  for (const f of names) {
    const yaml = readFileSync(path.join(dir, f), 'utf8');
    const id = parseDocument(yaml).get('id');
    if (typeof id === 'string') out.set(id, yaml);
  }
  return out;
}

/** A template variation: gates switched by step id, steps left out (their dependants lose that dependency). */
export interface TemplateVariation {
  gates?: Record<string, boolean>;
  drop_steps?: string[];
}

/** The step ids a template's YAML defines. */
export function stepIdsOf(yaml: string): string[] {
  const steps = parseDocument(yaml).get('steps');
  return isSeq(steps) ? steps.items.filter(isMap).map((s) => String((s as YAMLMap).get('id'))) : [];
}

/** The template's YAML with a variation applied (comments and layout kept): as orchestrator/experiments/assign.ts
 *  applyArm does to one plan, made permanent. */
export function applyTemplateVariation(yaml: string, v: TemplateVariation): string {
  const doc = parseDocument(yaml);
  const steps = doc.get('steps');
  if (!isSeq(steps)) return yaml;
  const drop = new Set(v.drop_steps ?? []);
  steps.items = steps.items.filter((s) => !(isMap(s) && drop.has(String(s.get('id')))));
  for (const s of steps.items) {
    if (!isMap(s)) continue;
    const id = String(s.get('id'));
    const gate = v.gates?.[id];
    if (gate !== undefined) s.set('gate', gate);
    const deps = s.get('depends_on');
    if (isSeq(deps) && drop.size) {
      deps.items = deps.items.filter((d) => !(isScalar(d) && drop.has(String(d.value))));
    }
  }
  return doc.toString();
}
