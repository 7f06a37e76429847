// What the edges (bot/ for chat platforms, web-admin/ for the console) may ask of the orchestrator: a person's
// message, and an action (a button, or the console's Retry / Cancel). Nothing else crosses.
import { act } from './act';
import type { InboundMessage } from './chat';
import { CLICK_RECEIVED_TEXT } from './clicks';
import type { ActionId, ActOutcome, Actor } from './contract';
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
}

export function createOrchestrator(deps: EngineDeps): Orchestrator {
  return {
    receive: (message) => deps.queue.enqueue({ kind: 'intake', message }),
    click: async (press) => {
      await deps.queue.enqueue({ kind: 'click', ...press, pressedAt: press.pressedAt ?? new Date().toISOString() });
      return { text: CLICK_RECEIVED_TEXT };
    },
    act: (action, value, actor, feedback) => act(deps, action, value, actor, feedback),
  };
}
