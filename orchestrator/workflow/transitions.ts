// Every status change of a workflow, a step and an approval gate, in one place. Each is a conditional write: it names
// the state it moves from, and the row count says whether this caller won (true) or someone else moved first (false).
// Invariants:
// - nothing here overwrites a final workflow status (completed, rejected, cancelled);
// - a step's run is identified by (revision, runCount): a write for an older run changes nothing;
// - the workflow's running / awaiting_approval / step_failed status is derived from its steps in one statement
//   (`settleWorkflow`), so a parallel branch can neither hide an open gate nor a failed step.
import { Prisma } from '../../generated/prisma/client';
import type { Decision, PlatformName } from '../contract';
import type { AuditEntry } from '../audit';
import type { Db } from '../db';
import type { ThreadRow } from '../threads';

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

// ---- the step path in few statements (issue 12): raw SQL, each statement doing a read and a write together ----

/** A step of the workflow as the starting step reads it (its context). */
export interface SiblingStep {
  key: string;
  roleId: string;
  status: string;
  output: string | null;
  outputData: Record<string, unknown> | null;
  dependsOn: string[];
}

/** A run's first post, written by the statement that starts the run when the run is `roleId`'s. */
export interface StartPost {
  key: string;
  kind: string;
  roleId: string;
  persona: unknown;
  view: unknown;
  /** The role definitions' version the post was rendered with (orchestrator/role-sync.ts): the post is written only
   *  when no role was saved since (otherwise the caller reloads the roles and writes it). */
  roleVersion?: number;
}

/** What a run of a step works from, read by the statement that starts it. */
export interface StartedStep extends StepRun {
  workflowId: string;
  key: string;
  roleId: string;
  dependsOn: string[];
  fallbackRoles: string[];
  attemptedRoles: string[];
  gateAfter: boolean;
  feedback: string | null;
  output: string | null;
  question: string | null;
  answer: string | null;
  workflow: { platform: 'slack' | 'teams'; teamId: string; channelId: string; threadTs: string; requestText: string; language: string | null };
  steps: SiblingStep[];
  replies: { userId: string; text: string }[];
  /** The workflow has an experiment assignment (its run's first post was then left to the caller). */
  inExperiment: boolean;
  /** Read in the same statement, so a step costs no lookups of its own (issue 12): the workflow's template (model
   *  tiers), the newest role definition version saved in the console (role-sync: reload when it is not the one in
   *  use), the privacy settings of the most specific scope (channel, workspace, "*"; null: none, i.e. off), and
   *  whether the workflow has extracted shared files (none: the files are not read). */
  template: string;
  roleVersion: number;
  privacy: { redactPii: boolean; localModelsOnly: boolean } | null;
  hasFiles: boolean;
  /** The console's budget rows on the step's workspace, channel and workflow (and their "*" rows): the rules its model
   *  calls run under (orchestrator/budgets.ts checkBudgets), read here rather than by a statement of their own. */
  budgets: BudgetRow[];
}

/** A row of "Budget" as the start statement reads it (numbers as JSON gives them). */
export interface BudgetRow {
  scope: string;
  scopeKey: string;
  period: string;
  limitUsd: number | null;
  limitTokens: number | null;
  action: string;
}

/** pending (or running, after a crash) → running, for this run of an active workflow, and in the same statement
 * everything the run works from: the step, its workflow, the workflow's steps and the thread's replies (in the order
 * people wrote them). Null: superseded, finished, waiting for a person, or the workflow is no longer under way. */
export async function startStepRunReading(db: Writer, s: StepRun, working?: StartPost): Promise<StartedStep | null> {
  // The run's first post, in the same statement (a ChatOutbox row as orchestrator/outbox.ts writes them), when the
  // run is the role's the caller expected and the workflow is in no experiment (an arm may vary the role's persona:
  // the caller then writes the post through the outbox, which lays the arm's persona over it).
  const post = working
    ? Prisma.sql`, post AS (
      INSERT INTO "ChatOutbox" (key, channel, op, kind, "workflowId", "stepId", "roleId", thread, persona, view)
      SELECT ${working.key}, w.platform::text || ':' || w."teamId" || ':' || w."channelId", 'post', ${working.kind}, s."workflowId", s.id, s."roleId",
        jsonb_build_object('platform', w.platform, 'teamId', w."teamId", 'channelId', w."channelId", 'threadTs', w."threadTs"),
        ${JSON.stringify(working.persona)}::jsonb, ${JSON.stringify(working.view)}::jsonb
      FROM s JOIN "Workflow" w ON w.id = s."workflowId" WHERE s."roleId" = ${working.roleId}
        AND NOT EXISTS (SELECT 1 FROM "ExperimentAssignment" a WHERE a."workflowId" = s."workflowId")
        ${working.roleVersion === undefined ? Prisma.empty : Prisma.sql`AND (SELECT coalesce(max(d.version), 0) FROM "RoleDefinition" d) = ${working.roleVersion}`}
      ON CONFLICT (key) DO NOTHING)`
    : Prisma.empty;
  const rows = await db.$queryRaw<(Omit<StartedStep, 'workflow' | 'steps' | 'replies' | 'budgets'> & StartedStep['workflow'] & { steps: SiblingStep[] | null; replies: StartedStep['replies'] | null; budgets: BudgetRow[] | null })[]>`
    WITH s AS (
      UPDATE "Step" s SET status = 'running', "startedAt" = now(), error = NULL
      FROM "Workflow" w
      WHERE s.id = ${s.id} AND s.revision = ${s.revision} AND s."runCount" = ${s.runCount} AND s.status IN ('pending', 'running')
        AND w.id = s."workflowId" AND w.status IN ('running', 'awaiting_approval', 'step_failed')
      RETURNING s.id, s."workflowId", s.key, s."roleId", s.revision, s."runCount", s."dependsOn", s."fallbackRoles", s."attemptedRoles",
        s."gateAfter", s.feedback, s.output, s.question, s.answer)${post}
    SELECT s.*, w.platform::text AS platform, w."teamId", w."channelId", w."threadTs", w."requestText", w.language,
      EXISTS (SELECT 1 FROM "ExperimentAssignment" a WHERE a."workflowId" = s."workflowId") AS "inExperiment",
      w.template, (SELECT coalesce(max(d.version), 0) FROM "RoleDefinition" d)::int AS "roleVersion",
      (SELECT json_build_object('redactPii', p."redactPii", 'localModelsOnly', p."localModelsOnly") FROM "PrivacySetting" p
         WHERE p."scopeKey" IN ('channel:' || w.platform::text || ':' || w."channelId", 'team:' || w.platform::text || ':' || w."teamId", '*')
         ORDER BY CASE WHEN p."scopeKey" LIKE 'channel:%' THEN 0 WHEN p."scopeKey" LIKE 'team:%' THEN 1 ELSE 2 END LIMIT 1) AS privacy,
      EXISTS (SELECT 1 FROM "SharedFile" f WHERE f."workflowId" = s."workflowId" AND f.status::text = 'extracted') AS "hasFiles",
      (SELECT json_agg(json_build_object('key', p.key, 'roleId', p."roleId", 'status', p.status, 'output', p.output, 'outputData', p."outputData", 'dependsOn', p."dependsOn") ORDER BY p.position)
         FROM "Step" p WHERE p."workflowId" = s."workflowId") AS steps,
      (SELECT json_agg(json_build_object('userId', r."userId", 'text', r.text) ORDER BY r."sentAt", r."messageTs")
         FROM "ThreadReply" r WHERE r."workflowId" = s."workflowId") AS replies,
      (SELECT json_agg(json_build_object('scope', b.scope, 'scopeKey', b."scopeKey", 'period', b.period, 'limitUsd', b."limitUsd", 'limitTokens', b."limitTokens", 'action', b.action))
         FROM "Budget" b WHERE (b.scope, b."scopeKey") IN (('workspace', w.platform::text || ':' || w."teamId"), ('channel', w.platform::text || ':' || w."channelId"), ('workflow', w.id),
           ('workspace', '*'), ('channel', '*'), ('workflow', '*'))) AS budgets
    FROM s JOIN "Workflow" w ON w.id = s."workflowId"`;
  const r = rows[0];
  if (!r) return null;
  const { platform, teamId, channelId, threadTs, requestText, language, steps, replies, budgets, ...step } = r;
  return { ...step, workflow: { platform, teamId, channelId, threadTs, requestText, language }, steps: steps ?? [], replies: replies ?? [], budgets: budgets ?? [] };
}

/** Locks the workflow's row for the rest of the transaction: the transactions that move one workflow on run one
 * after another, so each sees the steps the one before it finished (two parallel branches finishing at once cannot
 * both miss the step that joins them). */
export async function lockWorkflow(tx: Prisma.TransactionClient, workflowId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Workflow" WHERE id = ${workflowId} FOR UPDATE`;
}

/** The CTE of finishStepRunLocked's status write (its row, when this run finished). */
const FINISHED = Prisma.raw('finished');

/** What the statement that finishes a step run writes with it: data-modifying CTEs, each guarded by RAN when it
 *  belongs to the run's result (its model calls, its gate, its posts), unguarded when it must be written whoever won
 *  (the calls' spend). */
export const RAN = Prisma.sql`EXISTS (SELECT 1 FROM ${FINISHED})`;

/** running → awaiting_approval (gated) or completed, with its output, for this run only; locks the workflow's row
 * first (see lockWorkflow), in the same statement, and writes `also` (CTE bodies: see RAN) in it too, so a step's
 * result, its records and its posts are one statement (issue 12). */
export async function finishStepRunLocked(
  tx: Prisma.TransactionClient, s: StepRun & { workflowId: string }, gated: boolean,
  out: { output: string; outputData: Record<string, unknown> | string | null; escalation: string | null },
  also: Prisma.Sql[] = [],
): Promise<boolean> {
  const more = also.map((body, i) => Prisma.sql`, ${Prisma.raw(`also${i}`)} AS (${body})`);
  const rows = await tx.$queryRaw<{ n: number }[]>`
    WITH w AS (SELECT id FROM "Workflow" WHERE id = ${s.workflowId} FOR UPDATE),
    ${FINISHED} AS (
      UPDATE "Step" SET status = ${gated ? 'awaiting_approval' : 'completed'}::"StepStatus", output = ${out.output},
        "outputData" = COALESCE(${out.outputData ? JSON.stringify(out.outputData) : null}::jsonb, "outputData"),
        escalation = ${out.escalation}, "finishedAt" = now()
      WHERE id = ${s.id} AND revision = ${s.revision} AND "runCount" = ${s.runCount} AND status = 'running' AND EXISTS (SELECT 1 FROM w)
      RETURNING id)${more.length ? Prisma.join(more, '') : Prisma.empty}
    SELECT count(*)::int AS n FROM ${FINISHED}`;
  return rows[0]?.n === 1;
}

/** A gate after a step's run: inserted once (its id comes from the step run, orchestrator/jobs.ts approvalIdOf).
 *  `guard`: RAN when it is a CTE body of finishStepRunLocked (only when the run finished); alone, none. */
export const gateInsert = (gate: { id: string; workflowId: string; stepId: string; revision: number }, guard: Prisma.Sql = Prisma.sql`true`): Prisma.Sql => Prisma.sql`
  INSERT INTO "Approval" (id, "workflowId", "stepId", revision)
  SELECT ${gate.id}, ${gate.workflowId}, ${gate.stepId}, ${gate.revision} WHERE ${guard}
  ON CONFLICT DO NOTHING`;

export async function insertGate(tx: Writer, gate: { id: string; workflowId: string; stepId: string; revision: number }): Promise<void> {
  await tx.$executeRaw`${gateInsert(gate)}`;
}

/** A step that may start now (its inputs exist). */
export interface ReadyStep extends StepRun {
  roleId: string;
}

/** After the workflow's row is locked (lockWorkflow or a *Locked transition earlier in the transaction), in one
 * statement: the workflow's status from its steps (completed when every step is completed or skipped, else
 * step_failed / awaiting_approval / running as settleWorkflow), and the pending steps whose inputs all exist.
 * `status` is null when the workflow is no longer under way (nothing to start then); `completed` says that this
 * statement completed it (the one transaction that does writes the closing post). */
export async function advanceLocked(tx: Prisma.TransactionClient, workflowId: string): Promise<{ status: string | null; completed: boolean; ready: ReadyStep[]; lastRoleId: string | null; thread: ThreadRow | null }> {
  const rows = await tx.$queryRaw<{ status: string | null; ready: ReadyStep[] | null; lastRoleId: string | null; thread: ThreadRow | null }[]>`
    WITH st AS (SELECT id, key, status, "dependsOn", revision, "runCount", "roleId", position FROM "Step" WHERE "workflowId" = ${workflowId}),
    agg AS (SELECT coalesce(array_agg(key) FILTER (WHERE status IN ('completed', 'skipped')), '{}') AS done,
              coalesce(bool_and(status IN ('completed', 'skipped')), false) AS all_done,
              coalesce(bool_or(status = 'failed'), false) AS failed,
              coalesce(bool_or(status = 'awaiting_approval'), false) AS gated FROM st),
    w AS (UPDATE "Workflow" w SET "updatedAt" = now(),
            status = (CASE WHEN agg.all_done THEN 'completed' WHEN agg.failed THEN 'step_failed' WHEN agg.gated THEN 'awaiting_approval' ELSE 'running' END)::"WorkflowStatus",
            "finishedAt" = CASE WHEN agg.all_done THEN now() ELSE w."finishedAt" END
          FROM agg WHERE w.id = ${workflowId} AND w.status IN ('running', 'awaiting_approval', 'step_failed')
          RETURNING w.status::text AS status, json_build_object('platform', w.platform, 'teamId', w."teamId", 'channelId', w."channelId", 'threadTs', w."threadTs") AS thread)
    SELECT (SELECT status FROM w) AS status, (SELECT thread FROM w) AS thread,
      (SELECT json_agg(json_build_object('id', st.id, 'revision', st.revision, 'runCount', st."runCount", 'roleId', st."roleId") ORDER BY st.position)
         FROM st, agg WHERE st.status = 'pending' AND st."dependsOn" <@ agg.done AND EXISTS (SELECT 1 FROM w)) AS ready,
      (SELECT "roleId" FROM st ORDER BY position DESC LIMIT 1) AS "lastRoleId"`;
  const r = rows[0];
  const status = r?.status ?? null;
  return { status, completed: status === 'completed', ready: r?.ready ?? [], lastRoleId: r?.lastRoleId ?? null, thread: r?.thread ?? null };
}

/** A decided gate as the decision job reads it: the decision, its step's run and the thread. */
export interface DecidedGate {
  id: string;
  status: 'pending' | 'approved' | 'changes_requested' | 'rejected' | 'expired';
  revision: number;
  decidedBy: string | null;
  decidedAt: Date | null;
  feedback: string | null;
  stepId: string;
  roleId: string;
  runCount: number;
  workflowId: string;
  platform: PlatformName;
  teamId: string;
  channelId: string;
  threadTs: string;
}

/** Reads a gate, its step's run and its thread, and in the same statement (issue 12) acts on an approval or a request
 * for changes: locks the workflow's row first (see lockWorkflow), then moves the step from awaiting_approval, for the
 * gate's revision only (a repeat changes nothing). A rejected, pending or expired gate is only read (nothing locked).
 * Null: no such gate. */
export async function decidedGateLocked(tx: Prisma.TransactionClient, approvalId: string): Promise<DecidedGate | null> {
  // `locked` is selected so that the lock is taken whenever the gate was approved or changes were requested, even
  // when a repeat moves nothing (the caller then settles the workflow under the lock all the same)
  const rows = await tx.$queryRaw<(DecidedGate & { locked: boolean })[]>`
    WITH a AS (
      SELECT a.id, a.status::text AS status, a.revision, a."decidedBy", a."decidedAt", a.feedback, a."stepId", s."roleId", s."runCount", a."workflowId",
        w.platform::text AS platform, w."teamId", w."channelId", w."threadTs"
      FROM "Approval" a JOIN "Step" s ON s.id = a."stepId" JOIN "Workflow" w ON w.id = a."workflowId" WHERE a.id = ${approvalId}),
    w AS (SELECT id FROM "Workflow" WHERE id = (SELECT "workflowId" FROM a WHERE status IN ('approved', 'changes_requested')) FOR UPDATE),
    moved AS (
      UPDATE "Step" s SET
        status = (CASE WHEN a.status = 'approved' THEN 'completed' ELSE 'pending' END)::"StepStatus",
        revision = CASE WHEN a.status = 'approved' THEN s.revision ELSE s.revision + 1 END,
        feedback = CASE WHEN a.status = 'approved' THEN s.feedback ELSE a.feedback END
      FROM a
      WHERE s.id = a."stepId" AND s.revision = a.revision AND s.status = 'awaiting_approval' AND a.status IN ('approved', 'changes_requested')
        AND EXISTS (SELECT 1 FROM w)
      RETURNING s.id)
    SELECT a.*, EXISTS (SELECT 1 FROM w) AS locked FROM a`;
  return rows[0] ?? null;
}

/** A waiting gate's n-th reminder (orchestrator/gate-timers.ts): only while it is open, not escalated, and only once. */
export async function remindGate(db: Writer, approvalId: string, n: number): Promise<boolean> {
  return (await db.$executeRaw`
    UPDATE "Approval" a SET reminders = ${n}, "remindedAt" = now()
    WHERE a.id = ${approvalId} AND a.status = 'pending' AND a."escalatedAt" IS NULL AND a.reminders < ${n}
      AND EXISTS (SELECT 1 FROM "Workflow" w WHERE w.id = a."workflowId" AND w.status IN ('running', 'awaiting_approval', 'step_failed'))`) === 1;
}

/** A waiting gate is escalated (approval.on_expire: escalate): it stays pending. Once. */
export async function escalateGate(db: Writer, approvalId: string): Promise<boolean> {
  return (await db.$executeRaw`
    UPDATE "Approval" a SET "escalatedAt" = now() WHERE a.id = ${approvalId} AND a.status = 'pending' AND a."escalatedAt" IS NULL
      AND EXISTS (SELECT 1 FROM "Workflow" w WHERE w.id = a."workflowId" AND w.status IN ('running', 'awaiting_approval', 'step_failed'))`) === 1;
}

/** pending → expired: nobody decided within approval.expire_after. Conditional on pending, like a decision: one wins. */
export async function expireGate(db: Writer, approvalId: string): Promise<boolean> {
  return (await db.$executeRaw`
    UPDATE "Approval" a SET status = 'expired', "decidedAt" = now() WHERE a.id = ${approvalId} AND a.status = 'pending'
      AND EXISTS (SELECT 1 FROM "Workflow" w WHERE w.id = a."workflowId" AND w.status IN ('running', 'awaiting_approval', 'step_failed'))`) === 1;
}

/** pending → the decision, in one statement that also says who won and, when this caller lost, what was decided, and
 * (issue 12) writes `audit` only when this caller won: the decision and its audit row are one write. */
export async function decideApprovalReading(db: Writer, approvalId: string, decision: Decision, userId: string, feedback?: string, audit?: AuditEntry): Promise<{ won: boolean; status: string; decidedBy: string | null; decidedAt: Date | null } | null> {
  const audited = audit
    ? Prisma.sql`, audited AS (
      INSERT INTO "AuditLog" (id, actor, action, target, detail)
      SELECT gen_random_uuid()::text, ${audit.actor}, ${audit.action}, ${audit.target ?? null}, ${audit.detail ? JSON.stringify(audit.detail) : null}::jsonb FROM u)`
    : Prisma.empty;
  const rows = await db.$queryRaw<{ won: boolean; status: string; decidedBy: string | null; decidedAt: Date | null }[]>`
    WITH u AS (
      UPDATE "Approval" SET status = ${decision}::"ApprovalStatus", "decidedBy" = ${userId}, "decidedAt" = now(), feedback = ${feedback ?? null}
      WHERE id = ${approvalId} AND status = 'pending' RETURNING status::text AS status, "decidedBy", "decidedAt")${audited}
    SELECT true AS won, status, "decidedBy", "decidedAt" FROM u
    UNION ALL
    SELECT false, a.status::text, a."decidedBy", a."decidedAt" FROM "Approval" a WHERE a.id = ${approvalId} AND NOT EXISTS (SELECT 1 FROM u)`;
  return rows[0] ?? null;
}
