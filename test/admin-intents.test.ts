// The console's intent examples page (/admin/intents) over in-process requests on real PostgreSQL and Redis: admins
// only, CSRF on every change, messages escaped, reviews audited, and an accepted example trains the classifier at once.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { defaultScript } from './support/fake-openai';
import { startHarness, type Harness } from './support/harness';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'admin' | 'viewer', AdminClient> = {} as never;

const example = (text: string, label: string | null, n: number) => ({
  sourceEventId: `slack:C_TEAM:17000000${n}.000100`, platform: 'slack' as const, teamId: 'T1', channelId: 'C_TEAM', threadTs: `17000000${n}.000100`,
  text, requestedBy: 'U_ALICE', candidates: ['status_report', 'test_plan'], guess: 'test_plan', confidence: 0.12, label, labelledBy: label ? 'U_ALICE' : null, labelledAt: label ? new Date() : null,
});

beforeAll(async () => {
  // The model stage is unsure (none at 0.1), so what decides is the local classifier and what it learned.
  h = await startHarness({
    env: { ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef' },
    script: (req, n) => (req.response_format?.json_schema?.name === 'intent' ? { content: JSON.stringify({ intent: 'none', confidence: 0.1, reason: 'unsure' }) } : defaultScript(req, n)),
  });
  app = h.runtime.app!;
  for (const role of ['admin', 'viewer'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
});
afterAll(async () => { await h?.close(); });

describe('/admin/intents', () => {
  it('lists the answered questions for admins only, escaped, with a link in the navigation', async () => {
    await h.prisma.intentExample.create({ data: example('<script>alert(1)</script> zorblax report', 'status_report', 1) });
    const page = await as.admin.get('/admin/intents');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('href="/admin/intents"');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; zorblax report');
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toMatch(/Status report \(<span class="person">U_ALICE<\/span>\)/); // no stored name: the id
    expect((await as.viewer.get('/admin/intents')).status).toBe(403);
    expect((await as.viewer.get('/admin/api/intents')).status).toBe(403);
    expect((await adminClient(app).get('/admin/intents')).status).toBe(303);
    const api = await (await as.admin.get('/admin/api/intents?review=all')).json() as { text: string }[];
    expect(api.map((r) => r.text)).toContain('<script>alert(1)</script> zorblax report');
  });

  it('accepting needs the CSRF token and an admin, is audited, and trains the classifier at once', async () => {
    const text = 'zorblax frobnication wibble digest';
    const ex = await h.prisma.intentExample.create({ data: example(text, 'status_report', 2) });
    expect((await h.runtime.deps.planner.decide(text)).kind).toBe('none');
    expect((await as.admin.post(`/admin/intents/${ex.id}/accept`, { label: 'status_report' }, { csrf: 'x'.repeat(32) })).status).toBe(403);
    expect((await as.viewer.post(`/admin/intents/${ex.id}/accept`, { label: 'status_report' })).status).toBe(403);
    expect((await as.admin.post(`/admin/intents/${ex.id}/accept`, { label: 'no_such_template' })).status).toBe(400);
    const ok = await as.admin.post(`/admin/intents/${ex.id}/accept`, { label: 'status_report' });
    expect(ok.status).toBe(303);
    expect(await h.prisma.intentExample.findUniqueOrThrow({ where: { id: ex.id } })).toMatchObject({ review: 'accepted', label: 'status_report', reviewedBy: 'console:admin@example.com' });
    const row = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'intent_example.accepted', target: ex.id } });
    expect(row).toMatchObject({ actor: 'console:admin@example.com', detail: { label: 'status_report', answered: 'status_report' } });
    const d = await h.runtime.deps.planner.decide('zorblax frobnication wibble digest please');
    expect(d.kind === 'plan' && d.plan.templateId).toBe('status_report');
  });

  it('an admin can relabel an answer as small talk, or reject it', async () => {
    const a = await h.prisma.intentExample.create({ data: example('yo rolecall whats crackin', 'other', 3) });
    expect((await as.admin.post(`/admin/intents/${a.id}/accept`, { label: 'none' })).status).toBe(303);
    expect((await h.prisma.intentExample.findUniqueOrThrow({ where: { id: a.id } })).label).toBe('none');
    const b = await h.prisma.intentExample.create({ data: example('asdf', 'test_plan', 4) });
    expect((await as.admin.post(`/admin/intents/${b.id}/reject`, {})).status).toBe(303);
    expect((await h.prisma.intentExample.findUniqueOrThrow({ where: { id: b.id } })).review).toBe('rejected');
    expect(await h.prisma.auditLog.count({ where: { action: 'intent_example.rejected', target: b.id } })).toBe(1);
    expect((await as.admin.post('/admin/intents/not-a-uuid/reject', {})).status).toBe(404);
  });
});
