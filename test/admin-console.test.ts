// The admin console over Hono in-process requests (app.request) on real Postgres and Redis: sign-in, sessions, CSRF,
// rate limiting, every page and API, and who may do what.
import { workflowTraceId } from '../agents/tracing';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sign } from 'hono/jwt';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser, FIRST_ADMIN_EMAIL } from '../web-admin/auth/bootstrap';
import { SESSION_COOKIE } from '../web-admin/auth/session';
import { adminClient, tokenIn, type AdminClient } from './support/admin-client';
import { rolesCopy, runWorkflow } from './support/admin-flow';
import { startHarness, type Harness } from './support/harness';

const SECRET = 'test-admin-session-secret-0123456789abcdef';
const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
let rolesDir: string;
let workflowId: string;
const as: Record<'owner' | 'admin' | 'approver' | 'viewer', AdminClient> = {} as never;

beforeAll(async () => {
  rolesDir = rolesCopy();
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: SECRET, ROLES_DIR: rolesDir, ADMIN_SESSION_TTL_MINUTES: '60', OTEL_TRACE_URL_TEMPLATE: 'http://localhost:16686/trace/{traceId}' } });
  app = h.runtime.app!;
  for (const role of ['owner', 'admin', 'approver', 'viewer'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
  ({ workflowId } = await runWorkflow(h));
});
afterAll(async () => { await h?.close(); });

describe('sign-in', () => {
  it('created a first owner with a one-time password at first start', async () => {
    const first = await h.prisma.adminUser.findUnique({ where: { email: FIRST_ADMIN_EMAIL } });
    expect(first?.role).toBe('owner');
    expect(first?.passwordHash).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it('redirects pages to the sign-in form and answers the API with 401 when not signed in', async () => {
    const anon = adminClient(app);
    for (const p of ['/admin', '/admin/workflows', `/admin/workflows/${workflowId}`, '/admin/roles', '/admin/rbac', '/admin/audit', '/admin/audit.csv']) {
      const res = await anon.get(p);
      expect(res.status, p).toBe(303);
      expect(res.headers.get('location'), p).toBe(`/admin/login?next=${encodeURIComponent(p)}`);
    }
    for (const p of ['/admin/api/analytics', '/admin/api/analytics/cost-role', '/admin/api/workflows', '/admin/api/rbac', '/admin/api/audit', '/admin/api/roles']) {
      const res = await anon.get(p);
      expect(res.status, p).toBe(401);
      expect(await res.json()).toMatchObject({ error: 'unauthenticated' });
    }
    expect((await anon.post('/admin/rbac/gates', { roleId: 'developer', minRole: 'viewer' }, { csrf: 'x'.repeat(20) })).status).toBe(303);
    expect(await h.prisma.gatePolicy.count()).toBe(0);
  });

  it('sets an HttpOnly, SameSite=Lax signed session cookie, audits the sign-in and returns to the page asked for', async () => {
    const c = adminClient(app);
    const page = await c.get('/admin/login?next=%2Fadmin%2Froles');
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const res = await c.post('/admin/login', { email: 'Viewer@Example.com', password: PASSWORD, next: '/admin/roles' }, { csrf: token });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/roles');
    const cookie = res.headers.getSetCookie().find((s) => s.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\/admin/);
    expect(cookie).not.toMatch(/Secure/); // NODE_ENV=test: plain HTTP
    expect(c.cookies.get(SESSION_COOKIE)!.split('.')).toHaveLength(3);
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'auth.signin', actor: 'console:viewer@example.com' } })).not.toBeNull();
    // an outside "next" is not followed
    const again = await c.post('/admin/login', { email: 'viewer@example.com', password: PASSWORD, next: 'https://evil.example/' }, { csrf: token });
    expect(again.headers.get('location')).toBe('/admin');
  });

  it('refuses a wrong password, a missing login token and a cross-origin post', async () => {
    const c = adminClient(app);
    const token = /name="_csrf" value="([^"]+)"/.exec(await (await c.get('/admin/login')).text())![1]!;
    const wrong = await c.post('/admin/login', { email: 'admin@example.com', password: 'not it' }, { csrf: token });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong email or password.');
    expect(c.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await adminClient(app).post('/admin/login', { email: 'admin@example.com', password: PASSWORD }, { csrf: 'y'.repeat(32) })).status).toBe(403);
    const crossSite = await c.post('/admin/login', { email: 'admin@example.com', password: PASSWORD }, { csrf: token, origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(await h.prisma.auditLog.count({ where: { action: 'auth.signin_failed', actor: 'console:admin@example.com' } })).toBeGreaterThanOrEqual(1);
  });

  it('answers 429 after 5 failed sign-ins for one IP and email, even with the right password, and not for another email', async () => {
    await upsertAdminUser(h.prisma, 'target@example.com', PASSWORD, 'viewer');
    const c = adminClient(app);
    // each answer is a fresh form with a fresh login token, as a browser would submit it
    let token = tokenIn(await (await c.get('/admin/login')).text());
    for (let i = 0; i < 5; i++) {
      const res = await c.post('/admin/login', { email: 'target@example.com', password: `guess ${i}` }, { csrf: token });
      expect(res.status).toBe(401);
      token = tokenIn(await res.text());
    }
    const blocked = await c.post('/admin/login', { email: 'target@example.com', password: PASSWORD }, { csrf: token });
    expect(blocked.status).toBe(429);
    expect(c.cookies.has(SESSION_COOKIE)).toBe(false);
    const other = adminClient(app);
    expect((await other.signIn('viewer@example.com', PASSWORD)).status).toBe(303);
  });

  it('re-issues the session cookie once it is older than half its lifetime, keeping the session and CSRF token', async () => {
    const user = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'viewer@example.com' } });
    const c = adminClient(app);
    await c.signIn('viewer@example.com', PASSWORD);
    const { sid, csrf } = JSON.parse(Buffer.from(c.cookies.get(SESSION_COOKIE)!.split('.')[1]!, 'base64url').toString());
    const iat = Math.floor(Date.now() / 1000) - 31 * 60; // lifetime 60 min
    const old = await sign({ sub: user.id, sid, csrf, iat, exp: iat + 3600 }, SECRET, 'HS256');
    c.cookies.set(SESSION_COOKIE, old);
    const res = await c.get('/admin/roles');
    expect(res.status).toBe(200);
    const fresh = c.cookies.get(SESSION_COOKIE)!;
    expect(fresh).not.toBe(old);
    const payload = JSON.parse(Buffer.from(fresh.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ sub: user.id, sid, csrf });
    expect(payload.iat).toBeGreaterThan(iat);
    // a young token is not re-issued; a forged or expired one, or one naming no session, is refused
    expect((await c.get('/admin/roles')).headers.getSetCookie()).toEqual([]);
    const forged = adminClient(app);
    forged.cookies.set(SESSION_COOKIE, await sign({ sub: user.id, sid, csrf, iat, exp: iat + 3600 }, 'another-secret-another-secret-another', 'HS256'));
    expect((await forged.get('/admin/api/rbac')).status).toBe(401);
    const expired = adminClient(app);
    expired.cookies.set(SESSION_COOKIE, await sign({ sub: user.id, sid, csrf, iat: iat - 7200, exp: iat - 3600 }, SECRET, 'HS256'));
    expect((await expired.get('/admin/api/rbac')).status).toBe(401);
    const sessionless = adminClient(app);
    sessionless.cookies.set(SESSION_COOKIE, await sign({ sub: user.id, sid: 's'.repeat(43), csrf, iat, exp: iat + 3600 }, SECRET, 'HS256'));
    expect((await sessionless.get('/admin/api/rbac')).status).toBe(401);
  });

  it('signs out with the CSRF token only', async () => {
    const c = adminClient(app);
    await c.signIn('approver@example.com', PASSWORD);
    expect((await c.post('/admin/logout', {}, { csrf: 'wrong-token-wrong-token' })).status).toBe(403);
    const out = await c.post('/admin/logout', {});
    expect(out.status).toBe(303);
    expect(c.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await c.get('/admin')).status).toBe(303);
  });
});

describe('analytics', () => {
  it('shows the real workflow run in the page and in the JSON behind every chart', async () => {
    const page = await as.viewer.get('/admin?days=7');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/data-kpi="completion-rate">Completion rate<b>100%<\/b>/);
    expect(html).toContain('1 up / 0 down');
    for (const chart of ['completion', 'step-latency', 'cost-role', 'cost-workflow', 'cost-day', 'intervention', 'approval-wait', 'satisfaction', 'violations']) {
      expect(html).toContain(`data-chart="/admin/api/analytics/${chart}?days=7"`);
      const res = await as.viewer.get(`/admin/api/analytics/${chart}?days=7`);
      expect(res.status, chart).toBe(200);
      const spec = await res.json();
      expect(spec, chart).toMatchObject({ type: expect.any(String), labels: expect.any(Array), datasets: expect.any(Array) });
    }
    const steps = await h.prisma.step.findMany({ where: { workflowId } });
    const cost = await (await as.viewer.get('/admin/api/analytics/cost-role?days=7')).json();
    expect(new Set(cost.labels)).toEqual(new Set(steps.map((s) => s.roleId)));
    expect(cost.datasets[0].data.every((v: number) => v > 0)).toBe(true);
    const all = await (await as.viewer.get('/admin/api/analytics?days=30')).json();
    expect(all.completion).toMatchObject({ total: 1, completed: 1, rate: 1 });
    expect(all.satisfaction).toEqual({ up: 1, down: 0 });
    expect(all.approvalWait.length).toBeGreaterThan(0);
    expect(all.stepLatency.map((r: { roleId: string }) => r.roleId).sort()).toEqual([...new Set(steps.map((s) => s.roleId))].sort());
    expect(all.intervention.every((r: { intervened: number }) => r.intervened === 0)).toBe(true);
    expect((await as.viewer.get('/admin/api/analytics?days=2')).status).toBe(400);
    expect((await as.viewer.get('/admin/api/analytics/nope')).status).toBe(404);
  });

  it('serves Chart.js and the chart loader from this server', async () => {
    const js = await as.viewer.get('/admin/assets/chart.umd.min.js');
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('Chart.js v4');
    expect((await as.viewer.get('/admin/assets/charts.js')).headers.get('content-type')).toContain('javascript');
    expect((await as.viewer.get('/admin')).headers.get('content-security-policy')).toContain("script-src 'self'");
  });
});

describe('workflows', () => {
  it('lists with filters and shows the detail: steps, posts, LLM calls, approvals', async () => {
    const list = await (await as.viewer.get('/admin/workflows?status=completed&platform=slack&channel=C_TEAM&role=developer')).text();
    expect(list).toContain(`/admin/workflows/${workflowId}`);
    expect(await (await as.viewer.get('/admin/workflows?status=rejected')).text()).not.toContain(`/admin/workflows/${workflowId}`);
    const api = await (await as.viewer.get('/admin/api/workflows?status=completed')).json();
    expect(api.map((w: { id: string }) => w.id)).toEqual([workflowId]);
    expect((await as.viewer.get('/admin/api/workflows?status=bogus')).status).toBe(400);
    const detail = await (await as.viewer.get(`/admin/workflows/${workflowId}`)).text();
    expect(detail).toContain('Business Analyst says: done');
    expect(detail).toContain('gpt-4o-mini');
    expect(detail).toMatch(/<td>100 \+ 50<\/td>/);
    expect(detail).toContain('approved');
    // each step that ran links to the workflow's trace (OTEL_TRACE_URL_TEMPLATE, agents/tracing.ts workflowTraceId)
    expect(detail.match(/<a class="trace" href="([^"]+)"/g)?.length).toBeGreaterThanOrEqual(5);
    expect(detail).toContain(`href="http://localhost:16686/trace/${workflowTraceId(workflowId)}"`);
    const json = await (await as.viewer.get(`/admin/api/workflows/${workflowId}`)).json();
    expect(json.llmCalls.length).toBeGreaterThan(0);
    expect(json.approvals.every((a: { status: string }) => a.status === 'approved')).toBe(true);
    expect((await as.viewer.get('/admin/workflows/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });

  it('lets an approver cancel a running workflow and retry a failed step; a viewer may do neither', async () => {
    const wf = await h.prisma.workflow.create({
      data: { platform: 'slack', teamId: 'T1', channelId: 'C_OPS', threadTs: '1.1', requestText: 'cancel me', requestedBy: 'U1', sourceEventId: `ev-${Date.now()}`, template: 'default', status: 'step_failed' },
    });
    // a gate after the step: the retried step may finish before the cancel (the model answers at once), and the
    // workflow then waits at its gate, still under way, instead of completing
    const step = await h.prisma.step.create({ data: { workflowId: wf.id, position: 0, key: 'business_analyst', roleId: 'business_analyst', status: 'failed', error: 'boom', gateAfter: true } as never });
    expect((await as.viewer.post(`/admin/workflows/${wf.id}/cancel`, {})).status).toBe(403);
    expect((await as.viewer.post(`/admin/workflows/${wf.id}/retry`, { stepId: step.id })).status).toBe(403);
    const retried = await as.approver.post(`/admin/workflows/${wf.id}/retry`, { stepId: step.id });
    expect(retried.headers.get('location')).toBe(`/admin/workflows/${wf.id}?done=retried`);
    expect((await h.prisma.step.findUniqueOrThrow({ where: { id: step.id } })).runCount).toBe(1);
    const cancelled = await as.approver.post(`/admin/workflows/${wf.id}/cancel`, {});
    expect(cancelled.headers.get('location')).toBe(`/admin/workflows/${wf.id}?done=cancelled`);
    expect((await h.prisma.workflow.findUniqueOrThrow({ where: { id: wf.id } })).status).toBe('cancelled');
    expect((await as.approver.post(`/admin/workflows/${wf.id}/cancel`, {})).headers.get('location')).toContain('done=not-active');
    const actions = (await h.prisma.auditLog.findMany({ where: { target: { in: [wf.id, step.id] } } })).map((a) => [a.actor, a.action]);
    expect(actions).toEqual(expect.arrayContaining([['console:approver@example.com', 'step.retried'], ['console:approver@example.com', 'workflow.cancelled']]));
  });
});

describe('access (RBAC)', () => {
  it('lets everyone look but only admins change; a viewer and an approver are refused', async () => {
    expect((await as.viewer.get('/admin/rbac')).status).toBe(200);
    for (const who of ['viewer', 'approver'] as const) {
      expect((await as[who].post('/admin/rbac/chat-users', { platform: 'slack', userId: 'U_X', role: 'admin' })).status).toBe(403);
      expect((await as[who].post('/admin/rbac/gates', { roleId: 'developer', minRole: 'viewer' })).status).toBe(403);
      expect((await as[who].post('/admin/rbac/users', { email: 'n@example.com', password: PASSWORD, role: 'viewer' })).status).toBe(403);
    }
    expect(await h.prisma.chatUserRole.count({ where: { userId: 'U_X' } })).toBe(0);
  });

  it('needs the session CSRF token on every change', async () => {
    expect((await as.admin.post('/admin/rbac/chat-users', { platform: 'slack', userId: 'U_X', role: 'approver' }, { csrf: null })).status).toBe(403);
    expect((await as.admin.post('/admin/rbac/chat-users', { platform: 'slack', userId: 'U_X', role: 'approver' }, { csrf: await as.viewer.csrf() })).status).toBe(403);
    expect(await h.prisma.chatUserRole.count({ where: { userId: 'U_X' } })).toBe(0);
  });

  it('maps chat users, sets gate policies and creates console users, each audited', async () => {
    expect((await as.admin.post('/admin/rbac/chat-users', { platform: 'slack', userId: 'U_CAROL', role: 'approver' })).status).toBe(303);
    expect((await as.admin.post('/admin/rbac/chat-users', { platform: 'teams', userId: '29:1abc', role: 'viewer' })).status).toBe(303);
    expect((await as.admin.post('/admin/rbac/chat-users', { platform: 'slack', userId: 'bad id!', role: 'viewer' })).status).toBe(400);
    expect((await as.admin.post('/admin/rbac/gates', { roleId: 'business_analyst', minRole: 'admin' })).status).toBe(303);
    expect((await as.admin.post('/admin/rbac/gates', { roleId: 'not_a_role', minRole: 'admin' })).status).toBe(400);
    expect(await h.prisma.gatePolicy.findUnique({ where: { roleId: 'business_analyst' } })).toMatchObject({ minRole: 'admin' });
    expect((await as.admin.post('/admin/rbac/gates', { roleId: 'business_analyst', minRole: '' })).status).toBe(303);
    expect(await h.prisma.gatePolicy.count()).toBe(0);
    expect((await as.admin.post('/admin/rbac/chat-users/delete', { platform: 'teams', userId: '29:1abc' })).status).toBe(303);
    const api = await (await as.viewer.get('/admin/api/rbac')).json();
    expect(api.chatUsers.map((u: { userId: string; role: string }) => [u.userId, u.role])).toEqual([['U_CAROL', 'approver']]);
    expect(api.users.every((u: Record<string, unknown>) => !('passwordHash' in u))).toBe(true);
    expect((await as.admin.post('/admin/rbac/users', { email: 'new@example.com', password: PASSWORD, role: 'approver' })).status).toBe(303);
    expect((await as.admin.post('/admin/rbac/users', { email: 'short@example.com', password: 'short', role: 'viewer' })).status).toBe(400);
    expect((await adminClient(app).signIn('new@example.com', PASSWORD)).status).toBe(303);
    const audit = (await h.prisma.auditLog.findMany({ where: { actor: 'console:admin@example.com', action: { startsWith: 'rbac.' } } })).map((a) => [a.action, a.target]);
    expect(audit).toEqual(expect.arrayContaining([
      ['rbac.chat_user', 'slack:U_CAROL'], ['rbac.chat_user', 'teams:29:1abc'], ['rbac.gate_policy', 'business_analyst'], ['rbac.chat_user_removed', 'teams:29:1abc'], ['rbac.user_created', 'new@example.com'],
    ]));
  });

  it('keeps the owner role to owners', async () => {
    const viewer = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'viewer@example.com' } });
    const owner = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'owner@example.com' } });
    expect((await as.admin.post(`/admin/rbac/users/${viewer.id}/role`, { role: 'owner' })).status).toBe(403);
    expect((await as.admin.post(`/admin/rbac/users/${owner.id}/role`, { role: 'viewer' })).status).toBe(403);
    expect((await as.admin.post('/admin/rbac/users', { email: 'o2@example.com', password: PASSWORD, role: 'owner' })).status).toBe(403);
    expect((await as.owner.post(`/admin/rbac/users/${viewer.id}/role`, { role: 'approver' })).status).toBe(303);
    expect((await h.prisma.adminUser.findUniqueOrThrow({ where: { id: viewer.id } })).role).toBe('approver');
    expect((await as.owner.post(`/admin/rbac/users/${viewer.id}/role`, { role: 'viewer' })).status).toBe(303);
    // a role change ends the user's sessions
    expect((await as.viewer.get('/admin/api/rbac')).status).toBe(401);
    expect((await as.viewer.signIn('viewer@example.com', PASSWORD)).status).toBe(303);
  });
});

describe('roles', () => {
  it('shows roles with health and MCP links; a viewer and an approver cannot edit', async () => {
    const html = await (await as.viewer.get('/admin/roles')).text();
    expect(html).toContain('href="/mcp/business_analyst"');
    expect(html).toMatch(/data-role="developer"/);
    expect((await as.viewer.get('/admin/roles/developer')).status).toBe(200);
    const yaml = readFileSync(path.join(rolesDir, 'developer.yaml'), 'utf8');
    for (const who of ['viewer', 'approver'] as const) expect((await as[who].post('/admin/roles/developer', { yaml: yaml + '\n# x\n' })).status).toBe(403);
    expect(readFileSync(path.join(rolesDir, 'developer.yaml'), 'utf8')).toBe(yaml);
  });

  it('shows validation errors inline and saves a valid edit, audited as a config change', async () => {
    const file = path.join(rolesDir, 'developer.yaml');
    const yaml = readFileSync(file, 'utf8');
    const bad = await as.admin.post('/admin/roles/developer', { yaml: yaml.replace(/display_name: .*/, 'display_name: ""') });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toMatch(/role="alert">[^<]*persona\.display_name/);
    const renamed = await as.admin.post('/admin/roles/developer', { yaml: yaml.replace(/role_id: .*/, 'role_id: someone_else') });
    expect(renamed.status).toBe(422);
    expect(readFileSync(file, 'utf8')).toBe(yaml);
    const edited = yaml.replace(/display_name: .*/, 'display_name: Senior Developer');
    const ok = await as.admin.post('/admin/roles/developer', { yaml: edited });
    expect(ok.status).toBe(303);
    expect(readFileSync(file, 'utf8')).toBe(edited);
    expect(h.runtime.deps.roles.get('developer')!.persona.display_name).toBe('Senior Developer');
    // stored for every server and worker (orchestrator/role-sync.ts), not only this process
    expect((await h.prisma.roleDefinition.findUniqueOrThrow({ where: { roleId: 'developer' } })).yaml).toBe(edited);
    const entry = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'config.role', target: 'developer' } });
    expect(entry.actor).toBe('console:admin@example.com');
    expect(entry.detail).toMatchObject({ after: edited });
  });
});

describe('audit log', () => {
  it('is for admins and owners only', async () => {
    for (const who of ['viewer', 'approver'] as const) {
      expect((await as[who].get('/admin/audit')).status).toBe(403);
      expect((await as[who].get('/admin/audit.csv')).status).toBe(403);
      expect((await as[who].get('/admin/api/audit')).status).toBe(403);
    }
    expect((await as.owner.get('/admin/audit')).status).toBe(200);
  });

  it('is filterable and exports CSV', async () => {
    const html = await (await as.admin.get('/admin/audit?action=gate.')).text();
    expect(html).toContain('gate.approved');
    expect(html).not.toContain('auth.signin<');
    const csv = await as.admin.get('/admin/audit.csv?action=rbac.chat_user&actor=admin');
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.headers.get('content-disposition')).toContain('attachment');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('at,actor,action,target,detail');
    expect(lines.slice(1).every((l) => l.includes(',console:admin@example.com,rbac.chat_user'))).toBe(true);
    expect(lines.length).toBeGreaterThan(1);
    const api = await (await as.admin.get('/admin/api/audit?action=gate.approved')).json();
    expect(api[0]).toMatchObject({ actor: 'slack:U_ALICE', action: 'gate.approved' });
  });
});

describe('/metrics', () => {
  it('reports queue depth, step durations, tokens, cost, approvals and errors in the Prometheus format', async () => {
    const res = await app.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^rolecall_queue_jobs\{state="waiting"\} \d+$/m);
    expect(text).toMatch(/^rolecall_workflows\{status="completed"\} 1$/m);
    expect(text).toMatch(/^rolecall_step_duration_seconds\{role="business_analyst",quantile="0.95"\} [\d.e-]+$/m);
    expect(text).toMatch(/^rolecall_llm_tokens\{role="business_analyst",model="gpt-4o-mini",kind="prompt"\} \d+$/m);
    expect(text).toMatch(/^rolecall_llm_cost_usd\{role="business_analyst",model="gpt-4o-mini"\} [\d.e-]+$/m);
    expect(text).toMatch(/^rolecall_llm_errors\{role="business_analyst",model="gpt-4o-mini"\} 0$/m);
    expect(text).toMatch(/^rolecall_approvals\{status="approved"\} \d+$/m);
  });
});
