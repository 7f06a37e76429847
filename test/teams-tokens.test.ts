// Outbound Bot Connector tokens with a certificate: a signed RFC 7523 client assertion, checked by a local
// token endpoint that verifies it the way Entra ID does (signature, x5t thumbprint, audience, issuer, lifetime).
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsTokens, TeamsCredentialError } from '../bot/teams/tokens';
import { startLocalServer, type LocalServer } from './support/local-server';

const APP_ID = '11111111-2222-3333-4444-555555555555';
const TENANT = 'tenant-1';
let dir: string;
let server: LocalServer;
let loginUrl: string;
const seen: Record<string, string>[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'teams-cert-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=rolecall-test'], { stdio: 'ignore' });
  const cert = new X509Certificate(readFileSync(path.join(dir, 'cert.pem')));
  const thumbprint = createHash('sha1').update(cert.raw).digest('base64url');
  server = await startLocalServer((req) => {
    const form = Object.fromEntries(new URLSearchParams(req.body));
    seen.push(form);
    const endpoint = `${loginUrl}/${TENANT}/oauth2/v2.0/token`;
    const ok = form.grant_type === 'client_credentials' && form.client_id === APP_ID
      && form.client_assertion_type === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' && validAssertion(form.client_assertion ?? '', cert, thumbprint, endpoint);
    return ok ? { json: { token_type: 'Bearer', expires_in: 3599, access_token: `cert-token-${seen.length}` } } : { status: 401, json: { error: 'invalid_client' } };
  });
  loginUrl = server.url;
});
afterAll(() => server.close());

function validAssertion(jwt: string, cert: X509Certificate, thumbprint: string, audience: string): boolean {
  const [head, claims, sig] = jwt.split('.');
  if (!head || !claims || !sig) return false;
  const h = JSON.parse(Buffer.from(head, 'base64url').toString());
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString());
  const now = Date.now() / 1000;
  const signed = verify('RSA-SHA256', Buffer.from(`${head}.${claims}`), createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' })), Buffer.from(sig, 'base64url'));
  return signed && h.alg === 'RS256' && h.x5t === thumbprint && c.aud === audience && c.iss === APP_ID && c.sub === APP_ID && c.exp > now && c.nbf <= now + 5 && typeof c.jti === 'string';
}

describe('certificate credentials', () => {
  it('gets a token with a signed client assertion and caches it per scope', async () => {
    const tokens = clientCredentialsTokens({ appId: APP_ID, tokenTenant: TENANT, loginUrl, credential: { kind: 'certificate', certificateFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'key.pem') } });
    const first = await tokens.get('https://api.botframework.com');
    expect(first).toMatch(/^cert-token-\d+$/);
    expect(seen.at(-1)!.scope).toBe('https://api.botframework.com/.default');
    expect(seen.at(-1)!.client_secret).toBeUndefined();
    const before = seen.length;
    expect(await tokens.get('https://api.botframework.com')).toBe(first);
    expect(seen.length).toBe(before);
  });

  it('reports a key that does not match the certificate as the operator\'s credential error', async () => {
    execFileSync('openssl', ['genrsa', '-out', path.join(dir, 'other.pem'), '2048'], { stdio: 'ignore' });
    const tokens = clientCredentialsTokens({ appId: APP_ID, tokenTenant: TENANT, loginUrl, credential: { kind: 'certificate', certificateFile: path.join(dir, 'cert.pem'), keyFile: path.join(dir, 'other.pem') } });
    await expect(tokens.get('https://api.botframework.com')).rejects.toBeInstanceOf(TeamsCredentialError);
  });
});
