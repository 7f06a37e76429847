// Approval gates and the buttons of a failed step: one decision wins, durably; the workflow then moves on in a job.
// Invariant: every status change goes through workflow/transitions.ts; the caller (act.ts) has already checked who
// may act and audits the outcome.
import type { Role } from '../agents/roles';
import type { MessageView } from './chat';
import type { Actor, DecideResult, Decision } from './contract';
import { chatFor, roleOf, type EngineDeps } from './deps';
import { postOnce, updatePost } from './posts';
import { advanceWorkflow, continueAfter, failurePostKey } from './steps';
import { threadOf } from './threads';
import * as T from './workflow/transitions';
import { cancelledView, decidedGateView, personaOf, rejectionSummaryView, retriedView, ROLECALL_PERSONA, skippedView } from './views';

/** Records a decision on a gate. Exactly one decision per gate wins, even when clicks race. On a quorum gate an
 * approval is a vote until enough distinct people have approved. */
export async function decide(deps: EngineDeps, approvalId: string, decision: Decision, userId: string, feedback?: string): Promise<Exclude<DecideResult, { reason: 'not_allowed' }>> {
  const gate = await deps.prisma.approval.findUnique({ where: { id: approvalId }, include: { step: true } });
  if (!gate) return { won: false, reason: 'unknown' };
  const policy = deps.roles.get(gate.step.roleId)?.approval;
  if (gate.status === 'pending' && decision === 'approved' && policy?.policy === 'quorum') {
    await deps.prisma.approvalVote.createMany({ data: [{ approvalId, userId }], skipDuplicates: true });
    const votes = await deps.prisma.approvalVote.count({ where: { approvalId } });
    if (votes < policy.quorum) return { won: false, reason: 'vote_recorded', votes, needed: policy.quorum };
  }
  const won = await T.decideApproval(deps.prisma, approvalId, decision, userId, feedback);
  // Enqueued in both cases: the job id is fixed, so this only re-delivers a decision whose job was lost.
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } });
  if (approval.status !== 'pending') await deps.queue.enqueue({ kind: 'decision', approvalId });
  if (won) return { won: true };
  return { won: false, reason: 'already_decided', status: approval.status, decidedBy: approval.decidedBy, decidedAt: approval.decidedAt };
}

/** Job: shows the decision on the gate message and acts on it. Safe to repeat. */
export async function applyDecision(deps: EngineDeps, approvalId: string): Promise<void> {
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { id: approvalId }, include: { step: true, workflow: true } });
  if (approval.status === 'pending') return;
  const { step, workflow } = approval;
  const role = roleOf(deps, step.roleId);
  const who = chatFor(deps, workflow.platform).mention(approval.decidedBy ?? 'unknown');
  await updatePost(deps, {
    key: { kind: 'gate', approvalId: approval.id }, workflowId: workflow.id, stepId: step.id, roleId: step.roleId, thread: threadOf(workflow), persona: personaOf(role),
    view: decidedGateView(role, approval.status, who, approval.decidedAt ?? new Date(), approval.feedback),
  });
  if (approval.status === 'approved') {
    await T.approveStep(deps.prisma, step.id, approval.revision);
    await T.settleWorkflow(deps.prisma, workflow.id);
    return continueAfter(deps, step.id);
  }
  if (approval.status === 'changes_requested') {
    await T.reviseStep(deps.prisma, step.id, approval.revision, approval.feedback);
    await T.settleWorkflow(deps.prisma, workflow.id);
    const current = await deps.prisma.step.findUniqueOrThrow({ where: { id: step.id } });
    if (current.status === 'pending') await deps.queue.enqueue({ kind: 'step', stepId: current.id, revision: current.revision, run: current.runCount });
    return;
  }
  await rejectWorkflow(deps, workflow.id, step.id, role.persona.display_name, who);
}

async function rejectWorkflow(deps: EngineDeps, workflowId: string, rejectedStepId: string, rejectedRole: string, who: string): Promise<void> {
  await T.rejectWorkflow(deps.prisma, workflowId);
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  if (wf.status !== 'rejected') return; // cancelled (or finished) first: nothing to summarise
  const name = (roleId: string) => roleOf(deps, roleId).persona.display_name;
  const others = wf.steps.filter((s) => s.id !== rejectedStepId);
  const done = others.filter((s) => s.status === 'completed').map((s) => name(s.roleId));
  const notRun = others.filter((s) => s.status !== 'completed').map((s) => name(s.roleId));
  const summarizer = roleOf(deps, wf.steps.at(-1)?.roleId ?? '');
  await postOnce(deps, {
    key: { kind: 'rejected', workflowId: wf.id }, workflowId: wf.id, roleId: summarizer.role_id, thread: threadOf(wf), persona: personaOf(summarizer),
    view: rejectionSummaryView(done, rejectedRole, notRun, who),
  });
  deps.log.info('workflow rejected', { workflowId });
}

/** How an actor is named in the thread: a mention for a chat user, "the admin console" for a console user. */
function actorInThread(deps: EngineDeps, platform: 'slack' | 'teams', actor: Actor): string {
  return actor.kind === 'chat' ? chatFor(deps, platform).mention(actor.userId) : 'an operator in the admin console';
}

type FailedStep = NonNullable<Awaited<ReturnType<typeof failedStep>>>;

const failedStep = (deps: EngineDeps, stepId: string) => deps.prisma.step.findUnique({ where: { id: stepId }, include: { workflow: true } });

/** Replaces the failure card's buttons with what happened to the step. */
async function settleFailureCard(deps: EngineDeps, step: FailedStep, view: (role: Role, who: string) => MessageView, actor: Actor): Promise<void> {
  const role = roleOf(deps, step.roleId);
  await updatePost(deps, {
    key: failurePostKey(step), workflowId: step.workflowId, stepId: step.id, roleId: step.roleId,
    thread: threadOf(step.workflow), persona: personaOf(role), view: view(role, actorInThread(deps, step.workflow.platform, actor)),
  });
}

/** The Retry button on a failed step (or the console's Retry). Only the first press re-runs it. */
export async function retryStep(deps: EngineDeps, stepId: string, actor: Actor): Promise<boolean> {
  const before = await failedStep(deps, stepId);
  if (!before || !(await T.retryFailedStep(deps.prisma, before))) return false;
  await T.settleWorkflow(deps.prisma, before.workflowId);
  await deps.queue.enqueue({ kind: 'step', stepId, revision: before.revision, run: before.runCount + 1 });
  await settleFailureCard(deps, before, retriedView, actor);
  return true;
}

/** The Skip button on a failed step: the workflow goes on without it. Only the first press counts. */
export async function skipStep(deps: EngineDeps, stepId: string, actor: Actor): Promise<boolean> {
  const before = await failedStep(deps, stepId);
  if (!before || !(await T.skipFailedStep(deps.prisma, before))) return false;
  await T.settleWorkflow(deps.prisma, before.workflowId);
  await settleFailureCard(deps, before, skippedView, actor);
  await advanceWorkflow(deps, before.workflowId);
  return true;
}

/** Cancel (a thread's button or the console): stops the workflow and says in the thread who stopped it. */
export async function cancelWorkflow(deps: EngineDeps, workflowId: string, actor: Actor): Promise<boolean> {
  if (!(await T.cancelWorkflow(deps.prisma, workflowId))) return false;
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId } });
  await postOnce(deps, {
    key: { kind: 'cancelled', workflowId: wf.id }, workflowId: wf.id, roleId: 'rolecall', thread: threadOf(wf), persona: ROLECALL_PERSONA,
    view: cancelledView(actorInThread(deps, wf.platform, actor)),
  });
  return true;
}
