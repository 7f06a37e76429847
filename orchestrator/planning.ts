// Turns a person's message into a decision: a template chosen by intent, a question (the likeliest workflows as
// buttons) when the classifier is unsure, a flow assembled from role capabilities when no template is plausible but
// the roles clearly fit, or nothing (small talk). intake.ts acts on it; `npm run intents:eval` scores the same function.
// Invariants: below the confidence threshold nothing starts at once; an assembled plan needs two or more capability
// hits and always waits for a person to confirm it.
import type { Role } from '../agents/roles';
import { NO_INTENT, type IntentResult } from './intent/classifier';
import { topoOrder, type WorkflowTemplate } from './templates';

export interface StepSpec {
  key: string;
  roleId: string;
  dependsOn: string[];
  gateAfter: boolean;
  fallbackRoles: string[];
}

/** How the plan was chosen: by the local classifier, the model, by role capabilities, or by the person (a question). */
export type PlanIntent = Omit<IntentResult, 'source' | 'alternatives'> & { source: IntentResult['source'] | 'capabilities' | 'person' };

export interface Plan {
  templateId: string;
  templateName: string;
  intent: PlanIntent;
  steps: StepSpec[];
  /** An assembled plan waits for a person to confirm it; a template plan runs at once. */
  needsConfirmation: boolean;
}

/** What to do with a message that mentions Rolecall. `language` is the detected language (ISO 639-1), if any. */
export type Decision =
  | { kind: 'plan'; plan: Plan; language?: string }
  | { kind: 'clarify'; intent: PlanIntent; candidates: string[]; language?: string }
  | { kind: 'none'; intent: PlanIntent; language?: string };

/** Budget keys of a conversation: its workspace and channel (orchestrator/budgets.ts SpendScope). */
export type SpendKeys = { workspace: string; channel?: string };

export interface Planner {
  /** `opts.minConfidence`: this message's threshold instead of the configured one (an experiment arm's);
   *  `opts.spend`: the conversation whose budgets the model stage's calls count against (orchestrator/budgets.ts). */
  decide(text: string, opts?: { minConfidence?: number; spend?: SpendKeys }): Promise<Decision>;
  /** The plan of one template, chosen by a person (the answer to a clarifying question). */
  planFor(templateId: string, intent: PlanIntent): Plan | undefined;
  templates: WorkflowTemplate[];
  /** Retrains the local classifier with the labelled examples accepted in the console (absent: cannot learn). */
  retrain?(accepted: { text: string; label: string }[]): void;
}

/** A template is offered as a button when its strength (score / typical score) reaches this and it shares a word. */
export const CLARIFY_MIN_STRENGTH = 0.3;
/** Buttons after the first: only templates at least this close to the first one's strength. */
const CLARIFY_CLOSE = 0.5;
const CLARIFY_MAX = 3;
/** An assembled plan needs at least this many capability hits across the roles. */
export const ASSEMBLY_MIN_HITS = 2;

export interface PlannerOptions {
  templates: WorkflowTemplate[];
  roles: () => Role[];
  classifyLocal(text: string): IntentResult;
  /** The model as second stage for low-confidence messages; absent when only the demo model is configured. */
  classifyWithModel?: (text: string, spend?: SpendKeys) => Promise<IntentResult>;
  minConfidence: number;
  /** Told when the model stage fails; the local answer is then used, and the plan says why. */
  onModelError?: (e: Error) => void;
  /** The message's language (ISO 639-1), when it can be told. */
  detectLanguage?: (text: string) => string | undefined;
}

export function createPlanner(opts: PlannerOptions): Planner {
  const byId = new Map(opts.templates.map((t) => [t.id, t]));
  const planFor = (id: string, intent: PlanIntent): Plan | undefined => {
    const template = byId.get(id);
    return template && { templateId: template.id, templateName: template.name, intent, steps: stepsOf(template), needsConfirmation: false };
  };
  return {
    templates: opts.templates,
    planFor,
    async decide(text, over) {
      const minConfidence = over?.minConfidence ?? opts.minConfidence;
      const language = opts.detectLanguage?.(text);
      const local = opts.classifyLocal(text);
      let intent: IntentResult = local;
      if (intent.confidence < minConfidence && opts.classifyWithModel) {
        intent = await opts.classifyWithModel(text, over?.spend).catch((e: Error) => {
          opts.onModelError?.(e);
          return { ...local, reason: `${local.reason}; the model could not classify it (${e.message})` };
        });
      }
      if (intent.confidence >= minConfidence) {
        const plan = planFor(intent.intent, intent);
        if (plan) return { kind: 'plan', plan, language };
        if (intent.intent === NO_INTENT) return { kind: 'none', intent, language };
      }
      const candidates = clarifyCandidates(local);
      // Small talk the classifier is unsure about stays small talk unless a template has real evidence (two words).
      const weakSmallTalk = local.intent === NO_INTENT && !(local.alternatives?.[0] && local.alternatives[0].evidence >= 2);
      const assembled = assembleFromCapabilities(opts.roles(), text);
      // The model said no template fits and the roles' capabilities clearly do: offer that plan (it waits for a person)
      // rather than a question about templates the model ruled out.
      const modelRuledOut = intent.source === 'llm' && intent.intent === NO_INTENT && assembled !== undefined;
      if (candidates.length && !weakSmallTalk && !modelRuledOut) return { kind: 'clarify', intent, candidates, language };
      if (assembled) {
        return {
          kind: 'plan', language,
          plan: {
            templateId: 'assembled', templateName: 'Assembled from role capabilities', needsConfirmation: true, steps: assembled.steps,
            intent: { intent: 'assembled', confidence: assembled.confidence, reason: `no template fits (best: ${intent.intent}, ${intent.confidence.toFixed(2)}); roles chosen by capability: ${assembled.reason}`, source: 'capabilities' },
          },
        };
      }
      return { kind: 'none', intent, language };
    },
  };
}

/** The two or three likeliest templates to offer as buttons, best first; empty when none is plausible. */
export function clarifyCandidates(local: IntentResult): string[] {
  const plausible = (local.alternatives ?? []).filter((a) => a.strength >= CLARIFY_MIN_STRENGTH && a.evidence >= 1);
  const first = plausible[0];
  if (!first) return [];
  const close = plausible.filter((a) => a.strength >= CLARIFY_CLOSE * first.strength).slice(0, CLARIFY_MAX).map((a) => a.intent);
  if (close.length === 1) {
    const next = (local.alternatives ?? []).find((a) => a.intent !== first.intent);
    if (next) close.push(next.intent);
  }
  return close;
}

export function stepsOf(template: WorkflowTemplate): StepSpec[] {
  const order = topoOrder(template.steps)!;
  const byId = new Map(template.steps.map((s) => [s.id, s]));
  return order.map((id) => {
    const s = byId.get(id)!;
    return { key: s.id, roleId: s.role, dependsOn: s.depends_on, gateAfter: s.gate, fallbackRoles: s.fallback_roles };
  });
}

const STOP = new Set(['the', 'a', 'an', 'and', 'or', 'for', 'to', 'of', 'in', 'on', 'we', 'our', 'need', 'please', 'can', 'you', 'with', 'is', 'it', 'this', 'that', 'me', 'i', 'us', 'be']);
const words = (s: string) => s.toLowerCase().replace(/<@[a-z0-9_]+>/g, ' ').split(/[^a-z0-9]+/).filter((w) => w.length > 2 && !STOP.has(w)).map(stem);
const stem = (w: string) => w.replace(/(ings|ing|ies|es|s|ed)$/, '');

/**
 * Picks the roles whose declared capabilities (e.g. `wireframes`, `user_flows`) share words with the request, and
 * orders them by their declared inputs and outputs: a role that consumes another role's output runs after it.
 * Undefined unless the capabilities hit at least ASSEMBLY_MIN_HITS times: one shared word is no evidence.
 */
export function assembleFromCapabilities(roles: Role[], text: string): { steps: StepSpec[]; confidence: number; reason: string } | undefined {
  const asked = new Set(words(text));
  const matched = roles
    .map((role) => ({ role, hits: role.capabilities.filter((c) => words(c.replace(/_/g, ' ')).some((w) => asked.has(w))) }))
    .filter((m) => m.hits.length > 0);
  if (matched.reduce((n, m) => n + m.hits.length, 0) < ASSEMBLY_MIN_HITS) return undefined;
  const outputsOf = new Map(roles.map((r) => [r.role_id, new Set(r.constraints.required_outputs.map((o) => o.name))]));
  const chosen = matched.map((m) => m.role);
  const deps = (r: Role) => chosen.filter((o) => o !== r && (r.inputs ?? []).some((i) => outputsOf.get(o.role_id)!.has(i))).map((o) => o.role_id);
  const specs = chosen.map((r) => ({ id: r.role_id, depends_on: deps(r) }));
  const order = topoOrder(specs) ?? chosen.map((r) => r.role_id);
  const byId = new Map(specs.map((s) => [s.id, s]));
  const steps = order.map((id) => ({ key: id, roleId: id, dependsOn: byId.get(id)!.depends_on, gateAfter: false, fallbackRoles: [] }));
  const reason = matched.map((m) => `${m.role.role_id} (${m.hits.join(', ')})`).join('; ');
  return { steps, confidence: Math.min(1, matched.reduce((n, m) => n + m.hits.length, 0) / 4), reason };
}
