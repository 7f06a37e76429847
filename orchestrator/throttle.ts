// Limits on new workflows per person and per channel (abuse prevention), shared by every process through Redis with
// rate-limiter-flexible (RateLimiterRedis, fixed windows). Invariant: a refused request is given its point back, so only
// workflows that may start are counted; with Redis unreachable each process limits alone (the insurance limiter).
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { audit } from './audit';
import type { InboundMessage } from './chat';
import type { WorkflowThrottle } from './cost-controls';
import { chatFor, type EngineDeps } from './deps';

export interface WorkflowThrottleOptions {
  redis: Redis;
  prefix: string;
  /** New workflows per person per window (0: no limit). */
  perPerson: number;
  /** New workflows per channel per window (0: no limit). */
  perChannel: number;
  windowS: number;
}

export function createWorkflowThrottle(opts: WorkflowThrottleOptions): WorkflowThrottle {
  const make = (kind: string, points: number) => points > 0
    ? new RateLimiterRedis({
      storeClient: opts.redis, keyPrefix: `${opts.prefix}:wf-${kind}`, points, duration: opts.windowS,
      insuranceLimiter: new RateLimiterMemory({ keyPrefix: `wf-${kind}`, points, duration: opts.windowS }),
    })
    : undefined;
  const person = make('person', opts.perPerson);
  const channel = make('channel', opts.perChannel);
  const take = async (limiter: RateLimiterRedis | undefined, key: string): Promise<number> => {
    if (!limiter) return 0;
    try {
      await limiter.consume(key, 1);
      return 0;
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      await limiter.reward(key, 1);
      return Math.max(1, e.msBeforeNext);
    }
  };
  return {
    async take(who) {
      const personKey = `${who.platform}:${who.teamId}:${who.userId}`;
      const waitPerson = await take(person, personKey);
      if (waitPerson) return { ok: false, limit: 'person', retryAfterMs: waitPerson };
      const waitChannel = await take(channel, `${who.platform}:${who.teamId}:${who.channelId}`);
      if (!waitChannel) return { ok: true };
      await person?.reward(personKey, 1);
      return { ok: false, limit: 'channel', retryAfterMs: waitChannel };
    },
  };
}

/**
 * Before a new workflow is planned: when the person or the channel has started too many lately, the person gets a
 * polite note only they see (ChatPort.notify), the refusal is audited, and true is returned. The message is marked
 * seen first (a conditional insert), so a re-run job neither notes nor counts it twice.
 */
export async function refusedByThrottle(deps: EngineDeps, msg: InboundMessage, key: string): Promise<boolean> {
  if (!deps.throttle) return false;
  const verdict = await deps.throttle.take({ platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, userId: msg.userId });
  if (verdict.ok) return false;
  const { count } = await deps.prisma.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'mention' }], skipDuplicates: true });
  if (count === 0) return true;
  const minutes = Math.max(1, Math.ceil(verdict.retryAfterMs / 60_000));
  await audit(deps.prisma, { actor: `${msg.platform}:${msg.userId}`, action: 'workflow.throttled', target: key, detail: { limit: verdict.limit, channelId: msg.channelId, retryAfterMs: verdict.retryAfterMs } });
  const thread = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  await chatFor(deps, msg.platform).notify(thread, { id: msg.userId }, throttledText(verdict.limit, minutes));
  return true;
}

export const throttledText = (limit: 'person' | 'channel', minutes: number): string =>
  limit === 'person'
    ? `Thanks for your request! You have started quite a few workflows in a short time, so I have not started this one. Please try again in about ${minutes} minute${minutes === 1 ? '' : 's'}.`
    : `Thanks for your request! This channel has started quite a few workflows in a short time, so I have not started this one. Please try again in about ${minutes} minute${minutes === 1 ? '' : 's'}.`;
