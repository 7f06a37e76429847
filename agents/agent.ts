// Runs one role on one step: builds the prompt, calls the role's model, measures the call.
import type { LlmRouter } from './llm/router';
import { LlmError, type ChatResult } from './llm/provider';
import { costUsd } from './llm/pricing';
import { systemPrompt, userPrompt, type StepContext } from './prompt';
import type { Role } from './roles';

export interface LlmCallRecord {
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  costUsd: number;
  ok: boolean;
  error?: string;
}

export type AgentOutcome = { ok: true; result: ChatResult; call: LlmCallRecord } | { ok: false; error: LlmError; call: LlmCallRecord };

export async function runAgent(role: Role, router: LlmRouter, ctx: StepContext): Promise<AgentOutcome> {
  const { provider, model, temperature } = router.forRole(role);
  const started = performance.now();
  try {
    const result = await provider.complete({ model, temperature, system: systemPrompt(role), user: userPrompt(ctx) });
    const latencyMs = Math.round(performance.now() - started);
    const cost = costUsd(provider.name, result.model, result.promptTokens, result.completionTokens);
    return { ok: true, result, call: { provider: provider.name, model: result.model, promptTokens: result.promptTokens, completionTokens: result.completionTokens, latencyMs, costUsd: cost, ok: true } };
  } catch (e) {
    const error = e instanceof LlmError ? e : new LlmError((e as Error).message, true);
    const latencyMs = Math.round(performance.now() - started);
    return { ok: false, error, call: { provider: provider.name, model, promptTokens: 0, completionTokens: 0, latencyMs, costUsd: 0, ok: false, error: error.message } };
  }
}
