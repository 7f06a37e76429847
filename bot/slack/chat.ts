// The orchestrator's ChatPort on the Slack Web API: persona posts (chat:write.customize) and updates, each with the
// bot token of the thread's workspace (installations.ts: one SLACK_BOT_TOKEN, or the workspace's "Add to Slack"
// install; a workspace without an active install is ChannelUnreachableError, so its workflows stop posting).
// Invariants: Slack's own rate limits and hiccups are handled by the WebClient (on HTTP 429 it waits the Retry-After
// Slack sent, pausing this client's other calls too, then tries again; network errors and 5xx are retried with
// backoff), a call never hangs (timeout), and what still fails reaches the orchestrator as ChannelUnreachableError or
// MessageRejectedError when retrying cannot help, or as @slack/web-api's own error otherwise (the queue retries it).
// A message is split to fit Slack's limits before it is posted (40,000 characters of text, 50 blocks, 3,000
// characters per section block), and a part Slack still finds too long (msg_too_long) is halved and posted again.
// In an assistant thread (a DM with an app that has Slack's AI app features, assistant:write), a working role also
// shows as the thread's status ("<role> is working…", assistant.threads.setStatus; `working`).
import { WebClient } from '@slack/web-api';
import { ChannelUnreachableError, MessageRejectedError, type ChatPort, type MessageView, type Persona, type PostOptions, type ThreadRef } from '../../orchestrator/chat';
import { halveView, splitView, type PostLimit } from '../../orchestrator/split';
import { escapeBroadcasts, slackGroupMention, slackText, toSlack } from './blocks';
import { slackErrorCode } from './errors';
import { WorkspaceNotInstalled, type SlackTokens } from './installations';
import { slackLookupName } from './people';
import { TokenSealBroken } from './token-seal';

/** Text per post: well below Slack's 40,000 (Slack counts after escaping &, < and >), in sections of 2,900. */
export const SLACK_POST_LIMIT: PostLimit = { max: 30_000 };
/** Slack Web API calls give up after this long (the queue tries the job again later). */
const CALL_TIMEOUT_MS = 20_000;

// Slack's answers that mean this channel cannot be posted to, whatever we send.
const UNREACHABLE = new Set([
  'channel_not_found', 'not_in_channel', 'is_archived', 'thread_not_found', 'invalid_auth', 'not_authed', 'account_inactive',
  'token_revoked', 'token_expired', 'no_permission', 'missing_scope', 'restricted_action', 'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel', 'restricted_action_non_threadable_channel', 'ekm_access_denied', 'team_access_not_granted',
]);
// Slack's answers that mean this one message will not be taken.
const REJECTED = new Set(['msg_too_long', 'msg_blocks_too_long', 'invalid_blocks', 'invalid_blocks_format', 'too_many_attachments', 'no_text', 'invalid_arguments', 'cant_update_message', 'message_not_found', 'edit_window_closed']);

/** What one HTTP request of a Slack client does, for its span (orchestrator/traced.ts tracedFetch): the Web API method
 *  it calls (`chat.postMessage`, `files.getUploadURLExternal`, ...), `file upload` for the bytes files.uploadV2 posts to
 *  an upload URL, `file download` for a file's url_private. */
export function slackOperationOf(apiUrl: string): (url: URL) => string {
  const api = new URL(apiUrl);
  return (url) => {
    if (url.origin === api.origin && url.pathname.startsWith(api.pathname)) {
      const method = url.pathname.slice(api.pathname.length);
      if (/^[A-Za-z]+(\.[A-Za-z0-9]+){1,3}$/.test(method)) return method;
    }
    return url.pathname.includes('/upload/') ? 'file upload' : url.pathname.includes('/files') ? 'file download' : 'request';
  };
}

/** `fetch`: the transport (default: the global fetch; traced when tracing is on, app/runtime.ts). */
export function slackWebClient(token: string, apiUrl: string, fetch?: typeof globalThis.fetch): WebClient {
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    ...(fetch ? { fetch } : {}),
    timeout: CALL_TIMEOUT_MS,
    rejectRateLimitedCalls: false, // on 429: wait Retry-After, then retry (counts as one of the retries below)
    retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 10_000, randomize: true },
  });
}

/** Rolecall's posts carry message metadata of this type with the outbox key ({ key }), so that a post whose outcome
 *  was lost (orchestrator/outbox.ts) can be found in its thread (findPosted) instead of being posted again. */
export const POST_METADATA_TYPE = 'rolecall_post';
/** Pages of a thread's replies findPosted reads at most (Slack's page is up to 200): a post older than that, in a
 *  longer thread, is not found and is posted again. */
const FIND_PAGES = 10;

/** The bot scope of Slack's AI app features (manifest features.assistant_view): with it, a direct message with the
 *  app is an assistant thread, where `working` sets the thread's status. */
export const ASSISTANT_SCOPE = 'assistant:write';

/** How long a workspace's client is reused for a working status after a post or edit (chat.ts slackChat). */
const RECENT_CLIENT_MS = 30_000;

/** At most this many workspaces' clients are kept (each keeps its own rate-limit state). */
const MAX_CLIENTS = 1_000;

/** The Web API client of a workspace, by its team id. */
export type SlackClientFor = (teamId: string) => Promise<WebClient>;

/** One client per token, made on first use: Slack's rate limits are per workspace, and so is each client's pause. A
 *  workspace without an active install rejects with ChannelUnreachableError. */
export function slackClients(tokens: SlackTokens, apiUrl: string, fetch?: typeof globalThis.fetch): SlackClientFor {
  const clients = new Map<string, WebClient>();
  return async (teamId) => {
    let token: string;
    try {
      token = await tokens.botToken(teamId);
    } catch (e) {
      if (e instanceof WorkspaceNotInstalled) throw new ChannelUnreachableError('slack', `app_${e.reason === 'not_installed' ? 'not_installed' : e.reason}`, { cause: e });
      if (e instanceof TokenSealBroken) throw new ChannelUnreachableError('slack', 'token_unreadable', { cause: e });
      throw e;
    }
    let client = clients.get(token);
    if (!client) {
      if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value!);
      client = slackWebClient(token, apiUrl, fetch);
      clients.set(token, client);
    }
    return client;
  };
}

/** The orchestrator's error for a refusal retrying cannot fix; anything else is rethrown as it is. */
function refusal(e: unknown): never {
  const code = slackErrorCode(e);
  if (code && UNREACHABLE.has(code)) throw new ChannelUnreachableError('slack', code, { cause: e });
  if (code && REJECTED.has(code)) throw new MessageRejectedError('slack', code, { cause: e });
  throw e;
}

export function slackChat(clientFor: SlackClientFor): ChatPort {
  // the client of each workspace's latest post or edit, for a moment: the working status that follows a status post
  // reuses it rather than reading the workspace's token again (a database statement for an "Add to Slack" install)
  const recent = new Map<string, { client: WebClient; until: number }>();
  const usedBy = (teamId: string, client: WebClient) => {
    recent.delete(teamId);
    if (recent.size >= MAX_CLIENTS) recent.delete(recent.keys().next().value!);
    recent.set(teamId, { client, until: Date.now() + RECENT_CLIENT_MS });
  };
  const postOne = async (thread: ThreadRef, persona: Persona, view: MessageView, opts: PostOptions): Promise<string> => {
    const client = await clientFor(thread.teamId);
    const res = await client.chat.postMessage({
      channel: thread.channelId,
      thread_ts: thread.threadTs,
      username: persona.displayName,
      ...(persona.iconUrl ? { icon_url: persona.iconUrl } : { icon_emoji: persona.iconEmoji }),
      ...toSlack(view),
      ...(opts.key ? { metadata: { event_type: POST_METADATA_TYPE, event_payload: { key: opts.key } } } : {}),
    }).catch(refusal);
    if (!res.ts) throw new Error('Slack chat.postMessage returned no ts');
    usedBy(thread.teamId, client);
    return res.ts;
  };
  /** Posts `view`; when Slack finds it too long after all, posts it as two halves (at most 3 times over), in order
   *  (the key goes with the last half, the one whose id the caller gets). */
  const post = async (thread: ThreadRef, persona: Persona, view: MessageView, opts: PostOptions, depth = 0): Promise<string> => {
    try {
      return await postOne(thread, persona, view, opts);
    } catch (e) {
      const halves = e instanceof MessageRejectedError && e.code === 'msg_too_long' && depth < 3 ? halveView(view, SLACK_POST_LIMIT) : [];
      if (halves.length < 2) throw e;
      let ts = '';
      for (const [i, half] of halves.entries()) ts = await post(thread, persona, half, i === halves.length - 1 ? opts : {}, depth + 1);
      return ts; // the last part: it carries the buttons and the small print
    }
  };
  // this app's bot id and its token's scopes in each workspace (auth.test, once per client; the scopes are Slack's
  // x-oauth-scopes header): only its own posts count in findPosted, so another app's message carrying the same
  // metadata cannot stop a Rolecall post; the assistant status is only set with assistant:write (`working`)
  const selves = new WeakMap<WebClient, Promise<{ botId?: string; scopes: string[] }>>();
  const selfOf = (client: WebClient) => {
    let self = selves.get(client);
    if (!self) {
      self = client.auth.test().then((r) => ({ botId: r.bot_id, scopes: r.response_metadata?.scopes ?? [] }), (e: unknown) => {
        selves.delete(client);
        return refusal(e);
      });
      selves.set(client, self);
    }
    return self;
  };
  return {
    post: (thread, persona, view, opts = {}) => post(thread, persona, view, opts),
    async findPosted(thread, key) {
      // conversations.replies (channels:history, groups:history, im:history, mpim:history) with the metadata
      const client = await clientFor(thread.teamId);
      const self = (await selfOf(client)).botId;
      if (!self) throw new Error('Slack auth.test returned no bot_id');
      let cursor: string | undefined;
      for (let page = 0; page < FIND_PAGES; page++) {
        const base = { channel: thread.channelId, include_all_metadata: true, limit: 200, ...(cursor ? { cursor } : {}) };
        const res = await (thread.threadTs ? client.conversations.replies({ ...base, ts: thread.threadTs }) : client.conversations.history(base)).catch(refusal);
        for (const m of res.messages ?? []) {
          const payload = m.metadata?.event_type === POST_METADATA_TYPE ? (m.metadata.event_payload as { key?: unknown } | undefined) : undefined;
          if (payload?.key === key && m.bot_id === self && m.ts) return m.ts;
        }
        cursor = res.response_metadata?.next_cursor || undefined;
        if (!cursor) return undefined;
      }
      return undefined;
    },
    split: (view) => splitView(view, SLACK_POST_LIMIT),
    async update(thread: ThreadRef, messageId: string, _persona: Persona, view: MessageView) {
      const client = await clientFor(thread.teamId);
      await client.chat.update({ channel: thread.channelId, ts: messageId, ...toSlack(view) }).catch(refusal);
      usedBy(thread.teamId, client);
    },
    mention: (userId) => `<@${userId}>`,
    mentionGroup: slackGroupMention, // a gate's configured approvers only: blocks.ts turns Rolecall's marker into <!subteam^…>
    nameOf: async (userId) => `<@${userId}>`, // rendered as the person's name, without notifying them, in an ephemeral note
    lookupName: slackLookupName(clientFor), // users.info (users:read), for the console's names (bot/slack/people.ts)
    async react(thread, messageId, emoji) {
      // reactions:write; the same reaction twice (a redelivered event) is not an error
      const client = await clientFor(thread.teamId);
      await client.reactions.add({ channel: thread.channelId, timestamp: messageId, name: emoji }).catch((e) => {
        if (slackErrorCode(e) !== 'already_reacted') throw e;
      });
    },
    async working(thread, persona, status) {
      // assistant.threads.setStatus, only in an assistant thread: a direct message channel (D…) of a workspace whose
      // token carries assistant:write (the app has Slack's AI app features: manifest assistant_view). Anywhere else
      // nothing is called. Shown as "<persona> <status>"; Slack clears it when the app next posts in the thread.
      if (!thread.channelId.startsWith('D') || !thread.threadTs) return;
      const last = recent.get(thread.teamId);
      const client = last && last.until > Date.now() ? last.client : await clientFor(thread.teamId);
      if (!(await selfOf(client)).scopes.includes(ASSISTANT_SCOPE)) return;
      await client.assistant.threads.setStatus({
        channel_id: thread.channelId,
        thread_ts: thread.threadTs,
        status: status.slice(0, 200),
        username: persona.displayName,
        ...(persona.iconUrl ? { icon_url: persona.iconUrl } : persona.iconEmoji ? { icon_emoji: persona.iconEmoji } : {}),
      });
    },
    async notify(thread, person, text) {
      // ephemeral: only the person sees it, in the thread the button is in (the channel itself when there is none)
      const client = await clientFor(thread.teamId);
      await client.chat.postEphemeral({ channel: thread.channelId, user: person.id, text: slackText(text), ...(thread.threadTs ? { thread_ts: thread.threadTs } : {}) });
    },
    async upload(thread, _persona, files, comment) {
      // files.uploadV2 (@slack/web-api): files.getUploadURLExternal per file, the bytes to each upload URL, then one
      // files.completeUploadExternal sharing them into the thread with the comment (scope files:write). Slack shows
      // uploads as the app itself: the comment names the role.
      const client = await clientFor(thread.teamId);
      const res = await client.filesUploadV2({
        channel_id: thread.channelId,
        thread_ts: thread.threadTs,
        initial_comment: escapeBroadcasts(comment),
        file_uploads: files.map((f) => ({ file: Buffer.from(f.bytes), filename: f.name, title: f.title })),
      }).catch(refusal);
      const done = (res.files ?? []) as { files?: { id?: string }[] }[];
      return done.flatMap((c) => (c.files ?? []).map((f) => f.id ?? '')).filter(Boolean);
    },
  };
}
