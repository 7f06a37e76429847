// Retention (issue 18): per data kind and per scope ("*", a workspace platform:teamId, a channel platform:channelId),
// rows older than the policy's days are deleted or redacted, in batches. A run is resumable: its RetentionRun row
// holds the index of the next task (one task = one kind under one policy) and the counts so far, so a run that
// crashed mid-way is continued by the next run instead of starting over. Invariants: a row is touched only when it is
// past the policy of its most specific scope (a channel policy wins over its workspace's, which wins over "*"); rows
// of workflows under a legal hold are never touched; each batch is one conditional write (redactions skip rows
// already redacted, so a repeated batch changes nothing).
import { z } from 'zod';
import { Prisma } from '../../generated/prisma/client';
import type { FileStore } from '../../agents/files/store';
import { audit } from '../audit';
import type { Db } from '../db';

export const RETENTION_KINDS = ['thread_text', 'outputs', 'files', 'llm_calls', 'audit', 'inbound'] as const;
export type RetentionKind = (typeof RETENTION_KINDS)[number];
/** Kinds whose rows belong to a workflow (and so to a workspace and channel, and may be under a legal hold). */
const WORKFLOW_KINDS: readonly RetentionKind[] = ['thread_text', 'outputs', 'files'];

export const retentionRuleSchema = z.object({
  kind: z.enum(RETENTION_KINDS),
  scopeKey: z.string().trim().regex(/^(\*|(team|channel):(slack|teams|web):[A-Za-z0-9_.:%@-]{1,200})$/, 'must be *, team:platform:id or channel:platform:id (e.g. team:slack:T0123, channel:slack:C0123)'),
  days: z.coerce.number().int().min(1).max(36_500),
});
export type RetentionRule = z.infer<typeof retentionRuleSchema> & { source?: 'config' | 'console' };

export interface RetentionOptions {
  /** Config defaults (RETENTION); console rows of the same kind and scope win. */
  defaults: RetentionRule[];
  batchSize: number;
  files?: FileStore;
  /** Test hook: called after each batch (a throw simulates a crash mid-run). */
  afterBatch?: (batch: number) => void | Promise<void>;
}

export const REDACTED_TEXT = '[redacted by retention]';

/** The rules in force: console rows, and config defaults where no row of the same kind and scope exists. */
export async function retentionRules(prisma: Db, defaults: RetentionRule[]): Promise<RetentionRule[]> {
  const rows = await prisma.retentionPolicy.findMany({ orderBy: [{ kind: 'asc' }, { scopeKey: 'asc' }] });
  const rules: RetentionRule[] = rows.map((r) => ({ kind: r.kind as RetentionKind, scopeKey: r.scopeKey, days: r.days, source: 'console' }));
  for (const d of defaults) if (!rules.some((r) => r.kind === d.kind && r.scopeKey === d.scopeKey)) rules.push({ ...d, source: 'config' });
  return rules.sort((a, b) => a.kind.localeCompare(b.kind) || a.scopeKey.localeCompare(b.scopeKey));
}

type WfFilter = Record<string, unknown>;

/** The workflows of a scope key: team:platform:id (a workspace) or channel:platform:id. */
export function scopeWhere(key: string): WfFilter {
  const [level, platform, ...rest] = key.split(':');
  const id = rest.join(':');
  return level === 'team' ? { platform, teamId: id } : { platform, channelId: id };
}

/** The workflows a rule governs: its scope, less more specific scopes that have their own rule, less legal holds. */
function workflowFilter(rule: RetentionRule, rules: RetentionRule[], held: string[]): WfFilter {
  const same = rules.filter((r) => r.kind === rule.kind && r !== rule);
  const own: WfFilter = rule.scopeKey === '*' ? {} : scopeWhere(rule.scopeKey);
  // more specific: for "*" every other rule; for a workspace, the channel rules
  const specific = same.filter((r) => (rule.scopeKey === '*' ? r.scopeKey !== '*' : rule.scopeKey.startsWith('team:') && r.scopeKey.startsWith('channel:')));
  return { AND: [own, ...specific.map((r) => ({ NOT: scopeWhere(r.scopeKey) }))], id: { notIn: held } };
}

/** One batch of one rule; returns how many rows it changed (0: the task is done). */
async function runBatch(prisma: Db, rule: RetentionRule, rules: RetentionRule[], held: string[], opts: RetentionOptions): Promise<number> {
  const before = new Date(Date.now() - rule.days * 86_400_000);
  const take = opts.batchSize;
  const wf = WORKFLOW_KINDS.includes(rule.kind) ? workflowFilter(rule, rules, held) : undefined;
  const ids = async (rows: Promise<{ id: string }[]>) => (await rows).map((r) => r.id);
  switch (rule.kind) {
    case 'thread_text': {
      const replies = await ids(prisma.threadReply.findMany({ where: { createdAt: { lt: before }, text: { not: REDACTED_TEXT }, workflow: wf }, select: { id: true }, take }));
      const a = await prisma.threadReply.updateMany({ where: { id: { in: replies }, text: { not: REDACTED_TEXT } }, data: { text: REDACTED_TEXT } });
      const wfs = await ids(prisma.workflow.findMany({ where: { AND: [wf!, { createdAt: { lt: before }, requestText: { not: REDACTED_TEXT } }] }, select: { id: true }, take }));
      const b = await prisma.workflow.updateMany({ where: { id: { in: wfs }, requestText: { not: REDACTED_TEXT } }, data: { requestText: REDACTED_TEXT } });
      return a.count + b.count;
    }
    case 'outputs': {
      const msgs = await ids(prisma.agentMessage.findMany({ where: { createdAt: { lt: before }, text: { not: REDACTED_TEXT }, workflow: wf }, select: { id: true }, take }));
      const a = await prisma.agentMessage.updateMany({ where: { id: { in: msgs }, text: { not: REDACTED_TEXT } }, data: { text: REDACTED_TEXT } });
      const steps = await ids(prisma.step.findMany({ where: { finishedAt: { lt: before }, output: { not: null }, NOT: { output: REDACTED_TEXT }, workflow: wf }, select: { id: true }, take }));
      const b = await prisma.step.updateMany({ where: { id: { in: steps }, NOT: { output: REDACTED_TEXT } }, data: { output: REDACTED_TEXT, outputData: Prisma.DbNull, answer: null, question: null } });
      return a.count + b.count;
    }
    case 'files': {
      const shares = await prisma.sharedFile.findMany({ where: { createdAt: { lt: before }, workflow: wf }, select: { id: true, blobId: true }, take });
      const del = await prisma.sharedFile.deleteMany({ where: { id: { in: shares.map((s) => s.id) } } });
      for (const blobId of new Set(shares.map((s) => s.blobId).filter((b): b is string => !!b))) {
        if (await prisma.sharedFile.count({ where: { blobId } })) continue;
        const blob = await prisma.fileBlob.findUnique({ where: { id: blobId }, select: { store: true, sha256: true } });
        const gone = await prisma.fileBlob.deleteMany({ where: { id: blobId, shares: { none: {} } } });
        if (!gone.count || !blob) continue;
        // the bytes go only when no output file names the same hash in the same store
        const usedByOutput = await prisma.outputFile.count({ where: { store: blob.store, sha256: blob.sha256 } });
        if (!usedByOutput && opts.files?.delete && opts.files.id === blob.store) await opts.files.delete(blob.sha256);
      }
      return del.count;
    }
    case 'llm_calls': {
      const rows = await ids(prisma.llmCall.findMany({ where: { createdAt: { lt: before }, OR: [{ workflowId: null }, { workflowId: { notIn: held } }] }, select: { id: true }, take }));
      return (await prisma.llmCall.deleteMany({ where: { id: { in: rows } } })).count;
    }
    case 'audit': {
      // retention's own entries are kept by the audit rule like any other; the run report is in RetentionRun
      const rows = await ids(prisma.auditLog.findMany({ where: { at: { lt: before } }, select: { id: true }, take }));
      return (await prisma.auditLog.deleteMany({ where: { id: { in: rows } } })).count;
    }
    case 'inbound': {
      const rows = (await prisma.inboundEvent.findMany({ where: { receivedAt: { lt: before } }, select: { id: true }, take })).map((r) => r.id);
      return (await prisma.inboundEvent.deleteMany({ where: { id: { in: rows } } })).count;
    }
  }
}

/**
 * Runs retention: continues the last unfinished run (a crash) or starts one, and works through every rule in batches,
 * saving the cursor after each batch. Returns the run row.
 */
export async function runRetention(prisma: Db, opts: RetentionOptions) {
  const rules = (await retentionRules(prisma, opts.defaults)).filter((r) => r.scopeKey === '*' || WORKFLOW_KINDS.includes(r.kind));
  let run = await prisma.retentionRun.findFirst({ where: { status: 'running' }, orderBy: { startedAt: 'asc' } }) ?? await prisma.retentionRun.create({ data: {} });
  const counts = { ...(run.counts as Record<string, number>) };
  const held = (await prisma.legalHold.findMany({ select: { workflowId: true } })).map((h) => h.workflowId);
  try {
    for (let i = run.cursor; i < rules.length; i++) {
      const rule = rules[i]!;
      for (;;) {
        const changed = await runBatch(prisma, rule, rules, held, opts);
        counts[rule.kind] = (counts[rule.kind] ?? 0) + changed;
        run = await prisma.retentionRun.update({ where: { id: run.id }, data: { counts, batches: { increment: 1 }, updatedAt: new Date() } });
        await opts.afterBatch?.(run.batches);
        if (changed < opts.batchSize) break;
      }
      run = await prisma.retentionRun.update({ where: { id: run.id }, data: { cursor: i + 1, updatedAt: new Date() } });
    }
  } catch (e) {
    // the run stays "running" with its cursor: the next run continues it
    await prisma.retentionRun.update({ where: { id: run.id }, data: { error: String((e as Error).message ?? e).slice(0, 500), updatedAt: new Date() } });
    throw e;
  }
  run = await prisma.retentionRun.update({ where: { id: run.id }, data: { status: 'done', error: null, finishedAt: new Date() } });
  await audit(prisma, { actor: 'system', action: 'retention.run', target: run.id, detail: { counts, batches: run.batches } });
  return run;
}
