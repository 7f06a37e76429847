// What the playground's browser code receives for a message: plain data (JSON), never HTML. Mentions (<@id>) become
// "@name", Slack-style :shortcodes: become emoji; the browser builds the DOM from text nodes only (assets/playground.js),
// so nothing a model, a person or a file writes can inject markup.
import { emojify, emojiOf, renderDates, utcStamp } from '../../orchestrator/markup';
import type { WebMessageRow } from './store';

export interface WebMessageDto {
  id: string;
  seq: number;
  version: number;
  at: string;
  mine: boolean;
  person: boolean;
  author: { name: string; avatar: string };
  text: string;
  context?: string;
  actions: { id: string; label: string; value: string; style?: string }[];
  files: { name: string; bytes: number }[];
  onlyMe: boolean;
}

/** View text's shortcodes as Unicode (the shared emoji table) and its date tokens in UTC (orchestrator/markup.ts). */
export const emojiText = (text: string) => emojify(renderDates(text, utcStamp));

/** An avatar for a persona: its emoji, else its initial. */
const avatarOf = (emoji: string | undefined, name: string) => (emoji ? emojiOf(emoji) ?? '🤖' : (name.trim()[0] ?? '?').toUpperCase());

const MENTION = /<@([A-Za-z0-9-]{1,64})>/g;
/** Slack's <!date^…|fallback> (each person's local time): the playground shows the fallback. */
const SLACK_DATE = /<!date\^\d+\^[^|>]*\|([^>]*)>/g;

export const mentionedIds = (rows: WebMessageRow[]) => [...new Set(rows.flatMap((r) => [...`${r.text}\n${r.context ?? ''}`.matchAll(MENTION)].map((m) => m[1]!)))];

export function toDto(row: WebMessageRow, viewerId: string, names: Map<string, string>): WebMessageDto {
  const plain = (s: string) => emojiText(s
    .replace(MENTION, (_, id: string) => `@${names.get(id) ?? 'someone'}`)
    .replace(SLACK_DATE, (_, fallback: string) => fallback));
  const person = row.authorId !== null;
  return {
    id: row.id,
    seq: row.seq,
    version: row.version,
    at: row.createdAt.toISOString(),
    mine: row.authorId === viewerId,
    person,
    author: { name: row.persona.displayName, avatar: person ? avatarOf(undefined, row.persona.displayName) : avatarOf(row.persona.iconEmoji, row.persona.displayName) },
    text: plain(row.text),
    ...(row.context ? { context: plain(row.context) } : {}),
    actions: row.actions.map((a) => ({ id: a.id, label: a.label, value: a.value, ...(a.style ? { style: a.style } : {}) })),
    files: row.files,
    onlyMe: row.onlyFor !== null,
  };
}
