// Chooses the provider for a role. With no provider configured, every role uses the offline demo model;
// a role that names a provider that is not configured (while another one is) is a configuration error.
import { OperatorError } from '../errors';
import type { Role } from '../roles';
import { demoProvider } from './demo';
import type { LlmProvider } from './provider';
import { createProviders, providerVariable, type AzureOptions, type EndpointOptions } from './providers';
import type { ProviderLimiter } from './rate-limit';

export interface LlmRouter {
  readonly describe: string;
  forRole(role: Role): ModelRoute;
  /** A real model for orchestration questions (intent classification); undefined with only the demo model. */
  orchestration?: { provider: LlmProvider; model: string };
  /** The configured providers by name (agents/llm/providers.ts); empty with only the demo model. */
  providers: ReadonlyMap<string, LlmProvider>;
}

/** How a role's failing model calls are retried: the primary model's `attempts` with exponential backoff from
 *  `backoffMs` (at least what Retry-After asks, at most `maxWaitMs`), then the fallback model's `fallbackAttempts`. */
export interface ModelRetryPolicy {
  attempts: number;
  backoffMs: number;
  fallbackAttempts: number;
  maxWaitMs: number;
}

/** Where a role's model calls go. `fallbackModel` is set only where a fallback is worth trying (a real model). */
export interface ModelRoute {
  provider: LlmProvider;
  model: string;
  temperature: number;
  fallbackModel?: string;
  retry: ModelRetryPolicy;
}

/** The model providers the operator configured (absent: not configured). */
export interface LlmRouterOptions {
  openai?: { apiKey: string; baseURL?: string };
  azure?: AzureOptions;
  /** OpenAI-compatible endpoints (vLLM, LM Studio, Together, Groq), each under its own provider name. */
  endpoints?: EndpointOptions[];
  ollama?: { host: string };
  timeoutMs: number;
  retry?: Partial<ModelRetryPolicy>;
}

/** A router like `inner` (a decorator such as traced.ts or private.ts) whose every provider, a role's, orchestration's
 *  and each configured one, is `decorate(provider)`. Invariant: each provider is decorated once (the same provider
 *  object always gives the same wrapper); everything else is read from `inner`. */
export function decorateProviders(inner: LlmRouter, decorate: (p: LlmProvider) => LlmProvider): LlmRouter {
  const wrapped = new WeakMap<LlmProvider, LlmProvider>();
  const wrap = (p: LlmProvider): LlmProvider => {
    let w = wrapped.get(p);
    if (!w) wrapped.set(p, (w = decorate(p)));
    return w;
  };
  const router = Object.create(inner) as { -readonly [K in keyof LlmRouter]: LlmRouter[K] };
  router.forRole = (role) => {
    const route = inner.forRole(role);
    return { ...route, provider: wrap(route.provider) };
  };
  if (inner.orchestration) router.orchestration = { ...inner.orchestration, provider: wrap(inner.orchestration.provider) };
  router.providers = new Map([...inner.providers].map(([name, p]) => [name, wrap(p)]));
  return router;
}

export const DEFAULT_RETRY: ModelRetryPolicy = { attempts: 3, backoffMs: 2_000, fallbackAttempts: 1, maxWaitMs: 60_000 };

/** A role names a provider that is not configured while another one is. */
export class ProviderNotConfiguredError extends OperatorError {}

export function createLlmRouter(cfg: LlmRouterOptions, roleList: Iterable<Role>, limiter?: ProviderLimiter): LlmRouter {
  const roles = [...roleList];
  const retry: ModelRetryPolicy = { ...DEFAULT_RETRY, ...cfg.retry };
  const byName = createProviders(cfg, limiter);
  const providers: Record<string, LlmProvider> = Object.fromEntries(byName);
  const configured = [...byName.keys()];
  if (configured.length === 0) {
    const demo = demoProvider();
    return { describe: 'offline demo model (no OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, LLM_ENDPOINTS or OLLAMA_HOST set)', providers: byName, forRole: (role) => ({ provider: demo, model: 'demo', temperature: role.llm_config.temperature, retry }) };
  }
  for (const role of roles) {
    if (!providers[role.llm_config.provider]) {
      throw new ProviderNotConfiguredError(`role ${role.role_id} uses provider ${role.llm_config.provider}, but ${providerVariable(role.llm_config.provider)} is not set`);
    }
  }
  const first = roles[0];
  return {
    orchestration: first ? { provider: providers[first.llm_config.provider]!, model: first.llm_config.model } : undefined,
    describe: configured.join(' + '),
    providers: byName,
    forRole: (role) => {
      const provider = providers[role.llm_config.provider]!;
      const fallback = role.llm_config.fallback_model;
      const fallbackModel = fallback && fallback !== role.llm_config.model && provider.capabilities.reasoning ? fallback : undefined;
      return { provider, model: role.llm_config.model, temperature: role.llm_config.temperature, fallbackModel, retry };
    },
  };
}
