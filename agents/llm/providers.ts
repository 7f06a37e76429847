// The configured model providers by name, all behind the one LlmProvider interface: OpenAI ("openai"), Azure OpenAI
// ("azure"), any OpenAI-compatible endpoint (vLLM, LM Studio, Together, Groq: LLM_ENDPOINTS, by the name given there)
// and Ollama ("ollama"). With a shared limiter, every provider is behind it (agents/llm/rate-limit.ts).
// Invariant: provider names are unique; a name a role may use is exactly a key of the returned map.
import { OperatorError } from '../errors';
import { ollamaProvider } from './ollama';
import { openAiProvider } from './openai';
import type { LlmProvider } from './provider';
import { limitedProvider, type ProviderLimiter } from './rate-limit';

/** An OpenAI-compatible endpoint: base URL (…/v1) and key (any non-empty value for servers without keys). */
export interface EndpointOptions {
  name: string;
  baseURL: string;
  apiKey: string;
}

export interface AzureOptions {
  endpoint: string;
  apiKey: string;
  apiVersion: string;
  /** One deployment for every call; unset: the role's model names the deployment. */
  deployment?: string;
}

export interface ProvidersOptions {
  openai?: { apiKey: string; baseURL?: string };
  azure?: AzureOptions;
  endpoints?: EndpointOptions[];
  ollama?: { host: string };
  timeoutMs: number;
}

/** Two providers were given the same name. */
export class DuplicateProviderError extends OperatorError {}

/** Names the built-in providers take; an LLM_ENDPOINTS entry may not reuse them. */
export const BUILT_IN_PROVIDERS = ['openai', 'azure', 'ollama', 'demo'] as const;

export function createProviders(opts: ProvidersOptions, limiter?: ProviderLimiter): Map<string, LlmProvider> {
  const out = new Map<string, LlmProvider>();
  const observe = (name: string) => (limiter ? { onHeaders: (h: Headers) => limiter.observe(name, h) } : {});
  const add = (p: LlmProvider) => {
    if (out.has(p.name)) throw new DuplicateProviderError(`two model providers are named ${p.name}`);
    out.set(p.name, limiter ? limitedProvider(p, limiter) : p);
  };
  if (opts.openai) add(openAiProvider({ ...opts.openai, timeoutMs: opts.timeoutMs, ...observe('openai') }));
  if (opts.azure) {
    const { endpoint, apiKey, apiVersion, deployment } = opts.azure;
    add(openAiProvider({ name: 'azure', apiKey, azure: { endpoint, apiVersion, deployment }, timeoutMs: opts.timeoutMs, ...observe('azure') }));
  }
  for (const e of opts.endpoints ?? []) add(openAiProvider({ name: e.name, apiKey: e.apiKey, baseURL: e.baseURL, timeoutMs: opts.timeoutMs, ...observe(e.name) }));
  if (opts.ollama) add(ollamaProvider({ host: opts.ollama.host, timeoutMs: opts.timeoutMs }));
  return out;
}

/** The environment variable that configures a provider, for error messages. */
export const providerVariable = (name: string): string =>
  name === 'openai' ? 'OPENAI_API_KEY' : name === 'azure' ? 'AZURE_OPENAI_ENDPOINT' : name === 'ollama' ? 'OLLAMA_HOST' : `an LLM_ENDPOINTS entry named ${name}`;
