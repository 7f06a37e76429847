// Slack's buttons and the "Request changes" modal: parse the payload (zod), call the orchestrator's one command, and
// render its outcome (an ephemeral note to the presser, or the modal). Decisions and words live in the orchestrator.
import type { App } from '@slack/bolt';
import type { Actor, Orchestrator } from '../../orchestrator';
import { ACTION_IDS } from '../../orchestrator';
import type { Logger } from '../../orchestrator/log';
import { BlockActions, ViewSubmission, type ModalMetadata } from './payloads';

const MODAL_ID = 'request_changes_modal';

export function registerInteractions(app: App, orchestrator: Orchestrator, log: Logger): void {
  for (const actionId of ACTION_IDS) {
    app.action(actionId, async ({ ack, body, client }) => {
      await ack();
      const parsed = BlockActions.safeParse(body);
      if (!parsed.success) return log.warn('ignored a malformed Slack button payload', { action: actionId, issues: parsed.error.issues.map((i) => i.path.join('.')) });
      const b = parsed.data;
      const action = b.actions[0]!;
      const actor: Actor = { kind: 'chat', platform: 'slack', userId: b.user.id, teamId: b.team?.id, channelId: b.channel?.id ?? '' };
      const outcome = await orchestrator.act(action.action_id, action.value, actor);
      if (outcome.kind === 'needs_feedback') {
        if (!b.channel) return;
        const meta: ModalMetadata = { approvalId: action.value, channel: b.channel.id, team: b.team?.id, threadTs: b.message?.thread_ts ?? b.message?.ts };
        await client.views.open({ trigger_id: b.trigger_id, view: feedbackModal(meta) });
        return;
      }
      if (outcome.kind === 'refused' || outcome.confirm) await tellUser(client, b, outcome.text);
    });
  }

  app.view(MODAL_ID, async ({ ack, body }) => {
    const parsed = ViewSubmission.safeParse(body);
    if (!parsed.success) return void (await ack({ response_action: 'errors', errors: { feedback: 'This form could not be read; press Request changes again.' } }));
    const { user, view } = parsed.data;
    const meta = view.private_metadata;
    const feedback = view.state.values.feedback.text.value?.trim() ?? '';
    if (!feedback) return void (await ack({ response_action: 'errors', errors: { feedback: 'Please say what should change.' } }));
    const outcome = await orchestrator.act('request_changes', meta.approvalId, { kind: 'chat', platform: 'slack', userId: user.id, teamId: meta.team, channelId: meta.channel }, feedback);
    if (outcome.kind === 'done') return void (await ack());
    await ack({ response_action: 'errors', errors: { feedback: outcome.text } });
  });
}

function feedbackModal(meta: ModalMetadata) {
  return {
    type: 'modal' as const,
    callback_id: MODAL_ID,
    private_metadata: JSON.stringify(meta),
    title: { type: 'plain_text' as const, text: 'Request changes' },
    submit: { type: 'plain_text' as const, text: 'Send' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'feedback',
        label: { type: 'plain_text' as const, text: 'What should change?' },
        element: { type: 'plain_text_input', action_id: 'text', multiline: true, max_length: 3000 },
      },
    ],
  };
}

/** An ephemeral note to the person who pressed a button, in the button's thread. */
async function tellUser(client: App['client'], b: BlockActions, text: string): Promise<void> {
  if (!b.channel?.id) return;
  await client.chat.postEphemeral({ channel: b.channel.id, user: b.user.id, text, thread_ts: b.message?.thread_ts ?? b.message?.ts });
}
