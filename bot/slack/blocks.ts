// Renders a platform-neutral MessageView as Slack Block Kit.
import type { MessageView } from '../../orchestrator/chat';

const SECTION_LIMIT = 2900;
const TEXT_LIMIT = 39_000;

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function toSlack(view: MessageView): SlackMessage {
  const blocks: Record<string, unknown>[] = chunk(view.text, SECTION_LIMIT)
    .slice(0, 45)
    .map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  if (view.context) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: view.context.slice(0, 2000) }] });
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
  return { text: view.text.slice(0, TEXT_LIMIT), blocks };
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
