// Fair scheduling on one open-source BullMQ queue: which lane a job runs in, and the order of new work across
// workspaces. Work already under way — a workflow's next step, a gate's decision, a button press — is a
// *continuation*: it is added without a priority, so it goes to BullMQ's wait list, which a worker always empties
// before it takes any prioritized job (BullMQ's moveToActive: RPOPLPUSH from wait first, then ZPOPMIN from
// prioritized). A new inbound message is an *intake*: it is added with a priority (lower runs first), so a burst of
// new requests never delays a workflow that is running. Intakes are interleaved across workspaces (team ids) by
// start-time fair queueing: each intake gets the tag max(head, last tag of its workspace + 1), where head is the
// smallest priority still waiting; ties run in the order they were added. A workspace's k-th waiting intake thus runs
// beside every other workspace's k-th, so one workspace's burst of 1,000 delays another workspace's single request
// by at most one of its own intakes, and each workspace's intakes keep their order.
// Invariants: the tags are computed in Redis in one script (atomic across servers); the tag table is emptied when no
// intake waits and none was added for FAIR_QUIET_MS (so tags stay small), expires after a day without intakes, and
// tags are capped at BullMQ's highest priority (beyond it intakes are first-in first-out, never refused). Only intakes are prioritized, so the
// prioritized set holds intakes and the wait list continuations: queue depth is the two together
// (rolecall_queue_waiting_jobs, the KEDA triggers of the Helm chart).
import type { Redis } from 'ioredis';
import { PRIORITY_LIMIT } from 'bullmq';
import type { JobData } from './jobs';

export type Lane = 'continuation' | 'intake';

/** New inbound messages are intakes; everything else continues work already started. */
export const laneOf = (data: JobData): Lane => (data.kind === 'intake' ? 'intake' : 'continuation');

/** The workspace an intake counts against: the platform's team (Slack workspace, Teams tenant). */
export function workspaceOf(data: JobData): string | undefined {
  return data.kind === 'intake' ? `${data.message.platform}:${data.message.teamId}` : undefined;
}

/** KEYS[1]: BullMQ's prioritized set (score = priority * 2^32 + a counter); KEYS[2]: hash workspace -> last tag, and
 *  '@at' -> when it was last written (Redis' clock, ms). ARGV[1]: the highest tag; ARGV[2]: the quiet time in ms;
 *  ARGV[3..]: each intake's workspace, in the order they are added. Returns their tags. The table is emptied only when
 *  no intake waits *and* none was tagged for the quiet time: adds tagged a moment ago may still be on their way to
 *  BullMQ (a burst is added in several batches at once), and must not be tagged over. */
export const FAIR_TAGS_LUA = `
local limit = tonumber(ARGV[1])
local quiet = tonumber(ARGV[2])
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local now = 1
if head[2] then
  now = math.max(1, math.floor(tonumber(head[2]) / 4294967296))
elseif ms - (tonumber(redis.call('HGET', KEYS[2], '@at')) or 0) > quiet then
  redis.call('DEL', KEYS[2])
end
local tags = {}
for i = 3, #ARGV do
  local last = tonumber(redis.call('HGET', KEYS[2], ARGV[i])) or 0
  local tag = math.min(limit, math.max(now, last + 1))
  redis.call('HSET', KEYS[2], ARGV[i], tag)
  tags[i - 2] = tag
end
redis.call('HSET', KEYS[2], '@at', ms)
redis.call('PEXPIRE', KEYS[2], 86400000)
return tags
`;

export interface FairKeys {
  /** BullMQ's prioritized set of the queue (queue.keys.prioritized). */
  prioritized: string;
  /** The workspace -> last tag hash, beside the queue's keys (queue.toKey('fair')). */
  tags: string;
}

type WithFairTags = Redis & { rolecallFairTags(k1: string, k2: string, ...argv: string[]): Promise<number[]> };

/** Longer than an add may take (PRODUCER_COMMAND_TIMEOUT_MS in queue.ts): after it, a tagged add has landed or failed. */
export const FAIR_QUIET_MS = 2_000;

/** BullMQ priorities (1 = first) for intakes of the given workspaces, in the order given: one round trip. */
export async function fairPriorities(redis: Redis, keys: FairKeys, workspaces: string[], quietMs = FAIR_QUIET_MS): Promise<number[]> {
  if (!workspaces.length) return [];
  const r = redis as WithFairTags;
  // defineCommand runs EVALSHA, and EVAL once when Redis does not have the script yet.
  if (typeof r.rolecallFairTags !== 'function') redis.defineCommand('rolecallFairTags', { numberOfKeys: 2, lua: FAIR_TAGS_LUA });
  const tags = await r.rolecallFairTags(keys.prioritized, keys.tags, String(PRIORITY_LIMIT), String(quietMs), ...workspaces);
  return tags.map(Number);
}

/** Jobs waiting for a worker, by lane, from BullMQ's job counts (getJobCounts: `waiting` is the wait list,
 *  `prioritized` the prioritized set). Queue depth is their sum: neither alone is the backlog. */
export function waitingByLane(counts: Record<string, number>): Record<Lane, number> {
  return { continuation: counts.waiting ?? counts.wait ?? 0, intake: counts.prioritized ?? 0 };
}
