// Buttons and the "Request changes" modal.
import type { App } from '@slack/bolt';
import type { DecideResult, Orchestrator } from '../../orchestrator/api';
import { notDecidedText } from '../../orchestrator/views';

const MODAL_ID = 'request_changes_modal';

export interface ButtonBody {
  user: { id: string };
  channel?: { id: string };
  message?: { ts: string; thread_ts?: string };
  trigger_id: string;
  actions: { value?: string }[];
}

export function registerInteractions(app: App, orchestrator: Orchestrator): void {
  for (const [actionId, decision] of [['approve', 'approved'], ['reject', 'rejected']] as const) {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const b = body as unknown as ButtonBody;
      const result = await orchestrator.decide(b.actions[0]?.value ?? '', decision, b.user.id);
      if (!result.won) await tellUser(client, b, explain(result));
    });
  }

  app.action('request_changes', async ({ ack, body, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const approvalId = b.actions[0]?.value ?? '';
    if (!(await orchestrator.gateIsOpen(approvalId))) {
      const result = await orchestrator.decide(approvalId, 'changes_requested', b.user.id); // reports who decided
      if (!result.won) return tellUser(client, b, explain(result));
    }
    await client.views.open({ trigger_id: b.trigger_id, view: feedbackModal(approvalId, b) });
  });

  app.view(MODAL_ID, async ({ ack, body, view }) => {
    const meta = JSON.parse(view.private_metadata || '{}') as { approvalId?: string };
    const feedback = view.state.values.feedback?.text?.value?.trim() ?? '';
    if (!feedback) return void (await ack({ response_action: 'errors', errors: { feedback: 'Please say what should change.' } }));
    const result = await orchestrator.decide(meta.approvalId ?? '', 'changes_requested', body.user.id, feedback);
    if (result.won) return void (await ack());
    await ack({ response_action: 'errors', errors: { feedback: explain(result) } });
  });

  app.action('retry_step', async ({ ack, body, client }) => {
    await ack();
    const b = body as unknown as ButtonBody;
    const retried = await orchestrator.retry(b.actions[0]?.value ?? '', b.user.id);
    if (!retried) await tellUser(client, b, 'This step is not waiting for a retry any more (someone already retried it).');
  });

  for (const [actionId, vote] of [['satisfaction_up', 'up'], ['satisfaction_down', 'down']] as const) {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const b = body as unknown as ButtonBody;
      const recorded = await orchestrator.rate(b.actions[0]?.value ?? '', b.user.id, vote);
      await tellUser(client, b, recorded ? `Thanks for the feedback (${vote === 'up' ? '👍' : '👎'}).` : 'This workflow no longer exists.');
    });
  }
}

function feedbackModal(approvalId: string, b: ButtonBody) {
  return {
    type: 'modal' as const,
    callback_id: MODAL_ID,
    private_metadata: JSON.stringify({ approvalId, channel: b.channel?.id }),
    title: { type: 'plain_text' as const, text: 'Request changes' },
    submit: { type: 'plain_text' as const, text: 'Send' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'feedback',
        label: { type: 'plain_text' as const, text: 'What should change?' },
        element: { type: 'plain_text_input', action_id: 'text', multiline: true },
      },
    ],
  };
}

export function explain(result: Exclude<DecideResult, { won: true }>): string {
  return notDecidedText(result, result.reason === 'already_decided' ? `<@${result.decidedBy}>` : '');
}

/** An ephemeral note to the person who pressed a button, in the button's thread. */
export async function tellUser(client: App['client'], b: ButtonBody, text: string): Promise<void> {
  if (!b.channel?.id) return;
  await client.chat.postEphemeral({ channel: b.channel.id, user: b.user.id, text, thread_ts: b.message?.thread_ts ?? b.message?.ts });
}

