// A local stand-in for the Slack Web API (https://slack.com/api/<method>) that records every call, and for Slack's
// file host: files added with addFile are served at their url_private only to the bot token (like Slack, a request
// without it gets the sign-in page as HTML), and every download is recorded.
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { startLocalServer } from './local-server';
import { BOT_SCOPES } from '../../bot/slack/oauth';

export interface SlackCall {
  method: string;
  params: Record<string, any>;
  auth?: string;
  response?: Record<string, any>;
  /** When the call arrived (Date.now()). */
  at: number;
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** Make the next `count` calls to `method` answer with a Slack error. */
  failNext(method: string, error: string, count?: number): void;
  /** Make the next `count` calls to `method` answer with HTTP `status` (429 with Retry-After: `retryAfterSeconds`,
   *  or a 5xx), as Slack does when it is overloaded. Failed calls are recorded with `response.httpStatus`. */
  failHttp(method: string, count: number, status: number, retryAfterSeconds?: number): void;
  /** Shares a file: its Slack file object (url_private on this fake), to put in a message event's `files`. */
  addFile(name: string, bytes: Uint8Array, mimetype?: string): SlackFileObject;
  /** Every request for a file's bytes, with the Authorization header it carried and whether the file was served. */
  downloads: { id: string; auth?: string; served: boolean }[];
  /** Files uploaded with files.uploadV2 (files.getUploadURLExternal, the bytes posted to its upload_url, then
   *  files.completeUploadExternal), once completed: where they were shared and their bytes. */
  uploads: UploadedFile[];
  /** Slack's Socket Mode: apps.connections.open (with an app token, xapp-…) answers with this ws:// URL. */
  socket: FakeSocketMode;
  /** A person users.info knows (in Slack's wire format: name, real_name, profile.display_name, profile.real_name);
   *  users.info answers user_not_found for anyone not set. */
  setUser(id: string, names: FakeSlackUserNames): void;
  /** The bot scopes a token has, as Slack reports them on every Web API answer (header x-oauth-scopes): `team` for a
   *  token installed through oauth.v2.access (its scopes are the install's), none for FAKE_BOT_TOKEN (by default the
   *  manifests' scopes, BOT_SCOPES). */
  setScopes(scopes: string[], team?: string): void;
  close(): Promise<void>;
}

/** The socket-mode WebSocket: says hello to each connection, pings it, sends envelopes and records the acks. */
export interface FakeSocketMode {
  url: string;
  /** Connections open now. */
  connected(): number;
  /** Sends an envelope to the newest connection; `acked` resolves with the ack's payload ({} when it had none). */
  send(type: 'events_api' | 'interactive' | 'slash_commands', payload: Record<string, unknown>, opts?: { retryAttempt?: number }): { envelopeId: string; acked: Promise<Record<string, unknown>> };
  /** Every ack received, in order. */
  acks: { envelopeId: string; payload: Record<string, unknown> }[];
}

/** "Add to Slack" on the fake: oauth.v2.access takes `code-<team id>` from this client and installs into that team,
 *  with the bot token `xoxb-<team id>` (auth.test answers for each such token with its team). */
export const FAKE_CLIENT_ID = 'fake-client-id';
export const FAKE_CLIENT_SECRET = 'fake-client-secret';

export interface SlackFileObject {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  mode: 'hosted';
  url_private: string;
  url_private_download: string;
}

export interface UploadedFile {
  id: string;
  filename: string;
  title?: string;
  bytes: Buffer;
  channel?: string;
  threadTs?: string;
  comment?: string;
}

/** The token the fake's file host accepts (the harness's SLACK_BOT_TOKEN). */
export const FAKE_BOT_TOKEN = 'xoxb-test';

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const failures = new Map<string, { error: string; count: number }>();
  const httpFailures = new Map<string, { status: number; count: number; retryAfter?: number }>();
  let seq = 1_700_000_000;
  const files = new Map<string, { bytes: Uint8Array; mimetype: string }>();
  const downloads: FakeSlack['downloads'] = [];
  const pendingUploads = new Map<string, { filename: string; length: number; bytes?: Buffer }>();
  const uploads: UploadedFile[] = [];
  // every message posted, by channel, as conversations.replies returns it (with its metadata)
  const posted = new Map<string, StoredMessage[]>();
  // the people users.info knows
  const users = new Map<string, FakeSlackUserNames>();
  // each token's scopes (by the team of an installed token; '' for FAKE_BOT_TOKEN)
  const scopes = new Map<string, string[]>([['', [...BOT_SCOPES]]]);
  const socket = await startSocketMode();
  const server = await startLocalServer(async (req, res) => {
    const upload = /^\/upload\/v1\/(F[A-Z0-9]+)$/.exec(req.path);
    if (upload && req.method === 'POST') {
      // Slack's upload URL takes the bytes as the body (the WebClient sends them as a multipart form field)
      const pending = pendingUploads.get(upload[1]!);
      if (!pending) return { status: 404, text: 'unknown upload' };
      const type = String(req.headers['content-type'] ?? '');
      if (type.startsWith('multipart/form-data')) {
        const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(req.bytes) }).formData();
        const part = [...form.values()][0];
        pending.bytes = typeof part === 'string' ? Buffer.from(part) : Buffer.from(await (part as Blob).arrayBuffer());
      } else {
        pending.bytes = req.bytes;
      }
      return { status: 200, text: `OK - ${pending.bytes.length}` };
    }
    const file = /^\/files-pri\/T1-([A-Z0-9]+)\//.exec(req.path);
    if (file && req.method === 'GET') {
      const stored = files.get(file[1]!);
      const served = !!stored && req.headers.authorization === `Bearer ${FAKE_BOT_TOKEN}`;
      downloads.push({ id: file[1]!, auth: req.headers.authorization, served });
      if (!stored) return { status: 404, text: 'not found' };
      // Slack answers a request without the token with its sign-in page, not an error status.
      if (!served) return { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, text: '<!DOCTYPE html><html><body>Sign in to Slack</body></html>' };
      res.writeHead(200, { 'content-type': stored.mimetype, 'content-length': String(stored.bytes.length) });
      res.end(Buffer.from(stored.bytes));
      return;
    }
    const method = req.path.replace(/^\/api\//, '').split('?')[0]!;
    const params = parseParams(req.headers['content-type'] ?? '', req.body);
    const call: SlackCall = { method, params, auth: req.headers.authorization, at: Date.now() };
    calls.push(call);
    const httpFailure = httpFailures.get(method);
    if (httpFailure && httpFailure.count > 0) {
      httpFailure.count--;
      call.response = { ok: false, httpStatus: httpFailure.status };
      const retry = httpFailure.retryAfter !== undefined ? { 'retry-after': String(httpFailure.retryAfter) } : undefined;
      return { status: httpFailure.status, headers: retry, json: httpFailure.status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'service_unavailable' } };
    }
    const failure = failures.get(method);
    if (failure && failure.count > 0) {
      failure.count--;
      call.response = { ok: false, error: failure.error };
    } else if (method === 'users.info') {
      call.response = userAnswer(users, params);
    } else if (method === 'apps.connections.open') {
      call.response = /^Bearer xapp-/.test(req.headers.authorization ?? '') ? { ok: true, url: socket.url } : { ok: false, error: 'invalid_auth' };
    } else {
      call.response = method === 'files.getUploadURLExternal' || method === 'files.completeUploadExternal'
        ? uploadAnswer(method, params)
        : answer(method, params, () => `${seq++}.000100`, req.headers.authorization, posted, scopes);
    }
    const team = /^Bearer xoxb-(T[A-Z0-9]+)$/.exec(req.headers.authorization ?? '')?.[1];
    const granted = scopes.get(team ?? '');
    const headers: Record<string, string> = granted ? { 'x-oauth-scopes': granted.join(',') } : {};
    return { json: call.response, headers };
  });
  function uploadAnswer(method: string, params: Record<string, any>): Record<string, unknown> {
    if (method === 'files.getUploadURLExternal') {
      if (!params.filename || !Number(params.length)) return { ok: false, error: 'invalid_arguments' };
      const id = `F${String(900_000 + pendingUploads.size + 1).padStart(8, '0')}`;
      pendingUploads.set(id, { filename: String(params.filename), length: Number(params.length) });
      return { ok: true, upload_url: `${server.url}/upload/v1/${id}`, file_id: id };
    }
    const list = (typeof params.files === 'string' ? JSON.parse(params.files) : params.files) as { id: string; title?: string }[];
    const done: UploadedFile[] = [];
    for (const f of list ?? []) {
      const pending = pendingUploads.get(f.id);
      if (!pending?.bytes) return { ok: false, error: 'file_not_found' };
      if (pending.bytes.length !== pending.length) return { ok: false, error: 'file_upload_size_mismatch' };
      done.push({ id: f.id, filename: pending.filename, title: f.title, bytes: pending.bytes, channel: params.channel_id, threadTs: params.thread_ts, comment: params.initial_comment });
    }
    uploads.push(...done);
    return { ok: true, files: done.map((f) => ({ id: f.id, name: f.filename, title: f.title ?? f.filename, size: f.bytes.length })) };
  }
  return {
    url: `${server.url}/api/`,
    uploads,
    calls,
    callsTo: (m) => calls.filter((c) => c.method === m),
    failNext: (method, error, count = 1) => void failures.set(method, { error, count }),
    failHttp: (method, count, status, retryAfter) => void httpFailures.set(method, { status, count, retryAfter }),
    addFile: (name, bytes, mimetype = 'application/octet-stream') => {
      const id = `F${String(files.size + 1).padStart(8, '0')}`;
      files.set(id, { bytes, mimetype });
      const url = `${server.url}/files-pri/T1-${id}/${encodeURIComponent(name)}`;
      return { id, name, title: name, mimetype, filetype: name.split('.').pop() ?? 'binary', size: bytes.length, mode: 'hosted', url_private: url, url_private_download: `${url}?download=1` };
    },
    downloads,
    socket,
    setUser: (id, names) => void users.set(id, { ...names }),
    setScopes: (list, team) => void scopes.set(team ?? '', [...list]),
    close: async () => {
      await Promise.all([server.close(), socket.close()]);
    },
  };
}

async function startSocketMode(): Promise<FakeSocketMode & { close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const open: WebSocket[] = [];
  const waiting = new Map<string, (payload: Record<string, unknown>) => void>();
  const acks: FakeSocketMode['acks'] = [];
  wss.on('connection', (ws) => {
    open.push(ws);
    const ping = setInterval(() => ws.ping(), 2_000).unref();
    ws.on('close', () => {
      clearInterval(ping);
      open.splice(open.indexOf(ws), 1);
    });
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: Record<string, unknown> };
      if (!msg.envelope_id) return;
      acks.push({ envelopeId: msg.envelope_id, payload: msg.payload ?? {} });
      waiting.get(msg.envelope_id)?.(msg.payload ?? {});
      waiting.delete(msg.envelope_id);
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: open.length, connection_info: { app_id: 'A1' }, debug_info: { host: 'fake', approximate_connection_time: 18060 } }));
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=fake`,
    connected: () => open.length,
    acks,
    send: (type, payload, opts = {}) => {
      const ws = open.at(-1);
      if (!ws) throw new Error('no socket-mode connection is open');
      const envelopeId = randomUUID();
      const acked = new Promise<Record<string, unknown>>((r) => waiting.set(envelopeId, r));
      ws.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', ...(opts.retryAttempt ? { retry_attempt: opts.retryAttempt, retry_reason: 'timeout' } : {}) }));
      return { envelopeId, acked };
    },
    close: () => new Promise<void>((r) => {
      for (const ws of open) ws.terminate();
      wss.close(() => r());
    }),
  };
}

/** A person's names as Slack keeps them (users.info's user object). */
export interface FakeSlackUserNames {
  /** The handle (`name`). */
  name?: string;
  real_name?: string;
  display_name?: string;
}

/** users.info: the person in Slack's wire format, or user_not_found. */
function userAnswer(users: Map<string, FakeSlackUserNames>, params: Record<string, any>): Record<string, unknown> {
  const id = String(params.user ?? '');
  const u = users.get(id);
  if (!u) return { ok: false, error: 'user_not_found' };
  return {
    ok: true,
    user: {
      id, team_id: 'T1', name: u.name ?? id.toLowerCase(), deleted: false, real_name: u.real_name ?? '', is_bot: false,
      profile: { display_name: u.display_name ?? '', real_name: u.real_name ?? '', display_name_normalized: u.display_name ?? '', real_name_normalized: u.real_name ?? '', team: 'T1' },
    },
  };
}

/** A message as Slack keeps it: what conversations.replies answers with. */
interface StoredMessage {
  type: 'message';
  ts: string;
  thread_ts?: string;
  text?: string;
  bot_id: string;
  username?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** Replies in a page of conversations.replies at most (Slack: 1,000; it advises 200). */
const REPLIES_MAX_LIMIT = 1_000;

/** A non-empty string parameter. */
const given = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function answer(method: string, params: Record<string, any>, nextTs: () => string, auth: string | undefined, posted: Map<string, StoredMessage[]>, scopes: Map<string, string[]>): Record<string, unknown> {
  const team = /^Bearer xoxb-(T[A-Z0-9]+)$/.exec(auth ?? '')?.[1]; // a token of an install made through oauth.v2.access
  const botId = team ? `B_${team}` : 'B_SELF';
  switch (method) {
    case 'auth.test':
      if (team) return { ok: true, url: `https://${team.toLowerCase()}.slack.test/`, team: `Team ${team}`, user: 'rolecall', team_id: team, user_id: `U_BOT_${team}`, bot_id: `B_${team}` };
      return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'rolecall', team_id: 'T1', user_id: 'U_BOT', bot_id: 'B_SELF' };
    case 'oauth.v2.access': {
      const code = /^code-(T[A-Z0-9]+)$/.exec(String(params.code ?? ''))?.[1];
      if (params.client_id !== FAKE_CLIENT_ID || params.client_secret !== FAKE_CLIENT_SECRET) return { ok: false, error: 'invalid_client_id' };
      if (!code) return { ok: false, error: 'invalid_code' };
      // the install gets the scopes the app asked for on the authorize page: Rolecall's (BOT_SCOPES)
      const granted = String(params.scope ?? BOT_SCOPES.join(','));
      scopes.set(code, granted.split(','));
      return {
        ok: true, app_id: 'A1', authed_user: { id: `U_INSTALLER_${code}` }, scope: granted, token_type: 'bot',
        access_token: `xoxb-${code}`, bot_user_id: `U_BOT_${code}`, team: { id: code, name: `Team ${code} <b>&</b>` }, enterprise: null, is_enterprise_install: false,
      };
    }
    case 'views.publish':
      return { ok: true, view: { id: 'VH1', ...params.view } };
    case 'chat.postMessage': {
      const ts = nextTs();
      const metadata = params.metadata && typeof params.metadata.event_type === 'string' ? { event_type: params.metadata.event_type, event_payload: params.metadata.event_payload ?? {} } : undefined;
      const list = posted.get(String(params.channel)) ?? [];
      list.push({ type: 'message', ts, ...(params.thread_ts ? { thread_ts: String(params.thread_ts) } : {}), text: params.text, bot_id: botId, username: params.username, ...(metadata ? { metadata } : {}) });
      posted.set(String(params.channel), list);
      return { ok: true, channel: params.channel, ts, message: { ...params, ts, bot_id: botId, type: 'message' } };
    }
    case 'chat.update': {
      const stored = posted.get(String(params.channel))?.find((m) => m.ts === String(params.ts));
      if (stored) stored.text = params.text;
      return { ok: true, channel: params.channel, ts: params.ts, text: params.text };
    }
    case 'conversations.replies': {
      // the thread's messages this fake has seen posted, oldest first, paged by `cursor` (an offset here); metadata
      // only with include_all_metadata, as Slack does
      if (!params.channel || !params.ts) return { ok: false, error: 'invalid_arguments' };
      const all = (posted.get(String(params.channel)) ?? []).filter((m) => m.ts === String(params.ts) || m.thread_ts === String(params.ts));
      const limit = Math.min(Number(params.limit) || 1_000, REPLIES_MAX_LIMIT);
      const from = Number(params.cursor) || 0;
      const withMetadata = params.include_all_metadata === true || params.include_all_metadata === 'true';
      const page = all.slice(from, from + limit).map(({ metadata, ...m }) => (withMetadata && metadata ? { ...m, metadata } : m));
      const more = from + limit < all.length;
      return { ok: true, messages: page, has_more: more, response_metadata: { next_cursor: more ? String(from + limit) : '' } };
    }
    case 'chat.postEphemeral':
      return { ok: true, message_ts: nextTs() };
    case 'reactions.add':
      return { ok: true };
    case 'views.open':
      return { ok: true, view: { id: 'V1', ...params.view } };
    case 'assistant.threads.setStatus': {
      // channel_id, thread_ts and status are required (an empty status clears it); Slack takes chat:write or
      // assistant:write for it
      if (!given(params.channel_id) || !given(params.thread_ts) || typeof params.status !== 'string') return { ok: false, error: 'invalid_arguments' };
      const held = scopes.get(team ?? '') ?? [];
      if (!held.includes('assistant:write') && !held.includes('chat:write')) return { ok: false, error: 'missing_scope', needed: 'chat:write', provided: held.join(',') };
      return { ok: true };
    }
    case 'assistant.threads.setSuggestedPrompts': {
      // channel_id and 1 to 4 prompts, each with a title and a message; assistant:write
      const prompts = params.prompts as unknown;
      const valid = Array.isArray(prompts) && prompts.length >= 1 && prompts.length <= 4 && prompts.every((p) => given(p?.title) && given(p?.message));
      if (!given(params.channel_id) || !valid) return { ok: false, error: 'invalid_arguments' };
      if (!(scopes.get(team ?? '') ?? []).includes('assistant:write')) return { ok: false, error: 'missing_scope', needed: 'assistant:write' };
      return { ok: true };
    }
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

function parseParams(contentType: string, raw: string): Record<string, any> {
  if (!raw) return {};
  if (contentType.startsWith('application/json')) return JSON.parse(raw);
  const params: Record<string, any> = Object.fromEntries(new URLSearchParams(raw));
  for (const k of ['blocks', 'attachments', 'metadata', 'view', 'prompts']) if (typeof params[k] === 'string') params[k] = JSON.parse(params[k]);
  return params;
}
