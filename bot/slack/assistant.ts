// Slack's AI app features (manifest features.assistant_view, bot scope assistant:write): a person who opens an
// assistant thread with Rolecall (its DM, or the assistant side panel) is shown a few suggested requests, the same
// ones the manifests declare (ASSISTANT_PROMPTS). While a role works in such a thread, its status line says so
// (chat.ts `working`, assistant.threads.setStatus). Invariant: called after the event's ack; a failure is logged,
// never thrown (the prompts are a convenience: the person can write their request anyway).
import { errorMessage } from '../../agents/errors';
import type { Logger } from '../../orchestrator';
import type { SlackClientFor } from './chat';

/** What the assistant view offers (Slack shows up to four): the manifests' assistant_view.suggested_prompts too. */
export const ASSISTANT_PROMPTS_TITLE = 'Ask Rolecall for';
export const ASSISTANT_PROMPTS: { title: string; message: string }[] = [
  { title: 'Specify a feature', message: 'Write the requirements for a login page with SSO for our customer portal' },
  { title: 'Design a change', message: 'Propose an architecture for sending our users email notifications' },
  { title: 'Plan the testing', message: 'Write a test plan for our checkout flow' },
];

/** Sets the suggested prompts of the assistant thread `threadTs` in `channelId` (assistant.threads.setSuggestedPrompts). */
export function assistantThreadStarted(clientFor: SlackClientFor, log: Logger): (teamId: string, channelId: string, threadTs: string) => Promise<void> {
  return async (teamId, channelId, threadTs) => {
    try {
      const client = await clientFor(teamId);
      await client.assistant.threads.setSuggestedPrompts({ channel_id: channelId, thread_ts: threadTs, title: ASSISTANT_PROMPTS_TITLE, prompts: ASSISTANT_PROMPTS });
    } catch (e) {
      log.info('could not set the suggested prompts of a Slack assistant thread', { team: teamId, error: errorMessage(e) });
    }
  };
}
