// Per-provider rate limits shared by every worker through Redis, with rate-limiter-flexible (RateLimiterRedis):
// requests and tokens per minute from config, and the provider's own word: Retry-After and the x-ratelimit-* headers
// (remaining 0 until a reset) block the shared limiter for every worker until the provider's reset.
// Invariants: no request is sent while the limiter says no; a call waits for the limiter at most maxWaitMs, and a
// longer wait throws ProviderThrottledError (a RetryLaterError: the job is delayed without using an attempt); a
// request that was refused gives its points back, so only sent requests (and their real token usage) count.
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RetryLaterError } from '../errors';
import { LlmError, retryAfterMs, type ChatRequest, type LlmProvider } from './provider';

/** Requests and tokens per minute for one provider (absent: unlimited, yet the provider's headers still block). */
export interface ProviderLimit {
  rpm?: number;
  tpm?: number;
}

export interface RateLimitOptions {
  redis: Redis;
  /** Key prefix in Redis (the queue prefix): processes of one deployment share their limits. */
  prefix: string;
  /** Limits per provider name. */
  limits: Record<string, ProviderLimit>;
  /** The longest a call waits in-process; beyond it the job is delayed instead. */
  maxWaitMs: number;
  /** The window of rpm/tpm in seconds (60; tests may use a longer one so that no window ends mid-test). */
  windowS?: number;
}

/** The provider's shared limit is reached: the call was not made; try again after `delayMs`. */
export class ProviderThrottledError extends RetryLaterError {
  constructor(readonly provider: string, delayMs: number) {
    super(`${provider}: rate limit reached, next call in ${Math.ceil(delayMs / 1000)} s`, delayMs, 'rate_limited');
  }
}

export interface ProviderLimiter {
  /** Waits (bounded) until `provider` may be sent a request of about `tokens` tokens, and counts it. */
  acquire(provider: string, tokens: number): Promise<void>;
  /** Corrects the token count once the provider said what the call used. */
  settle(provider: string, estimated: number, used: number): Promise<void>;
  /** Reads Retry-After and x-ratelimit-* from an answer and blocks the provider for every worker when it is spent. */
  observe(provider: string, headers: { get(name: string): string | null }): Promise<void>;
  /** Blocks the provider for `ms` for every worker. */
  block(provider: string, ms: number): Promise<void>;
}

const UNLIMITED = 1_000_000_000;

export function createProviderLimiter(opts: RateLimitOptions): ProviderLimiter {
  const duration = opts.windowS ?? 60;
  const make = (kind: 'rpm' | 'tpm', points: number) => new RateLimiterRedis({
    storeClient: opts.redis, keyPrefix: `${opts.prefix}:llm-${kind}`, points, duration,
    // Redis unreachable: this process limits alone (the library's insurance limiter) rather than failing calls
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: `llm-${kind}`, points, duration }),
  });
  const requests = new Map<string, RateLimiterRedis>();
  const tokens = new Map<string, RateLimiterRedis>();
  const limiters = (provider: string) => {
    let r = requests.get(provider);
    if (!r) requests.set(provider, (r = make('rpm', opts.limits[provider]?.rpm ?? UNLIMITED)));
    const tpm = opts.limits[provider]?.tpm;
    let t = tokens.get(provider);
    if (!t && tpm) tokens.set(provider, (t = make('tpm', tpm)));
    return { r, t, tpm };
  };
  /** 0 when counted; otherwise how long until it could be. */
  const tryTake = async (provider: string, n: number): Promise<number> => {
    const { r, t, tpm } = limiters(provider);
    const rejected = await r.consume(provider, 1).then(() => undefined, refusal);
    if (rejected !== undefined) {
      await r.reward(provider, 1);
      return rejected;
    }
    if (!t || !tpm) return 0;
    const points = Math.max(1, Math.min(n, tpm)); // a request larger than the whole budget waits for an empty window
    const noTokens = await t.consume(provider, points).then(() => undefined, refusal);
    if (noTokens === undefined) return 0;
    await Promise.all([t.reward(provider, points), r.reward(provider, 1)]);
    return noTokens;
  };
  const block = async (provider: string, ms: number) => {
    if (!(ms > 0)) return;
    await limiters(provider).r.block(provider, Math.min(ms, 3_600_000) / 1000);
  };
  return {
    async acquire(provider, n) {
      const deadline = Date.now() + opts.maxWaitMs;
      for (;;) {
        const wait = await tryTake(provider, n);
        if (wait === 0) return;
        if (Date.now() + wait > deadline) throw new ProviderThrottledError(provider, wait);
        await new Promise((r) => setTimeout(r, wait));
      }
    },
    async settle(provider, estimated, used) {
      const { t } = limiters(provider);
      if (!t || used === estimated) return;
      if (used > estimated) await t.penalty(provider, used - estimated);
      else await t.reward(provider, estimated - used);
    },
    async observe(provider, headers) {
      const waits = [retryAfterMs(headers) ?? 0];
      if (headers.get('x-ratelimit-remaining-requests')?.trim() === '0') waits.push(durationMs(headers.get('x-ratelimit-reset-requests')) ?? 1000);
      if (headers.get('x-ratelimit-remaining-tokens')?.trim() === '0') waits.push(durationMs(headers.get('x-ratelimit-reset-tokens')) ?? 1000);
      await block(provider, Math.max(...waits));
    },
    block,
  };
}

/** A RateLimiterRes refusal as its wait; anything else (a Redis failure the insurance limiter did not take) rethrown. */
function refusal(e: unknown): number {
  if (e instanceof RateLimiterRes) return Math.max(1, e.msBeforeNext);
  throw e;
}

/** OpenAI's reset durations ("1s", "6m0s", "20ms", "2m59.56s") or plain seconds ("7.66"), in ms. */
export function durationMs(value: string | null | undefined): number | undefined {
  const v = value?.trim();
  if (!v || v.length > 40) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const parts = [...v.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== v) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0));
}

/** Tokens a request will probably use: about 4 characters a token for what is sent, plus room for the answer. */
export function estimateTokens(req: ChatRequest): number {
  const turns = (req.turns ?? []).map((t) => (t.role === 'tool' ? t.content : t.toolCalls.map((c) => c.arguments).join(''))).join('');
  return Math.ceil((req.system.length + req.user.length + turns.length) / 4) + 512;
}

/** `inner` behind the shared limiter: each call waits for its turn, its real usage is counted, a 429's Retry-After
 *  blocks the provider for every worker. */
export function limitedProvider(inner: LlmProvider, limiter: ProviderLimiter): LlmProvider {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    async complete(req) {
      const estimated = estimateTokens(req);
      await limiter.acquire(inner.name, estimated);
      try {
        const r = await inner.complete(req);
        await limiter.settle(inner.name, estimated, r.promptTokens + r.completionTokens).catch(() => undefined);
        return r;
      } catch (e) {
        if (e instanceof LlmError && e.kind === 'rate_limited') await limiter.block(inner.name, e.retryAfterMs ?? 1000).catch(() => undefined);
        throw e;
      }
    },
  };
}

/** A limiter whose Redis is known only later (the composition root builds the router before it connects): until
 *  `use` is called, calls go through unlimited. */
export function lateLimiter(): ProviderLimiter & { use(limiter: ProviderLimiter): void } {
  let inner: ProviderLimiter | undefined;
  return {
    use: (l) => void (inner = l),
    acquire: async (p, n) => inner?.acquire(p, n),
    settle: async (p, e, u) => inner?.settle(p, e, u),
    observe: async (p, h) => inner?.observe(p, h),
    block: async (p, ms) => inner?.block(p, ms),
  };
}
