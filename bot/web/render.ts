// What the playground's browser code receives for a message: plain data (JSON), never HTML. Mentions (<@id>) become
// "@name", Slack-style :shortcodes: become emoji; the browser builds the DOM from text nodes only (assets/playground.js),
// so nothing a model, a person or a file writes can inject markup.
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

/** The emoji the views, the role files and the demo model use, by their Slack shortcode. */
const EMOJI: Record<string, string> = {
  robot_face: '🤖', clipboard: '📋', vertical_traffic_light: '🚦', hourglass_flowing_sand: '⏳', warning: '⚠️',
  white_check_mark: '✅', x: '❌', pencil2: '✏️', no_entry: '⛔', repeat: '🔁', memo: '📝', computer: '💻', mag: '🔍',
  building_construction: '🏗️', thinking_face: '🤔', thumbsup: '👍', thumbsdown: '👎', '+1': '👍', '-1': '👎', tada: '🎉',
  checkered_flag: '🏁', raised_hand: '✋', question: '❓', octagonal_sign: '🛑', fast_forward: '⏩', arrow_right_hook: '↪️',
  art: '🎨', bulb: '💡', test_tube: '🧪', bug: '🐛', rocket: '🚀', lock: '🔒', speech_balloon: '💬', eyes: '👀',
  paperclip: '📎', page_facing_up: '📄', bar_chart: '📊', calendar: '📅', gear: '⚙️', sparkles: '✨', package: '📦',
};

export const emojiText = (text: string) => text.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);

/** An avatar for a persona: its emoji, else its initial. */
const avatarOf = (emoji: string | undefined, name: string) => (emoji ? EMOJI[emoji.replace(/^:|:$/g, '')] ?? '🤖' : (name.trim()[0] ?? '?').toUpperCase());

const MENTION = /<@([A-Za-z0-9-]{1,64})>/g;

export const mentionedIds = (rows: WebMessageRow[]) => [...new Set(rows.flatMap((r) => [...`${r.text}\n${r.context ?? ''}`.matchAll(MENTION)].map((m) => m[1]!)))];

export function toDto(row: WebMessageRow, viewerId: string, names: Map<string, string>): WebMessageDto {
  const plain = (s: string) => emojiText(s.replace(MENTION, (_, id: string) => `@${names.get(id) ?? 'someone'}`));
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
