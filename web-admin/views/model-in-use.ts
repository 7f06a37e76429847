// The model a role actually answers with, for the roles page: the offline demo model when no provider is configured
// (whatever the YAML names), else where the tier router starts a step (agents/llm/routing.ts planTiers, over the
// configured providers). Invariant: the YAML's model is shown as "in use" only when the router would call it.
import { planTiers, tiersOf } from '../../agents/llm/routing';
import type { Role } from '../../agents/roles';

export interface ModelInUse {
  /** What answers: "offline demo model" or "provider / model". */
  label: string;
  /** The offline demo model answers (no provider configured). */
  demo: boolean;
  /** Why, when it is not simply the YAML's model: e.g. "openai / gpt-4o-mini configured, but no provider is set". */
  note?: string;
}

/** `providers`: the configured providers' names (empty: only the demo model). */
export function modelInUse(role: Role, providers: readonly string[]): ModelInUse {
  const configured = `${role.llm_config.provider} / ${role.llm_config.model}`;
  if (providers.length === 0) {
    return { label: 'offline demo model', demo: true, note: `the YAML names ${configured}; no model provider is configured (set OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, LLM_ENDPOINTS or OLLAMA_HOST)` };
  }
  const all = tiersOf(role);
  const available = all.filter((t) => providers.includes(t.provider));
  if (available.length === 0) return { label: 'none (cannot run)', demo: false, note: `provider ${all.map((t) => t.provider).join(', ')} is not configured` };
  const plan = planTiers(role, '', (p) => providers.includes(p));
  const start = plan.tiers[plan.start]!;
  const label = `${start.provider} / ${start.model}`;
  const notes: string[] = [];
  if (all.length > 1) notes.push(`starts on tier ${start.name}, up to ${plan.tiers.at(-1)!.name}${role.models?.start_by_template && Object.keys(role.models.start_by_template).length ? ' (some templates start elsewhere)' : ''}`);
  const skipped = all.filter((t) => !providers.includes(t.provider)).map((t) => t.name);
  if (skipped.length) notes.push(`tier${skipped.length > 1 ? 's' : ''} ${skipped.join(', ')} skipped: provider not configured`);
  if (label !== configured && all.length === 1) notes.push(`the YAML names ${configured}`);
  return { label, demo: false, ...(notes.length ? { note: notes.join('; ') } : {}) };
}
