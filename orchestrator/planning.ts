// Turns a person's message into a plan: a template chosen by intent, or a flow assembled from role capabilities.
import type { Role } from '../agents/roles';
import type { IntentResult } from './intent/classifier';
import { topoOrder, type WorkflowTemplate } from './templates';

export interface StepSpec {
  key: string;
  roleId: string;
  dependsOn: string[];
  gateAfter: boolean;
  fallbackRoles: string[];
}

/** How the plan was chosen: by the local classifier, the model, or (no template fitting) by role capabilities. */
export type PlanIntent = Omit<IntentResult, 'source'> & { source: IntentResult['source'] | 'capabilities' };

export interface Plan {
  templateId: string;
  templateName: string;
  intent: PlanIntent;
  steps: StepSpec[];
  /** An assembled plan waits for a person to confirm it; a template plan runs at once. */
  needsConfirmation: boolean;
}

export interface Planner {
  plan(text: string): Promise<Plan | undefined>;
  templates: WorkflowTemplate[];
}

export interface PlannerOptions {
  templates: WorkflowTemplate[];
  roles: () => Role[];
  classifyLocal(text: string): IntentResult;
  /** The model as second stage for low-confidence messages; absent when only the demo model is configured. */
  classifyWithModel?: (text: string) => Promise<IntentResult>;
  minConfidence: number;
  /** Told when the model stage fails; the local answer is then used, and the plan says why. */
  onModelError?: (e: Error) => void;
}

export function createPlanner(opts: PlannerOptions): Planner {
  const byId = new Map(opts.templates.map((t) => [t.id, t]));
  return {
    templates: opts.templates,
    async plan(text) {
      let intent = opts.classifyLocal(text);
      if (intent.confidence < opts.minConfidence && opts.classifyWithModel) {
        const local = intent;
        intent = await opts.classifyWithModel(text).catch((e: Error) => {
          opts.onModelError?.(e);
          return { ...local, reason: `${local.reason}; the model could not classify it (${e.message})` };
        });
      }
      const template = byId.get(intent.intent);
      if (template && intent.confidence >= opts.minConfidence) {
        return { templateId: template.id, templateName: template.name, intent, steps: stepsOf(template), needsConfirmation: false };
      }
      const assembled = assembleFromCapabilities(opts.roles(), text);
      if (!assembled) return undefined;
      return {
        templateId: 'assembled', templateName: 'Assembled from role capabilities', needsConfirmation: true, steps: assembled.steps,
        intent: { intent: 'assembled', confidence: assembled.confidence, reason: `no template fits (best: ${intent.intent}, ${intent.confidence.toFixed(2)}); roles chosen by capability: ${assembled.reason}`, source: 'capabilities' },
      };
    },
  };
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
 */
export function assembleFromCapabilities(roles: Role[], text: string): { steps: StepSpec[]; confidence: number; reason: string } | undefined {
  const asked = new Set(words(text));
  const matched = roles
    .map((role) => ({ role, hits: role.capabilities.filter((c) => words(c.replace(/_/g, ' ')).some((w) => asked.has(w))) }))
    .filter((m) => m.hits.length > 0);
  if (!matched.length) return undefined;
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
