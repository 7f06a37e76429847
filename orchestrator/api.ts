// What the edges (bot/ for chat platforms, web-admin/ for the console) may ask of the orchestrator: a person's
// message, and an action (a button, or the console's Retry / Cancel). Nothing else crosses.
import { act } from './act';
import type { InboundMessage } from './chat';
import type { ActionId, ActOutcome, Actor } from './contract';
import type { EngineDeps } from './deps';

export interface Orchestrator {
  /** A person's message: queued at once (durably), then classified and planned, or added to a running thread. */
  receive(message: InboundMessage): Promise<void>;
  /** A button press or a console action; `feedback` is the text of "request changes". */
  act(action: ActionId, value: string, actor: Actor, feedback?: string): Promise<ActOutcome>;
}

export function createOrchestrator(deps: EngineDeps): Orchestrator {
  return {
    receive: (message) => deps.queue.enqueue({ kind: 'intake', message }),
    act: (action, value, actor, feedback) => act(deps, action, value, actor, feedback),
  };
}
