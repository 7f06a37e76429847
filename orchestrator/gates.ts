// Approval gates and the Retry button: one decision wins, durably; the workflow then moves on in a job.
import { audit } from './audit';
import { chatFor, roleOf, type EngineDeps } from './deps';
import { mayDecide } from './permissions';
import { postOnce, updatePost } from './posts';
import type { Prisma } from '../generated/prisma/client';
import type { Role } from '../agents/roles';
import type { MessageView } from './chat';
import { advanceWorkflow, continueAfter, failurePostKey } from './steps';
import { ACTIVE_STATUSES, threadOf } from './threads';
import { cancelledView, decidedGateView, personaOf, rejectionSummaryView, retriedView, ROLECALL_PERSONA, skippedView } from './views';

export type Decision = 'approved' | 'changes_requested' | 'rejected';

export type DecideResult =
  | { won: true }
  | { won: false; reason: 'unknown' }
  | { won: false; reason: 'not_allowed'; message: string }
  | { won: false; reason: 'vote_recorded'; votes: number; needed: number }
  | { won: false; reason: 'already_decided'; status: string; decidedBy: string | null; decidedAt: Date | null };

/** Records a person's decision on a gate. Exactly one decision per gate wins, even when clicks race.
 * A person whose RBAC role is below the gate's GatePolicy is refused; the refusal is audited, not recorded. */
export async function decide(deps: EngineDeps, approvalId: string, decision: Decision, userId: string, feedback?: string): Promise<DecideResult> {
  const gate = await deps.prisma.approval.findUnique({ where: { id: approvalId }, include: { step: true, workflow: true } });
  if (!gate) return { won: false, reason: 'unknown' };
  const actor = `${gate.workflow.platform}:${userId}`;
  if (gate.status === 'pending') {
    const policy = deps.roles.get(gate.step.roleId)?.approval;
    const allowed = await mayDecide(deps.prisma, gate.workflow.platform, userId, gate.step.roleId, policy?.policy === 'rbac_role' ? policy.rbac_role : undefined);
    if (!allowed.ok) {
      await audit(deps.prisma, { actor, action: 'gate.refused', target: approvalId, detail: { decision, gateRole: gate.step.roleId, workflowId: gate.workflowId, reason: allowed.reason } });
      return { won: false, reason: 'not_allowed', message: `You may not decide this gate: ${allowed.reason}.` };
    }
    if (decision === 'approved' && policy?.policy === 'quorum') {
      const votes = await voteFor(deps, approvalId, userId);
      await audit(deps.prisma, { actor, action: 'gate.vote', target: approvalId, detail: { votes, needed: policy.quorum, workflowId: gate.workflowId } });
      if (votes < policy.quorum) return { won: false, reason: 'vote_recorded', votes, needed: policy.quorum };
    }
  }
  const { count } = await deps.prisma.approval.updateMany({
    where: { id: approvalId, status: 'pending' },
    data: { status: decision, decidedBy: userId, decidedAt: new Date(), feedback: feedback ?? null },
  });
  if (count === 1) {
    await audit(deps.prisma, { actor, action: `gate.${decision}`, target: approvalId, detail: { gateRole: gate.step.roleId, workflowId: gate.workflowId, revision: gate.revision, ...(feedback ? { feedback } : {}) } });
  }
  // Enqueued in both cases: the job id is fixed, so this only re-delivers a decision whose job was lost.
  const approval = await deps.prisma.approval.findUnique({ where: { id: approvalId } });
  if (!approval) return { won: false, reason: 'unknown' };
  if (approval.status !== 'pending') await deps.queue.enqueue({ kind: 'decision', approvalId });
  if (count === 1) return { won: true };
  return { won: false, reason: 'already_decided', status: approval.status, decidedBy: approval.decidedBy, decidedAt: approval.decidedAt };
}

/** One approval vote per person on a quorum gate; returns how many distinct people have approved. */
async function voteFor(deps: EngineDeps, approvalId: string, userId: string): Promise<number> {
  await deps.prisma.approvalVote.createMany({ data: [{ approvalId, userId }], skipDuplicates: true });
  return deps.prisma.approvalVote.count({ where: { approvalId } });
}

/** Cancels a workflow that has not finished (from the admin console). Later jobs of it then do nothing. */
export async function cancelWorkflow(deps: EngineDeps, workflowId: string): Promise<boolean> {
  const { count } = await deps.prisma.workflow.updateMany({
    where: { id: workflowId, status: { in: [...ACTIVE_STATUSES] } },
    data: { status: 'cancelled', finishedAt: new Date() },
  });
  return count === 1;
}

/** Job: shows the decision on the gate message and acts on it. Safe to repeat. */
export async function applyDecision(deps: EngineDeps, approvalId: string): Promise<void> {
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { id: approvalId }, include: { step: true, workflow: true } });
  if (approval.status === 'pending') return;
  const { step, workflow } = approval;
  const role = roleOf(deps, step.roleId);
  const thread = threadOf(workflow);
  const who = chatFor(deps, workflow.platform).mention(approval.decidedBy!);
  await updatePost(deps, {
    key: `gate:${approval.id}`, workflowId: workflow.id, stepId: step.id, roleId: step.roleId, kind: 'gate', thread, persona: personaOf(role),
    view: decidedGateView(role, approval.status, who, approval.decidedAt!, approval.feedback),
  });
  if (approval.status === 'approved') {
    await deps.prisma.step.updateMany({ where: { id: step.id, revision: approval.revision, status: 'awaiting_approval' }, data: { status: 'completed' } });
    await deps.prisma.workflow.updateMany({ where: { id: workflow.id, status: 'awaiting_approval' }, data: { status: 'running' } });
    return continueAfter(deps, step.id);
  }
  if (approval.status === 'changes_requested') {
    await deps.prisma.step.updateMany({
      where: { id: step.id, revision: approval.revision },
      data: { revision: approval.revision + 1, status: 'pending', feedback: approval.feedback },
    });
    await deps.prisma.workflow.updateMany({ where: { id: workflow.id, status: 'awaiting_approval' }, data: { status: 'running' } });
    const current = await deps.prisma.step.findUniqueOrThrow({ where: { id: step.id } });
    if (current.status === 'pending') await deps.queue.enqueue({ kind: 'step', stepId: current.id, revision: current.revision, run: current.runCount });
    return;
  }
  await rejectWorkflow(deps, workflow.id, step.id, role.persona.display_name, who);
}

async function rejectWorkflow(deps: EngineDeps, workflowId: string, rejectedStepId: string, rejectedRole: string, who: string): Promise<void> {
  await deps.prisma.workflow.updateMany({ where: { id: workflowId, status: { in: ['running', 'awaiting_approval', 'step_failed'] } }, data: { status: 'rejected', finishedAt: new Date() } });
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  const name = (roleId: string) => roleOf(deps, roleId).persona.display_name;
  const others = wf.steps.filter((s) => s.id !== rejectedStepId);
  const done = others.filter((s) => s.status === 'completed').map((s) => name(s.roleId));
  const notRun = others.filter((s) => s.status !== 'completed').map((s) => name(s.roleId));
  const summarizer = roleOf(deps, wf.steps.at(-1)!.roleId);
  await postOnce(deps, {
    key: `rejected:${wf.id}`, workflowId: wf.id, roleId: summarizer.role_id, kind: 'summary', thread: threadOf(wf), persona: personaOf(summarizer),
    view: rejectionSummaryView(done, rejectedRole, notRun, who),
  });
  deps.log.info('workflow rejected', { workflowId });
}

type FailedStep = NonNullable<Awaited<ReturnType<typeof claimFailedStep>>>;

/** A button on a failed step's card: only the first press moves the step on (to `data`); later ones get nothing. */
async function claimFailedStep(deps: EngineDeps, stepId: string, data: (s: { runCount: number }) => Prisma.StepUpdateManyMutationInput) {
  const before = await deps.prisma.step.findUnique({ where: { id: stepId }, include: { workflow: true } });
  if (!before || before.status !== 'failed') return undefined;
  const { count } = await deps.prisma.step.updateMany({ where: { id: stepId, status: 'failed', runCount: before.runCount }, data: data(before) });
  if (count !== 1) return undefined;
  await deps.prisma.workflow.updateMany({ where: { id: before.workflowId, status: 'step_failed' }, data: { status: 'running' } });
  return before;
}

/** Replaces the failure card's buttons with what happened to the step. */
async function settleFailureCard(deps: EngineDeps, step: FailedStep, view: (role: Role, who: string) => MessageView, userId: string): Promise<void> {
  const role = roleOf(deps, step.roleId);
  await updatePost(deps, {
    key: failurePostKey(step), workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, kind: 'failure',
    thread: threadOf(step.workflow), persona: personaOf(role), view: view(role, chatFor(deps, step.workflow.platform).mention(userId)),
  });
}

/** The Retry button on a failed step. Only the first press re-runs it. */
export async function retryStep(deps: EngineDeps, stepId: string, userId: string): Promise<boolean> {
  const before = await claimFailedStep(deps, stepId, (s) => ({ status: 'pending', runCount: s.runCount + 1, error: null }));
  if (!before) return false;
  await deps.queue.enqueue({ kind: 'step', stepId, revision: before.revision, run: before.runCount + 1 });
  await settleFailureCard(deps, before, retriedView, userId);
  return true;
}

/** The Skip button on a failed step: the workflow goes on without it. Only the first press counts. */
export async function skipStep(deps: EngineDeps, stepId: string, userId: string): Promise<boolean> {
  const before = await claimFailedStep(deps, stepId, () => ({ status: 'skipped' }));
  if (!before) return false;
  await audit(deps.prisma, { actor: `${before.workflow.platform}:${userId}`, action: 'step.skipped', target: stepId, detail: { workflowId: before.workflowId, roleId: before.roleId } });
  await settleFailureCard(deps, before, skippedView, userId);
  await advanceWorkflow(deps, before.workflowId);
  return true;
}

/** The Cancel button in a thread: stops the workflow and says who stopped it. */
export async function cancelFromThread(deps: EngineDeps, workflowId: string, userId: string): Promise<boolean> {
  if (!(await cancelWorkflow(deps, workflowId))) return false;
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId } });
  await audit(deps.prisma, { actor: `${wf.platform}:${userId}`, action: 'workflow.cancelled', target: workflowId });
  await postOnce(deps, {
    key: `cancelled:${wf.id}`, workflowId: wf.id, roleId: 'rolecall', kind: 'summary', thread: threadOf(wf), persona: ROLECALL_PERSONA,
    view: cancelledView(chatFor(deps, wf.platform).mention(userId)),
  });
  return true;
}
