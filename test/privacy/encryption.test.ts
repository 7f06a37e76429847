// Encryption at rest (issue 18, orchestrator/privacy/at-rest.ts), on real PostgreSQL, Redis and the engine's worker: a
// workflow's request text, message text, step outputs, outbox posts and thread replies, playground messages, file
// summaries and the file store's bytes are not readable in clear with a raw SQL query (or on disk), yet read back
// in clear through the app (Prisma, the step context a later step's model call gets); clear rows written before are
// sealed by the backfill; rotation to a new master key keeps everything readable and the old key no longer unwraps;
// a wrong master key fails with EncryptionKeyError (at start and on reading).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../orchestrator/db';
import { atRest, EncryptionKeyError, envKeyWrapper, FILE_MAGIC, KeyRing, masterKeyIdOf, openCell } from '../../orchestrator/privacy/at-rest';
import { WebStore } from '../../bot/web/store';
import { LocalFileStore, objectKey, sha256Hex } from '../../agents/files/store';
import { costBy } from '../../web-admin/analytics/queries';
import { buttonsOf, engineSuite, type Engine } from '../support/engine';
import { waitFor } from '../support/wait';
import { gatePost } from '../support/flow';
import { startHarness } from '../support/harness';
import { mention } from '../support/slack-requests';

const suite = engineSuite();
const OLD = randomBytes(32);
const NEW = randomBytes(32);
const env = (key: Buffer, previous?: Buffer) => ({ ENCRYPTION_MASTER_KEY: key.toString('base64'), ...(previous ? { ENCRYPTION_MASTER_KEY_PREVIOUS: previous.toString('base64') } : {}) });

async function raw<T>(e: Pick<Engine, 'env'>, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: e.env.DATABASE_URL });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const ring = (key: Buffer, previous: Buffer[] = []) => new KeyRing(envKeyWrapper(key, previous));

describe('encryption at rest', () => {
  it('seals message text, outputs and posts in the database; the app reads them in clear', async () => {
    const e = await suite.start({ env: env(OLD) });
    const t = await e.mention('we need a login page with SSO for our customer portal');
    const gate = await e.waitForGate(t.threadTs, 1);
    await e.press('approve', buttonsOf(gate).approve!);
    await e.waitForGate(t.threadTs, 2);
    await e.postsSent();
    const wf = (await e.workflow(t.threadTs))!;

    // In the database: every message text, output and outbox view is a sealed value; no posted text appears in clear.
    const messages = await raw<{ text: string }>(e, 'SELECT text FROM "AgentMessage" WHERE "workflowId" = $1', [wf.id]);
    expect(messages.length).toBeGreaterThan(2);
    for (const m of messages) expect(m.text).toMatch(/^enc:v1:[0-9a-f-]{36}:[A-Za-z0-9_-]+$/);
    const steps = await raw<{ output: string | null; data: string | null }>(e, 'SELECT output, jsonb_typeof("outputData") AS data FROM "Step" WHERE "workflowId" = $1 AND output IS NOT NULL', [wf.id]);
    expect(steps.length).toBeGreaterThan(0);
    for (const s of steps) expect(s.output).toMatch(/^enc:v1:/);
    for (const s of steps) expect([null, 'string']).toContain(s.data); // structured output, when the role has one, is sealed too
    // Outbox views are sealed, but for a run's first "working…" line, written by the statement that starts the run
    // before the workspace is known (fixed wording: role name and attempt, no one's text).
    const views = await raw<{ kind: string; key: string; text: string | null }>(e, `SELECT jsonb_typeof(view) AS kind, key, view->>'text' AS text FROM "ChatOutbox" WHERE "workflowId" = $1`, [wf.id]);
    expect(views.filter((v) => v.kind === 'string').length).toBeGreaterThan(2);
    for (const v of views.filter((x) => x.kind !== 'string')) expect(v).toMatchObject({ key: expect.stringMatching(/^status:/), text: expect.stringContaining('is working') });
    const dump = JSON.stringify(await raw(e, `SELECT m.text, s.output, s."outputData", o.view FROM "AgentMessage" m JOIN "Step" s ON s."workflowId" = m."workflowId" JOIN "ChatOutbox" o ON o."workflowId" = m."workflowId" WHERE m."workflowId" = $1 AND jsonb_typeof(o.view) = 'string'`, [wf.id]));
    const output = e.messages(t.threadTs).find((p) => p.view.text.includes('Business Analyst') || p.persona.displayName === 'Business Analyst')!;
    const words = output.view.text.split(/\W+/).filter((w) => w.length > 6);
    expect(words.length).toBeGreaterThan(0);
    for (const w of words) expect(dump).not.toContain(w);
    // One data key for the workspace, wrapped by the master key named by its id.
    expect(await raw(e, 'SELECT scope, "masterKeyId" FROM "DataKey"')).toEqual([{ scope: 'slack:T1', masterKeyId: masterKeyIdOf(OLD) }]);

    // Through the app: Prisma reads clear text and JSON; the second step's model call got the first step's output.
    const app = await e.prisma.agentMessage.findMany({ where: { workflowId: wf.id } });
    expect(app.every((m) => !m.text.startsWith('enc:'))).toBe(true);
    expect(app.map((m) => m.text)).toContain(output.view.text);
    const first = wf.steps[0]!;
    expect(first.output).not.toMatch(/^enc:/);
    expect(typeof first.outputData).toBe('object');
    const prompt = JSON.stringify(e.openai.requests[1]);
    expect(prompt).toContain('Output of the Business Analyst');
    expect(prompt).toContain('requirements_doc');
    expect(prompt).not.toContain('enc:v1:');

    // The request's text: sealed in the database; clear through the app, and the cost analytics label (cut after the read).
    const [request] = await raw<{ text: string }>(e, 'SELECT "requestText" AS text FROM "Workflow" WHERE id = $1', [wf.id]);
    expect(request!.text).toMatch(/^enc:v1:/);
    expect(wf.requestText).toBe('we need a login page with SSO for our customer portal');
    expect((await costBy(e.prisma, new Date(0), 'workflow')).map((c) => c.label)).toContain(`we need a login page with SSO for our cu (${wf.id.slice(0, 8)})`);

    // A person's thread reply: sealed in the database, clear through the app.
    await e.reply(t.threadTs, 'please include the quarterly zebrafish budget');
    await waitFor(async () => (await e.prisma.threadReply.count({ where: { workflowId: wf.id } })) > 0, 'the reply to be recorded');
    const replies = await raw<{ text: string }>(e, 'SELECT text FROM "ThreadReply" WHERE "workflowId" = $1', [wf.id]);
    expect(replies.length).toBe(1);
    expect(replies[0]!.text).toMatch(/^enc:v1:/);
    expect(JSON.stringify(replies)).not.toContain('zebrafish');
    expect((await e.prisma.threadReply.findFirstOrThrow({ where: { workflowId: wf.id } })).text).toBe('please include the quarterly zebrafish budget');
  });

  it('seals playground messages (a person\'s and a persona\'s); the app reads them in clear', async () => {
    const e = await suite.start({ env: env(OLD), worker: false });
    const user = await e.prisma.adminUser.create({ data: { email: `p-${randomBytes(4).toString('hex')}@example.com`, passwordHash: 'x', role: 'owner' } });
    const store = new WebStore(e.prisma, e.deps.atRest);
    const thread = (await store.createThread(user, 'a thread'))!;
    const mine = (await store.addPersonMessage(thread.id, user, 'my secret platypus plan'))!;
    const post = await store.addPost(thread.id, { displayName: 'Business Analyst' }, { text: 'the analyst wrote about the platypus' });
    expect(await store.updatePost(thread.id, post, { displayName: 'Business Analyst' }, { text: 'the analyst rewrote the platypus note' })).toBe(true);
    const rows = await raw<{ id: string; text: string }>(e, 'SELECT id, text FROM "WebMessage" WHERE "threadId" = $1', [thread.id]);
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r.text).toMatch(/^enc:v1:/);
    expect(JSON.stringify(rows)).not.toContain('platypus');
    const read = await store.messages(thread.id, user.id);
    expect(read.map((m) => [m.id, m.text])).toEqual([[mine.id, 'my secret platypus plan'], [post, 'the analyst rewrote the platypus note']]);
  });

  it('seals clear rows written before (backfill) and leaves them readable', async () => {
    const e = await suite.start({ env: env(OLD), worker: false });
    const w = await e.prisma.workflow.create({ data: { platform: 'slack', teamId: 'T1', channelId: e.channelId, threadTs: '1.1', requestText: 'r', requestedBy: 'U1', sourceEventId: `ev-${randomBytes(4).toString('hex')}`, template: 'feature' } });
    const s = await e.prisma.step.create({ data: { workflowId: w.id, position: 0, roleId: 'business_analyst', output: 'clear output before encryption', outputData: { goal: 'clear data before' } } });
    await e.prisma.agentMessage.create({ data: { workflowId: w.id, stepId: s.id, roleId: 'business_analyst', kind: 'output', idempotencyKey: `old-${w.id}`, channelId: e.channelId, text: 'clear post before encryption' } });
    await e.prisma.agentMessage.create({ data: { workflowId: w.id, roleId: 'x', kind: 'output', idempotencyKey: `red-${w.id}`, channelId: e.channelId, text: '[redacted by retention]' } });
    await e.prisma.threadReply.create({ data: { workflowId: w.id, userId: 'U1', text: 'clear reply before encryption', messageTs: '1.2', sentAt: new Date() } });
    const fs = await e.prisma.fileSummary.create({ data: { sha256: randomBytes(32).toString('hex'), variant: 'v', text: 'clear summary before', parts: [], summarised: true, cut: false } });
    expect((await raw<{ text: string }>(e, 'SELECT text FROM "AgentMessage" WHERE id IS NOT NULL AND "idempotencyKey" = $1', [`old-${w.id}`]))[0]!.text).toBe('clear post before encryption');

    const counts = await e.deps.atRest!.backfill();
    expect(counts['AgentMessage.text']).toBeGreaterThanOrEqual(1);
    expect(counts['Step.output']).toBeGreaterThanOrEqual(1);
    expect(counts['Step.outputData']).toBeGreaterThanOrEqual(1);
    expect(counts['Workflow.requestText']).toBeGreaterThanOrEqual(1);
    expect((await raw<{ text: string }>(e, 'SELECT "requestText" AS text FROM "Workflow" WHERE id = $1', [w.id]))[0]!.text).toMatch(/^enc:v1:/);
    expect((await e.prisma.workflow.findUniqueOrThrow({ where: { id: w.id } })).requestText).toBe('r');
    expect(counts['ThreadReply.text']).toBeGreaterThanOrEqual(1);
    expect(counts['FileSummary.text']).toBeGreaterThanOrEqual(1);
    expect((await raw<{ text: string }>(e, 'SELECT text FROM "ThreadReply" WHERE "workflowId" = $1', [w.id]))[0]!.text).toMatch(/^enc:v1:/);
    expect((await raw<{ text: string }>(e, 'SELECT text FROM "FileSummary" WHERE id = $1', [fs.id]))[0]!.text).toMatch(/^enc:v1:/);
    expect((await e.prisma.threadReply.findFirstOrThrow({ where: { workflowId: w.id } })).text).toBe('clear reply before encryption');
    expect((await e.prisma.fileSummary.findUniqueOrThrow({ where: { id: fs.id } })).text).toBe('clear summary before');
    const rows = await raw<{ text: string; key: string }>(e, 'SELECT text, "idempotencyKey" AS key FROM "AgentMessage" WHERE "workflowId" = $1', [w.id]);
    expect(rows.find((r) => r.key === `old-${w.id}`)!.text).toMatch(/^enc:v1:/);
    expect(rows.find((r) => r.key === `red-${w.id}`)!.text).toBe('[redacted by retention]'); // markers stay comparable
    const step = await e.prisma.step.findUniqueOrThrow({ where: { id: s.id } });
    expect(step.output).toBe('clear output before encryption');
    expect(step.outputData).toEqual({ goal: 'clear data before' });
    expect((await e.prisma.agentMessage.findUniqueOrThrow({ where: { idempotencyKey: `old-${w.id}` } })).text).toBe('clear post before encryption');
    expect(await e.deps.atRest!.backfill()).toMatchObject({ 'AgentMessage.text': 0, 'Step.output': 0, 'Step.outputData': 0, 'Workflow.requestText': 0, 'ThreadReply.text': 0, 'WebMessage.text': 0, 'FileSummary.text': 0 });
  });

  it('rotates to a new master key: data stays readable, the old key no longer unwraps, the rotation is audited', async () => {
    const e = await suite.start({ env: env(NEW, OLD), worker: false }); // the rotation's rollout: new key, old one still unwrapping
    const url = e.env.DATABASE_URL!;
    const before = await e.prisma.agentMessage.findMany({ orderBy: { id: 'asc' } });
    expect(before.length).toBeGreaterThan(0);
    const result = await e.deps.atRest!.rotate('console:owner@example.com');
    expect(result).toMatchObject({ to: masterKeyIdOf(NEW), from: [masterKeyIdOf(OLD)] });
    expect(result.rewrapped).toBeGreaterThanOrEqual(1);
    expect(await raw(e, 'SELECT DISTINCT "masterKeyId" FROM "DataKey"')).toEqual([{ masterKeyId: masterKeyIdOf(NEW) }]);
    const entry = await e.prisma.auditLog.findFirst({ where: { action: 'encryption.key_rotated' } });
    expect(entry).toMatchObject({ actor: 'console:owner@example.com', target: masterKeyIdOf(NEW) });

    // Only the new key from now on: everything reads as before.
    const fresh = await openDatabase({ kind: 'postgres', url, poolMax: 2 }, ring(NEW));
    try {
      await atRest(fresh.prisma, ring(NEW)).check();
      expect((await fresh.prisma.agentMessage.findMany({ orderBy: { id: 'asc' } })).map((m) => m.text)).toEqual(before.map((m) => m.text));
    } finally {
      await fresh.close();
    }
    // The old key alone opens nothing any more.
    const old = await openDatabase({ kind: 'postgres', url, poolMax: 2 }, ring(OLD));
    try {
      await expect(atRest(old.prisma, ring(OLD)).check()).rejects.toThrow(EncryptionKeyError);
      await expect(old.prisma.agentMessage.findMany()).rejects.toThrow(EncryptionKeyError);
    } finally {
      await old.close();
    }
  });

  it('fails clearly with a wrong master key or none: EncryptionKeyError, at start and on reading', async () => {
    const wrong = randomBytes(32);
    await expect(suite.start({ env: env(wrong), worker: false })).rejects.toThrow(EncryptionKeyError);
    const e = await suite.start({ worker: false }); // no key: encryption off, sealed rows cannot be read
    await expect(e.prisma.agentMessage.findMany()).rejects.toThrow(EncryptionKeyError);
    await expect(e.prisma.agentMessage.findMany()).rejects.toThrow(/ENCRYPTION_MASTER_KEY is unset/);
    expect(await e.prisma.agentMessage.count()).toBeGreaterThan(0); // counts and ids work without a key
  });
});

describe('files at rest', () => {
  it('seals a large file\'s kept summary and its bytes in the store; the app reads them in clear, old clear files too', async () => {
    const h = await startHarness({ env: env(OLD) });
    try {
      const sections = Array.from({ length: 40 }, (_, i) => `# Chapter ${i + 1}\n\n${`Requirement ${i + 1} says the checkout keeps working when the payment provider is slow. `.repeat(40)}`);
      const big = h.slack.addFile('handbook.md', new TextEncoder().encode(sections.join('\n\n')), 'text/markdown');
      const ev = { ...mention('we need a login page with SSO for our customer portal'), files: [big] };
      expect((await h.post.event(ev)).status).toBe(200);
      await waitFor(() => gatePost(h, ev.ts, 1), 'the first gate');
      const rows = await raw<{ text: string }>(h, 'SELECT text FROM "FileSummary"');
      expect(rows.length).toBe(1);
      expect(rows[0]!.text).toMatch(/^enc:v1:/);
      const summary = await h.prisma.fileSummary.findFirstOrThrow();
      expect(summary.text).not.toMatch(/^enc:/);
      expect(summary.text.length).toBeGreaterThan(0);

      // The file's bytes on disk are encrypted, under the hash of the clear bytes (dedup); the store reads them in clear.
      const clear = Buffer.from(sections.join('\n\n'));
      const sha = sha256Hex(clear);
      const onDisk = await readFile(path.join(h.env.FILES_DIR!, ...objectKey(sha).split('/')));
      expect(onDisk.subarray(0, FILE_MAGIC.length).equals(FILE_MAGIC)).toBe(true);
      expect(onDisk.includes(Buffer.from('Requirement 1 says the checkout'))).toBe(false);
      const store = h.runtime.deps.files!.store;
      expect(Buffer.from((await store.get(sha))!).equals(clear)).toBe(true);
      expect(await store.put(clear, 'text/markdown')).toMatchObject({ sha256: sha, created: false });
      // A file stored in clear before encryption was on stays readable.
      const old = Buffer.from('a file stored before encryption');
      await new LocalFileStore({ dir: h.env.FILES_DIR! }).put(old, 'text/plain');
      expect(Buffer.from((await store.get(sha256Hex(old)))!).equals(old)).toBe(true);
    } finally {
      await h.close();
    }
  });
});

describe('sealed cells', () => {
  it('opens text cells, JSON cells holding a sealed value, and JSON built around sealed values; leaves the rest alone', async () => {
    const r = ring(OLD);
    const id = '00000000-0000-4000-8000-000000000001';
    r.add({ id, scope: 's', wrappedKey: envKeyWrapper(OLD).wrap(Buffer.alloc(32, 7), 's'), masterKeyId: masterKeyIdOf(OLD) });
    // a sealer for the key above, through the public surface: atRest() needs a database, so seal by hand as it does
    const { aeadSeal, pack } = await import('../../agents/crypto/aead');
    const seal = (kind: string, body: string) => `enc:v1:${id}:${pack(aeadSeal(Buffer.alloc(32, 7), Buffer.from(kind + body), Buffer.from(`enc:v1:${id}`))).toString('base64url')}`;
    expect(openCell(r, seal('t', 'hello'))).toBe('hello');
    expect(JSON.parse(openCell(r, JSON.stringify(seal('j', '{"a":1}'))))).toEqual({ a: 1 });
    expect(JSON.parse(openCell(r, JSON.stringify([{ output: seal('t', 'x'), outputData: seal('j', '[1,2]') }])))).toEqual([{ output: 'x', outputData: [1, 2] }]);
    expect(openCell(r, 'a text that mentions enc:v1: in passing')).toBe('a text that mentions enc:v1: in passing');
    const tampered = seal('t', 'hello').slice(0, -2) + 'AA';
    expect(() => openCell(r, tampered)).toThrow(EncryptionKeyError);
  });
});
