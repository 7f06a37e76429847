// A new request in a 1:1 chat while a workflow runs there (issue 14). A 1:1 chat has no threads, so every message
// would otherwise become context of the running workflow without a word: instead the message is kept (PendingRequest)
// and a card asks its writer "Add this to the running workflow, or start a new one?". The files shared with it are
// kept with it (references) and go with the message either way.
// Invariants: the writer's answer is one conditional write on the row (waiting → added | started), so two presses on
// the two buttons act once, and the same answer again (a retried job, a double press) only finishes idempotent work; only the writer may answer; the card and its edit go through the outbox.
import { z } from 'zod';
import { Prisma } from '../generated/prisma/client';
import type { InboundFile, InboundMessage } from './chat';
import type { EngineDeps } from './deps';
import { kickDrains, queuePosts, writeOutbox, type OutboxItem } from './outbox';
import { addOrNewAnsweredView, addOrNewView, ROLECALL_PERSONA } from './views';

/** A 1:1 chat (Teams personal chat: the edge names its only "thread" `chat`, bot/teams/ids.ts). */
export const isOneToOneChat = (m: InboundMessage): boolean => m.platform === 'teams' && m.threadTs === 'chat';

const threadOf = (m: Pick<InboundMessage, 'platform' | 'teamId' | 'channelId' | 'threadTs'>) =>
  ({ platform: m.platform, teamId: m.teamId, channelId: m.channelId, threadTs: m.threadTs });

/** Keeps the message and posts the question card (once per message: a redelivery finds its inbound row). */
export async function askAddOrNew(deps: EngineDeps, workflowId: string, msg: InboundMessage, key: string): Promise<void> {
  const posts = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'pending_request' }], skipDuplicates: true });
    if (count === 0) return [];
    const row = await tx.pendingRequest.create({
      data: {
        sourceKey: key, workflowId, platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs, messageTs: msg.messageTs, userId: msg.userId, text: msg.text,
        ...(msg.files?.length ? { files: msg.files as unknown as Prisma.InputJsonArray } : {}), ...(msg.sentAt ? { sentAt: msg.sentAt } : {}),
      },
    });
    const card: OutboxItem = { op: 'post', key: { kind: 'choice', requestId: row.id }, workflowId, roleId: 'rolecall', thread: threadOf(msg), persona: ROLECALL_PERSONA, view: addOrNewView(row.id, msg.text) };
    await writeOutbox(tx, [card]);
    return [card];
  });
  if (posts.length) deps.log.info('new request in a 1:1 chat with a running workflow: asked add or new', { workflowId, key });
  await kickDrains(deps, posts);
}

/** The files kept with a request, read back as they were written (only this module writes the column: a row that does
 *  not parse is a bug, logged, and the message goes on without its files rather than never). */
const StoredFiles = z.array(z.object({
  id: z.string().max(256), name: z.string().max(1024), url: z.string().url().max(4096), bytes: z.number().int().nonnegative().optional(),
  mime: z.string().max(256).optional(), auth: z.literal('platform').optional(),
})).max(100);
function storedFiles(deps: Pick<EngineDeps, 'log'>, requestId: string, v: unknown): InboundFile[] {
  if (!v) return [];
  const parsed = StoredFiles.safeParse(v);
  if (!parsed.success) deps.log.error('the files kept with a 1:1 request are unreadable: the message goes on without them', { requestId, error: parsed.error.message });
  return parsed.data ?? [];
}

export type AddOrNew = { ok: true; choice: 'added' | 'started'; workflowId: string } | { ok: false; reason: string; text: string };

/** The writer's answer. `add` and `start` do the work (intake.ts: a thread reply, or a new workflow from the message). */
export async function answerAddOrNew(
  deps: EngineDeps, requestId: string, choice: 'added' | 'started', userId: string,
  work: { add(workflowId: string, msg: InboundMessage, key: string): Promise<void>; start(msg: InboundMessage, key: string): Promise<void> },
): Promise<AddOrNew> {
  const row = await deps.prisma.pendingRequest.findUnique({ where: { id: requestId } });
  if (!row) return { ok: false, reason: 'unknown', text: 'This question no longer exists.' };
  if (row.userId !== userId) return { ok: false, reason: 'not_writer', text: 'Only the person who wrote this request can choose.' };
  if (choice === 'added') {
    const wf = await deps.prisma.workflow.findUnique({ where: { id: row.workflowId }, select: { status: true } });
    if (!wf || !['running', 'awaiting_approval', 'step_failed'].includes(wf.status)) {
      return { ok: false, reason: 'finished', text: 'That workflow has finished: press Start a new one instead.' };
    }
  }
  const { count } = await deps.prisma.pendingRequest.updateMany({ where: { id: requestId, status: 'waiting' }, data: { status: choice } });
  if (count !== 1) {
    // the same answer again: a click job retried after a crash between this write and the work below, or a double
    // press. The work is idempotent (the reply and the new workflow are keyed by the message), so finishing it again
    // loses nothing and does nothing twice; a different answer than the one recorded is refused.
    const now = await deps.prisma.pendingRequest.findUnique({ where: { id: requestId }, select: { status: true } });
    if (now?.status !== choice) return { ok: false, reason: 'answered', text: 'This request was already answered.' };
  }
  // not "mentioned" when added: the card's edit says so, no second note
  const files = storedFiles(deps, row.id, row.files);
  const msg: InboundMessage = {
    platform: row.platform, teamId: row.teamId, channelId: row.channelId, threadTs: row.threadTs, messageTs: row.messageTs, userId: row.userId, text: row.text, mentioned: choice === 'started',
    ...(files.length ? { files } : {}), ...(row.sentAt ? { sentAt: row.sentAt } : {}),
  };
  if (choice === 'added') await work.add(row.workflowId, msg, row.sourceKey);
  else await work.start(msg, `${row.sourceKey}:new`); // its own inbound key: the message's key already names the question
  await queuePosts(deps, [{
    op: 'update', target: { kind: 'choice', requestId }, tag: choice, workflowId: row.workflowId, roleId: 'rolecall', thread: threadOf(row), persona: ROLECALL_PERSONA,
    view: addOrNewAnsweredView(choice, row.text),
  }]);
  return { ok: true, choice, workflowId: row.workflowId };
}
