// Runs a workflow step: the role's persona works in the thread, posts its output, then the workflow moves on.
// Invariant: every status change goes through workflow/transitions.ts, and a job for an older run of a step (or of a
// workflow that is no longer active) changes nothing.
import { isLanguage, LANGUAGE_NAMES } from './intent/language';
import { runAgent, type AgentResult, type ModelAttempts, type ModelRetry } from '../agents/agent';
import type { StepContext } from '../agents/prompt';
import { LlmError } from '../agents/llm/provider';
import type { Prisma, Step, Workflow } from '../generated/prisma/client';
import * as T from './workflow/transitions';
import { roleOf, type EngineDeps } from './deps';
import type { JobContext } from './queue';
import { postOnce, updatePost, type PostSpec } from './posts';
import { isPostRefused } from './chat';
import { postKey, type PostKey } from './jobs';
import { threadOf } from './threads';
import { promptFiles } from './files';
import { doneView, failedView, handoverView, modelAttemptsText, modelRetryView, questionView, stoppedView, waitingView, gateView, outputView, personaOf, retryingView, satisfactionView, workingView } from './views';
import { RolecallError } from '../agents/errors';

type StepWithWorkflow = Step & { workflow: Workflow };

/** A step failure that retrying will not fix (e.g. the model rejected the request). */
export class PermanentStepError extends RolecallError {
}

/** The role's model (its attempts) and then its fallback model (the fallback's attempts) all failed. */
export class ModelAttemptsFailedError extends PermanentStepError {
  constructor(readonly tried: ModelAttempts[], last: string) {
    super(`${modelAttemptsText(tried)}. Last error: ${last}`);
  }
}

export async function runStep(deps: EngineDeps, data: { stepId: string; revision: number; run: number }, ctx: JobContext): Promise<void> {
  const step = await deps.prisma.step.findUnique({ where: { id: data.stepId }, include: { workflow: true } });
  if (!step || step.revision !== data.revision || step.runCount !== data.run) return; // superseded by a newer run
  if (!T.isActive(step.workflow.status)) return;
  if (step.status === 'completed' || step.status === 'awaiting_approval') return continueAfter(deps, step.id);
  if (step.status !== 'pending' && step.status !== 'running') return; // failed, skipped or waiting for a person

  const role = roleOf(deps, step.roleId);
  const started = Date.now();
  if (!(await T.startStepRun(deps.prisma, step))) return;
  await updatePost(deps, statusPost(deps, step, workingView(role, ctx.attempt, ctx.maxAttempts, step.revision)));

  const produced = await producedOutput(deps, step);
  if ('question' in produced) return askPerson(deps, step, produced.question);
  const { output, outputData, escalation } = produced;
  const gate = escalation !== null || (step.gateAfter && role.approval.policy !== 'none');
  if (!(await T.finishStepRun(deps.prisma, step, gate, { output, outputData }))) return;
  await updatePost(deps, statusPost(deps, step, doneView(role, (Date.now() - started) / 1000)));
  await continueAfter(deps, step.id);
}

type Produced = { output: string; outputData: Record<string, unknown> | null; escalation: string | null } | { question: string };

/** The step's output: the one already posted for this revision (after a crash), or a new one from the role agent. */
async function producedOutput(deps: EngineDeps, step: StepWithWorkflow): Promise<Produced> {
  const key = { kind: 'output', stepId: step.id, revision: step.revision, roleId: step.roleId } as const;
  const posted = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: postKey(key) } });
  if (posted?.messageTs) return { output: posted.text, outputData: (step.outputData as Record<string, unknown> | null) ?? null, escalation: step.escalation };
  const role = roleOf(deps, step.roleId);
  const onRetry = async (r: ModelRetry) => void (await updatePost(deps, statusPost(deps, step, modelRetryView(role, r))));
  const files = await promptFiles(deps, role, step.workflowId);
  if (files.calls.length) {
    // Summarising large files is a model call like any other: recorded with the step, priced.
    await deps.prisma.llmCall.createMany({ data: files.calls.map((c) => ({ ...c, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, purpose: 'file' })) });
  }
  const context = { ...(await stepContext(deps, step)), ...(files.files.length ? { files: files.files } : {}), ...(files.images.length ? { images: files.images } : {}) };
  const result = await runAgent(role, deps.llm, context, deps.tools?.({ workflowId: step.workflowId, stepId: step.id }), { onRetry });
  await recordTrace(deps, step, result);
  // The model's attempts (and its fallback's) are spent inside runAgent, with backoff: what is left is for a person.
  if (result.kind === 'llm_error') throw new ModelAttemptsFailedError(result.tried, result.error.message);
  if (result.kind === 'question') return { question: result.question };
  const escalation = result.kind === 'escalate' ? result.reasons.map((r) => `${r.kind}: ${r.detail}`).join('\n') : null;
  const outputData = result.kind === 'ok' ? result.data : null;
  await deps.prisma.step.update({ where: { id: step.id }, data: { escalation, outputData: (outputData ?? undefined) as Prisma.InputJsonValue | undefined } });
  await postOnce(deps, { ...basePost(deps, step), key, view: outputView(result.text, result.model, escalation) });
  return { output: result.text, outputData, escalation };
}

/** The role cannot go on without an answer: it asks in the thread and the step waits, durably, for a reply. */
async function askPerson(deps: EngineDeps, step: StepWithWorkflow, question: string): Promise<void> {
  if (!(await T.askForInput(deps.prisma, step, question))) return;
  const role = roleOf(deps, step.roleId);
  await updatePost(deps, statusPost(deps, step, waitingView(role)));
  await postOnce(deps, { ...basePost(deps, step), key: { kind: 'question', stepId: step.id }, view: questionView(role, question) });
}

async function recordTrace(deps: EngineDeps, step: StepWithWorkflow, result: AgentResult): Promise<void> {
  const ids = { workflowId: step.workflowId, stepId: step.id };
  if (result.calls.length) await deps.prisma.llmCall.createMany({ data: result.calls.map((c) => ({ ...c, ...ids, roleId: step.roleId, purpose: 'step' })) });
  if (result.violations.length) {
    await deps.prisma.constraintViolation.createMany({ data: result.violations.map((v) => ({ ...ids, roleId: step.roleId, kind: v.kind, detail: v.detail, action: v.action })) });
  }
}

/** What a step works from: the outputs of the steps it depends on (transitively), as structured data. */
async function stepContext(deps: EngineDeps, step: StepWithWorkflow): Promise<StepContext> {
  const [all, replies] = await Promise.all([
    deps.prisma.step.findMany({ where: { workflowId: step.workflowId }, orderBy: { position: 'asc' } }),
    // in the order people wrote them (events arrive in any order); the platform's message id breaks ties
    deps.prisma.threadReply.findMany({ where: { workflowId: step.workflowId }, orderBy: [{ sentAt: 'asc' }, { messageTs: 'asc' }] }),
  ]);
  const upstream = ancestors(all, step);
  const previous = all.filter((p) => upstream.has(p.key) && p.output !== null && p.status === 'completed');
  return {
    request: step.workflow.requestText,
    previous: previous.map((p) => ({ roleName: roleOf(deps, p.roleId).persona.display_name, output: p.outputData ? JSON.stringify(p.outputData, null, 1) : p.output! })),
    threadNotes: replies.map((r) => ({ userId: r.userId, text: r.text })),
    revision: step.revision > 1 && step.feedback && step.output ? { previousOutput: step.output, feedback: step.feedback } : undefined,
    question: step.question && step.answer ? { question: step.question, answer: step.answer } : undefined,
    mayAsk: !step.question,
    language: isLanguage(step.workflow.language) && step.workflow.language !== 'en' ? LANGUAGE_NAMES[step.workflow.language] : undefined,
  };
}

function ancestors(all: Step[], step: Step): Set<string> {
  const byKey = new Map(all.map((s) => [s.key, s]));
  const seen = new Set<string>();
  const visit = (keys: string[]) => keys.forEach((k) => { if (!seen.has(k)) { seen.add(k); visit(byKey.get(k)?.dependsOn ?? []); } });
  visit(step.dependsOn);
  return seen;
}

/** Moves the workflow on from a finished step: opens its gate, enqueues the next step or completes. Safe to repeat. */
export async function continueAfter(deps: EngineDeps, stepId: string): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  if (step.status === 'awaiting_approval') return openGate(deps, step);
  if (step.status !== 'completed' && step.status !== 'skipped') return;
  return advanceWorkflow(deps, step.workflowId);
}

/** Starts every step whose inputs exist (parallel where the DAG allows) and completes the workflow when all are done. */
export async function advanceWorkflow(deps: EngineDeps, workflowId: string): Promise<void> {
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  if (!T.isActive(wf.status)) return;
  const done = new Set(wf.steps.filter((s) => s.status === 'completed' || s.status === 'skipped').map((s) => s.key));
  const ready = wf.steps.filter((s) => s.status === 'pending' && s.dependsOn.every((d) => done.has(d)));
  for (const s of ready) await deps.queue.enqueue({ kind: 'step', stepId: s.id, revision: s.revision, run: s.runCount });
  if (done.size < wf.steps.length) return;
  const last = wf.steps.at(-1);
  if (!last) return;
  // Completion is decided once (the conditional write); the satisfaction post is keyed, so a repeat posts nothing new.
  const finished = (await T.completeWorkflow(deps.prisma, workflowId)) || (await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId } })).status === 'completed';
  if (!finished) return;
  await postOnce(deps, {
    key: { kind: 'satisfaction', workflowId }, workflowId, roleId: last.roleId, thread: threadOf(wf),
    persona: personaOf(roleOf(deps, last.roleId)), view: satisfactionView(workflowId),
  });
  deps.log.info('workflow completed', { workflowId });
}

async function openGate(deps: EngineDeps, step: StepWithWorkflow): Promise<void> {
  await deps.prisma.approval.createMany({ data: [{ workflowId: step.workflowId, stepId: step.id, revision: step.revision }], skipDuplicates: true });
  const approval = await deps.prisma.approval.findUniqueOrThrow({ where: { stepId_revision: { stepId: step.id, revision: step.revision } } });
  if (approval.status !== 'pending') return deps.queue.enqueue({ kind: 'decision', approvalId: approval.id });
  await T.settleWorkflow(deps.prisma, step.workflowId);
  const role = roleOf(deps, step.roleId);
  const ts = await postOnce(deps, { ...basePost(deps, step), key: { kind: 'gate', approvalId: approval.id }, view: gateView(role, approval.id, step.escalation) });
  await deps.prisma.approval.update({ where: { id: approval.id }, data: { messageTs: ts } });
}

/** The last attempt failed: the step fails visibly in the thread with a Retry button; the workflow waits. */
export async function failStep(deps: EngineDeps, stepId: string, error: string, attempts: number, cause?: unknown): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  const role = roleOf(deps, step.roleId);
  const next = step.fallbackRoles.find((r) => r !== step.roleId && !step.attemptedRoles.includes(r));
  if (next) return handOver(deps, step, next, error);
  if (!(await T.failStepRun(deps.prisma, step, error))) return;
  await T.settleWorkflow(deps.prisma, step.workflowId);
  deps.log.warn('step failed', { stepId, workflowId: step.workflowId, error });
  try {
    await updatePost(deps, statusPost(deps, step, stoppedView(role)));
    await postOnce(deps, { ...basePost(deps, step), key: failurePostKey(step), view: failedView(role, error, step.id, cause instanceof ModelAttemptsFailedError ? null : attempts, step.workflowId) });
  } catch (e) {
    // The thread cannot be posted to: the failure is recorded (posts.ts) and shown on the console's workflow page.
    if (!isPostRefused(e)) throw e;
  }
}

/** The step's role keeps failing: the next role of its fallback chain takes the step over. */
async function handOver(deps: EngineDeps, step: StepWithWorkflow, nextRoleId: string, error: string): Promise<void> {
  const from = roleOf(deps, step.roleId);
  if (!(await T.handOverStep(deps.prisma, step, nextRoleId))) return;
  await updatePost(deps, statusPost(deps, step, stoppedView(from)));
  const to = roleOf(deps, nextRoleId);
  await postOnce(deps, { ...basePost(deps, step), key: { kind: 'handover', stepId: step.id, toRoleId: nextRoleId }, view: handoverView(from, to, error) });
  await deps.queue.enqueue({ kind: 'step', stepId: step.id, revision: step.revision, run: step.runCount + 1 });
}

/** The failure card of a step's current run (its Retry / Skip / Cancel buttons are settled on it later). */
export const failurePostKey = (step: T.StepRun): PostKey => ({ kind: 'failure', stepId: step.id, revision: step.revision, run: step.runCount });

export async function noteRetry(deps: EngineDeps, stepId: string, error: string, ctx: JobContext): Promise<void> {
  const step = await deps.prisma.step.findUniqueOrThrow({ where: { id: stepId }, include: { workflow: true } });
  await updatePost(deps, statusPost(deps, step, retryingView(roleOf(deps, step.roleId), ctx.attempt, ctx.maxAttempts, error)));
}

export const isPermanent = (e: unknown) => e instanceof PermanentStepError || (e instanceof LlmError && !e.retryable) || isPostRefused(e);

function basePost(deps: EngineDeps, step: StepWithWorkflow): Omit<PostSpec, 'key' | 'view'> {
  return { workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread: threadOf(step.workflow), persona: personaOf(roleOf(deps, step.roleId)) };
}

function statusPost(deps: EngineDeps, step: StepWithWorkflow, view: PostSpec['view']): PostSpec {
  return { ...basePost(deps, step), key: { kind: 'status', stepId: step.id, revision: step.revision, run: step.runCount }, view };
}
