// Privacy controls around the model router (issue 18), in the manner of traced.ts: a decorator that wraps every
// provider it hands out. Inside `withPrivacy(settings, fn)` (entered by the orchestrator per workflow job, from the
// PrivacySetting of its channel, workspace or "*"), a call with redactPii has emails, phones, IBANs and card numbers
// replaced by placeholders before it leaves (pii.ts) and restored in the answer (text and tool-call arguments); a call
// with localModelsOnly goes to the configured local provider (Ollama) instead, or is refused when there is none.
// Invariants: outside withPrivacy nothing changes; a localModelsOnly call never reaches a non-local provider.
import { AsyncLocalStorage } from 'node:async_hooks';
import { RolecallError } from '../errors';
import { PiiMap } from './pii';
import type { ChatRequest, ChatResult, ChatTurn, LlmProvider } from './provider';
import { decorateProviders, type LlmRouter } from './router';

export interface PrivacySettings {
  redactPii: boolean;
  localModelsOnly: boolean;
}

const scope = new AsyncLocalStorage<PrivacySettings>();

/** Runs `fn` with these privacy settings applying to every model call it makes through a private router. */
export function withPrivacy<T>(settings: PrivacySettings, fn: () => Promise<T>): Promise<T> {
  return scope.run(settings, fn);
}
export const currentPrivacy = (): PrivacySettings | undefined => scope.getStore();

/** A channel allows local models only and no local provider is configured. */
export class LocalModelRequired extends RolecallError {
  constructor(provider: string) { super(`this channel allows local models only; ${provider} is not local and no local model is configured`); }
}

export interface PrivateRouterOptions {
  /** The local provider and model used for localModelsOnly scopes (e.g. Ollama); absent: such calls are refused. */
  local?: { provider: LlmProvider; model: string };
  /** Provider names that count as local already. */
  localNames?: string[];
}

function redactRequest(req: ChatRequest, map: PiiMap): ChatRequest {
  const turns = req.turns?.map((t): ChatTurn => (t.role === 'tool' ? { ...t, content: map.redact(t.content) } : { ...t, toolCalls: t.toolCalls.map((c) => ({ ...c, arguments: map.redact(c.arguments) })) }));
  return { ...req, system: map.redact(req.system), user: map.redact(req.user), ...(turns ? { turns } : {}) };
}

function restoreResult(res: ChatResult, map: PiiMap): ChatResult {
  return { ...res, text: map.restore(res.text), ...(res.toolCalls ? { toolCalls: res.toolCalls.map((c) => ({ ...c, arguments: map.restore(c.arguments) })) } : {}) };
}

export function privateProvider(inner: LlmProvider, opts: PrivateRouterOptions = {}): LlmProvider {
  const local = new Set(['ollama', 'demo', ...(opts.localNames ?? [])]);
  const p = Object.create(inner) as LlmProvider;
  p.complete = async (req) => {
    const s = scope.getStore();
    if (!s) return inner.complete(req);
    let target = inner;
    if (s.localModelsOnly && !local.has(inner.name)) {
      if (!opts.local) throw new LocalModelRequired(inner.name);
      target = opts.local.provider;
      req = { ...req, model: opts.local.model };
    }
    if (!s.redactPii) return target.complete(req);
    const map = new PiiMap();
    return restoreResult(await target.complete(redactRequest(req, map)), map);
  };
  return p;
}

export function privateLlmRouter(inner: LlmRouter, opts: PrivateRouterOptions = {}): LlmRouter {
  return decorateProviders(inner, (p) => privateProvider(p, opts));
}
