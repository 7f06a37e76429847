// Text Rolecall writes itself into Slack mrkdwn (App Home, /rolecall answers) around what people wrote.
// Invariant: every piece of text that came from a person or a model passes through mrkdwnText before it is put in a
// message or a view: Slack's control characters (&, <, >) are escaped, so a request can neither mention anyone, nor
// link anywhere, nor break the markup around it.
import { escapeBroadcasts } from './blocks';

/** `text` shown literally in mrkdwn, cut to `max` characters (with an ellipsis) and on one line. */
export function mrkdwnText(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const cut = line.length > max ? `${line.slice(0, max - 1)}…` : line;
  return escapeBroadcasts(cut.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([*_~`])/g, '\u200b$1'));
}

/** A time every reader sees in their own time zone (Slack's date formatting), with a UTC fallback. */
export const slackDate = (d: Date) => `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${d.toISOString().slice(0, 16).replace('T', ' ')} UTC>`;

/** What each workflow status reads as. */
export const STATUS_WORDS: Record<string, string> = {
  planned: ':clipboard: plan waiting for confirmation',
  running: ':gear: running',
  awaiting_approval: ':vertical_traffic_light: waiting for approval',
  step_failed: ':warning: a step failed',
  completed: ':white_check_mark: completed',
  rejected: ':no_entry: rejected',
  cancelled: ':heavy_multiplication_x: cancelled',
};

export const statusWords = (s: string) => STATUS_WORDS[s] ?? mrkdwnText(s, 40);

/** A Slack id (channel, user) inside `<#…>` / `<@…>` only when it is one (ids come from signed events, but a stored
 *  value is never trusted to be markup-free); otherwise shown as text. */
const SLACK_ID = /^[A-Z0-9_]{2,32}$/;
export const channelRef = (id: string) => (SLACK_ID.test(id) ? `<#${id}>` : mrkdwnText(id, 40));
export const userRef = (id: string) => (SLACK_ID.test(id) ? `<@${id}>` : mrkdwnText(id, 40));
