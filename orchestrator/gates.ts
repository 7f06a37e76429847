// Approval gates and the buttons of a failed step: one decision wins, durably; the workflow then moves on in a job.
// A click costs one statement here (issue 12): the conditional decide, which writes the winner's audit row too (the
// gate's status, role and policy were read by act.ts with the click's scope); applying a decision is one transaction
// whose first statement reads the gate and moves its step, then writes the gate card's edit (ChatOutbox) and what
// comes next.
// Invariant: every status change goes through workflow/transitions.ts; the caller (act.ts) has already checked who
// may act and audits the outcome (a winning decision's audit row through decide's statement).
import type { Role } from '../agents/roles';
import type { AuditEntry } from './audit';
import type { Prisma } from '../generated/prisma/client';
import type { MessageView, ThreadRef } from './chat';
import type { Actor, DecideResult, Decision, PlatformName } from './contract';
import { chatFor, roleOf, type EngineDeps } from './deps';
import { queuePosts, writeOutbox, type OutboxItem } from './outbox';
import { afterCommit, edit, failurePostKey, moveOn, statusKey, stepRef, type Next } from './steps';
import { threadOf } from './threads';
import * as T from './workflow/transitions';
import { cancelledView, decidedGateView, personaOf, rejectionSummaryView, retriedStatusView, retriedView, ROLECALL_PERSONA, skippedView } from './views';

/** What the caller already read about the gate (act.ts reads it with the click's scope: issue 12), and the audit
 * row of a winning decision, written by the deciding statement itself. */
export interface DecideWith {
  gate?: { status: string; roleId: string };
  audit?: AuditEntry;
}

/** Records a decision on a gate. Exactly one decision per gate wins, even when clicks race. On a quorum gate an
 * approval is a vote until enough distinct people have approved. */
export async function decide(deps: EngineDeps, approvalId: string, decision: Decision, userId: string, feedback?: string, known: DecideWith = {}): Promise<Exclude<DecideResult, { reason: 'not_allowed' }>> {
  const gate = known.gate ?? (await deps.prisma.$queryRaw<{ status: string; roleId: string }[]>`
    SELECT a.status::text AS status, s."roleId" FROM "Approval" a JOIN "Step" s ON s.id = a."stepId" WHERE a.id = ${approvalId}`)[0];
  if (!gate) return { won: false, reason: 'unknown' };
  const policy = deps.roles.get(gate.roleId)?.approval;
  if (gate.status === 'pending' && decision === 'approved' && policy?.policy === 'quorum') {
    await deps.prisma.approvalVote.createMany({ data: [{ approvalId, userId }], skipDuplicates: true });
    const votes = await deps.prisma.approvalVote.count({ where: { approvalId } });
    if (votes < policy.quorum) return { won: false, reason: 'vote_recorded', votes, needed: policy.quorum };
  }
  // the conditional write decides (its row count), and writes the audit row only when it wins
  let outcome = await T.decideApprovalReading(deps.prisma, approvalId, decision, userId, feedback, known.audit);
  if (!outcome) return { won: false, reason: 'unknown' };
  if (!outcome.won && outcome.status === 'pending') {
    // lost to a decision committed while this statement ran (its snapshot predates it): read what was decided
    const now = await deps.prisma.approval.findUniqueOrThrow({ where: { id: approvalId }, select: { status: true, decidedBy: true, decidedAt: true } });
    outcome = { won: false, ...now };
  }
  // Added in both cases: the job id is fixed, so this only re-delivers a decision whose job was lost.
  if (outcome.status !== 'pending') await deps.queue.enqueue({ kind: 'decision', approvalId });
  if (outcome.won) return { won: true };
  return { won: false, reason: 'already_decided', status: outcome.status, decidedBy: outcome.decidedBy, decidedAt: outcome.decidedAt };
}

/** Job: shows the decision on the gate message and acts on it. Safe to repeat. One transaction: its first statement
 * reads the gate and (approved, changes requested) locks the workflow and moves the step (issue 12); then the
 * workflow moves on, with the gate card's edit. */
export async function applyDecision(deps: EngineDeps, approvalId: string): Promise<void> {
  const next = await deps.prisma.$transaction(async (tx): Promise<Next | undefined> => {
    const a = await T.decidedGateLocked(tx, approvalId);
    if (!a) throw new Error(`approval ${approvalId} not found`);
    if (a.status === 'pending' || a.status === 'expired') return undefined; // an expiry wrote its own posts (gate-timers.ts)
    const role = roleOf(deps, a.roleId);
    const who = chatFor(deps, a.platform).mention(a.decidedBy ?? 'unknown');
    const step = { id: a.stepId, workflowId: a.workflowId, roleId: a.roleId, revision: a.revision, runCount: a.runCount, thread: threadOf(a) };
    const card = edit(deps, step, { kind: 'gate', approvalId: a.id }, a.status, decidedGateView(role, a.status, who, a.decidedAt ?? new Date(), a.feedback));
    if (a.status === 'approved') return moveOn(deps, tx, a.workflowId, [card]);
    if (a.status === 'changes_requested') {
      const moved = await moveOn(deps, tx, a.workflowId, [card]);
      // the next revision's job (its id is fixed: a repeat adds nothing; a run that is no longer current does nothing)
      return { ...moved, ready: [{ id: a.stepId, revision: a.revision + 1, runCount: a.runCount, roleId: a.roleId }] };
    }
    return { ready: [], posts: await rejectWorkflow(deps, tx, a, card, role.persona.display_name, who) };
  });
  if (next) await afterCommit(deps, next);
}

/** Inside applyDecision's transaction: the workflow is rejected (its summary posted), unless it was cancelled or
 * finished first (then only the gate card says the decision). Returns the posts written. */
async function rejectWorkflow(deps: EngineDeps, tx: Prisma.TransactionClient, a: T.DecidedGate, card: OutboxItem, rejectedRole: string, who: string): Promise<OutboxItem[]> {
  if (!(await T.rejectWorkflow(tx, a.workflowId))) {
    await writeOutbox(tx, [card], deps);
    return [card]; // cancelled (or finished) first: nothing to summarise
  }
  const steps = await tx.step.findMany({ where: { workflowId: a.workflowId }, orderBy: { position: 'asc' }, select: { id: true, roleId: true, status: true } });
  const name = (roleId: string) => roleOf(deps, roleId).persona.display_name;
  const others = steps.filter((s) => s.id !== a.stepId);
  const done = others.filter((s) => s.status === 'completed').map((s) => name(s.roleId));
  const notRun = others.filter((s) => s.status !== 'completed').map((s) => name(s.roleId));
  const summarizer = roleOf(deps, steps.at(-1)?.roleId ?? '');
  const summary: OutboxItem = {
    op: 'post', key: { kind: 'rejected', workflowId: a.workflowId }, workflowId: a.workflowId, roleId: summarizer.role_id, thread: threadOf(a), persona: personaOf(summarizer),
    view: rejectionSummaryView(done, rejectedRole, notRun, who),
  };
  await writeOutbox(tx, [card, summary], deps);
  deps.log.info('workflow rejected', { workflowId: a.workflowId });
  return [card, summary];
}

/** How an actor is named in the thread: a mention for a chat user, "the admin console" for a console user. */
function actorInThread(deps: EngineDeps, platform: PlatformName, actor: Actor): string {
  return actor.kind === 'chat' ? chatFor(deps, platform).mention(actor.userId) : 'an operator in the admin console';
}

type FailedStep = NonNullable<Awaited<ReturnType<typeof stepRef>>>;

/** The failure card's edit: its buttons replaced with what happened to the step. */
function failureCardEdit(deps: EngineDeps, step: FailedStep, tag: string, view: (role: Role, who: string) => MessageView, actor: Actor): OutboxItem {
  const role = roleOf(deps, step.roleId);
  return edit(deps, step, failurePostKey(step), tag, view(role, actorInThread(deps, step.thread.platform, actor)));
}

/** The Retry button on a failed step (or the console's Retry). Only the first press re-runs it. */
export async function retryStep(deps: EngineDeps, stepId: string, actor: Actor): Promise<boolean> {
  const before = await stepRef(deps, stepId);
  if (!before) return false;
  const card = failureCardEdit(deps, before, 'retried', retriedView, actor);
  // the failed run's status line ("stopped") says it was retried, so the thread does not read as still stopped
  const status = edit(deps, before, statusKey(before), 'retried', retriedStatusView(roleOf(deps, before.roleId), actorInThread(deps, before.thread.platform, actor)));
  const retried = await deps.prisma.$transaction(async (tx) => {
    if (!(await T.retryFailedStep(tx, before))) return false;
    await T.settleWorkflow(tx, before.workflowId);
    await writeOutbox(tx, [card, status], deps);
    return true;
  });
  if (!retried) return false;
  await afterCommit(deps, { ready: [{ id: stepId, revision: before.revision, runCount: before.runCount + 1, roleId: before.roleId }], posts: [card, status] });
  return true;
}

/** The Skip button on a failed step: the workflow goes on without it. Only the first press counts. */
export async function skipStep(deps: EngineDeps, stepId: string, actor: Actor): Promise<boolean> {
  const before = await stepRef(deps, stepId);
  if (!before) return false;
  const card = failureCardEdit(deps, before, 'skipped', skippedView, actor);
  const next = await deps.prisma.$transaction(async (tx) => {
    await T.lockWorkflow(tx, before.workflowId);
    if (!(await T.skipFailedStep(tx, before))) return undefined;
    return moveOn(deps, tx, before.workflowId, [card]);
  });
  if (!next) return false;
  await afterCommit(deps, next);
  return true;
}

/** Cancel (a thread's button or the console): stops the workflow and says in the thread who stopped it. */
export async function cancelWorkflow(deps: EngineDeps, workflowId: string, actor: Actor): Promise<boolean> {
  if (!(await T.cancelWorkflow(deps.prisma, workflowId))) return false;
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, select: { id: true, platform: true, teamId: true, channelId: true, threadTs: true } });
  const thread: ThreadRef = threadOf(wf);
  await queuePosts(deps, [{
    op: 'post', key: { kind: 'cancelled', workflowId: wf.id }, workflowId: wf.id, roleId: 'rolecall', thread, persona: ROLECALL_PERSONA,
    view: cancelledView(actorInThread(deps, wf.platform, actor)),
  }]);
  return true;
}
