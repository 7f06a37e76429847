// Privacy (issue 18) on real PostgreSQL and a local file store: a subject request exports and erases one person across
// every table and the file store while nothing of another person changes; retention deletes exactly what is past its
// policy, resumes after a crash mid-run, and leaves workflows under a legal hold alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFileStore } from '../../agents/files/store';
import { openDatabase, type Database } from '../../orchestrator/db';
import { REDACTED_TEXT, runRetention } from '../../orchestrator/privacy/retention';
import { ERASED_TEXT, eraseSubject, exportSubject, pseudonym } from '../../orchestrator/privacy/subject';
import { createTestDatabase } from '../support/test-database';

const SECRET = 'test-pseudonym-secret';
let db: Database;
let drop: () => Promise<void>;
let dir: string;
let store: LocalFileStore;

beforeAll(async () => {
  const t = await createTestDatabase();
  drop = t.drop;
  db = await openDatabase({ kind: 'postgres', url: t.url, poolMax: 3 });
  dir = await mkdtemp(path.join(tmpdir(), 'rolecall-privacy-'));
  store = new LocalFileStore({ dir });
});
afterAll(async () => {
  await db?.close();
  await drop?.();
  await rm(dir, { recursive: true, force: true });
});

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000);

/** One person's workflow with a reply, a decision, votes, a file (bytes in the store) and audit rows. */
async function person(user: string, channel: string, fileText: string, createdAt = new Date(), team = 'T1') {
  const p = db.prisma;
  const wf = await p.workflow.create({
    data: { platform: 'slack', teamId: team, channelId: channel, threadTs: `${user}.1`, requestText: `request by ${user}, mail ${user}@example.com`, requestedBy: user, sourceEventId: `ev-${user}-${channel}`, template: 'feature', createdAt },
  });
  const step = await p.step.create({ data: { workflowId: wf.id, position: 0, roleId: 'analyst', output: `output for ${user}`, finishedAt: createdAt } });
  await p.agentMessage.create({ data: { workflowId: wf.id, stepId: step.id, roleId: 'analyst', kind: 'output', idempotencyKey: `k-${wf.id}`, channelId: channel, text: `post for ${user}`, createdAt } });
  await p.threadReply.create({ data: { workflowId: wf.id, userId: user, text: `reply by ${user}`, messageTs: '2.0', sentAt: createdAt, createdAt } });
  const approval = await p.approval.create({ data: { workflowId: wf.id, stepId: step.id, revision: 1, status: 'approved', decidedBy: user, decidedAt: createdAt } });
  await p.approvalVote.create({ data: { approvalId: approval.id, userId: user } });
  await p.satisfaction.create({ data: { workflowId: wf.id, userId: user, score: 1 } });
  await p.chatUserRole.create({ data: { platform: 'slack', userId: user, role: 'approver' } });
  await p.auditLog.create({ data: { actor: `slack:${user}`, action: 'gate.approved', target: approval.id, at: createdAt } });
  await p.llmCall.create({ data: { workflowId: wf.id, stepId: step.id, provider: 'openai', model: 'm', latencyMs: 1, ok: true, createdAt } });
  const bytes = new TextEncoder().encode(fileText);
  const stored = await store.put(bytes, 'text/plain');
  const blob = await p.fileBlob.create({ data: { store: store.id, sha256: stored.sha256, bytes: bytes.length, mime: 'text/plain', status: 'extracted', extractedText: fileText } });
  await p.sharedFile.create({ data: { workflowId: wf.id, platform: 'slack', source: `slack:${channel}:${user}:F1`, name: `${user}.txt`, mime: 'text/plain', bytes: bytes.length, sha256: stored.sha256, blobId: blob.id, status: 'extracted', createdAt } });
  return { wf, step, approval, sha256: stored.sha256 };
}

/** Everything of a person's rows, for "nothing changed" comparisons. */
async function snapshot(user: string) {
  const p = db.prisma;
  return {
    workflows: await p.workflow.findMany({ where: { requestedBy: user }, omit: { updatedAt: true } }),
    replies: await p.threadReply.findMany({ where: { userId: user } }),
    approvals: await p.approval.findMany({ where: { decidedBy: user } }),
    votes: await p.approvalVote.findMany({ where: { userId: user } }),
    satisfaction: await p.satisfaction.findMany({ where: { userId: user }, omit: { updatedAt: true } }),
    roles: await p.chatUserRole.findMany({ where: { userId: user }, omit: { updatedAt: true } }),
    audit: await p.auditLog.findMany({ where: { actor: `slack:${user}` } }),
    files: await p.sharedFile.findMany({ where: { name: `${user}.txt` } }),
  };
}

describe('subject requests', () => {
  it('exports and erases one person across every table and the file store; nothing of another person changes', async () => {
    const alice = await person('UALICE', 'C1', 'alice private file');
    const bob = await person('UBOB', 'C1', 'bob private file');
    await db.prisma.adminUser.create({ data: { email: 'alice@example.com', passwordHash: 'x', role: 'viewer' } });
    await db.prisma.auditLog.create({ data: { actor: 'console:alice@example.com', action: 'auth.signin' } });
    await db.prisma.auditLog.create({ data: { actor: 'console:owner@example.com', action: 'rbac.chat_user', target: 'slack:UALICE' } });
    await db.prisma.auditLog.create({ data: { actor: 'console:owner@example.com', action: 'rbac.user_role', target: 'alice@example.com' } });
    const bobBefore = await snapshot('UBOB');

    const exported = await exportSubject(db.prisma, { userIds: ['UALICE'], emails: ['alice@example.com'] }, 'console:admin@example.com', { files: store });
    expect(exported.workflowsRequested.map((w) => w.id)).toEqual([alice.wf.id]);
    expect(exported.threadReplies[0]!.text).toBe('reply by UALICE');
    expect(exported.approvalsDecided).toHaveLength(1);
    expect(exported.approvalVotes).toHaveLength(1);
    expect(exported.satisfactionVotes).toHaveLength(1);
    expect(exported.chatRoles).toHaveLength(1);
    expect(exported.consoleUsers.map((u) => u.email)).toEqual(['alice@example.com']);
    expect(exported.auditEntries.map((a) => a.actor).sort()).toEqual(['console:alice@example.com', 'slack:UALICE']);
    expect(Buffer.from(exported.files[0]!.contentBase64!, 'base64').toString()).toBe('alice private file');
    expect(JSON.stringify(exported)).not.toContain('UBOB'); // machine-readable, and only hers
    expect(await db.prisma.auditLog.count({ where: { action: 'privacy.export', actor: 'console:admin@example.com' } })).toBe(1);

    const counts = await eraseSubject(db.prisma, { userIds: ['UALICE'], emails: ['alice@example.com'] }, 'console:admin@example.com', { pseudonymSecret: SECRET, files: store });
    const p = pseudonym(SECRET, 'UALICE');
    expect(counts).toMatchObject({ threadReplies: 1, approvals: 1, approvalVotes: 1, satisfactionVotes: 1, chatRoles: 1, files: 1, consoleUsers: 1, fileBytesRemoved: 1 });
    // nothing of hers is left under her ids
    expect((await exportSubject(db.prisma, { userIds: ['UALICE'], emails: ['alice@example.com'] }, 'console:admin@example.com', { files: store })).workflowsRequested).toHaveLength(0);
    const wf = await db.prisma.workflow.findUniqueOrThrow({ where: { id: alice.wf.id } });
    expect(wf).toMatchObject({ requestedBy: p, requestText: ERASED_TEXT });
    expect(await db.prisma.threadReply.findFirst({ where: { workflowId: alice.wf.id } })).toMatchObject({ userId: p, text: ERASED_TEXT });
    // the decision survives, by the pseudonym
    expect(await db.prisma.approval.findUniqueOrThrow({ where: { id: alice.approval.id } })).toMatchObject({ status: 'approved', decidedBy: p });
    expect(await db.prisma.auditLog.findFirst({ where: { target: alice.approval.id } })).toMatchObject({ action: 'gate.approved', actor: p });
    expect(await db.prisma.auditLog.count({ where: { actor: { in: ['slack:UALICE', 'console:alice@example.com'] } } })).toBe(0);
    expect(await db.prisma.auditLog.count({ where: { target: { in: ['slack:UALICE', 'alice@example.com'] } } })).toBe(0);
    expect(await db.prisma.auditLog.count({ where: { action: 'rbac.chat_user', target: p } })).toBe(1);
    expect(await db.prisma.adminUser.count({ where: { email: 'alice@example.com' } })).toBe(0);
    expect(await store.has(alice.sha256)).toBe(false);
    expect(await db.prisma.auditLog.findFirst({ where: { action: 'privacy.erase' } })).toMatchObject({ actor: 'console:admin@example.com', target: p });
    // the pseudonym is stable
    expect(pseudonym(SECRET, 'UALICE')).toBe(p);
    // Bob: untouched, his bytes still in the store
    expect(await snapshot('UBOB')).toEqual(bobBefore);
    expect(await store.has(bob.sha256)).toBe(true);
    expect(new TextDecoder().decode(await store.get(bob.sha256))).toBe('bob private file');
  });
});

describe('retention', () => {
  it('deletes and redacts exactly what is past policy, resumes after a crash mid-run, and respects legal holds', async () => {
    const p = db.prisma;
    await p.retentionPolicy.createMany({ data: [
      { kind: 'thread_text', scopeKey: '*', days: 30, updatedBy: 't' },
      // a channel that keeps thread text longer
      { kind: 'thread_text', scopeKey: 'channel:slack:CKEEP', days: 365, updatedBy: 't' },
      { kind: 'outputs', scopeKey: '*', days: 30, updatedBy: 't' },
      { kind: 'files', scopeKey: '*', days: 30, updatedBy: 't' },
      { kind: 'llm_calls', scopeKey: '*', days: 30, updatedBy: 't' },
    ] });
    const olds = [];
    for (let i = 0; i < 5; i++) olds.push(await person(`UOLD${i}`, 'CR', `old file ${i}`, daysAgo(60), 'TR'));
    const kept = await person('UKEEP', 'CKEEP', 'kept channel file', daysAgo(60), 'TR');
    const fresh = await person('UNEW', 'CR', 'new file', daysAgo(5), 'TR');
    const held = await person('UHELD', 'CR', 'held file', daysAgo(60), 'TR');
    await p.legalHold.create({ data: { workflowId: held.wf.id, reason: 'litigation', placedBy: 'console:admin@example.com' } });
    await p.inboundEvent.create({ data: { id: 'old-event', platform: 'slack', kind: 'message', receivedAt: daysAgo(400) } });

    // crash after the second batch
    await expect(runRetention(p, { defaults: [{ kind: 'inbound', scopeKey: '*', days: 90 }], batchSize: 2, files: store, afterBatch: (n) => { if (n === 2) throw new Error('simulated crash'); } })).rejects.toThrow('simulated crash');
    const crashed = await p.retentionRun.findFirstOrThrow();
    expect(crashed).toMatchObject({ status: 'running', batches: 2 });
    expect(crashed.error).toContain('simulated crash');

    const run = await runRetention(p, { defaults: [{ kind: 'inbound', scopeKey: '*', days: 90 }], batchSize: 2, files: store });
    expect(run.id).toBe(crashed.id); // the same run, continued
    expect(run.status).toBe('done');
    expect(await p.retentionRun.count()).toBe(1);

    for (const o of olds) {
      expect((await p.workflow.findUniqueOrThrow({ where: { id: o.wf.id } })).requestText).toBe(REDACTED_TEXT);
      expect((await p.threadReply.findFirstOrThrow({ where: { workflowId: o.wf.id } })).text).toBe(REDACTED_TEXT);
      expect((await p.agentMessage.findFirstOrThrow({ where: { workflowId: o.wf.id } })).text).toBe(REDACTED_TEXT);
      expect((await p.step.findFirstOrThrow({ where: { workflowId: o.wf.id } })).output).toBe(REDACTED_TEXT);
      expect(await p.sharedFile.count({ where: { workflowId: o.wf.id } })).toBe(0);
      expect(await p.llmCall.count({ where: { workflowId: o.wf.id } })).toBe(0);
      expect(await store.has(o.sha256)).toBe(false);
      // decisions are not a retention kind here: they stay
      expect(await p.approval.count({ where: { workflowId: o.wf.id } })).toBe(1);
    }
    // the channel with a longer thread-text policy keeps its text, but its outputs follow "*"
    expect((await p.threadReply.findFirstOrThrow({ where: { workflowId: kept.wf.id } })).text).toBe('reply by UKEEP');
    expect((await p.agentMessage.findFirstOrThrow({ where: { workflowId: kept.wf.id } })).text).toBe(REDACTED_TEXT);
    // fresh rows and the held workflow are untouched
    for (const w of [fresh, held]) {
      expect((await p.workflow.findUniqueOrThrow({ where: { id: w.wf.id } })).requestText).not.toBe(REDACTED_TEXT);
      expect((await p.threadReply.findFirstOrThrow({ where: { workflowId: w.wf.id } })).text).not.toBe(REDACTED_TEXT);
      expect((await p.agentMessage.findFirstOrThrow({ where: { workflowId: w.wf.id } })).text).not.toBe(REDACTED_TEXT);
      expect(await p.sharedFile.count({ where: { workflowId: w.wf.id } })).toBe(1);
      expect(await p.llmCall.count({ where: { workflowId: w.wf.id } })).toBe(1);
      expect(await store.has(w.sha256)).toBe(true);
    }
    expect(await p.inboundEvent.count({ where: { id: 'old-event' } })).toBe(0);
    const counts = run.counts as Record<string, number>;
    expect(counts.files).toBe(6); // five old + the kept channel's (files follow "*")
    expect(counts.llm_calls).toBe(6);
    expect(await p.auditLog.count({ where: { action: 'retention.run', target: run.id } })).toBe(1);
  });
});
