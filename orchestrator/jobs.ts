// Jobs on the queue. Every job id is deterministic, so an add that is repeated (a Slack retry, a re-run after a
// crash) does not create a second job, and every handler is safe to run more than once.
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
