// Runs a workflow step: the role's persona works in the thread, posts its output, then the workflow moves on.
import { runAgent, type AgentResult } from '../agents/agent';
import type { StepContext } from '../agents/prompt';
import { LlmError } from '../agents/llm/provider';
import type { Step, Workflow } from '../generated/prisma/client';
import { roleOf, type EngineDeps } from './deps';
import type { JobContext } from './queue';
import { postOnce, updatePost, type PostSpec } from './posts';
import { ACTIVE_STATUSES, threadOf } from './threads';
import { doneView, failedView, stoppedView, gateView, outputView, personaOf, retryingView, satisfactionView, workingView } from './views';

type StepWithWorkflow = Step & { workflow: Workflow };

/** A step failure that retrying will not fix (e.g. the model rejected the request). */
export class PermanentStepError extends Error {
  override name = 'PermanentStepError';
}

export async function runStep(deps: EngineDeps, data: { stepId: string; revision: number; run: number }, ctx: JobContext): Promise<void> {
  const step = await deps.prisma.step.findUnique({ where: { id: data.stepId }, include: { workflow: true } });
  if (!step || step.revision !== data.revision || step.runCount !== data.run) return; // superseded by a newer run
  if (!(ACTIVE_STATUSES as readonly string[]).includes(step.workflow.status)) return;
  if (step.status === 'completed' || step.status === 'awaiting_approval') return continueAfter(deps, step.id);
  if (step.status === 'failed' || step.status === 'skipped') return;

  const role = roleOf(deps, step.roleId);
  const started = Date.now();
  await deps.prisma.step.update({ where: { id: step.id }, data: { status: 'running', startedAt: new Date(), error: null } });
  await deps.prisma.workflow.update({ where: { id: step.workflowId }, data: { status: 'running' } });
  await updatePost(deps, statusPost(deps, step, workingView(role, ctx.attempt, ctx.maxAttempts, step.revision)));

  const { output, escalation } = await producedOutput(deps, step);
  const gate = escalation !== null || (step.gateAfter && role.approval.policy !== 'none');
  await deps.prisma.step.update({
    where: { id: step.id },
    data: { status: gate ? 'awaiting_approval' : 'completed', output, finishedAt: new Date() },
  });
  await updatePost(deps, statusPost(deps, step, doneView(role, (Date.now() - started) / 1000)));
  await continueAfter(deps, step.id);
}

/** The step's output: the one already posted for this revision (after a crash), or a new one from the role agent. */
async function producedOutput(deps: EngineDeps, step: StepWithWorkflow): Promise<{ output: string; escalation: string | null }> {
  const key = `output:${step.id}:r${step.revision}`;
  const posted = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (posted?.messageTs) return { output: posted.text, escalation: step.escalation };
  const role = roleOf(deps, step.roleId);
  const result = await runAgent(role, deps.llm, await stepContext(deps, step));
  await recordTrace(deps, step, result);
  if (result.kind === 'llm_error') throw result.error.retryable ? result.error : new PermanentStepError(result.error.message);
  const escalation = result.kind === 'escalate' ? result.reasons.map((r) => `${r.kind}: ${r.detail}`).join('\n') : null;
  await deps.prisma.step.update({ where: { id: step.id }, data: { escalation } });
  await postOnce(deps, { ...basePost(deps, step), key, kind: 'output', view: outputView(result.text, result.model, escalation) });
  return { output: result.text, escalation };
}

async function recordTrace(deps: EngineDeps, step: StepWithWorkflow, result: AgentResult): Promise<void> {
  const ids = { workflowId: step.workflowId, stepId: step.id };
  if (result.calls.length) await deps.prisma.llmCall.createMany({ data: result.calls.map((c) => ({ ...c, ...ids })) });
  if (result.violations.length) {
    await deps.prisma.constraintViolation.createMany({ data: result.violations.map((v) => ({ ...ids, roleId: step.roleId, kind: v.kind, detail: v.detail, action: v.action })) });
  }
}

async function stepContext(deps: EngineDeps, step: StepWithWorkflow): Promise<StepContext> {
  const [previous, replies] = await Promise.all([
    deps.prisma.step.findMany({ where: { workflowId: step.workflowId, position: { lt: step.position }, output: { not: null } }, orderBy: { position: 'asc' } }),
    deps.prisma.threadReply.findMany({ where: { workflowId: step.workflowId }, orderBy: { createdAt: 'asc' } }),
  ]);
  return {
    request: step.workflow.requestText,
    previous: previous.map((p) => ({ roleName: roleOf(deps, p.roleId).persona.display_name, output: p.output! })),
    threadNotes: replies.map((r) => ({ userId: r.userId, text: r.text })),
    revision: step.revision > 1 && step.feedback && step.output ? { previousOutput: step.output, feedback: step.feedback } : undefined,
  };
}

/** Moves the workflow on from a finished step: opens its gate, enqueues the next step or completes. Safe to repeat. */
export async function continueAfter(deps: EngineDeps, stepId: string): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  if (step.status === 'awaiting_approval') return openGate(deps, step);
  if (step.status !== 'completed' && step.status !== 'skipped') return;
  const next = await deps.prisma.step.findUnique({ where: { workflowId_position: { workflowId: step.workflowId, position: step.position + 1 } } });
  if (next) {
    if (next.status === 'pending') await deps.queue.enqueue({ kind: 'step', stepId: next.id, revision: next.revision, run: next.runCount });
    return;
  }
  await deps.prisma.workflow.updateMany({
    where: { id: step.workflowId, status: { in: ['running', 'awaiting_approval'] } },
    data: { status: 'completed', finishedAt: new Date() },
  });
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: step.workflowId } });
  if (wf.status !== 'completed') return;
  await postOnce(deps, {
    key: `satisfaction:${wf.id}`, workflowId: wf.id, roleId: step.roleId, kind: 'satisfaction', thread: threadOf(wf),
    persona: personaOf(roleOf(deps, step.roleId)), view: satisfactionView(wf.id),
  });
  deps.log.info('workflow completed', { workflowId: step.workflowId });
}

async function openGate(deps: EngineDeps, step: StepWithWorkflow): Promise<void> {
  await deps.prisma.approval.createMany({ data: [{ workflowId: step.workflowId, stepId: step.id, revision: step.revision }], skipDuplicates: true });
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { stepId_revision: { stepId: step.id, revision: step.revision } } });
  if (approval.status !== 'pending') return deps.queue.enqueue({ kind: 'decision', approvalId: approval.id });
  await deps.prisma.workflow.updateMany({ where: { id: step.workflowId, status: 'running' }, data: { status: 'awaiting_approval' } });
  const role = roleOf(deps, step.roleId);
  const ts = await postOnce(deps, { ...basePost(deps, step), key: `gate:${approval.id}`, kind: 'gate', view: gateView(role, approval.id, step.escalation) });
  await deps.prisma.approval.update({ where: { id: approval.id }, data: { messageTs: ts } });
}

/** The last attempt failed: the step fails visibly in the thread with a Retry button; the workflow waits. */
export async function failStep(deps: EngineDeps, stepId: string, error: string, attempts: number): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  const role = roleOf(deps, step.roleId);
  await deps.prisma.step.update({ where: { id: step.id }, data: { status: 'failed', error, finishedAt: new Date() } });
  await deps.prisma.workflow.updateMany({ where: { id: step.workflowId, status: { in: [...ACTIVE_STATUSES] } }, data: { status: 'step_failed' } });
  await updatePost(deps, statusPost(deps, step, stoppedView(role)));
  await postOnce(deps, { ...basePost(deps, step), key: `failure:${step.id}:r${step.revision}:n${step.runCount}`, kind: 'failure', view: failedView(role, error, step.id, attempts) });
  deps.log.warn('step failed', { stepId, workflowId: step.workflowId, error });
}

export async function noteRetry(deps: EngineDeps, stepId: string, error: string, ctx: JobContext): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  await updatePost(deps, statusPost(deps, step, retryingView(roleOf(deps, step.roleId), ctx.attempt, ctx.maxAttempts, error)));
}

export const isPermanent = (e: unknown) => e instanceof PermanentStepError || (e instanceof LlmError && !e.retryable);

function basePost(deps: EngineDeps, step: StepWithWorkflow): Omit<PostSpec, 'key' | 'kind' | 'view'> {
  return { workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread: threadOf(step.workflow), persona: personaOf(roleOf(deps, step.roleId)) };
}

function statusPost(deps: EngineDeps, step: StepWithWorkflow, view: PostSpec['view']): PostSpec {
  return { ...basePost(deps, step), key: `status:${step.id}:r${step.revision}:n${step.runCount}`, kind: 'status', view };
}
