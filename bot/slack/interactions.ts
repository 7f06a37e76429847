// Slack's buttons and the "Request changes" modal: parse the payload (zod) and queue the press durably
// (orchestrator.click) before acknowledging it; a worker then runs the orchestrator's one command and tells the presser
// the outcome in an ephemeral note. Nothing here reads the database: a press that cannot be kept answers 5xx at once.
// Two things are answered from the payload alone: "Request changes" opens the feedback modal (after the ack, from the
// trigger id), and a modal submitted empty is refused inline. Decisions and words live in the orchestrator.
import type { App } from '@slack/bolt';
import type { Actor, Orchestrator } from '../../orchestrator';
import { ACTION_IDS } from '../../orchestrator';
import type { Logger } from '../../orchestrator/log';
import { errorMessage } from '../../agents/errors';
import { slackTsToIso } from './events';
import { BlockActions, ViewSubmission, type ModalMetadata } from './payloads';

const MODAL_ID = 'request_changes_modal';

export function registerInteractions(app: App, orchestrator: Orchestrator, log: Logger): void {
  for (const actionId of ACTION_IDS) {
    app.action(actionId, async ({ ack, body, client }) => {
      const parsed = BlockActions.safeParse(body);
      if (!parsed.success) {
        await ack(); // signed but unreadable: nothing a retry would change
        return log.warn('ignored a malformed Slack button payload', { action: actionId, issues: parsed.error.issues.map((i) => i.path.join('.')) });
      }
      const b = parsed.data;
      const action = b.actions[0]!;
      // Where the click came from, as Slack says (the request is signed): the orchestrator refuses it for a workflow of
      // another team or channel. A payload without them matches no workflow.
      const actor: Actor = { kind: 'chat', platform: 'slack', userId: b.user.id, teamId: b.team?.id ?? b.user.team_id ?? '', channelId: b.channel?.id ?? '' };
      const threadTs = b.message?.thread_ts ?? b.message?.ts;
      if (action.action_id === 'request_changes') {
        // The feedback modal opens from the payload alone (trigger ids expire in 3 s); the decision is queued when
        // the modal is submitted, and refused there if the gate was decided meanwhile.
        await ack();
        if (!b.channel) return;
        const meta: ModalMetadata = { approvalId: action.value, channel: b.channel.id, team: actor.teamId || undefined, threadTs };
        void client.views.open({ trigger_id: b.trigger_id, view: feedbackModal(meta) }).catch((e) => log.warn('could not open the feedback modal', { error: errorMessage(e) }));
        return;
      }
      await orchestrator.click({
        deliveryId: `slack:${b.user.id}:${b.trigger_id}`, action: action.action_id, value: action.value, actor, pressedAt: action.action_ts === undefined ? undefined : slackTsToIso(action.action_ts), // absent: the time received
        reply: { thread: { platform: 'slack', teamId: actor.teamId, channelId: actor.channelId, threadTs: threadTs ?? '' }, person: { id: b.user.id } },
      });
      await ack();
    });
  }

  app.view(MODAL_ID, async ({ ack, body }) => {
    const parsed = ViewSubmission.safeParse(body);
    if (!parsed.success) return void (await ack({ response_action: 'errors', errors: { feedback: 'This form could not be read; press Request changes again.' } }));
    const { user, team, view } = parsed.data;
    const meta = view.private_metadata;
    const teamId = meta.team ?? team?.id ?? user.team_id ?? '';
    const feedback = view.state.values.feedback.text.value?.trim() ?? '';
    if (!feedback) return void (await ack({ response_action: 'errors', errors: { feedback: 'Please say what should change.' } }));
    const actor: Actor = { kind: 'chat', platform: 'slack', userId: user.id, teamId, channelId: meta.channel };
    await orchestrator.click({
      deliveryId: `slack:${user.id}:${parsed.data.trigger_id ?? `${view.id}:${view.hash ?? ''}`}`, action: 'request_changes', value: meta.approvalId, actor, feedback,
      reply: { thread: { platform: 'slack', teamId, channelId: meta.channel, threadTs: meta.threadTs ?? '' }, person: { id: user.id } },
    });
    await ack(); // the modal closes; the outcome (or a refusal) arrives as an ephemeral note in the thread
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
