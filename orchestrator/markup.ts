// The neutral markup of MessageView text and its platform-independent pieces: every adapter (Slack blocks, Teams cards,
// the web playground, the console) renders the same view text through these functions.
// The markup: `*bold*`, `_italic_`, `> quote`, `:shortcode:` emoji (Slack's names, from the maintained emoji-datasource
// table), a date token (dateToken) each adapter shows in its reader's local time, and mentions written by a ChatPort.
// Invariant: these functions only read text; none of them turns echoed text into a mention or markup that notifies.
import emojiData from 'emoji-datasource/emoji.json' with { type: 'json' };

interface EmojiRow { unified: string; short_names: string[] }

let table: Map<string, string> | null = null;

/** Slack's shortcode names (`thinking_face`, `robot_face`, `+1`, …) to Unicode, built once from emoji-datasource. */
function emojiTable(): Map<string, string> {
  if (table) return table;
  const t = new Map<string, string>();
  for (const row of emojiData as EmojiRow[]) {
    const chars = String.fromCodePoint(...row.unified.split('-').map((h) => Number.parseInt(h, 16)));
    for (const name of row.short_names) t.set(name, chars);
  }
  table = t;
  return t;
}

/** The Unicode emoji of a shortcode (`:tada:` or `tada`), or undefined when the table does not know it (a custom emoji). */
export function emojiOf(code: string): string | undefined {
  return emojiTable().get(code.replace(/^:|:$/g, '').toLowerCase());
}

/** Every known `:shortcode:` in `text` as Unicode; unknown ones (custom workspace emoji) stay as typed. */
export function emojify(text: string): string {
  return text.replace(/:([a-z0-9_+-]{1,64}):/gi, (m, name: string) => emojiOf(name) ?? m);
}

/** The token for a moment in view text (seconds since the epoch between ⟦date: and ⟧). A forged token in echoed text
 * can only ever show a date: every adapter renders it from the digits alone. */
export const dateToken = (d: Date): string => `⟦date:${Math.floor(d.getTime() / 1000)}⟧`;

const DATE_TOKEN = /⟦date:(\d{1,12})⟧/g;

/** Replaces each date token with what `render` makes of its moment. */
export const renderDates = (text: string, render: (d: Date) => string): string =>
  text.replace(DATE_TOKEN, (_m, s: string) => render(new Date(Number(s) * 1000)));

export const utcStamp = (d: Date) => `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;

/** Slack's `<!date^…>`: each reader sees the moment in their own time zone; `fallback` where a client cannot. */
export const slackDate = (d: Date): string =>
  `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${utcStamp(d)}>`;

/** Adaptive Cards' DATE/TIME functions: Teams shows the moment in the reader's locale and time zone. */
export const cardDate = (d: Date): string => {
  const iso = `${d.toISOString().slice(0, 19)}Z`;
  return `{{DATE(${iso}, SHORT)}} {{TIME(${iso})}}`;
};

/** The ids a ChatPort mentioned in view text (Slack `<@U…>`, Teams `<at …>id</at>`), for looking up names. */
export const mentionIds = (text: string): string[] =>
  [...text.matchAll(/<at\b[^<>]*>([^<>]{1,256})<\/at>|<@([A-Za-z0-9_-]{1,64})(?:\|[^<>]*)?>/gi)].map((m) => (m[1] ?? m[2])!);

/**
 * View text as plain text for a reader outside chat (the console, logs): emoji as Unicode, bold/italic marks dropped,
 * Slack mentions and Teams `<at>` tags as `@name` (from `names` when known), Slack links as `label (url)`, Slack's
 * entities decoded, dates in UTC. The result is text: the caller still escapes it for HTML.
 */
export function plainText(text: string, names: ReadonlyMap<string, string> = new Map()): string {
  const name = (id: string) => names.get(id) ?? id;
  return emojify(renderDates(text, utcStamp))
    .replace(/<at\b[^<>]*>([^<>]{1,256})<\/at>/gi, (_m, id: string) => `@${name(id)}`)
    .replace(/<@([A-Za-z0-9_-]{1,64})(?:\|([^<>]{1,128}))?>/g, (_m, id: string, label?: string) => `@${label ?? name(id)}`)
    .replace(/<!date\^\d+\^[^|<>]*\|([^<>]{1,100})>/g, '$1')
    .replace(/\u27e6group [A-Za-z0-9_-]{1,40} (S[A-Z0-9]{2,20})\u27e7/g, (_m, id: string) => `@${name(id)}`) // a Slack user-group mention (bot/slack/blocks.ts)
    .replace(/<(https?:\/\/[^|<>\s]{1,2000})\|([^<>]{1,500})>/g, '$2 ($1)')
    .replace(/<(https?:\/\/[^|<>\s]{1,2000})>/g, '$1')
    .replace(/(^|[^*\w])\*(?=\S)([^*\n]*?\S)\*(?!\*)/g, '$1$2')
    .replace(/(^|[^_\w])_(?=\S)([^_\n]*?\S)_(?![_\w])/g, '$1$2')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}
