// Encryption at rest in the console (issue 18), over Hono in-process requests on real PostgreSQL and Redis: a sealed
// message reads in clear on the workflow page; only owners re-wrap the data keys (admins are refused, CSRF checked);
// the rotation moves every data key to the new master key, keeps the message readable, and is on the compliance report.
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { atRest, envKeyWrapper, KeyRing, masterKeyIdOf } from '../../orchestrator/privacy/at-rest';
import { adminClient, type AdminClient } from '../support/admin-client';
import { startHarness, type Harness } from '../support/harness';

const PASSWORD = 'a long enough password';
const OLD = randomBytes(32);
const NEW = randomBytes(32);
let h: Harness;
let app: Hono;
let workflowId: string;
const as: Record<'owner' | 'admin', AdminClient> = {} as never;

beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef', ENCRYPTION_MASTER_KEY: NEW.toString('base64'), ENCRYPTION_MASTER_KEY_PREVIOUS: OLD.toString('base64') } });
  app = h.runtime.app!;
  for (const role of ['owner', 'admin'] as const) {
    await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role);
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
  // A workspace whose data key was made under the old master key, with a sealed post.
  const old = atRest(h.prisma, new KeyRing(envKeyWrapper(OLD)));
  const seal = await old.sealer('slack:T9');
  const wf = await h.prisma.workflow.create({ data: { platform: 'slack', teamId: 'T9', channelId: 'C9', threadTs: '1.0', requestText: 'r', requestedBy: 'U1', sourceEventId: 'ev-enc', template: 'feature' } });
  workflowId = wf.id;
  await h.prisma.agentMessage.create({ data: { workflowId: wf.id, roleId: 'business_analyst', kind: 'output', idempotencyKey: 'enc-msg', channelId: 'C9', text: seal.text('the secret requirements of T9') } });
});
afterAll(async () => { await h?.close(); });

async function rawText(): Promise<string> {
  const c = new pg.Client({ connectionString: h.env.DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(`SELECT text FROM "AgentMessage" WHERE "idempotencyKey" = 'enc-msg'`)).rows[0].text as string;
  } finally {
    await c.end();
  }
}

describe('encryption in the console', () => {
  it('shows sealed text in clear, lets only owners re-wrap the keys, and reports the rotation', async () => {
    expect(await rawText()).toMatch(/^enc:v1:/);
    expect(await (await as.admin.get(`/admin/workflows/${workflowId}`)).text()).toContain('the secret requirements of T9');
    const page = await (await as.owner.get('/admin/privacy')).text();
    expect(page).toContain(`master key <code>${masterKeyIdOf(NEW)}</code>`);

    expect((await as.admin.post('/admin/privacy/encryption/rotate', {})).status).toBe(403);
    expect((await as.owner.post('/admin/privacy/encryption/rotate', {}, { csrf: null })).status).toBe(403);
    const done = await as.owner.post('/admin/privacy/encryption/rotate', {});
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Re-wrapped 1 data key(s)');
    expect((await h.prisma.dataKey.findMany()).map((k) => k.masterKeyId)).toEqual([masterKeyIdOf(NEW)]);
    expect(await (await as.admin.get(`/admin/workflows/${workflowId}`)).text()).toContain('the secret requirements of T9');

    const report = await (await as.admin.get('/admin/api/compliance?format=json')).json() as unknown;
    expect(JSON.stringify(report)).toContain('encryption.key_rotated');
    expect(JSON.stringify(report)).toContain('owner@example.com');
  });
});
