// The App Home tab: published (views.publish) each time a person opens it, with the workflows they asked for and how
// to use Rolecall. Invariants: only the person's own requests in the workspace the event came from are shown (never
// other people's, which may come from private channels the person is not in); every request text is escaped
// (text.ts); a failure is logged, never thrown (the event was acked already, and the next opening publishes again).
import type { Logger, Orchestrator, WorkflowSummary } from '../../orchestrator';
import { errorMessage } from '../../agents/errors';
import type { SlackClientFor } from './chat';
import { channelRef, mrkdwnText, slackDate, statusWords } from './text';

const SHOWN = 10;

/** Publishes `userId`'s App Home in `teamId`. */
export function appHome(orchestrator: Orchestrator, clientFor: SlackClientFor, log: Logger): (teamId: string, userId: string) => Promise<void> {
  return async (teamId, userId) => {
    try {
      const mine = await orchestrator.workflows({ platform: 'slack', teamId, requestedBy: userId, limit: SHOWN });
      const client = await clientFor(teamId);
      await client.views.publish({ user_id: userId, view: homeView(mine) });
    } catch (e) {
      log.warn('could not publish the Slack App Home', { team: teamId, error: errorMessage(e) });
    }
  };
}

export function homeView(mine: WorkflowSummary[]) {
  const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const list = (rows: WorkflowSummary[]) => rows.map((w) => section(`${statusWords(w.status)} · ${channelRef(w.channelId)} · ${slackDate(w.createdAt)}\n>${mrkdwnText(w.requestText, 150)}\n\`${w.id.slice(0, 8)}\``));
  return {
    type: 'home' as const,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Rolecall' } },
      section('Role-based AI agents in your threads: mention *@Rolecall* with a request in a channel (or write to me in the *Messages* tab), and an analyst, an architect, a developer, QA and a PM work through it, stopping at approval gates.'),
      { type: 'divider' },
      section('*Your recent workflows*'),
      ...(mine.length ? list(mine) : [section('_None yet. Mention @Rolecall in a channel with what you need._')]),
      { type: 'divider' },
      section('*Commands*\n`/rolecall status`: workflows of this channel · `/rolecall cancel <id>`: cancel one (in its channel) · `/rolecall help`'),
    ],
  };
}
