// Local stand-ins for Microsoft's side of Teams, speaking the real wire formats:
// - the Bot Connector ({serviceUrl}v3/conversations/{id}/activities[/{id}]), recording every call;
// - Entra ID: signing keys ({login}/{tenant}/discovery/v2.0/keys), OpenID metadata and the client-credentials token
//   endpoint ({login}/{tenant}/oauth2/v2.0/token);
// and a client that posts activities to /api/messages with tokens signed by the local key (as Teams would).
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { startLocalServer } from './local-server';

export const TEAMS_APP_ID = '11111111-2222-3333-4444-555555555555';
export const TEAMS_TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
export const TEAMS_PASSWORD = 'app-password-test';
export const BOT_ID = `28:${TEAMS_APP_ID}`;

export interface ConnectorCall {
  verb: 'POST' | 'PUT';
  conversationId: string;
  activityId?: string;
  auth?: string;
  body: Record<string, any>;
  response: { id: string };
  /** When the call arrived (Date.now()). */
  at: number;
  /** The HTTP status it was answered with when it was made to fail (see failNext); nothing was posted then. */
  failedWith?: number;
}

export interface FakeMicrosoft {
  connectorUrl: string;
  loginUrl: string;
  calls: ConnectorCall[];
  tokenRequests: URLSearchParams[];
  key: KeyObject;
  /** Make the next `count` connector calls (posts and updates) answer HTTP `status` (429 with Retry-After:
   *  `retryAfterSeconds`, a 5xx, or 403/404/413 refusals). Failed calls are recorded with `failedWith`. */
  failNext(count: number, status: number, retryAfterSeconds?: number): void;
  /** Shares a file in a chat: the attachment Teams puts on the message (file download info with a pre-authorised
   *  download URL on this fake, served without any token, like SharePoint's). */
  addChatFile(name: string, bytes: Uint8Array): TeamsAttachment;
  /** A pasted image: hosted content on the connector, served only with the bot's token (like Teams). */
  addInlineImage(bytes: Uint8Array, contentType?: string): TeamsAttachment;
  /** A file linked from a channel message (`reference`): its host refuses a bot without Microsoft Graph access. */
  channelFileReference(name: string): TeamsAttachment;
  /** Every request for file bytes, with its Authorization header and whether the bytes were served. */
  fileRequests: { path: string; auth?: string; served: boolean }[];
  /** Env for Rolecall pointing at these stand-ins (authenticated mode). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TeamsAttachment {
  contentType: string;
  contentUrl?: string;
  name?: string;
  content?: Record<string, unknown>;
}

export async function startFakeMicrosoft(): Promise<FakeMicrosoft> {
  const hosted = new Map<string, { bytes: Uint8Array; type: string; auth: boolean }>();
  const fileRequests: FakeMicrosoft['fileRequests'] = [];
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const calls: ConnectorCall[] = [];
  const tokenRequests: URLSearchParams[] = [];
  let seq = 1;
  const failing = { count: 0, status: 0, retryAfter: undefined as number | undefined };
  const connector = await startLocalServer((req, res) => {
    const file = /^\/(v3\/attachments|sharepoint|refs)\/([A-Za-z0-9-]+)/.exec(req.path);
    if (file && req.method === 'GET') {
      const stored = hosted.get(file[2]!);
      const served = !!stored && (!stored.auth || /^Bearer outbound-\d+$/.test(req.headers.authorization ?? ''));
      fileRequests.push({ path: req.path, auth: req.headers.authorization, served });
      if (!stored || file[1] === 'refs') return { status: stored ? 403 : 404, json: { error: 'accessDenied' } };
      if (!served) return { status: 401, json: { error: { code: 'Unauthorized' } } };
      res.writeHead(200, { 'content-type': stored.type, 'content-length': String(stored.bytes.length) });
      res.end(Buffer.from(stored.bytes));
      return;
    }
    const m = decodeURIComponent(req.path).match(/^\/v3\/conversations\/(.+?)\/activities(?:\/(.+))?$/);
    if (!m || (req.method !== 'POST' && req.method !== 'PUT')) return { status: 404 };
    const body = req.body ? JSON.parse(req.body) : {};
    const call = { verb: req.method, conversationId: m[1]!, activityId: m[2], auth: req.headers.authorization, body, at: Date.now() } as const;
    if (failing.count > 0 && body.type !== 'typing') {
      failing.count--;
      calls.push({ ...call, response: { id: '' }, failedWith: failing.status });
      const headers = failing.retryAfter !== undefined ? { 'retry-after': String(failing.retryAfter) } : undefined;
      return { status: failing.status, headers, json: { error: { code: failing.status === 429 ? 'Throttled' : 'Error', message: `status ${failing.status}` } } };
    }
    const response = { id: req.method === 'PUT' ? m[2]! : `17000000000${String(seq++).padStart(2, '0')}` };
    calls.push({ ...call, response });
    return { json: response };
  });
  const login = await startLocalServer((req) => {
    const { pathname } = req.url;
    if (pathname === `/${TEAMS_TENANT}/discovery/v2.0/keys`) {
      return { json: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'local-1', use: 'sig', alg: 'RS256' }] } };
    }
    if (pathname === `/${TEAMS_TENANT}/v2.0/.well-known/openid-configuration`) {
      return { json: { issuer: `${login.url}/${TEAMS_TENANT}/v2.0`, jwks_uri: `${login.url}/${TEAMS_TENANT}/discovery/v2.0/keys`, token_endpoint: `${login.url}/${TEAMS_TENANT}/oauth2/v2.0/token`, id_token_signing_alg_values_supported: ['RS256'] } };
    }
    if (req.method === 'POST' && pathname === `/${TEAMS_TENANT}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(req.body);
      tokenRequests.push(form);
      if (form.get('client_id') !== TEAMS_APP_ID || form.get('client_secret') !== TEAMS_PASSWORD) return { status: 401, json: { error: 'invalid_client' } };
      return { json: { token_type: 'Bearer', expires_in: 3599, access_token: `outbound-${tokenRequests.length}` } };
    }
    return { status: 404, json: { error: 'not_found' } };
  });
  return {
    connectorUrl: `${connector.url}/`,
    loginUrl: login.url,
    calls,
    tokenRequests,
    key: privateKey,
    addChatFile: (name, bytes) => {
      const id = randomUUID();
      hosted.set(id, { bytes, type: 'application/octet-stream', auth: false });
      const downloadUrl = `${connector.url}/sharepoint/${id}?tempauth=local`;
      return { contentType: 'application/vnd.microsoft.teams.file.download.info', contentUrl: `${connector.url}/sites/x/${encodeURIComponent(name)}`, name, content: { downloadUrl, uniqueId: id, fileType: name.split('.').pop() } };
    },
    addInlineImage: (bytes, contentType = 'image/png') => {
      const id = randomUUID();
      hosted.set(id, { bytes, type: contentType, auth: true });
      return { contentType, contentUrl: `${connector.url}/v3/attachments/${id}/views/original` };
    },
    channelFileReference: (name) => {
      const id = randomUUID();
      hosted.set(id, { bytes: new Uint8Array(), type: 'application/octet-stream', auth: true });
      return { contentType: 'reference', contentUrl: `${connector.url}/refs/${id}/${encodeURIComponent(name)}`, name };
    },
    fileRequests,
    failNext: (count, status, retryAfter) => void Object.assign(failing, { count, status, retryAfter }),
    env: { TEAMS_APP_ID, TEAMS_APP_PASSWORD: TEAMS_PASSWORD, TEAMS_TENANT_ID: TEAMS_TENANT, TEAMS_APP_TYPE: 'SingleTenant', TEAMS_LOGIN_URL: login.url },
    close: async () => {
      await Promise.all([connector.close(), login.close()]);
    },
  };
}

export interface TokenOptions {
  key?: KeyObject;
  aud?: string;
  iss?: string;
  serviceUrl?: string;
  expiresIn?: number;
}

/** A token as the Bot Connector service sends it to the bot (RS256, kid of the local key). */
export function channelToken(ms: FakeMicrosoft, o: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const head = b64({ alg: 'RS256', typ: 'JWT', kid: 'local-1' });
  const claims = b64({
    aud: o.aud ?? TEAMS_APP_ID, iss: o.iss ?? `${ms.loginUrl}/${TEAMS_TENANT}/v2.0`, tid: TEAMS_TENANT, serviceurl: o.serviceUrl ?? ms.connectorUrl,
    iat: now - 10, nbf: now - 10, exp: now + (o.expiresIn ?? 3600), jti: randomUUID(),
  });
  return `${head}.${claims}.${sign('RSA-SHA256', Buffer.from(`${head}.${claims}`), o.key ?? ms.key).toString('base64url')}`;
}

export const foreignKey = () => createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));

// ---- activities as Teams sends them ----

export const CHANNEL_CONV = '19:a1b2c3@thread.tacv2';
export const ALICE = { id: '29:alice', name: 'Alice Adams', aadObjectId: 'aad-alice' };
export const BOB = { id: '29:bob', name: 'Bob Brown', aadObjectId: 'aad-bob' };
export const CAROL = { id: '29:carol', name: 'Carol Chen', aadObjectId: 'aad-carol' };

export type Person = typeof ALICE;

let activitySeq = 1;
const base = (ms: FakeMicrosoft, conversationId: string, from: Person, conversationType = 'channel') => ({
  channelId: 'msteams', serviceUrl: ms.connectorUrl, timestamp: new Date().toISOString(), locale: 'en-US',
  conversation: { id: conversationId, conversationType, tenantId: TEAMS_TENANT, isGroup: conversationType !== 'personal' },
  from, recipient: { id: BOT_ID, name: 'Rolecall' },
  channelData: { tenant: { id: TEAMS_TENANT }, team: { id: '19:team@thread.tacv2' }, channel: { id: CHANNEL_CONV } },
});

/** A new channel post that @mentions Rolecall: it starts a reply chain whose root is this message. */
export function channelMention(ms: FakeMicrosoft, text: string, from: Person = ALICE) {
  const id = `16${Date.now()}${activitySeq++}`;
  return {
    ...base(ms, `${CHANNEL_CONV};messageid=${id}`, from), type: 'message', id, text: `<at>Rolecall</at> ${text}`, textFormat: 'plain',
    entities: [{ type: 'mention', text: '<at>Rolecall</at>', mentioned: { id: BOT_ID, name: 'Rolecall' } }],
  };
}

/** A message in a 1:1 chat with Rolecall: no @mention is needed, and the whole chat is one thread. */
export function personalMessage(ms: FakeMicrosoft, text: string, from: Person = ALICE) {
  const id = `18${Date.now()}${activitySeq++}`;
  const { channelData: _channel, ...rest } = base(ms, `a:personal-${from.aadObjectId}`, from, 'personal');
  return { ...rest, channelData: { tenant: { id: TEAMS_TENANT } }, type: 'message', id, text, textFormat: 'plain' };
}

export function executeInvoke(ms: FakeMicrosoft, conversationId: string, cardActivityId: string, data: Record<string, unknown>, from: Person = BOB) {
  return {
    ...base(ms, conversationId, from), type: 'invoke', name: 'adaptiveCard/action', id: `inv-${activitySeq++}`, replyToId: cardActivityId,
    value: { action: { type: 'Action.Execute', verb: (data.rolecall as { action: string }).action, data }, trigger: 'manual' },
  };
}

export function submitMessage(ms: FakeMicrosoft, conversationId: string, cardActivityId: string, data: Record<string, unknown>, from: Person = BOB) {
  return { ...base(ms, conversationId, from), type: 'message', id: `sub-${activitySeq++}`, replyToId: cardActivityId, value: data };
}

export interface TeamsPoster {
  send(activity: object, headers?: Record<string, string>): Promise<Response>;
}

/** Posts to /api/messages with a valid channel token unless headers say otherwise. */
export function teamsPoster(appUrl: string, ms: FakeMicrosoft): TeamsPoster {
  return {
    send: (activity, headers) =>
      fetch(`${appUrl}/api/messages`, {
        method: 'POST',
        body: JSON.stringify(activity),
        headers: { 'content-type': 'application/json', ...(headers ?? { authorization: `Bearer ${channelToken(ms)}` }) },
      }),
  };
}

// ---- reading what Rolecall posted ----

export const cardOf = (c: ConnectorCall) => c.body.attachments?.[0]?.content as Record<string, any> | undefined;
export const headerName = (c: ConnectorCall): string | undefined => cardOf(c)?.body?.[0]?.columns?.[1]?.items?.[0]?.text;
export const cardText = (c: ConnectorCall): string => JSON.stringify(cardOf(c)?.body ?? []);
export const actionsOf = (c: ConnectorCall): Record<string, any>[] => cardOf(c)?.actions ?? [];
export const executeData = (c: ConnectorCall, verb: string) => actionsOf(c).find((a) => a.verb === verb)?.data as Record<string, unknown>;
