// Deterministic identities, each from one function over a union: queue job ids (`jobId`) and the idempotency keys of
// persona posts (`postKey`). An add that is repeated (a Slack retry, a re-run after a crash) creates no second job, and
// a post that is made again finds the one already made. Invariant: no other module builds a job id or a post key.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { InboundMessage, ThreadRef } from './chat';
import { ACTION_IDS, type ActionId, type Actor } from './contract';

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
  | { kind: 'step'; stepId: string; revision: number; run: number }
  | { kind: 'decision'; approvalId: string }
  | ClickJob;

export function jobId(data: JobData): string {
  switch (data.kind) {
    case 'intake':
      return `intake-${data.message.platform}-${data.message.channelId}-${data.message.messageTs}`;
    case 'step':
      return `step-${data.stepId}-r${data.revision}-n${data.run}`;
    case 'decision':
      return `decision-${data.approvalId}`;
    case 'click':
      return `click-${data.actor.platform}-${digest(data.deliveryId)}`;
  }
}

/** A short, id-safe digest of a platform's delivery id (those may contain ':' and be long). */
const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 32);

const platform = z.enum(['slack', 'teams']);
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
      files: z.array(z.object({ id: short, name: z.string().min(1).max(1000), url: z.string().url().max(2000), bytes: z.number().int().min(0).optional(), mime: short.optional() })).max(MAX_MESSAGE_FILES).optional(),
    }),
  }),
  z.object({ kind: z.literal('step'), stepId: short, revision: z.number().int(), run: z.number().int() }),
  z.object({ kind: z.literal('decision'), approvalId: short }),
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
  | { kind: 'cancelled'; workflowId: string };

export type PostKind = PostKey['kind'];

/** The key of the n-th (1-based) of several posts a long message was cut into, before its last part; the last part
 *  carries the message's own key (so a post counts as made only once every part is). */
export const postPartKey = (k: PostKey, part: number): string => `${postKey(k)}#part${part}`;

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
  }
}
