// Data subject requests (issue 18): find everything Rolecall holds about one person (a chat user id on Slack, Teams
// or the web playground, an email, a console user), export it as machine-readable JSON with the person's files, and
// erase it: personal text is removed, the person's ids are replaced by a stable pseudonym ("erased:<hmac>") so what the
// audit must keep (which decision was made, by whom as a pseudonym) survives. Invariants: only rows that name the
// subject are touched (every write is filtered by the subject's ids); workflows under a legal hold keep their content;
// exports and erasures are themselves audited; file bytes are removed from the store only when no other sharing uses
// them.
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { FileStore } from '../../agents/files/store';
import { RolecallError } from '../../agents/errors';
import { audit } from '../audit';
import type { Db } from '../db';

export const subjectSchema = z.object({
  /** Chat user ids (Slack U…, Teams 29:…, web console user ids) as stored in the tables. */
  userIds: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
  /** Console users' emails. */
  emails: z.array(z.string().trim().toLowerCase().email().max(320)).max(20).default([]),
}).refine((s) => s.userIds.length + s.emails.length > 0, { message: 'name at least one user id or email' });
export type Subject = z.infer<typeof subjectSchema>;

/** A subject request named nobody. */
export class EmptySubject extends RolecallError {
  constructor() { super('a subject request must name at least one user id or email'); }
}

/** What an erasure writes in place of personal text. */
export const ERASED_TEXT = '[erased]';

/** The stable pseudonym of a person: the same secret and id always give the same pseudonym. */
export function pseudonym(secret: string, id: string): string {
  return `erased:${createHmac('sha256', secret).update(id).digest('hex').slice(0, 20)}`;
}

export interface SubjectOptions {
  /** The HMAC key of pseudonyms (config: PRIVACY_PSEUDONYM_SECRET, else the console session secret). */
  pseudonymSecret: string;
  /** The file store that holds shared files' bytes (absent: files are listed without bytes and not removed). */
  files?: FileStore;
}

async function resolve(prisma: Db, subject: Subject) {
  const admins = subject.emails.length ? await prisma.adminUser.findMany({ where: { email: { in: subject.emails } }, select: { id: true, email: true, role: true, createdAt: true, lastSignInAt: true } }) : [];
  // a console user's chat id on the web playground is their AdminUser id
  const ids = [...new Set([...subject.userIds, ...admins.map((a) => a.id)])];
  const actors = [
    ...ids.flatMap((id) => ['slack', 'teams', 'web'].map((p) => `${p}:${id}`)),
    ...[...subject.emails, ...admins.map((a) => a.email)].map((e) => `console:${e}`),
  ];
  return { admins, ids, actors };
}

/** Everything about the subject, machine-readable; file bytes base64 when the store holds them. */
export async function findSubjectData(prisma: Db, subject: Subject, opts: Pick<SubjectOptions, 'files'> = {}) {
  const { admins, ids, actors } = await resolve(prisma, subject);
  const workflows = await prisma.workflow.findMany({ where: { requestedBy: { in: ids } }, select: { id: true, platform: true, teamId: true, channelId: true, threadTs: true, requestText: true, template: true, status: true, createdAt: true } });
  const wfIds = workflows.map((w) => w.id);
  const sharedFiles = await prisma.sharedFile.findMany({ where: { workflowId: { in: wfIds } }, include: { blob: { select: { store: true, sha256: true, extractedText: true } } } });
  const files = [];
  for (const f of sharedFiles) {
    const bytes = f.blob && opts.files && f.blob.store === opts.files.id ? await opts.files.get(f.blob.sha256) : undefined;
    files.push({ id: f.id, workflowId: f.workflowId, name: f.name, mime: f.mime, bytes: f.bytes, sha256: f.sha256, createdAt: f.createdAt, extractedText: f.blob?.extractedText ?? null, contentBase64: bytes ? Buffer.from(bytes).toString('base64') : null });
  }
  const webThreads = admins.length ? await prisma.webThread.findMany({ where: { ownerId: { in: admins.map((a) => a.id) } }, include: { messages: { where: { authorId: { not: null } }, select: { id: true, text: true, createdAt: true } } } }) : [];
  return {
    subject,
    generatedAt: new Date().toISOString(),
    consoleUsers: admins,
    workflowsRequested: workflows,
    threadReplies: await prisma.threadReply.findMany({ where: { userId: { in: ids } }, select: { id: true, workflowId: true, text: true, sentAt: true } }),
    approvalsDecided: await prisma.approval.findMany({ where: { decidedBy: { in: ids } }, select: { id: true, workflowId: true, stepId: true, revision: true, status: true, decidedAt: true, feedback: true } }),
    approvalVotes: await prisma.approvalVote.findMany({ where: { userId: { in: ids } } }),
    satisfactionVotes: await prisma.satisfaction.findMany({ where: { userId: { in: ids } }, select: { workflowId: true, score: true, votedAt: true } }),
    intentExamples: await prisma.intentExample.findMany({ where: { OR: [{ requestedBy: { in: ids } }, { labelledBy: { in: ids } }] }, select: { id: true, text: true, label: true, createdAt: true } }),
    chatRoles: await prisma.chatUserRole.findMany({ where: { userId: { in: ids } } }),
    teamsProfile: await prisma.teamsUser.findMany({ where: { id: { in: ids } } }),
    slackProfile: await prisma.slackUser.findMany({ where: { id: { in: ids } } }),
    playgroundThreads: webThreads,
    auditEntries: await prisma.auditLog.findMany({ where: { actor: { in: actors } }, orderBy: { at: 'asc' } }),
    files,
  };
}
export type SubjectExport = Awaited<ReturnType<typeof findSubjectData>>;

/** Exports the subject's data and audits the export (who asked, counts; never the data itself). */
export async function exportSubject(prisma: Db, subject: Subject, actor: string, opts: Pick<SubjectOptions, 'files'> = {}): Promise<SubjectExport> {
  const data = await findSubjectData(prisma, subject, opts);
  await audit(prisma, { actor, action: 'privacy.export', target: subjectTarget(subject), detail: { counts: counts(data) } });
  return data;
}

const subjectTarget = (s: Subject) => `subject:${s.userIds.length + s.emails.length} id(s)`;
function counts(d: SubjectExport): Record<string, number> {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => Array.isArray(v)).map(([k, v]) => [k, (v as unknown[]).length]));
}

/**
 * Erases the subject: personal text removed, ids pseudonymised, console account and playground threads deleted,
 * files of the subject's workflows removed (bytes too when no other sharing uses them). Workflows under a legal hold
 * keep their content (their ids are still pseudonymised). Returns what was changed, and audits it under the pseudonym.
 */
export async function eraseSubject(prisma: Db, subject: Subject, actor: string, opts: SubjectOptions): Promise<Record<string, number>> {
  const { admins, ids, actors } = await resolve(prisma, subject);
  const n: Record<string, number> = {};
  const held = new Set((await prisma.legalHold.findMany({ select: { workflowId: true } })).map((h) => h.workflowId));
  const removedBlobs: { store: string; sha256: string }[] = [];
  for (const id of ids) {
    const p = pseudonym(opts.pseudonymSecret, id);
    const wfs = await prisma.workflow.findMany({ where: { requestedBy: id }, select: { id: true } });
    const free = wfs.map((w) => w.id).filter((w) => !held.has(w));
    await prisma.$transaction(async (tx) => {
      const add = (k: string, c: { count: number }) => { n[k] = (n[k] ?? 0) + c.count; };
      add('workflows', await tx.workflow.updateMany({ where: { id: { in: free } }, data: { requestText: ERASED_TEXT, requestedBy: p } }));
      add('workflows', await tx.workflow.updateMany({ where: { requestedBy: id }, data: { requestedBy: p } }));
      add('threadReplies', await tx.threadReply.updateMany({ where: { userId: id, workflowId: { notIn: [...held] } }, data: { userId: p, text: ERASED_TEXT } }));
      add('threadReplies', await tx.threadReply.updateMany({ where: { userId: id }, data: { userId: p } }));
      // the decision stays; the person's own words (feedback) go unless the workflow is held
      add('approvals', await tx.approval.updateMany({ where: { decidedBy: id, feedback: { not: null }, workflowId: { notIn: [...held] } }, data: { decidedBy: p, feedback: ERASED_TEXT } }));
      add('approvals', await tx.approval.updateMany({ where: { decidedBy: id }, data: { decidedBy: p } }));
      // a vote's key includes the user: re-keyed to the pseudonym (the decision survives, the person does not)
      add('approvalVotes', await tx.approvalVote.updateMany({ where: { userId: id }, data: { userId: p } }));
      add('satisfactionVotes', await tx.satisfaction.updateMany({ where: { userId: id }, data: { userId: p } }));
      add('intentExamples', await tx.intentExample.updateMany({ where: { requestedBy: id }, data: { requestedBy: p, text: ERASED_TEXT } }));
      add('intentExamples', await tx.intentExample.updateMany({ where: { labelledBy: id }, data: { labelledBy: p } }));
      add('chatRoles', await tx.chatUserRole.deleteMany({ where: { userId: id } }));
      add('teamsProfile', await tx.teamsUser.deleteMany({ where: { id } }));
      add('slackProfile', await tx.slackUser.deleteMany({ where: { id } })); // the stored display name (orchestrator/people.ts)
      const shares = await tx.sharedFile.findMany({ where: { workflowId: { in: free } }, select: { id: true, blobId: true } });
      add('files', await tx.sharedFile.deleteMany({ where: { id: { in: shares.map((s) => s.id) } } }));
      for (const blobId of new Set(shares.map((s) => s.blobId).filter((b): b is string => !!b))) {
        if (await tx.sharedFile.count({ where: { blobId } })) continue; // another sharing still uses these bytes
        const blob = await tx.fileBlob.delete({ where: { id: blobId }, select: { store: true, sha256: true } });
        removedBlobs.push(blob);
      }
    });
  }
  for (const a of actors) {
    const id = a.slice(a.indexOf(':') + 1);
    const c = await prisma.auditLog.updateMany({ where: { actor: a }, data: { actor: pseudonym(opts.pseudonymSecret, id) } });
    // entries about the person (e.g. an RBAC change of their chat role) name them as the target
    const t = await prisma.auditLog.updateMany({ where: { target: a }, data: { target: pseudonym(opts.pseudonymSecret, id) } });
    n.auditEntries = (n.auditEntries ?? 0) + c.count + t.count;
  }
  for (const e of new Set([...subject.emails, ...admins.map((a) => a.email)])) {
    const t = await prisma.auditLog.updateMany({ where: { target: e }, data: { target: pseudonym(opts.pseudonymSecret, e) } }); // console user changes name the email
    n.auditEntries = (n.auditEntries ?? 0) + t.count;
  }
  if (admins.length) n.consoleUsers = (await prisma.adminUser.deleteMany({ where: { id: { in: admins.map((a) => a.id) } } })).count; // sessions, workspaces, playground threads cascade
  let bytesRemoved = 0;
  for (const b of removedBlobs) {
    const usedByOutput = await prisma.outputFile.count({ where: { store: b.store, sha256: b.sha256 } });
    if (!usedByOutput && opts.files?.delete && b.store === opts.files.id) { await opts.files.delete(b.sha256); bytesRemoved++; }
  }
  n.fileBytesRemoved = bytesRemoved;
  n.fileBytesKept = removedBlobs.length - bytesRemoved;
  await audit(prisma, { actor, action: 'privacy.erase', target: pseudonym(opts.pseudonymSecret, ids[0] ?? subject.emails[0]!), detail: { counts: n, legalHolds: [...held].length ? 'held workflows kept their content' : 'none' } });
  return n;
}
