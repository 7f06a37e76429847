// The console's budgets and provider-health pages over Hono in-process requests on real PostgreSQL and Redis: who may
// look and who may change (RBAC as the other settings pages, CSRF, audit), what bad input does, and that provider
// health comes from the recorded model calls.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { rolesCopy, runWorkflow } from './support/admin-flow';
import { startHarness, type Harness } from './support/harness';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'admin' | 'viewer', AdminClient> = {} as never;

beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef', ROLES_DIR: rolesCopy(), BUDGETS: JSON.stringify([{ scope: 'workspace', period: 'month', usd: 500 }]) } });
  app = h.runtime.app!;
  for (const role of ['admin', 'viewer'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
  await runWorkflow(h);
  await h.prisma.llmCall.create({ data: { provider: 'openai', model: 'gpt-4o-mini', latencyMs: 5, ok: false, error: 'model server answered 429: <script>alert(1)</script>', purpose: 'step' } });
});
afterAll(async () => { await h?.close(); });

describe('budgets page', () => {
  it('shows config defaults and this period\'s spend to everyone signed in', async () => {
    const page = await (await as.viewer.get('/admin/budgets')).text();
    expect(page).toContain('config (BUDGETS)');
    expect(page).toContain('$500.0000');
    expect(page).toContain('You can view budgets; changing them needs the admin role.');
    expect(page).not.toContain('id="set-budget"');
    const api = await (await as.viewer.get('/admin/api/budgets')).json() as { windows: { scope: string; spentTokens: string }[] };
    expect(api.windows.some((w) => w.scope === 'channel' && Number(w.spentTokens) > 0)).toBe(true); // the workflow's calls were counted
  });

  it('lets an admin set and remove a limit, audited', async () => {
    const set = await as.admin.post('/admin/budgets', { scope: 'channel', scopeKey: 'slack:C0123', period: 'day', limitUsd: '5', limitTokens: '', action: 'local' });
    expect(set.status).toBe(303);
    expect(await h.prisma.budget.findUnique({ where: { scope_scopeKey_period: { scope: 'channel', scopeKey: 'slack:C0123', period: 'day' } } })).toMatchObject({ action: 'local', limitTokens: null, updatedBy: 'console:admin@example.com' });
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'budget.set', target: 'channel:slack:C0123:day' } })).toMatchObject({ actor: 'console:admin@example.com' });
    expect(await (await as.admin.get('/admin/budgets')).text()).toContain('slack:C0123');
    expect((await as.admin.post('/admin/budgets/delete', { scope: 'channel', scopeKey: 'slack:C0123', period: 'day' })).status).toBe(303);
    expect(await h.prisma.budget.count({ where: { scopeKey: 'slack:C0123' } })).toBe(0);
    expect(await h.prisma.auditLog.count({ where: { action: 'budget.removed', target: 'channel:slack:C0123:day' } })).toBe(1);
  });

  it('refuses viewers, missing CSRF tokens, anonymous requests and bad input', async () => {
    const form = { scope: 'workspace', scopeKey: '*', period: 'day', limitUsd: '1', limitTokens: '', action: 'wait' };
    expect((await as.viewer.post('/admin/budgets', form)).status).toBe(403);
    expect((await as.admin.post('/admin/budgets', form, { csrf: null })).status).toBe(403);
    expect((await adminClient(app).get('/admin/api/budgets')).status).toBe(401);
    expect((await adminClient(app).get('/admin/budgets')).status).toBe(303); // to sign-in
    const bad = await as.admin.post('/admin/budgets', { ...form, scopeKey: '<script>', limitUsd: '' });
    expect(bad.status).toBe(400);
    const text = await bad.text();
    expect(text).not.toContain('<script>');
    expect(text).toContain('set a limit in USD or tokens');
    expect(await h.prisma.budget.count()).toBe(0);
  });
});

describe('provider health page', () => {
  it('shows each provider\'s calls, error rate, latency and last error (escaped)', async () => {
    const page = await (await as.viewer.get('/admin/providers')).text();
    expect(page).toContain('data-provider="openai"');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('<script>alert(1)');
    const api = await (await as.viewer.get('/admin/api/providers')).json() as { provider: string; configured: boolean; calls: number; errors: number; avgLatencyMs: number | null; lastError: { error: string } | null }[];
    const openai = api.find((p) => p.provider === 'openai')!;
    expect(openai).toMatchObject({ configured: true, errors: 1 });
    expect(openai.calls).toBeGreaterThan(1);
    expect(openai.avgLatencyMs).not.toBeNull();
    expect(openai.lastError?.error).toContain('429');
    expect((await adminClient(app).get('/admin/api/providers')).status).toBe(401);
  });
});
