// Deterministic identities, each from one function over a union: queue job ids (`jobId`) and the idempotency keys of
// persona posts (`postKey`). An add that is repeated (a Slack retry, a re-run after a crash) creates no second job, and
// a post that is made again finds the one already made. Invariant: no other module builds a job id or a post key.
import type { InboundMessage } from './chat';

export type JobData =
  | { kind: 'intake'; message: InboundMessage }
  | { kind: 'step'; stepId: string; revision: number; run: number }
  | { kind: 'decision'; approvalId: string };

export function jobId(data: JobData): string {
  switch (data.kind) {
    case 'intake':
      return `intake-${data.message.platform}-${data.message.channelId}-${data.message.messageTs}`;
    case 'step':
      return `step-${data.stepId}-r${data.revision}-n${data.run}`;
    case 'decision':
      return `decision-${data.approvalId}`;
  }
}

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
