// An experiment's definition: what varies per arm, which threads are eligible, the split, the primary and guard-rail
// metrics and the fixed-horizon design (alpha, power, minimum detectable effect). Written as YAML (experiments/*.yaml
// for review in git, or in the console) and validated here — the one zod schema both paths use.
// Invariants: ids are slugs; arm ids are unique; weights are positive; the first arm is the control (it varies
// nothing) and every other arm is compared with it; every input is bounded.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const METRICS = ['completion', 'approval_unchanged', 'satisfaction', 'cost_per_completed', 'time_to_completion'] as const;
export type MetricId = (typeof METRICS)[number];
/** Rates are tested with a two-proportion z-test; the others (seconds, USD) with Mann-Whitney. */
export const RATE_METRICS: ReadonlySet<MetricId> = new Set(['completion', 'approval_unchanged', 'satisfaction']);
/** For these, smaller is better. */
export const LOWER_IS_BETTER: ReadonlySet<MetricId> = new Set(['cost_per_completed', 'time_to_completion']);

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _ (at most 63)');
const ids = z.array(z.string().min(1).max(200)).max(100).default([]);

/** What one arm changes. The control arm changes nothing. */
const variationSchema = z.object({
  /** A template's steps or gates: gate on/off by step id, or steps left out (their dependants keep their other deps). */
  template: z.object({
    gates: z.record(z.string().max(100), z.boolean()).optional(),
    drop_steps: z.array(z.string().max(100)).max(50).optional(),
  }).strict().optional(),
  /** A role's instructions, persona (display name, avatar), model or tier (applied per workflow: its steps' posts
   *  carry the persona; rolled out on stop). An avatar replaces the role's (either kind). */
  role: z.object({
    id: z.string().max(100),
    instructions: z.string().min(1).max(20_000).optional(),
    display_name: z.string().min(1).max(80).optional(),
    icon_emoji: z.string().regex(/^:[a-z0-9_+-]+:$/, 'must look like :emoji_name:').max(100).optional(),
    icon_url: z.string().url().max(2000).regex(/^https:\/\//, 'must be an https URL').optional(),
    model: z.string().min(1).max(200).optional(),
    tier: z.string().min(1).max(50).optional(),
  }).strict().optional(),
  /** The intent classifier's confidence threshold (0..1). */
  intent_threshold: z.number().min(0).max(1).optional(),
}).strict();

const armSchema = z.object({ id: slug, weight: z.number().positive().max(1000).default(1) }).extend(variationSchema.shape).strict();
export type Arm = z.infer<typeof armSchema>;

export const experimentSchema = z.object({
  id: slug,
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  eligibility: z.object({ templates: ids, channels: ids, workspaces: ids }).strict().default({ templates: [], channels: [], workspaces: [] }),
  arms: z.array(armSchema).min(2).max(6),
  primary_metric: z.enum(METRICS),
  guardrails: z.array(z.enum(METRICS)).max(METRICS.length).default([]),
  /** Fixed horizon: the sample size per arm is planned from these at start, and the decision waits for it. */
  design: z.object({
    alpha: z.number().min(0.001).max(0.2).default(0.05),
    power: z.number().min(0.5).max(0.99).default(0.8),
    /** Rates: an absolute difference (0.1 = ten points); times and costs: relative to the control's mean (0.2 = 20 %). */
    min_detectable_effect: z.number().positive().max(10).default(0.1),
    /** Rates: the control's expected rate, when no history says otherwise. */
    baseline: z.number().min(0.01).max(0.99).default(0.5),
  }).strict().default({ alpha: 0.05, power: 0.8, min_detectable_effect: 0.1, baseline: 0.5 }),
}).strict().superRefine((d, ctx) => {
  const seen = new Set<string>();
  for (const a of d.arms) {
    if (seen.has(a.id)) ctx.addIssue({ code: 'custom', message: `arm "${a.id}" appears twice`, path: ['arms'] });
    seen.add(a.id);
  }
  const control = d.arms[0]; // zod still runs this when arms failed (e.g. none)
  if (control && (control.template || control.role || control.intent_threshold !== undefined)) ctx.addIssue({ code: 'custom', message: 'the first arm is the control: it must not vary anything', path: ['arms', 0] });
  // the threshold decides the template, so a thread is assigned before its template is known
  if (d.eligibility.templates.length && d.arms.some((a) => a.intent_threshold !== undefined)) ctx.addIssue({ code: 'custom', message: 'an intent_threshold arm decides which template a thread gets: limit it by channels or workspaces, not templates', path: ['eligibility', 'templates'] });
});
export type ExperimentDefinition = z.infer<typeof experimentSchema>;

export class ExperimentDefinitionError extends Error {
  override name = 'ExperimentDefinitionError';
}

/** Parses and validates one definition (YAML text, at most 100 kB). */
export function parseExperiment(yamlText: string, source = 'experiment'): ExperimentDefinition {
  if (yamlText.length > 100_000) throw new ExperimentDefinitionError(`${source}: longer than 100 kB`);
  let raw: unknown;
  try {
    raw = parse(yamlText, { maxAliasCount: 50 });
  } catch (e) {
    throw new ExperimentDefinitionError(`${source}: not YAML (${(e as Error).message.split('\n')[0]})`);
  }
  const r = experimentSchema.safeParse(raw);
  if (!r.success) throw new ExperimentDefinitionError(`${source}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The repository's experiment files (for review in git); the console imports them as drafts. */
export const EXPERIMENTS_DIR = path.resolve(import.meta.dirname, '../../experiments');

export function loadExperimentFiles(dir = EXPERIMENTS_DIR): { file: string; yaml: string; def?: ExperimentDefinition; error?: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().slice(0, 200);
  } catch {
    return [];
  }
  return names.map((f) => {
    const yaml = readFileSync(path.join(dir, f), 'utf8');
    try {
      return { file: f, yaml, def: parseExperiment(yaml, f) };
    } catch (e) {
      return { file: f, yaml, error: (e as Error).message };
    }
  });
}
