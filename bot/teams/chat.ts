// The orchestrator's ChatPort on Teams: every post is proactive (a stored conversation reference + the adapter),
// so workers post without any inbound HTTP request, in any process.
// Invariants: the Bot Connector's throttling (429, and 5xx) is retried here, waiting what its Retry-After asks (the
// Agents SDK's connector client retries nothing); a message is split so that no card is over Teams' 28 KB, and a
// refusal retrying cannot fix reaches the orchestrator as ChannelUnreachableError or MessageRejectedError.
import { Activity } from '@microsoft/agents-activity';
import type { TurnContext } from '@microsoft/agents-hosting';
import { ChannelUnreachableError, MessageRejectedError, type ChatPort, type MessageView, type Persona, type ThreadRef } from '../../orchestrator/chat';
import { halveView, splitView, type PostLimit } from '../../orchestrator/split';
import { retryAfterMs } from '../../agents/llm/provider';
import type { TeamsAdapter } from './adapter';
import { mentionedIds as mentionedIdsIn, neutraliseMentions, plainName, teamsMention, toCardMarkdown, toMessageMarkdown, toTeamsMessage } from './cards';
import type { StoredReference, TeamsStore } from './store';
import { RolecallError } from '../../agents/errors';

/** Teams refuses an activity over about 28 KB; a card's text is kept to this many bytes (as JSON), the rest of the
 *  card (header, small print, buttons) fitting in what is left. */
export const TEAMS_MAX_ACTIVITY_BYTES = 28 * 1024;
export const TEAMS_POST_LIMIT: PostLimit = { max: 19_500, measure: (text) => Buffer.byteLength(JSON.stringify(toCardMarkdown(text))) };
/** Tries of one connector call that Teams throttles (429) or fails (5xx), and the longest wait between two. */
const THROTTLE_TRIES = 4;
const THROTTLE_MAX_WAIT_MS = 30_000;

const statusOf = (e: unknown) => (typeof (e as { status?: unknown })?.status === 'number' ? (e as { status: number }).status : undefined);
const headersOf = (e: unknown) => (e as { response?: { headers?: Headers } })?.response?.headers;

/** A connector call, tried again while Teams throttles it or fails on its side, waiting at least its Retry-After. */
export async function throttled<T>(call: () => Promise<T>, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const status = statusOf(e);
      if (attempt >= THROTTLE_TRIES || status === undefined || (status !== 429 && status < 500)) throw e;
      const backoff = 1000 * 2 ** (attempt - 1) * (0.8 + Math.random() * 0.4);
      await sleep(Math.min(THROTTLE_MAX_WAIT_MS, Math.max(backoff, retryAfterMs(headersOf(e)) ?? 0)));
    }
  }
}

/** The orchestrator's error for a refusal retrying cannot fix (the bot was removed, the message is too large). */
function refusal(e: unknown): unknown {
  const status = statusOf(e);
  if (status === 403 || status === 404) return new ChannelUnreachableError('teams', status === 403 ? 'forbidden (the app was removed from the conversation?)' : 'conversation not found', { cause: e });
  if (status === 413 || status === 400) return new MessageRejectedError('teams', status === 413 ? 'message too large' : 'bad request', { cause: e });
  return e;
}

/** No conversation reference is stored for a thread: nobody ever wrote to Rolecall there (a bug or a wiped table). */
export class TeamsConversationUnknownError extends RolecallError {
}

export function teamsChat(teams: TeamsAdapter, store: TeamsStore): ChatPort {
  const inThread = async (thread: ThreadRef, logic: (ctx: TurnContext) => Promise<void>) => {
    const ref = await store.reference(thread);
    if (!ref) throw new TeamsConversationUnknownError(`no Teams conversation reference for ${thread.channelId} / ${thread.threadTs}`);
    // errors are caught inside the turn, so they reach the caller whatever the adapter's onTurnError does
    let failure: { error: unknown } | undefined;
    await teams.adapter.continueConversation(teams.botIdentity as string, { ...ref, conversation: { ...ref.conversation } }, async (ctx) => {
      try {
        await logic(ctx);
      } catch (error) {
        failure = { error };
      }
    });
    if (failure) throw refusal(failure.error);
  };
  const render = async (persona: Persona, view: MessageView) => toTeamsMessage(persona, view, await store.names(mentionedIds(view)));
  const post = async (thread: ThreadRef, persona: Persona, view: MessageView, depth = 0): Promise<string> => {
    const message = await render(persona, view);
    const halves = Buffer.byteLength(JSON.stringify(message)) > TEAMS_MAX_ACTIVITY_BYTES && depth < 3 ? halveView(view, TEAMS_POST_LIMIT) : [];
    if (halves.length > 1) {
      let last = '';
      for (const half of halves) last = await post(thread, persona, half, depth + 1);
      return last; // the last part: it carries the buttons and the small print
    }
    let id: string | undefined;
    await inThread(thread, async (ctx) => {
      id = (await throttled(() => ctx.sendActivity(Activity.fromObject(message))))?.id;
    });
    if (!id) throw new Error('the Bot Connector returned no activity id');
    return id;
  };
  return {
    post: (thread, persona, view) => post(thread, persona, view),
    split: (view) => splitView(view, TEAMS_POST_LIMIT),
    async update(thread, messageId, persona, view) {
      const message = await render(persona, view);
      await inThread(thread, async (ctx) => {
        await throttled(() => ctx.updateActivity(Activity.fromObject({ ...message, id: messageId, conversation: ctx.activity.conversation, serviceUrl: ctx.activity.serviceUrl })));
        if (!view.actions?.length) await ctx.sendActivity(Activity.fromObject({ type: 'typing' })).catch(() => undefined); // a role is (still) at work
      });
    },
    mention: teamsMention,
    nameOf: async (userId) => (await store.names([userId])).get(userId) ?? 'someone',
    async notify(thread, person, text) {
      // Teams has no message only one person sees: a reply in the thread that mentions them
      const name = plainName(person.name ?? 'You');
      await inThread(thread, async (ctx) => {
        await ctx.sendActivity(Activity.fromObject({
          type: 'message',
          text: `<at>${name}</at> ${neutraliseMentions(toMessageMarkdown(text))}`,
          entities: [{ type: 'mention', text: `<at>${name}</at>`, mentioned: { id: person.id, name } }],
        }));
      });
    },
  };
}

const mentionedIds = (view: MessageView) => mentionedIdsIn(`${view.text}\n${view.context ?? ''}`);

export function referenceOf(a: { serviceUrl: string; channelId: string; conversation: StoredReference['conversation']; recipient: { id: string; name?: string } }, conversationId: string): StoredReference {
  return {
    serviceUrl: a.serviceUrl,
    channelId: a.channelId,
    conversation: { ...a.conversation, id: conversationId },
    agent: { id: a.recipient.id, name: a.recipient.name },
  };
}
