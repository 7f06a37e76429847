// What a model call cost, from a maintained price list: @pydantic/genai-prices (Pydantic's genai-prices, updated by
// its authors with each release; its data is bundled in the package, so pricing works offline and never fetches),
// with the operator's overrides (LLM_PRICES) first. Local models (Ollama) cost $0 plus, when set, a compute price
// per hour of call time (LOCAL_COMPUTE_USD_PER_HOUR); the offline demo model costs nothing.
// Invariant: a call whose model has no known price is priced $0 *and* marked `known: false`, so it is flagged (LlmCall
// priceUnknown, the console's Cost page, /metrics rolecall_llm_unknown_price_calls), never silently free.
import { calcPrice } from '@pydantic/genai-prices';

/** USD per million tokens. */
export interface TokenPrice {
  input: number;
  output: number;
}

export interface PriceOptions {
  /** By model name, or `provider/model`; wins over the price package. */
  overrides: Record<string, TokenPrice>;
  /** USD per hour of a local model server, charged by each call's duration (0: local calls are free). */
  localUsdPerHour: number;
}

export interface Price {
  costUsd: number;
  known: boolean;
  source: 'override' | 'package' | 'local' | 'demo' | 'unknown';
}

const LOCAL_PROVIDERS = new Set(['ollama']);

/** Whether a provider runs models locally (priced by compute time, not tokens). */
export const isLocalProvider = (provider: string): boolean => LOCAL_PROVIDERS.has(provider);

let options: PriceOptions = { overrides: {}, localUsdPerHour: 0 };

/** Set once at start-up (app/runtime.ts) from the parsed configuration. */
export function configurePrices(opts: PriceOptions): void {
  options = { overrides: { ...opts.overrides }, localUsdPerHour: opts.localUsdPerHour };
}

const dated = /-\d{4}-\d{2}-\d{2}$/;

/** The price of one call. `latencyMs` only matters for local models with a compute price. */
export function priceCall(provider: string, model: string, promptTokens: number, completionTokens: number, latencyMs = 0, opts: PriceOptions = options): Price {
  if (provider === 'demo') return { costUsd: 0, known: true, source: 'demo' };
  const override = opts.overrides[`${provider}/${model}`] ?? opts.overrides[model] ?? opts.overrides[model.replace(dated, '')];
  if (override) return { costUsd: (promptTokens * override.input + completionTokens * override.output) / 1_000_000, known: true, source: 'override' };
  if (LOCAL_PROVIDERS.has(provider)) return { costUsd: (Math.max(0, latencyMs) / 3_600_000) * opts.localUsdPerHour, known: true, source: 'local' };
  const usage = { input_tokens: promptTokens, output_tokens: completionTokens };
  const found = safePrice(usage, model, provider) ?? safePrice(usage, model, undefined);
  if (!found) return { costUsd: 0, known: false, source: 'unknown' };
  return { costUsd: found, known: true, source: 'package' };
}

/** Whether a model has a price (override, package or local), without a call: the console flags those without. */
export function hasPrice(provider: string, model: string, opts: PriceOptions = options): boolean {
  return priceCall(provider, model, 1_000, 1_000, 0, opts).known;
}

function safePrice(usage: { input_tokens: number; output_tokens: number }, model: string, providerId: string | undefined): number | undefined {
  try {
    const r = calcPrice(usage, model, providerId ? { providerId } : {});
    return r ? r.total_price : undefined;
  } catch {
    return undefined;
  }
}

/** One call's cost in USD (for callers that only need the number; unknown prices are 0 here: use priceCall to flag them). */
export function costUsd(provider: string, model: string, promptTokens: number, completionTokens: number): number {
  return priceCall(provider, model, promptTokens, completionTokens).costUsd;
}

/** LLM_PRICES: `model=input/output` entries (USD per million tokens), comma-separated, the model optionally as
 *  `provider/model`, e.g. `gpt-4o-mini=0.15/0.6,groq/llama-3.1-8b-instant=0.05/0.08`. A string: what is wrong. */
export function parsePriceOverrides(text: string | undefined): Record<string, TokenPrice> | string {
  const out: Record<string, TokenPrice> = {};
  for (const entry of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._:/@-]{1,200})=(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/.exec(entry);
    if (!m) return `"${entry.slice(0, 80)}" is not model=input/output (USD per million tokens, e.g. gpt-4o-mini=0.15/0.6)`;
    out[m[1]!] = { input: Number(m[2]), output: Number(m[3]) };
  }
  return out;
}
