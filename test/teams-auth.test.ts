// Request authentication on /api/messages (the SDK's JWT validation against a local key set, plus our serviceurl
// claim check), proactive posting from a worker-only process, and Teams configuration rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config';
import { createLogger } from '../orchestrator/log';
import { startRuntime } from '../app/runtime';
import { startHarness, waitFor, type Harness } from './support/harness';
import { TEAMS_APP_ID, channelMention, channelToken, foreignKey, headerName, startFakeMicrosoft, teamsPoster, type FakeMicrosoft } from './support/fake-teams';

describe('JWT validation of /api/messages', () => {
  let h: Harness;
  let ms: FakeMicrosoft;
  beforeAll(async () => {
    ms = await startFakeMicrosoft();
    h = await startHarness({ env: { ...ms.env, NODE_ENV: 'production' }, worker: false });
  });
  afterAll(async () => {
    await h.close();
    await ms.close();
  });
  const send = (headers: Record<string, string>) => teamsPoster(h.url, ms).send(channelMention(ms, 'hello'), headers);
  const bearer = (o: Parameters<typeof channelToken>[1]) => ({ authorization: `Bearer ${channelToken(ms, o)}` });

  it('accepts a valid token', async () => {
    expect((await send(bearer({}))).status).toBe(200);
  });
  it.each([
    ['a missing Authorization header', () => ({})],
    ['a malformed header', () => ({ authorization: 'Basic abc' })],
    ['a wrong audience', () => bearer({ aud: '99999999-0000-0000-0000-000000000000' })],
    ['a serviceurl claim for another host', () => bearer({ serviceUrl: 'https://smba.trafficmanager.net/amer/' })],
    ['an expired token', () => bearer({ expiresIn: -600 })],
    ['a token signed by a foreign key', () => bearer({ key: foreignKey() })],
    ['a foreign issuer', () => bearer({ iss: 'https://evil.example/tenant/v2.0' })],
    ['garbage', () => ({ authorization: 'Bearer abc.def.ghi' })],
  ])('refuses %s with 401', async (_what, headers) => {
    const res = await send(headers());
    expect(res.status).toBe(401);
  });
  it('queues only the accepted request', async () => {
    const counts = await h.runtime.queueCounts();
    // a new request is an intake: it waits in the prioritized set (orchestrator/lanes.ts), not the plain wait list
    expect((counts.waiting ?? 0) + (counts.prioritized ?? 0)).toBe(1);
  });
  it('answers 400 to a valid token with a body that is not an activity', async () => {
    const res = await fetch(`${h.url}/api/messages`, { method: 'POST', body: JSON.stringify({ type: 'message', serviceUrl: ms.connectorUrl, text: 'no conversation, no sender' }), headers: { 'content-type': 'application/json', ...bearer({}) } });
    expect(res.status).toBe(400);
  });
});

describe('proactive posting from a worker-only process', () => {
  it('posts the plan and persona cards from a runtime without an HTTP server', async () => {
    const ms = await startFakeMicrosoft();
    const h = await startHarness({ env: ms.env, worker: false });
    const config = loadConfig(h.env);
    const worker = await startRuntime(config, { server: false, worker: true, migrate: false }, createLogger(config.logLevel));
    try {
      expect(worker.url).toBeUndefined();
      const mention = channelMention(ms, 'we need a billing export feature for our customer portal');
      expect((await teamsPoster(h.url, ms).send(mention)).status).toBe(200);
      // the analyst's output: its status message edited (PUT) or posted (POST) with it
      const output = await waitFor(() => ms.calls.find((c) => headerName(c) === 'Business Analyst' && (c.verb === 'POST' || c.verb === 'PUT') && JSON.stringify(c.body).includes('says: done')), 'the analyst output');
      expect(output.conversationId).toBe(mention.conversation.id);
      expect(output.auth).toMatch(/^Bearer outbound-/);
    } finally {
      await worker.close();
      await h.close();
      await ms.close();
    }
  });
});

describe('Teams configuration', () => {
  const base = { NODE_ENV: 'development' };
  it('refuses anonymous mode in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', TEAMS_ALLOW_ANONYMOUS: 'true' })).toThrow(/TEAMS_ALLOW_ANONYMOUS: is refused when NODE_ENV=production/);
  });
  it('allows anonymous mode for local development only when asked', () => {
    expect(loadConfig({ ...base, TEAMS_ALLOW_ANONYMOUS: 'true' }).teams).toEqual({ mode: 'anonymous' });
    expect(loadConfig(base).teams).toBeUndefined();
  });
  it('needs a tenant and exactly one credential with an app id', () => {
    expect(() => loadConfig({ ...base, TEAMS_APP_ID: TEAMS_APP_ID })).toThrow(/TEAMS_TENANT_ID: is required[\s\S]*TEAMS_APP_PASSWORD: is required/);
    expect(() => loadConfig({ ...base, TEAMS_APP_ID: TEAMS_APP_ID, TEAMS_TENANT_ID: 't', TEAMS_APP_PASSWORD: 'p', TEAMS_APP_CERTIFICATE_FILE: 'c.pem' })).toThrow(/not both/);
    expect(() => loadConfig({ ...base, TEAMS_APP_PASSWORD: 'p' })).toThrow(/TEAMS_APP_PASSWORD: is set but TEAMS_APP_ID is not/);
    expect(() => loadConfig({ ...base, TEAMS_APP_ID: 'x', TEAMS_TENANT_ID: 't', TEAMS_APP_PASSWORD: 'p', TEAMS_APP_TYPE: 'Other' })).toThrow(/TEAMS_APP_TYPE/);
  });
  it('gets outbound tokens from botframework.com for multi-tenant apps and from the tenant otherwise', () => {
    const env = { ...base, TEAMS_APP_ID: TEAMS_APP_ID, TEAMS_TENANT_ID: 'tenant-1', TEAMS_APP_PASSWORD: 'p' };
    expect(loadConfig(env).teams).toMatchObject({ mode: 'authenticated', tokenTenant: 'tenant-1', loginUrl: 'https://login.microsoftonline.com' });
    expect(loadConfig({ ...env, TEAMS_APP_TYPE: 'MultiTenant' }).teams).toMatchObject({ tokenTenant: 'botframework.com' });
  });
});
