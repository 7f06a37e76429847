// What the edges (bot/ for chat platforms, web-admin/ for the console) may ask of the orchestrator: a person's
// message, an action (a button, a slash command, or the console's Retry / Cancel), and a read of one workspace's
// recent workflows (Slack's App Home and /rolecall status). Nothing else crosses.
import { act } from './act';
import type { InboundMessage } from './chat';
import { CLICK_RECEIVED_TEXT } from './clicks';
import type { ActionId, ActOutcome, Actor, PlatformName } from './contract';
import type { EngineDeps } from './deps';
import type { ClickJob } from './jobs';

export interface Orchestrator {
  /** A person's message: queued at once (durably), then classified and planned, or added to a running thread.
   * Rejects (InfraError) when it could not be kept: the edge then answers 5xx so the platform delivers it again. */
  receive(message: InboundMessage): Promise<void>;
  /** A chat button press: queued durably (same rejection as `receive`); a worker runs `act` and tells the person the
   * outcome in the thread. Resolves with what the edge may show at once where the platform wants an answer. */
  click(press: Omit<ClickJob, 'kind' | 'pressedAt'> & { pressedAt?: string }): Promise<{ text: string }>;
  /** A console action (or anything that must answer with the outcome itself); `feedback` is the text of "request
   * changes". */
  act(action: ActionId, value: string, actor: Actor, feedback?: string): Promise<ActOutcome>;
  /** One workspace's workflows, newest first (at most 50): of one channel, one requester, or whose id starts with
   *  `idPrefix` (a person may name a workflow by the first characters of its id). Never another workspace's. */
  workflows(query: WorkflowQuery): Promise<WorkflowSummary[]>;
}

export interface WorkflowQuery {
  platform: PlatformName;
  teamId: string;
  channelId?: string;
  requestedBy?: string;
  idPrefix?: string;
  limit: number;
}

export interface WorkflowSummary {
  id: string;
  status: string;
  requestText: string;
  channelId: string;
  threadTs: string;
  requestedBy: string;
  createdAt: Date;
}

export function createOrchestrator(deps: EngineDeps): Orchestrator {
  return {
    receive: (message) => deps.queue.enqueue({ kind: 'intake', message }),
    click: async (press) => {
      await deps.queue.enqueue({ kind: 'click', ...press, pressedAt: press.pressedAt ?? new Date().toISOString() });
      return { text: CLICK_RECEIVED_TEXT };
    },
    act: (action, value, actor, feedback) => act(deps, action, value, actor, feedback),
    workflows: (q) => deps.prisma.workflow.findMany({
      where: {
        platform: q.platform, teamId: q.teamId, channelId: q.channelId, requestedBy: q.requestedBy,
        ...(q.idPrefix ? { id: { startsWith: q.idPrefix.toLowerCase() } } : {}),
      },
      orderBy: { createdAt: 'desc' },
      take: Math.min(Math.max(1, q.limit), 50),
      select: { id: true, status: true, requestText: true, channelId: true, threadTs: true, requestedBy: true, createdAt: true },
    }),
  };
}
