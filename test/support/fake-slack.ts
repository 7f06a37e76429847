// A local stand-in for the Slack Web API (https://slack.com/api/<method>) that records every call, and for Slack's
// file host: files added with addFile are served at their url_private only to the bot token (like Slack, a request
// without it gets the sign-in page as HTML), and every download is recorded.
import { startLocalServer } from './local-server';

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
  close(): Promise<void>;
}

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

/** The token the fake's file host accepts (the harness's SLACK_BOT_TOKEN). */
export const FAKE_BOT_TOKEN = 'xoxb-test';

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const failures = new Map<string, { error: string; count: number }>();
  const httpFailures = new Map<string, { status: number; count: number; retryAfter?: number }>();
  let seq = 1_700_000_000;
  const files = new Map<string, { bytes: Uint8Array; mimetype: string }>();
  const downloads: FakeSlack['downloads'] = [];
  const server = await startLocalServer((req, res) => {
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
    } else {
      call.response = answer(method, params, () => `${seq++}.000100`);
    }
    return { json: call.response };
  });
  return {
    url: `${server.url}/api/`,
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
    close: server.close,
  };
}

function answer(method: string, params: Record<string, any>, nextTs: () => string): Record<string, unknown> {
  switch (method) {
    case 'auth.test':
      return { ok: true, url: 'https://fake.slack.test/', team: 'Fake', user: 'rolecall', team_id: 'T1', user_id: 'U_BOT', bot_id: 'B_SELF' };
    case 'chat.postMessage': {
      const ts = nextTs();
      return { ok: true, channel: params.channel, ts, message: { ...params, ts, bot_id: 'B_SELF', type: 'message' } };
    }
    case 'chat.update':
      return { ok: true, channel: params.channel, ts: params.ts, text: params.text };
    case 'chat.postEphemeral':
      return { ok: true, message_ts: nextTs() };
    case 'views.open':
      return { ok: true, view: { id: 'V1', ...params.view } };
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

function parseParams(contentType: string, raw: string): Record<string, any> {
  if (!raw) return {};
  if (contentType.startsWith('application/json')) return JSON.parse(raw);
  const params: Record<string, any> = Object.fromEntries(new URLSearchParams(raw));
  for (const k of ['blocks', 'attachments', 'metadata', 'view']) if (typeof params[k] === 'string') params[k] = JSON.parse(params[k]);
  return params;
}
