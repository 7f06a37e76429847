// Deterministic identities, each from one function over a union: queue job ids (`jobId`) and the idempotency keys of
// persona posts (`postKey`). An add that is repeated (a Slack retry, a re-run after a crash) creates no second job, and
// a post that is made again finds the one already made. Invariant: no other module builds a job id or a post key.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InboundMessage, ThreadRef } from './chat';
import { ACTION_IDS, PLATFORMS, type ActionId, type Actor } from './contract';

/** A button press (or a submitted feedback form) queued by the edge: the worker runs `act` and tells the person. */
export interface ClickJob {
  kind: 'click';
  /** The platform's id of this delivery (Slack trigger_id, Teams activity id): a redelivery is the same click. */
  deliveryId: string;
  action: ActionId;
  value: string;
  actor: Extract<Actor, { kind: 'chat' }>;
  feedback?: string;
  /** When the person pressed (the platform's action time, else when the edge received it), ISO 8601: presses run in
   * parallel jobs, so a later press must not be overwritten by an earlier one that happens to run last. */
  pressedAt: string;
  /** Where the outcome is told to the person: the thread the button is in, and how to name them there. */
  reply: { thread: ThreadRef; person: { id: string; name?: string } };
}

export type JobData =
  | { kind: 'intake'; message: InboundMessage }
  /** `roleId`: the role the run is for, when the adder knew it (the run's "working…" post is then written by the
   *  statement that starts it). */
  | { kind: 'step'; stepId: string; revision: number; run: number; roleId?: string }
  | { kind: 'decision'; approvalId: string }
  /** Build a step revision's output files (role YAML outputs.files) and deliver them to the thread (orchestrator/outputs.ts). */
  | { kind: 'outputs'; stepId: string; revision: number }
  /** Send a channel's unsent chat posts, in order (orchestrator/outbox.ts). `from` tells adds apart: the first outbox
   *  row of the transaction that wrote them, or the sweep's tick. */
  | { kind: 'drain'; channel: string; from: string }
  /** A gate's timer (orchestrator/gate-timers.ts), a delayed job due `at` (ISO 8601): its n-th reminder, or its expiry
   *  (n = 0). The queue delays it until then (queue.ts delayOf). */
  | { kind: 'gate_timer'; approvalId: string; due: 'remind' | 'expire'; n: number; at: string }
  | ClickJob;

export function jobId(data: JobData): string {
  switch (data.kind) {
    case 'intake':
      return `intake-${data.message.platform}-${data.message.channelId}-${data.message.messageTs}`;
    case 'step':
      return `step-${data.stepId}-r${data.revision}-n${data.run}`;
    case 'decision':
      return `decision-${data.approvalId}`;
    case 'outputs':
      return `outputs-${data.stepId}-r${data.revision}`;
    case 'click':
      return `click-${data.actor.platform}-${digest(data.deliveryId)}`;
    case 'drain':
      return `drain-${digest(data.channel)}-${data.from}`;
    case 'gate_timer':
      return `gate-${data.due}-${data.approvalId}-n${data.n}`;
  }
}

/** How long the queue holds a job before a worker may take it: a gate timer until it is due; anything else none. */
export function delayOf(data: JobData, now = Date.now()): number | undefined {
  if (data.kind !== 'gate_timer') return undefined;
  const at = Date.parse(data.at);
  return Number.isFinite(at) && at > now ? at - now : undefined;
}

/** A short, id-safe digest of a platform's delivery id (those may contain ':' and be long). */
const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

const platform = z.enum(PLATFORMS);
/** Files one message may carry into a workflow (Slack allows 10 per message; more are ignored by the edge). */
export const MAX_MESSAGE_FILES = 20;
const short = z.string().max(300);
const threadRef = z.object({ platform, teamId: short, channelId: short, threadTs: short });

/** JobData read back from storage (the PostgreSQL inbox): validated, never cast. */
export const JobDataSchema: z.ZodType<JobData> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('intake'),
    message: threadRef.extend({
      messageTs: short, sentAt: short.optional(), userId: short, text: z.string().max(100_000), mentioned: z.boolean(),
      files: z.array(z.object({ id: short, name: z.string().min(1).max(1000), url: z.string().url().max(2000), bytes: z.number().int().min(0).optional(), mime: short.optional(), auth: z.literal('platform').optional() })).max(MAX_MESSAGE_FILES).optional(),
    }),
  }),
  z.object({ kind: z.literal('step'), stepId: short, revision: z.number().int(), run: z.number().int(), roleId: short.optional() }),
  z.object({ kind: z.literal('decision'), approvalId: short }),
  z.object({ kind: z.literal('outputs'), stepId: short, revision: z.number().int() }),
  z.object({ kind: z.literal('drain'), channel: short, from: z.string().regex(/^[a-z0-9]{1,40}$/) }),
  z.object({ kind: z.literal('gate_timer'), approvalId: short, due: z.enum(['remind', 'expire']), n: z.number().int().min(0).max(100_000), at: z.string().datetime() }),
  z.object({
    kind: z.literal('click'),
    deliveryId: z.string().min(1).max(1000),
    action: z.enum(ACTION_IDS),
    value: short,
    actor: z.object({ kind: z.literal('chat'), platform, userId: short, teamId: short, channelId: short }),
    feedback: z.string().max(5000).optional(),
    pressedAt: z.string().datetime(),
    reply: z.object({ thread: threadRef, person: z.object({ id: short, name: short.optional() }) }),
  }),
]);

export interface JobQueue {
  enqueue(data: JobData): Promise<void>;
  /** Runs a delayed job now (a budget raise wakes the steps it held); nothing when the job is not delayed. */
  wake?(data: JobData): Promise<void>;
}

/** Every post a workflow makes in its thread, by what it is about. */
export type PostKey =
  | { kind: 'plan'; workflowId: string }
  | { kind: 'status'; stepId: string; revision: number; run: number }
  | { kind: 'output'; stepId: string; revision: number; roleId: string }
  | { kind: 'question'; stepId: string }
  | { kind: 'gate'; approvalId: string }
  | { kind: 'failure'; stepId: string; revision: number; run: number }
  | { kind: 'handover'; stepId: string; toRoleId: string }
  | { kind: 'satisfaction'; workflowId: string }
  | { kind: 'rejected'; workflowId: string }
  | { kind: 'cancelled'; workflowId: string }
  /** A budget's notice (80%), its "limit reached" post with the raise button, and the raise, per workflow and window. */
  | { kind: 'budget'; stage: 'warned' | 'reached' | 'raised'; workflowId: string; windowId: string }
  /** The note that goes with a step revision's output files: links, or what could not be made or uploaded. */
  | { kind: 'files'; stepId: string; revision: number }
  /** A waiting gate's n-th reminder, and its expiry notice (cancelled or escalated): orchestrator/gate-timers.ts. */
  | { kind: 'reminder'; approvalId: string; n: number }
  | { kind: 'expiry'; approvalId: string }
  /** "Add this to the running workflow, or start a new one?" for a request in a 1:1 chat (orchestrator/pending.ts). */
  | { kind: 'choice'; requestId: string };

export type PostKind = PostKey['kind'];

/** The key of the n-th (1-based) of several posts a long message was cut into, before its last part; the last part
 *  carries the message's own key (so a post counts as made only once every part is). */
export const postPartKey = (k: PostKey, part: number): string => partKeyOf(postKey(k), part);
/** postPartKey over a key already built (the outbox keeps keys as text). */
export const partKeyOf = (key: string, part: number): string => `${key}#part${part}`;

/** The key of one edit of a post (outbox row): `tag` names the edit (e.g. "done", "retry-a2"), so repeating it
 *  writes nothing new. */
export const updateKey = (target: PostKey, tag: string): string => `${postKey(target)}@${tag}`;

/** A gate's id, from its step run: the step's transaction writes the gate and its card together, without reading. */
export function approvalIdOf(stepId: string, revision: number): string {
  const h = createHash('sha256').update(`approval:${stepId}:r${revision}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function postKey(k: PostKey): string {
  switch (k.kind) {
    case 'plan':
      return `plan:${k.workflowId}`;
    case 'status':
      return `status:${k.stepId}:r${k.revision}:n${k.run}`;
    case 'output':
      return `output:${k.stepId}:r${k.revision}:${k.roleId}`;
    case 'question':
      return `question:${k.stepId}`;
    case 'gate':
      return `gate:${k.approvalId}`;
    case 'failure':
      return `failure:${k.stepId}:r${k.revision}:n${k.run}`;
    case 'handover':
      return `handover:${k.stepId}:${k.toRoleId}`;
    case 'satisfaction':
      return `satisfaction:${k.workflowId}`;
    case 'rejected':
      return `rejected:${k.workflowId}`;
    case 'cancelled':
      return `cancelled:${k.workflowId}`;
    case 'budget':
      return `budget:${k.stage}:${k.workflowId}:${k.windowId}`;
    case 'files':
      return `files:${k.stepId}:r${k.revision}`;
    case 'reminder':
      return `reminder:${k.approvalId}:n${k.n}`;
    case 'expiry':
      return `expiry:${k.approvalId}`;
    case 'choice':
      return `choice:${k.requestId}`;
  }
}
