// Every status change of a workflow, a step and an approval gate, in one place. Each is a conditional write: it names
// the state it moves from, and the row count says whether this caller won (true) or someone else moved first (false).
// Invariants:
// - nothing here overwrites a final workflow status (completed, rejected, cancelled);
// - a step's run is identified by (revision, runCount): a write for an older run changes nothing;
// - the workflow's running / awaiting_approval / step_failed status is derived from its steps in one statement
//   (`settleWorkflow`), so a parallel branch can neither hide an open gate nor a failed step.
import { Prisma } from '../../generated/prisma/client';
import type { Decision } from '../contract';
import type { Db } from '../db';

/** The client or an open transaction: a transition can be part of a larger atomic write. */
export type Writer = Db | Prisma.TransactionClient;

/** A workflow in one of these is under way: its jobs do work. */
export const ACTIVE_STATUSES = ['running', 'awaiting_approval', 'step_failed'] as const;
export const isActive = (status: string): boolean => (ACTIVE_STATUSES as readonly string[]).includes(status);

/** One run of a step: a write for an older run (superseded by a retry, a revision or a hand-over) changes nothing. */
export interface StepRun {
  id: string;
  revision: number;
  runCount: number;
}

const one = ({ count }: { count: number }) => count === 1;
const thisRun = (s: StepRun) => ({ id: s.id, revision: s.revision, runCount: s.runCount });

// ---- workflow ----

/** planned → running: a person confirmed an assembled plan. */
export const confirmPlan = async (db: Writer, workflowId: string) =>
  one(await db.workflow.updateMany({ where: { id: workflowId, status: 'planned' }, data: { status: 'running' } }));

/** running / awaiting_approval / step_failed, whichever the steps say: a failed step pauses the workflow, an open
 * gate waits for people, anything else runs. One statement, so concurrent branches cannot write a stale status. */
export async function settleWorkflow(db: Writer, workflowId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "Workflow" w SET "updatedAt" = now(), status = (CASE
      WHEN EXISTS (SELECT 1 FROM "Step" s WHERE s."workflowId" = w.id AND s.status = 'failed') THEN 'step_failed'
      WHEN EXISTS (SELECT 1 FROM "Step" s WHERE s."workflowId" = w.id AND s.status = 'awaiting_approval') THEN 'awaiting_approval'
      ELSE 'running' END)::"WorkflowStatus"
    WHERE w.id = ${workflowId} AND w.status IN ('running', 'awaiting_approval', 'step_failed')`;
}

/** active → completed, when every step is completed or skipped (checked in the same statement). */
export async function completeWorkflow(db: Writer, workflowId: string): Promise<boolean> {
  const n = await db.$executeRaw`
    UPDATE "Workflow" w SET status = 'completed', "finishedAt" = now(), "updatedAt" = now()
    WHERE w.id = ${workflowId} AND w.status IN ('running', 'awaiting_approval')
      AND NOT EXISTS (SELECT 1 FROM "Step" s WHERE s."workflowId" = w.id AND s.status NOT IN ('completed', 'skipped'))`;
  return n === 1;
}

/** active → rejected: a person rejected a gate. */
export const rejectWorkflow = async (db: Writer, workflowId: string) =>
  one(await db.workflow.updateMany({ where: { id: workflowId, status: { in: [...ACTIVE_STATUSES] } }, data: { status: 'rejected', finishedAt: new Date() } }));

/** planned or active → cancelled. Later jobs of the workflow then do nothing. */
export const cancelWorkflow = async (db: Writer, workflowId: string) =>
  one(await db.workflow.updateMany({ where: { id: workflowId, status: { in: ['planned', ...ACTIVE_STATUSES] } }, data: { status: 'cancelled', finishedAt: new Date() } }));

// ---- plan edits (only while the plan waits for confirmation) ----

/** Flips the gate after a step of a plan that still waits for confirmation. */
export const togglePlannedGate = async (db: Writer, stepId: string, gateAfter: boolean) =>
  one(await db.step.updateMany({ where: { id: stepId, gateAfter: !gateAfter, workflow: { status: 'planned' } }, data: { gateAfter } }));

/** Removes a step of a plan that still waits for confirmation; the steps that depended on it inherit its
 * dependencies. False when the plan runs already or the step is gone. */
export async function dropPlannedStep(db: Db, workflowId: string, stepKey: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM "Workflow" WHERE id = ${workflowId} AND status = 'planned' FOR UPDATE`;
    if (locked.length !== 1) return false;
    const steps = await tx.step.findMany({ where: { workflowId } });
    const step = steps.find((s) => s.key === stepKey);
    if (!step || steps.length === 1) return false;
    for (const s of steps.filter((x) => x.dependsOn.includes(stepKey))) {
      await tx.step.update({ where: { id: s.id }, data: { dependsOn: [...new Set([...s.dependsOn.filter((d) => d !== stepKey), ...step.dependsOn])] } });
    }
    await tx.step.delete({ where: { id: step.id } });
    return true;
  });
}

// ---- steps ----

/** pending (or running, after a crash) → running, for this run only. */
export const startStepRun = async (db: Writer, s: StepRun) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: { in: ['pending', 'running'] } }, data: { status: 'running', startedAt: new Date(), error: null } }));

/** running → awaiting_approval (gated) or completed, with its output, for this run only. */
export const finishStepRun = async (db: Writer, s: StepRun, gated: boolean, output: { output: string; outputData: Record<string, unknown> | null }) =>
  one(await db.step.updateMany({
    where: { ...thisRun(s), status: 'running' },
    data: { status: gated ? 'awaiting_approval' : 'completed', output: output.output, ...(output.outputData ? { outputData: output.outputData as Prisma.InputJsonValue } : {}), finishedAt: new Date() },
  }));

/** running → waiting_input: the role asked the thread a question. */
export const askForInput = async (db: Writer, s: StepRun, question: string) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: 'running' }, data: { status: 'waiting_input', question } }));

/** waiting_input → pending as a new run, with the person's answer. */
export const answerStep = async (db: Writer, s: StepRun, answer: string) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: 'waiting_input' }, data: { status: 'pending', answer, runCount: s.runCount + 1 } }));

/** pending / running → failed: the last attempt failed and no fallback role is left. */
export const failStepRun = async (db: Writer, s: StepRun, error: string) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: { in: ['pending', 'running'] } }, data: { status: 'failed', error, finishedAt: new Date() } }));

/** The next fallback role takes the step over, as a new run. */
export const handOverStep = async (db: Writer, s: StepRun & { roleId: string; attemptedRoles: string[] }, nextRoleId: string) =>
  one(await db.step.updateMany({
    where: { ...thisRun(s), roleId: s.roleId, status: { in: ['pending', 'running'] } },
    data: { roleId: nextRoleId, attemptedRoles: [...s.attemptedRoles, s.roleId], status: 'pending', runCount: s.runCount + 1, error: null },
  }));

/** failed → pending as a new run (Retry). */
export const retryFailedStep = async (db: Writer, s: StepRun) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: 'failed' }, data: { status: 'pending', runCount: s.runCount + 1, error: null } }));

/** failed → skipped (Skip): the workflow goes on without it. */
export const skipFailedStep = async (db: Writer, s: StepRun) =>
  one(await db.step.updateMany({ where: { ...thisRun(s), status: 'failed' }, data: { status: 'skipped' } }));

/** awaiting_approval → completed: its gate was approved. */
export const approveStep = async (db: Writer, stepId: string, revision: number) =>
  one(await db.step.updateMany({ where: { id: stepId, revision, status: 'awaiting_approval' }, data: { status: 'completed' } }));

/** awaiting_approval → pending as the next revision, with the reviewer's feedback. */
export const reviseStep = async (db: Writer, stepId: string, revision: number, feedback: string | null) =>
  one(await db.step.updateMany({ where: { id: stepId, revision, status: 'awaiting_approval' }, data: { status: 'pending', revision: revision + 1, feedback } }));

// ---- approval gates ----

/** pending → the decision: of two people deciding at once, exactly one wins. */
export const decideApproval = async (db: Writer, approvalId: string, decision: Decision, userId: string, feedback?: string) =>
  one(await db.approval.updateMany({ where: { id: approvalId, status: 'pending' }, data: { status: decision, decidedBy: userId, decidedAt: new Date(), feedback: feedback ?? null } }));
