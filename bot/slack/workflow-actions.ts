// Buttons that steer a workflow: Skip / Cancel on a failed step, and the edit buttons of a plan awaiting confirmation.
import type { App } from '@slack/bolt';
import type { Orchestrator } from '../../orchestrator/api';
import { steer, STEERING_ACTIONS } from '../../orchestrator/steering';
import { tellUser, type ButtonBody } from './interactions';

export function registerWorkflowActions(app: App, orchestrator: Orchestrator): void {
  for (const action of STEERING_ACTIONS) {
    app.action(action, async ({ ack, body, client }) => {
      await ack();
      const b = body as unknown as ButtonBody;
      const outcome = await steer(orchestrator, action, b.actions[0]?.value ?? '', b.user.id);
      if (!outcome.done) await tellUser(client, b, outcome.text);
    });
  }
}
