// Outbound tokens for the Bot Connector: the OAuth 2.0 client-credentials grant against Entra ID, with the app's
// password or a certificate-signed client assertion. Tokens are cached per scope until five minutes before expiry.
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { TeamsCredential } from './config';
import { RolecallError, errorMessage } from '../../agents/errors';

export interface TokenSettings {
  appId: string;
  tokenTenant: string;
  loginUrl: string;
  credential: TeamsCredential;
}

/** The token endpoint refused our credentials: the operator's fault (wrong id, password, certificate or tenant). */
export class TeamsCredentialError extends RolecallError {
}

/** The token endpoint failed or was unreachable: Microsoft's side; retrying may help. */
class TeamsTokenUnavailableError extends RolecallError {
}

const TokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.coerce.number().int().positive() });
const EARLY_MS = 5 * 60_000;

export interface TokenSource {
  get(scope: string): Promise<string>;
}

/** `fetch`: the transport of token requests (default: the global fetch; traced when tracing is on, app/runtime.ts). */
export function clientCredentialsTokens(s: TokenSettings, fetch: typeof globalThis.fetch = globalThis.fetch): TokenSource {
  const endpoint = `${s.loginUrl}/${encodeURIComponent(s.tokenTenant)}/oauth2/v2.0/token`;
  const cache = new Map<string, { token: string; until: number }>();
  const secret = credentialFields(s, endpoint);
  return {
    async get(scope) {
      const full = scope.endsWith('/.default') ? scope : `${scope.replace(/\/+$/, '')}/.default`;
      const hit = cache.get(full);
      if (hit && hit.until > Date.now()) return hit.token;
      const got = await requestToken(fetch, endpoint, { grant_type: 'client_credentials', client_id: s.appId, scope: full, ...secret() });
      cache.set(full, { token: got.access_token, until: Date.now() + got.expires_in * 1000 - EARLY_MS });
      return got.access_token;
    },
  };
}

async function requestToken(fetch: typeof globalThis.fetch, endpoint: string, form: Record<string, string>): Promise<z.infer<typeof TokenResponse>> {
  let res: Response;
  try {
    res = await fetch(endpoint, { method: 'POST', body: new URLSearchParams(form), signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    throw new TeamsTokenUnavailableError(`token endpoint ${endpoint} unreachable: ${errorMessage(e)}`);
  }
  const body = await res.text();
  if (res.status >= 400 && res.status < 500) throw new TeamsCredentialError(`token endpoint refused the app credentials (${res.status}): ${body.slice(0, 300)}`);
  if (!res.ok) throw new TeamsTokenUnavailableError(`token endpoint answered ${res.status}`);
  const parsed = TokenResponse.safeParse(safeJson(body));
  if (!parsed.success) throw new TeamsTokenUnavailableError('token endpoint answered without an access_token');
  return parsed.data;
}

function credentialFields(s: TokenSettings, audience: string): () => Record<string, string> {
  const c = s.credential;
  if (c.kind === 'password') return () => ({ client_secret: c.password });
  const cert = new X509Certificate(readFileSync(c.certificateFile));
  const key = createPrivateKey(readFileSync(c.keyFile));
  const x5t = createHash('sha1').update(cert.raw).digest('base64url');
  return () => ({
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: signAssertion(s.appId, audience, x5t, key),
  });
}

/** RFC 7523 client assertion, as Entra ID expects it for certificate credentials. */
function signAssertion(appId: string, audience: string, x5t: string, key: ReturnType<typeof createPrivateKey>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = b64({ alg: 'RS256', typ: 'JWT', x5t });
  const claims = b64({ aud: audience, iss: appId, sub: appId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600 });
  return `${head}.${claims}.${sign('RSA-SHA256', Buffer.from(`${head}.${claims}`), key).toString('base64url')}`;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}
