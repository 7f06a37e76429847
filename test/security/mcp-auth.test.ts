// Security: MCP clients need an API key. Anonymous, forged, revoked and expired keys are refused over real HTTP (the MCP
// SDK client and raw requests); keys are created, listed (prefix only), rotated with an overlap and revoked in the
// console by admins only, stored as a sha256, and every change is audited.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../support/admin-client';
import { startHarness, type Harness } from '../support/harness';
import { consoleAs, createKey, INIT, keyIn, MCP_HEADERS, mcpClient, postForm, rawRequest, rpc } from './mcp-support';

let h: Harness;
let admin: AdminClient;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  admin = await consoleAs(h, 'admin');
});
afterAll(async () => { await h?.close(); });

const modelCalls = () => h.prisma.llmCall.count();
const callRunTask = (headers: Record<string, string>) =>
  fetch(`${h.url}/mcp/technical_architect`, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: rpc('tools/call', { name: 'run_task', arguments: { task: 'design a rate limiter' } }) });

describe('an anonymous MCP client', () => {
  it('cannot connect with the MCP SDK client, list tools, read artifacts or run a task', async () => {
    await expect(mcpClient(h, 'business_analyst')).rejects.toThrow(/401|Unauthorized/);
    const before = { openai: h.openai.requests.length, calls: await modelCalls() };
    for (const body of [INIT, rpc('tools/list'), rpc('resources/list'), rpc('tools/call', { name: 'list_artifacts', arguments: {} })]) {
      const res = await fetch(`${h.url}/mcp/business_analyst`, { method: 'POST', headers: MCP_HEADERS, body });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32001 } });
    }
    expect((await callRunTask({})).status).toBe(401);
    expect(h.openai.requests.length).toBe(before.openai);
    expect(await modelCalls()).toBe(before.calls);
  });

  it('cannot read the registry; health is public but says only whether the role is up', async () => {
    const reg = await fetch(`${h.url}/mcp`);
    expect(reg.status).toBe(401);
    expect(await reg.text()).not.toContain('business_analyst');
    const health = await fetch(`${h.url}/mcp/developer/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ role_id: 'developer', healthy: true });
    const unknown = await fetch(`${h.url}/mcp/%3Cscript%3E/health`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain('script');
  });

  it('is refused with a forged, malformed or non-bearer key, and with a key in the query string', async () => {
    const real = await createKey(h, admin, { roles: ['*'], readArtifacts: true, runTasks: true });
    const forged = `rc_${'A'.repeat(43)}`;
    for (const authorization of [`Bearer ${forged}`, `Bearer ${real}x`, `Bearer ${real.slice(0, -1)}`, `Basic ${Buffer.from(`x:${real}`).toString('base64')}`, real, `Bearer ${real} extra`, 'Bearer ']) {
      const res = await callRunTask({ authorization });
      expect(res.status, authorization).toBe(401);
    }
    const query = await fetch(`${h.url}/mcp/technical_architect?api_key=${real}&access_token=${real}`, { method: 'POST', headers: MCP_HEADERS, body: INIT });
    expect(query.status).toBe(401);
    await expect(mcpClient(h, 'business_analyst', forged)).rejects.toThrow(/401|Unauthorized/);
  });
});

describe('API keys in the console', () => {
  it('are shown once, listed by prefix only, stored as a sha256, and work with the MCP SDK client', async () => {
    const key = await createKey(h, admin, { name: 'claude desktop', roles: ['*'], readArtifacts: true });
    expect(key).toMatch(/^rc_[A-Za-z0-9_-]{43}$/);
    const row = await h.prisma.mcpApiKey.findFirstOrThrow({ where: { name: 'claude desktop' } });
    expect(row.hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(key.slice(11));
    expect(row.prefix).toBe(key.slice(0, 11));
    for (const page of [await (await admin.get('/admin/api-keys')).text(), await (await admin.get('/admin/api/api-keys')).text()]) {
      expect(page).toContain(row.prefix);
      expect(page).not.toContain(key.slice(11));
      expect(page).not.toContain(row.hash);
    }
    expect(row.lastUsedAt).toBeNull();
    const c = await mcpClient(h, 'developer', key);
    expect((await c.listTools()).tools.map((t) => t.name).sort()).toEqual(['get_artifact', 'list_artifacts', 'validate_output']);
    await c.close();
    expect((await h.prisma.mcpApiKey.findUniqueOrThrow({ where: { id: row.id } })).lastUsedAt).not.toBeNull();
    const audited = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'mcp_key.created', target: row.prefix } });
    expect(audited.actor).toBe('console:admin@example.com');
    expect(JSON.stringify(audited.detail)).not.toContain(key.slice(11));
  });

  it('stop working when revoked', async () => {
    const key = await createKey(h, admin, { name: 'to revoke', roles: ['developer'] });
    expect((await rawRequest(h, '/mcp', { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
    const row = await h.prisma.mcpApiKey.findFirstOrThrow({ where: { name: 'to revoke' } });
    expect((await postForm(h, admin, `/admin/api-keys/${row.id}/revoke`, [])).status).toBe(303);
    expect((await rawRequest(h, '/mcp', { headers: { authorization: `Bearer ${key}` } })).status).toBe(401);
    await expect(mcpClient(h, 'developer', key)).rejects.toThrow(/401|Unauthorized/);
    expect(await h.prisma.auditLog.count({ where: { action: 'mcp_key.revoked', target: row.prefix } })).toBe(1);
  });

  it('rotate with an overlap: the old key works until it ends, the new one from now on', async () => {
    const old = await createKey(h, admin, { name: 'rotating', roles: ['developer'] });
    const row = await h.prisma.mcpApiKey.findFirstOrThrow({ where: { name: 'rotating' } });
    const res = await postForm(h, admin, `/admin/api-keys/${row.id}/rotate`, [['overlapHours', '24']]);
    expect(res.status).toBe(201);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const fresh = keyIn(await res.text())!;
    expect(fresh).toMatch(/^rc_/);
    expect(fresh).not.toBe(old);
    const registry = (k: string) => rawRequest(h, '/mcp', { headers: { authorization: `Bearer ${k}` } });
    expect((await registry(old)).status).toBe(200);
    expect((await registry(fresh)).status).toBe(200);
    const after = await h.prisma.mcpApiKey.findUniqueOrThrow({ where: { id: row.id } });
    expect(after.expiresAt!.getTime() - Date.now()).toBeGreaterThan(23.9 * 3_600_000);
    expect(after.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    // a rotated key is rotated once; the overlap ends (moved to the past here) and the old key stops
    expect((await postForm(h, admin, `/admin/api-keys/${row.id}/rotate`, [['overlapHours', '1']])).status).toBe(409);
    await h.prisma.mcpApiKey.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await registry(old)).status).toBe(401);
    expect((await registry(fresh)).status).toBe(200);
    const audited = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'mcp_key.rotated', target: row.prefix } });
    expect(audited.detail).toMatchObject({ overlapHours: 24, newPrefix: fresh.slice(0, 11) });
    // no overlap: the old key stops at once
    const fresh2Res = await postForm(h, admin, `/admin/api-keys/${(await h.prisma.mcpApiKey.findFirstOrThrow({ where: { prefix: fresh.slice(0, 11) } })).id}/rotate`, [['overlapHours', '0']]);
    const fresh2 = keyIn(await fresh2Res.text())!;
    expect((await registry(fresh)).status).toBe(401);
    expect((await registry(fresh2)).status).toBe(200);
  });

  it('can be managed only by admins and owners, and only with the CSRF token', async () => {
    const row = await h.prisma.mcpApiKey.findFirstOrThrow({ where: { name: 'claude desktop' } });
    for (const role of ['viewer', 'approver'] as const) {
      const c = await consoleAs(h, role);
      expect((await c.get('/admin/api-keys')).status).toBe(403);
      expect((await c.get('/admin/api/api-keys')).status).toBe(403);
      expect((await postForm(h, c, '/admin/api-keys', [['name', 'sneaky'], ['roles', '*'], ['runTasks', 'on']])).status).toBe(403);
      expect((await postForm(h, c, `/admin/api-keys/${row.id}/revoke`, [])).status).toBe(403);
      expect((await postForm(h, c, `/admin/api-keys/${row.id}/rotate`, [['overlapHours', '1']])).status).toBe(403);
    }
    expect((await postForm(h, admin, '/admin/api-keys', [['name', 'no csrf'], ['roles', '*']], null)).status).toBe(403);
    expect((await postForm(h, admin, `/admin/api-keys/${row.id}/revoke`, [], 'x'.repeat(24))).status).toBe(403);
    expect(await h.prisma.mcpApiKey.count({ where: { name: { in: ['sneaky', 'no csrf'] } } })).toBe(0);
    expect((await h.prisma.mcpApiKey.findUniqueOrThrow({ where: { id: row.id } })).revokedAt).toBeNull();
    const anon = await h.runtime.app!.request('http://rolecall.test/admin/api/api-keys');
    expect(anon.status).toBe(401);
    const owner = await consoleAs(h, 'owner');
    expect((await owner.get('/admin/api-keys')).status).toBe(200);
  });

  it('refuse unknown roles and keys without a role', async () => {
    expect((await postForm(h, admin, '/admin/api-keys', [['name', 'bad'], ['roles', 'astronaut']])).status).toBe(400);
    expect((await postForm(h, admin, '/admin/api-keys', [['name', 'none']])).status).toBe(400);
    expect(await h.prisma.mcpApiKey.count({ where: { name: { in: ['bad', 'none'] } } })).toBe(0);
  });
});

