// Renders a platform-neutral MessageView as a Teams message: an Adaptive Card 1.5 whose header is the persona
// (avatar + name; Teams cannot change the sender name per message), with Universal Actions (Action.Execute) and an
// Action.Submit fallback for clients without them, and the AI-generated-content label on role posts.
// Invariant: a person is @mentioned only where Rolecall itself wrote a mention (teamsMention, whose marker carries a
// key known only to this process); an `<at>` tag anywhere in echoed text (requests, model output, feedback) is shown
// as text and notifies nobody.
import { mentionKey } from '../mention-key';
import type { MessageView, Persona, ViewAction } from '../../orchestrator/chat';
import { cardDate, emojify, emojiOf, renderDates, utcStamp } from '../../orchestrator/markup';
import { truncate } from '../../orchestrator/views';

export const CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';
const TEXT_LIMIT = 20_000;

export type Card = Record<string, unknown> & { type: 'AdaptiveCard'; body: Record<string, unknown>[] };

export interface TeamsMessage {
  type: 'message';
  text?: string;
  attachments: { contentType: string; content: Card }[];
  entities?: Record<string, unknown>[];
}

export const AI_LABEL = {
  type: 'https://schema.org/Message',
  '@type': 'Message',
  '@context': 'https://schema.org',
  '@id': '',
  additionalType: ['AIGeneratedContent'],
};

/** Marks Rolecall's own mentions in view text; text from anywhere else cannot forge the key (bot/mention-key.ts). */
const mentionMarker = () => new RegExp(`<at rc="${mentionKey()}">([^<>]{1,256})</at>`, 'g');

/** A person as a mention inside a view's text; rendered as `<at>Name</at>` plus the entity Teams needs. */
export const teamsMention = (userId: string) => `<at rc="${mentionKey()}">${userId}</at>`;

/** The user ids Rolecall mentions in `text` (for looking up their names). */
export const mentionedIds = (text: string): string[] => [...text.matchAll(mentionMarker())].map((m) => m[1]!);

/** Text shown as is in Teams: an `<at>` / `</at>` tag (any case, any attributes) gets a zero-width space after its
 * `<`, so it reads the same but no longer matches a mention entity. */
export const neutraliseMentions = (text: string): string => text.replace(/<(?=\s*\/?\s*at\b)/gi, '<\u200B');

export function toTeamsMessage(persona: Persona, view: MessageView, names: Map<string, string>): TeamsMessage {
  const card = toCard(persona, view, names);
  return { type: 'message', attachments: [{ contentType: CARD_CONTENT_TYPE, content: card }], ...(view.actions?.length ? {} : { entities: [AI_LABEL] }) };
}

export function toCard(persona: Persona, view: MessageView, names: Map<string, string>): Card {
  const mentions = new Map<string, string>();
  const text = withMentions(toCardMarkdown(view.text), names, mentions);
  const body: Record<string, unknown>[] = [header(persona), { type: 'TextBlock', text: truncate(text, TEXT_LIMIT), wrap: true }];
  if (view.context) body.push({ type: 'TextBlock', text: withMentions(toCardMarkdown(view.context), names, mentions), wrap: true, isSubtle: true, size: 'Small' });
  if (view.actions?.some((a) => a.id === 'request_changes')) {
    body.push({ type: 'Input.Text', id: 'feedback', isMultiline: true, label: 'What should change? (for Request changes)', placeholder: 'e.g. add SAML as well as OIDC', maxLength: 4000 });
  }
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body,
    ...(view.actions?.length ? { actions: view.actions.map(cardAction) } : {}),
    msteams: { width: 'Full', ...(mentions.size ? { entities: [...mentions].map(([id, name]) => mentionEntity(id, name)) } : {}) },
  };
}

function header(persona: Persona): Record<string, unknown> {
  const avatar = persona.iconUrl
    ? { type: 'Image', url: persona.iconUrl, size: 'Small', style: 'Person', altText: persona.displayName }
    : { type: 'TextBlock', text: emoji(persona.iconEmoji ?? ':robot_face:'), size: 'Large' };
  return {
    type: 'ColumnSet',
    columns: [
      { type: 'Column', width: 'auto', verticalContentAlignment: 'Center', items: [avatar] },
      { type: 'Column', width: 'stretch', verticalContentAlignment: 'Center', items: [{ type: 'TextBlock', text: persona.displayName, weight: 'Bolder', wrap: true }] },
    ],
  };
}

function cardAction(a: ViewAction): Record<string, unknown> {
  const data = { rolecall: { action: a.id, value: a.value } };
  const style = a.style === 'primary' ? { style: 'positive' } : a.style === 'danger' ? { style: 'destructive' } : {};
  return { type: 'Action.Execute', title: a.label, verb: a.id, data, ...style, fallback: { type: 'Action.Submit', title: a.label, data, ...style } };
}

function mentionEntity(id: string, name: string) {
  return { type: 'mention', text: `<at>${name}</at>`, mentioned: { id, name } };
}

/** Neutralises every `<at>` of echoed text, then turns Rolecall's own mention markers into <at>Name</at> and records
 * the mention entity Teams needs to render each. */
function withMentions(text: string, names: Map<string, string>, used: Map<string, string>): string {
  // split() with the marker's capture group alternates: text, user id, text, user id, …, text
  return text.split(mentionMarker()).map((part, i) => {
    if (i % 2 === 0) return neutraliseMentions(part);
    // a person Rolecall has no name for (a configured approver who never wrote to it) is still mentioned, so Teams
    // notifies them: under a neutral label, since the text inside <at> is what the card shows
    const shown = plainName(names.get(part) ?? UNNAMED);
    used.set(part, shown);
    return `<at>${shown}</at>`;
  }).join('');
}

/** The mention text of a person whose display name Rolecall does not know. */
export const UNNAMED = 'colleague';

/** A display name as mention text: no angle brackets (it sits inside <at>…</at>). */
export const plainName = (name: string): string => name.replace(/[<>]/g, '').trim() || 'someone';

/** The views' neutral markup (single-asterisk bold, :emoji:, date tokens) to the Markdown subset Adaptive Cards render:
 * emoji as Unicode from the shared table (orchestrator/markup.ts), dates as the card's DATE/TIME functions (each reader
 * sees their own locale and time zone). */
export function toCardMarkdown(text: string): string {
  return renderDates(emojify(boldToMarkdown(text)), cardDate);
}

/** The same for a plain Teams message (not a card): no DATE/TIME functions there, so dates are shown in UTC. */
export const toMessageMarkdown = (text: string): string => renderDates(emojify(boldToMarkdown(text)), utcStamp);

const boldToMarkdown = (text: string) => text.replace(/(^|[^*\w])\*(?=\S)([^*\n]*?\S)\*(?!\*)/g, '$1**$2**');

/** A persona's emoji as Unicode; a custom workspace emoji Teams cannot show becomes 🤖. */
export const emoji = (code: string): string => emojiOf(code) ?? '🤖';
