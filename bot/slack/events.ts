// Slack Events API callbacks (a mention, a person's thread reply, a direct message in the app's Messages tab), taken
// straight from the receiver (HTTP) or the Socket Mode connection without Bolt's middleware chain: this is the ack
// path, so it only zod-parses the envelope and the event, drops what Rolecall does not read, and queues the message
// durably (orchestrator.receive, one job with a deterministic id) before Slack is answered. Invariant: nothing here
// reads the database for a message, and nothing calls Slack per event; the bot's own user id (needed only for a
// thread reply that @mentions someone, to leave it to its app_mention twin) comes from the event's authorizations, or
// from one auth.test kept once it has succeeded. Besides messages: app_uninstalled and tokens_revoked disable the
// workspace's install (acked once written, so Slack retries a failed write), and app_home_opened publishes the App
// Home after the ack (each opening publishes again, so a lost one costs nothing), as assistant_thread_started sets an
// assistant thread's suggested prompts (assistant.ts; assistant_thread_context_changed is not subscribed). A
// user_change saying a person was deleted queues their erasure (issue 18; acked once queued, so a failed enqueue is
// delivered again).
import { WebClient } from '@slack/web-api';
import type { InboundMessage, Logger, Orchestrator } from '../../orchestrator';
import { errorMessage } from '../../agents/errors';
import { MAX_MESSAGE_FILES } from '../../orchestrator/jobs';
import type { InboundFile } from '../../orchestrator/chat';
import { AppHomeOpened, AssistantThreadStarted, EventCallback, MessageEvent, TokensRevoked, UserChange, type SlackFile } from './payloads';

/** What became of an event callback: queued, deliberately dropped (bots, edits, replies outside threads), of a type
 *  no listener reads (e.g. reaction_added), or unreadable (answered 400). */
export type EventOutcome = 'queued' | 'dropped' | 'unhandled' | 'malformed';

export type EventCallbackHandler = (body: Record<string, unknown>) => Promise<EventOutcome>;

/** What the events handler needs besides the orchestrator. */
export interface EventHooks {
  /** The bot's own user id in `teamId`, when the event does not say it. */
  botUserId(teamId: string): Promise<string>;
  /** The app was uninstalled from `teamId`, or its bot token revoked: stop using that workspace's token. */
  disable(teamId: string, reason: 'uninstalled' | 'tokens_revoked'): Promise<void>;
  /** `userId` opened the App Home tab: publish it (after the ack; failures are the hook's to log). */
  homeOpened?(teamId: string, userId: string): void;
  /** A person opened an assistant thread (Slack's AI app features): show what to ask (after the ack; failures are
   *  the hook's to log). */
  assistantThreadStarted?(teamId: string, channelId: string, threadTs: string): void;
  /** Slack says `userId` was deleted or deactivated: queue the erasure of what Rolecall holds about them (durably;
   *  rejects when it could not be kept). Absent: the signal is logged and dropped. */
  personDeleted?(teamId: string, userId: string): Promise<void>;
}

/** The handler for `event_callback` bodies (already signature-checked and JSON-parsed by the receiver). */
export function eventCallbackHandler(orchestrator: Orchestrator, log: Logger, hooks: EventHooks): EventCallbackHandler {
  return async (body) => {
    const envelope = EventCallback.safeParse(body);
    if (!envelope.success) return 'malformed';
    const { team_id: teamId, event: { type }, authorizations } = envelope.data;
    const ownUser = authorizations?.find((a) => a.is_bot !== false && a.user_id && (!a.team_id || a.team_id === teamId))?.user_id;
    const botUserId = () => (ownUser ? Promise.resolve(ownUser) : hooks.botUserId(teamId));
    const event = body.event; // parsed below by its type's schema
    if (type === 'app_mention') {
      const e = MessageEvent.safeParse(event);
      if (!e.success) {
        log.warn('ignored a malformed Slack app_mention', { issues: e.error.issues.map((i) => i.path.join('.')) });
        return 'dropped';
      }
      if (e.data.bot_id) return 'dropped';
      await orchestrator.receive(inbound(teamId, e.data, true));
      return 'queued';
    }
    if (type === 'message') {
      const parsed = MessageEvent.safeParse(event);
      if (!parsed.success) return 'dropped'; // message subtypes Rolecall does not read (edits, deletions, joins) have other shapes
      const e = parsed.data;
      if ((e.subtype && e.subtype !== 'file_share') || e.bot_id || !e.user) return 'dropped';
      if (e.channel_type === 'im') {
        // a direct message is addressed to the app, as a mention is in a channel: a request, or a reply in its thread
        // when a workflow runs there (the orchestrator decides). In an assistant thread (Slack's AI app features)
        // every message the person writes is a thread reply under the thread Slack opened.
        await orchestrator.receive(inbound(teamId, e, true));
        return 'queued';
      }
      if (!e.thread_ts || e.thread_ts === e.ts) return 'dropped'; // only people's thread replies (with files or not)
      if (e.text?.includes('<@') && e.text.includes(`<@${await botUserId()}>`)) return 'dropped'; // the app_mention event carries it
      await orchestrator.receive(inbound(teamId, e, false));
      return 'queued';
    }
    if (type === 'app_uninstalled') {
      await hooks.disable(teamId, 'uninstalled');
      log.warn('Slack: the app was uninstalled from a workspace; its workflows stop posting', { team: teamId });
      return 'queued';
    }
    if (type === 'tokens_revoked') {
      const e = TokensRevoked.safeParse(event);
      if (!e.success) return 'dropped';
      if (!e.data.tokens.bot?.length) return 'dropped'; // only people's tokens: Rolecall keeps none
      await hooks.disable(teamId, 'tokens_revoked');
      log.warn('Slack: the bot token of a workspace was revoked; its workflows stop posting', { team: teamId });
      return 'queued';
    }
    if (type === 'user_change') {
      const e = UserChange.safeParse(event);
      if (!e.success || e.data.user.deleted !== true) return 'dropped';
      if (!hooks.personDeleted) {
        log.warn('Slack: a person was deleted, but erasure on deletion is not wired in this process', { team: teamId });
        return 'dropped';
      }
      await hooks.personDeleted(e.data.user.team_id ?? teamId, e.data.user.id);
      log.info('Slack: a person was deleted; their erasure is queued', { team: teamId });
      return 'queued';
    }
    if (type === 'assistant_thread_started') {
      // a person opened an assistant thread: suggested prompts, after the ack (assistant.ts)
      const e = AssistantThreadStarted.safeParse(event);
      if (!e.success) return 'dropped';
      hooks.assistantThreadStarted?.(teamId, e.data.assistant_thread.channel_id, e.data.assistant_thread.thread_ts);
      return 'queued';
    }
    if (type === 'app_home_opened') {
      const e = AppHomeOpened.safeParse(event);
      if (!e.success) return 'dropped';
      if (e.data.tab !== 'messages') hooks.homeOpened?.(teamId, e.data.user);
      return 'queued';
    }
    return 'unhandled';
  };
}

/** How long the one auth.test may take (it runs at start; an event that needs it waits at most this long). */
const AUTH_TEST_TIMEOUT_MS = 2_000;

/** The bot's own Slack user id from auth.test: asked once at start, kept once it succeeded, asked again after a
 *  failure (a rejected call is never kept, so a Slack outage at start does not outlive itself). */
export function slackBotUserId(botToken: string, apiUrl: string, log: Logger, fetch?: typeof globalThis.fetch): () => Promise<string> {
  const client = new WebClient(botToken, { slackApiUrl: apiUrl, ...(fetch ? { fetch } : {}), timeout: AUTH_TEST_TIMEOUT_MS, retryConfig: { retries: 0 } });
  let known: Promise<string> | undefined;
  const get = () => {
    known ??= client.auth.test().then((r) => {
      if (!r.user_id) throw new Error('auth.test answered without a user_id');
      return r.user_id;
    }).catch((e: unknown) => {
      known = undefined;
      throw e;
    });
    return known;
  };
  get().catch((e: unknown) => log.warn('Slack auth.test failed at start (asked again when needed)', { error: errorMessage(e) }));
  return get;
}

function inbound(teamId: string, e: MessageEvent, mentioned: boolean): InboundMessage {
  return {
    platform: 'slack',
    teamId,
    channelId: e.channel,
    threadTs: e.thread_ts ?? e.ts,
    messageTs: e.ts,
    sentAt: slackTsToIso(e.ts),
    userId: e.user ?? 'unknown',
    text: (e.text ?? '').replace(/<@[A-Za-z0-9_]+>/g, '').trim(),
    mentioned,
    ...(e.files?.length ? { files: sharedFiles(e.files) } : {}),
  };
}

/** The message's fetchable files as references (the worker downloads them with the bot token). */
function sharedFiles(files: SlackFile[]): InboundFile[] {
  return files.flatMap((f) => {
    const url = f.url_private_download ?? f.url_private;
    return url ? [{ id: f.id, name: f.name ?? f.title ?? f.id, url, ...(f.size !== undefined ? { bytes: f.size } : {}), ...(f.mimetype ? { mime: f.mimetype } : {}) }] : [];
  }).slice(0, MAX_MESSAGE_FILES);
}

/** A Slack message ts ("1700000000.000100": seconds, then a per-channel sequence) as the time it was written. */
export function slackTsToIso(ts: string): string | undefined {
  const seconds = Number(ts);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(Math.floor(seconds * 1000)).toISOString() : undefined;
}
