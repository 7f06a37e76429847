// One model call, timed and priced: what every LlmCall row is made of. Tokens are the provider's usage; a provider that
// reports none (an Ollama stream, an OpenAI-compatible server without usage) is counted with gpt-tokenizer (o200k_base,
// a close estimate for other models' tokenizers). A model without a known price is marked priceUnknown (pricing.ts).
import { countTokens } from 'gpt-tokenizer';
import { priceCall } from './pricing';
import { LlmError, type ChatRequest, type ChatResult, type LlmProvider } from './provider';
import { errorMessage, RetryLaterError } from '../errors';

export interface LlmCallRecord {
  provider: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  latencyMs: number;
  costUsd: number;
  /** No price is known for this model: costUsd is 0 but must not be read as free. */
  priceUnknown: boolean;
  ok: boolean;
  error?: string;
}

export type Measured = { ok: true; result: ChatResult; record: LlmCallRecord } | { ok: false; error: LlmError; record: LlmCallRecord };

export async function measuredCall(provider: LlmProvider, req: ChatRequest): Promise<Measured> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const r = withTokens(req, await provider.complete(req));
    const latencyMs = latency();
    const price = priceCall(provider.name, r.model, r.promptTokens, r.completionTokens, latencyMs);
    return { ok: true, result: r, record: { provider: provider.name, model: r.model, promptTokens: r.promptTokens, completionTokens: r.completionTokens, latencyMs, costUsd: price.costUsd, priceUnknown: !price.known, ok: true } };
  } catch (e) {
    if (e instanceof RetryLaterError) throw e; // no request was sent (the shared rate limit): nothing to record
    const error = e instanceof LlmError ? e : new LlmError(errorMessage(e), true);
    return { ok: false, error, record: { provider: provider.name, model: req.model, promptTokens: 0, completionTokens: 0, latencyMs: latency(), costUsd: 0, priceUnknown: false, ok: false, error: error.message } };
  }
}

/** A provider whose every call is also handed to `record` (for calls made outside a workflow step). */
export function recordingProvider(inner: LlmProvider, record: (call: LlmCallRecord) => Promise<void>): LlmProvider {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    async complete(req) {
      const m = await measuredCall(inner, req);
      await record(m.record);
      if (!m.ok) throw m.error;
      return m.result;
    },
  };
}

/** The result with token counts: the provider's, or counted here when it reported none at all. */
export function withTokens(req: ChatRequest, r: ChatResult): ChatResult {
  if (r.promptTokens > 0 || r.completionTokens > 0) return r;
  const answer = r.text + (r.toolCalls?.length ? JSON.stringify(r.toolCalls) : '');
  return { ...r, promptTokens: promptTokensOf(req), completionTokens: countTokens(answer) };
}

/** The request's prompt tokens as gpt-tokenizer counts them (system, user, earlier turns and tool specs). */
export function promptTokensOf(req: ChatRequest): number {
  const turns = (req.turns ?? []).map((t) => (t.role === 'tool' ? t.content : JSON.stringify(t.toolCalls))).join('\n');
  return countTokens([req.system, req.user, turns, req.tools?.length ? JSON.stringify(req.tools) : ''].join('\n'));
}

/** What a call will cost at most, before it is sent: its prompt counted with gpt-tokenizer and an answer of
 *  `maxAnswerTokens`, priced like a real call (a local model's compute time is not known beforehand: $0). */
export function estimateCall(providerName: string, req: ChatRequest, maxAnswerTokens: number): { usd: number; tokens: number; promptTokens: number } {
  const promptTokens = promptTokensOf(req);
  const usd = priceCall(providerName, req.model, promptTokens, maxAnswerTokens).costUsd;
  return { usd, tokens: promptTokens + maxAnswerTokens, promptTokens };
}
