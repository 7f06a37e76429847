// Buttons that steer a workflow: Skip / Cancel on a failed step, and the edit buttons of a plan awaiting confirmation.
import type { App } from '@slack/bolt';
import type { Orchestrator } from '../../orchestrator/api';

interface ButtonBody {
  user: { id: string };
  channel?: { id: string };
  message?: { ts: string; thread_ts?: string };
  actions: { value?: string }[];
}

type Handler = (orchestrator: Orchestrator, value: string, userId: string) => Promise<boolean>;

const HANDLERS: Record<string, { run: Handler; refused: string }> = {
  skip_step: { run: (o, v, u) => o.skip(v, u), refused: 'This step is not waiting for a decision any more.' },
  cancel_workflow: { run: (o, v, u) => o.cancelFromThread(v, u), refused: 'This workflow is not running any more.' },
  plan_drop: { run: (o, v, u) => planEdit(o, v, u, 'drop'), refused: 'This plan cannot be changed any more (it runs, or that was its last step).' },
  plan_gate: { run: (o, v, u) => planEdit(o, v, u, 'gate'), refused: 'This plan cannot be changed any more.' },
  plan_confirm: { run: (o, v, u) => o.editPlan(v, { op: 'confirm' }, u), refused: 'This plan already runs.' },
};

function planEdit(o: Orchestrator, value: string, userId: string, op: 'drop' | 'gate'): Promise<boolean> {
  const [workflowId = '', stepKey = ''] = value.split('|');
  return o.editPlan(workflowId, { op, stepKey }, userId);
}

export function registerWorkflowActions(app: App, orchestrator: Orchestrator): void {
  for (const [actionId, handler] of Object.entries(HANDLERS)) {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const b = body as unknown as ButtonBody;
      const done = await handler.run(orchestrator, b.actions[0]?.value ?? '', b.user.id);
      if (!done && b.channel?.id) {
        await client.chat.postEphemeral({ channel: b.channel.id, user: b.user.id, text: handler.refused, thread_ts: b.message?.thread_ts ?? b.message?.ts });
      }
    });
  }
}
