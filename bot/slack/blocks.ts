// Renders a platform-neutral MessageView as Slack Block Kit.
// Invariant: everything Rolecall posts to Slack passes through here (toSlack, or escapeBroadcasts for a bare note), so
// echoed text (requests, model output, feedback, errors) can never notify a whole channel or a user group.
import { mentionKey } from '../mention-key';
import type { MessageView } from '../../orchestrator/chat';
import { renderDates, slackDate } from '../../orchestrator/markup';

const SECTION_LIMIT = 2900;
const TEXT_LIMIT = 39_000;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

/**
 * Neutralises Slack's broadcast and user-group mentions: `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^S…>` (with or
 * without a `|label`) and every other `<!…>` command become the literal text (`&lt;!channel&gt;`, which Slack shows
 * as typed), and a bare `@channel` / `@here` / `@everyone` gets an invisible word joiner so Slack's automatic parsing
 * cannot turn it into one. Rolecall itself never writes these; person mentions (`<@U123>`) and links are kept.
 */
export function escapeBroadcasts(text: string): string {
  return text
    .replace(/<!([^<>]*)>/g, '&lt;!$1&gt;')
    .replace(/(^|[^\w@])@(channel|here|everyone)\b/gi, '$1@\u2060$2');
}

/** View text (orchestrator/markup.ts) as Slack mrkdwn: broadcasts neutralised first, then each date token becomes
 * Slack's `<!date^…>` (from its digits only), so every reader sees their own local time. Shortcodes are Slack's own. */
export const slackText = (text: string): string => renderDates(escapeBroadcasts(text), slackDate).replace(groupMarker(), '<!subteam^$1>');

/** Marks a user-group mention Rolecall itself wrote (a gate's configured approvers, orchestrator/gate-timers.ts); the
 *  key is the deployment's (bot/mention-key.ts, never shown), so a marker in echoed text stays text and notifies nobody. */
const groupMarker = () => new RegExp(`\u27e6group ${mentionKey()} (S[A-Z0-9]{2,20})\u27e7`, 'g');
export const slackGroupMention = (groupId: string): string => (/^S[A-Z0-9]{2,20}$/.test(groupId) ? `\u27e6group ${mentionKey()} ${groupId}\u27e7` : '');

export function toSlack(view: MessageView): SlackMessage {
  const text = slackText(view.text);
  const blocks: Record<string, unknown>[] = chunk(text, SECTION_LIMIT)
    .slice(0, 45)
    .map((t) => ({ type: 'section', text: { type: 'mrkdwn', text: t } }));
  if (view.context) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: slackText(view.context.slice(0, 2000)) }] });
  if (view.actions?.length) {
    blocks.push({
      type: 'actions',
      block_id: 'rolecall_actions',
      elements: view.actions.map((a) => ({
        type: 'button',
        action_id: a.id,
        value: a.value,
        text: { type: 'plain_text', text: a.label },
        ...(a.style ? { style: a.style } : {}),
      })),
    });
  }
  return { text: text.slice(0, TEXT_LIMIT), blocks };
}

/** Splits text at line breaks where possible so each piece fits one section block. */
export function chunk(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text.trim() || ' ';
  while (rest.length > max) {
    const cut = rest.lastIndexOf('\n', max);
    const at = cut > max / 2 ? cut : max;
    pieces.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  pieces.push(rest);
  return pieces;
}
