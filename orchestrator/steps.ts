// Runs a workflow step: the role's persona works in the thread, posts its output, then the workflow moves on.
import { runAgent } from '../agents/agent';
import type { StepContext } from '../agents/prompt';
import { LlmError } from '../agents/llm/provider';
import type { Step, Workflow } from '../generated/prisma/client';
import { roleOf, type EngineDeps } from './deps';
import type { JobContext } from './queue';
import { postOnce, updatePost, type PostSpec } from './posts';
import { ACTIVE_STATUSES, threadOf } from './threads';
import { doneView, failedView, stoppedView, gateView, outputView, personaOf, retryingView, workingView } from './views';

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

  const output = await producedOutput(deps, step);
  await deps.prisma.step.update({
    where: { id: step.id },
    data: { status: step.gateAfter ? 'awaiting_approval' : 'completed', output, finishedAt: new Date() },
  });
  await updatePost(deps, statusPost(deps, step, doneView(role, (Date.now() - started) / 1000)));
  await continueAfter(deps, step.id);
}

/** The step's output: the one already posted for this revision (after a crash), or a new one from the model. */
async function producedOutput(deps: EngineDeps, step: StepWithWorkflow): Promise<string> {
  const key = `output:${step.id}:r${step.revision}`;
  const posted = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (posted?.messageTs) return posted.text;
  const role = roleOf(deps, step.roleId);
  const outcome = await runAgent(role, deps.llm, await stepContext(deps, step));
  await deps.prisma.llmCall.create({ data: { ...outcome.call, workflowId: step.workflowId, stepId: step.id } });
  if (!outcome.ok) throw outcome.error.retryable ? outcome.error : new PermanentStepError(outcome.error.message);
  const text = outcome.result.text;
  await postOnce(deps, { ...basePost(deps, step), key, kind: 'output', view: outputView(text, outcome.result.model) });
  return text;
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
  deps.log.info('workflow completed', { workflowId: step.workflowId });
}

async function openGate(deps: EngineDeps, step: StepWithWorkflow): Promise<void> {
  await deps.prisma.approval.createMany({ data: [{ workflowId: step.workflowId, stepId: step.id, revision: step.revision }], skipDuplicates: true });
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { stepId_revision: { stepId: step.id, revision: step.revision } } });
  if (approval.status !== 'pending') return deps.queue.enqueue({ kind: 'decision', approvalId: approval.id });
  await deps.prisma.workflow.updateMany({ where: { id: step.workflowId, status: 'running' }, data: { status: 'awaiting_approval' } });
  const role = roleOf(deps, step.roleId);
  const ts = await postOnce(deps, { ...basePost(deps, step), key: `gate:${approval.id}`, kind: 'gate', view: gateView(role, approval.id) });
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
