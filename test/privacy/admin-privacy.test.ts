// The console's privacy and compliance pages over Hono in-process requests on real PostgreSQL and Redis: only admins and
// owners run subject requests and change retention (viewers, missing CSRF tokens and anonymous requests are refused),
// exports and erasures are audited, and the compliance report exports CSV with formula injection defused.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from '../support/admin-client';
import { startHarness, type Harness } from '../support/harness';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'admin' | 'viewer', AdminClient> = {} as never;

beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef' } });
  app = h.runtime.app!;
  for (const role of ['admin', 'viewer'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
  const wf = await h.prisma.workflow.create({ data: { platform: 'slack', teamId: 'T1', channelId: 'C1', threadTs: '1.0', requestText: 'from carol', requestedBy: 'UCAROL', sourceEventId: 'ev-carol', template: 'feature' } });
  await h.prisma.threadReply.create({ data: { workflowId: wf.id, userId: 'UCAROL', text: 'carol says hi', messageTs: '2.0', sentAt: new Date() } });
  await h.prisma.threadReply.create({ data: { workflowId: wf.id, userId: 'UDAVE', text: 'dave says hi', messageTs: '3.0', sentAt: new Date() } });
});
afterAll(async () => { await h?.close(); });

describe('privacy page', () => {
  it('refuses non-admins, missing CSRF tokens and anonymous requests', async () => {
    const subject = { userIds: 'UCAROL', emails: '' };
    expect((await as.viewer.post('/admin/privacy/subject/export', subject)).status).toBe(403);
    expect((await as.viewer.post('/admin/privacy/subject/erase', { ...subject, confirm: 'ERASE' })).status).toBe(403);
    expect((await as.viewer.post('/admin/privacy/retention', { kind: 'audit', scopeKey: '*', days: '30' })).status).toBe(403);
    expect((await as.viewer.post('/admin/privacy/settings', { scopeKey: '*', redactPii: 'on' })).status).toBe(403);
    expect((await as.viewer.get('/admin/compliance')).status).toBe(403);
    expect((await as.admin.post('/admin/privacy/subject/export', subject, { csrf: null })).status).toBe(403);
    expect((await adminClient(app).get('/admin/api/compliance')).status).toBe(401);
    expect(await h.prisma.retentionPolicy.count()).toBe(0);
    expect(await h.prisma.privacySetting.count()).toBe(0);
    expect(await h.prisma.threadReply.count({ where: { userId: 'UCAROL', text: 'carol says hi' } })).toBe(1);
    expect(await h.prisma.auditLog.count({ where: { action: { startsWith: 'privacy.' } } })).toBe(0);
    const page = await (await as.viewer.get('/admin/privacy')).text();
    expect(page).toContain('changes need the admin role');
    expect(page).not.toContain('id="subject-erase"');
  });

  it('lets an admin export and erase a person, set retention and privacy settings, all audited', async () => {
    const res = await as.admin.post('/admin/privacy/subject/export', { userIds: 'UCAROL', emails: '' });
    expect(res.status).toBe(200);
    const data = await res.json() as { threadReplies: { text: string }[] };
    expect(data.threadReplies.map((r) => r.text)).toEqual(['carol says hi']);
    expect((await as.admin.post('/admin/privacy/subject/erase', { userIds: 'UCAROL', emails: '' })).status).toBe(400); // no confirmation
    expect((await as.admin.post('/admin/privacy/subject/erase', { userIds: 'UCAROL', emails: '', confirm: 'ERASE' })).status).toBe(200);
    expect(await h.prisma.threadReply.count({ where: { userId: 'UCAROL' } })).toBe(0);
    expect(await h.prisma.threadReply.count({ where: { userId: 'UDAVE', text: 'dave says hi' } })).toBe(1);
    expect((await as.admin.post('/admin/privacy/retention', { kind: 'thread_text', scopeKey: 'channel:slack:C1', days: '30' })).status).toBe(303);
    expect((await as.admin.post('/admin/privacy/retention', { kind: 'thread_text', scopeKey: '<script>', days: '30' })).status).toBe(400);
    expect((await as.admin.post('/admin/privacy/settings', { scopeKey: 'team:slack:T1', redactPii: 'on' })).status).toBe(303);
    expect(await h.prisma.privacySetting.findUnique({ where: { scopeKey: 'team:slack:T1' } })).toMatchObject({ redactPii: true, localModelsOnly: false });
    const actions = (await h.prisma.auditLog.findMany({ where: { actor: 'console:admin@example.com', action: { startsWith: 'privacy.' } } })).map((a) => a.action).sort();
    expect(actions).toEqual(['privacy.erase', 'privacy.export', 'privacy.retention_set', 'privacy.settings']);
    const csv = await (await as.admin.get('/admin/api/compliance?format=csv')).text();
    expect(csv.split('\r\n')[0]).toBe('at,actor,action,target,detail');
    expect(csv).toContain('"privacy.erase"');
    expect(csv).toContain('"privacy.export"');
  });
});
