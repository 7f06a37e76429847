// One model call, timed and priced: what every LlmCall row is made of.
import { costUsd } from './pricing';
import { LlmError, type ChatRequest, type ChatResult, type LlmProvider } from './provider';
import { errorMessage } from '../errors';

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

export type Measured = { ok: true; result: ChatResult; record: LlmCallRecord } | { ok: false; error: LlmError; record: LlmCallRecord };

export async function measuredCall(provider: LlmProvider, req: ChatRequest): Promise<Measured> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  try {
    const r = await provider.complete(req);
    const cost = costUsd(provider.name, r.model, r.promptTokens, r.completionTokens);
    return { ok: true, result: r, record: { provider: provider.name, model: r.model, promptTokens: r.promptTokens, completionTokens: r.completionTokens, latencyMs: latency(), costUsd: cost, ok: true } };
  } catch (e) {
    const error = e instanceof LlmError ? e : new LlmError(errorMessage(e), true);
    return { ok: false, error, record: { provider: provider.name, model: req.model, promptTokens: 0, completionTokens: 0, latencyMs: latency(), costUsd: 0, ok: false, error: error.message } };
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
