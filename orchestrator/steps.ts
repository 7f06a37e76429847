// Runs a workflow step: the role's persona works in the thread, its status message becomes its output, then the
// workflow moves on. A step is five statements (issue 12): one that starts it, reads everything it works from (its
// workflow, steps, replies, settings and budget rules) and writes its "working…" post; the model calls (none of their
// own where no budget limit applies); then ONE transaction — BEGIN, one statement that writes its result with its
// model calls, violations, tier runs, spend, gate and posts (ChatOutbox, sent later by the poster:
// orchestrator/outbox.ts), one that settles the workflow and says what starts next, COMMIT; the next jobs are added
// after the commit.
// Invariants: every status change goes through workflow/transitions.ts, and a job for an older run of a step (or of a
// workflow that is no longer active) changes nothing; a job that runs again after its transaction committed (a crash
// before its jobs were added, BullMQ's stalled-job recovery) finds the committed state and only adds what comes next.
import { withRoleVariation } from './experiments/assign';
import { isLanguage, LANGUAGE_NAMES } from './intent/language';
import type { AgentResult, ModelAttempts, ModelRetry } from '../agents/agent';
import { runRoutedStep, tierRunsInsert } from './tiers';
import type { StepContext } from '../agents/prompt';
import { LlmError } from '../agents/llm/provider';
import { Prisma } from '../generated/prisma/client';
import type { Role } from '../agents/roles';
import * as T from './workflow/transitions';
import { chatFor, roleOf, type EngineDeps } from './deps';
import type { JobContext } from './queue';
import { isPostRefused, type MessageView, type ThreadRef } from './chat';
import { approvalIdOf, postKey, type JobData, type PostKey } from './jobs';
import { threadOf } from './threads';
import { promptFiles } from './files';
import { BudgetHeldError, budgetedRouter, checkBudgets, holdStep, SpendLater, spendScopeOf, warnBudgets, type BudgetRules } from './budgets';
import { queueOutputFiles } from './outputs';
import { approverMentions, scheduleGateTimers } from './gate-people';
import { drainJobFor, kickDrains, noPersonaVariants, outboxInsert, outboxRows, queuePosts, writeOutbox, type OutboxItem } from './outbox';
import { withPrivacy } from '../agents/llm/private';
import { OFF as PRIVACY_OFF } from './privacy/settings';
import { doneView, failedView, handoverView, modelAttemptsText, modelRetryView, questionView, stoppedView, waitingView, gateView, outputView, personaOf, retryingView, satisfactionView, stepOutputView, workingView } from './views';
import { errorMessage, RolecallError } from '../agents/errors';
import { sealerFor } from './privacy/at-rest';

/** A step failure that retrying will not fix (e.g. the model rejected the request). */
export class PermanentStepError extends RolecallError {
}

/** The role's model (its attempts) and then its fallback model (the fallback's attempts) all failed. */
export class ModelAttemptsFailedError extends PermanentStepError {
  constructor(readonly tried: ModelAttempts[], last: string) {
    super(`${modelAttemptsText(tried)}. Last error: ${last}`);
  }
}

/** A step run and where it posts. */
interface StepRef extends T.StepRun {
  workflowId: string;
  roleId: string;
  thread: ThreadRef;
}

export async function runStep(deps: EngineDeps, data: { stepId: string; revision: number; run: number; roleId?: string }, ctx: JobContext): Promise<void> {
  const run = { id: data.stepId, revision: data.revision, runCount: data.run };
  // The first attempt's "working…" post is written by the statement that starts the run, when the job names the role
  // and no role was saved in the console since this process loaded its roles (role-sync.ts).
  const known = data.roleId && ctx.attempt === 1 ? deps.roles.get(data.roleId) : undefined;
  const roleVersion = deps.roleEdits?.version();
  const first = known && { key: postKey(statusKey(run)), kind: 'status', roleId: known.role_id, persona: personaOf(known), view: workingView(known, 1, ctx.maxAttempts, data.revision), roleVersion };
  const step = await T.startStepRunReading(deps.prisma, run, first);
  if (!step) return resumeRun(deps, data);
  // What the step needs besides came with that statement (issue 12: no lookups of its own): role edits saved since
  // (reloaded now), the privacy settings of its channel or workspace (applied to its model calls), its template,
  // whether it has files, whether it is in an experiment.
  await deps.roleEdits?.upTo(step.roleVersion);
  if (!step.inExperiment) noPersonaVariants(step.workflowId); // the outbox need not look for an arm's persona
  const written = !!first && first.roleId === step.roleId && !step.inExperiment && (roleVersion === undefined || roleVersion === step.roleVersion);
  return withPrivacy(step.privacy ?? PRIVACY_OFF, () => runStarted(deps, step, written, ctx));
}

/** The run started by runStep (inside its privacy scope); `written`: its first post was written by the start. */
async function runStarted(deps: EngineDeps, step: T.StartedStep, written: boolean, ctx: JobContext): Promise<void> {
  const ref: StepRef = { ...step, thread: threadOf(step.workflow) };
  // an experiment arm's role variation, if any (its persona reaches the posts through the outbox)
  const role = step.inExperiment ? await withRoleVariation(deps.prisma, step.workflowId, roleOf(deps, step.roleId)) : roleOf(deps, step.roleId);
  const started = Date.now();
  const working = workingView(role, ctx.attempt, ctx.maxAttempts, step.revision);
  const status = ctx.attempt === 1 ? post(deps, ref, statusKey(ref), working) : edit(deps, ref, statusKey(ref), `work-a${ctx.attempt}`, working);
  if (written) await kickDrains(deps, [status]); // written by the start
  else await queuePosts(deps, [status]);

  const later = new SpendLater(spendScopeOf(ref)); // the calls' spend where no limit is set: written with the result
  try {
    const produced = await producedOutput(deps, step, ref, role, ctx, later);
    if ('question' in produced) return await askPerson(deps, ref, role, produced.question, produced.result);
    const { result, escalation, outputData, budgetRules, tierRuns } = produced;
    const gate = escalation !== null || (step.gateAfter && role.approval.policy !== 'none');
    const approvalId = gate ? approvalIdOf(step.id, step.revision) : undefined;
    const posts = outputPosts(deps, ref, role, result, escalation, (Date.now() - started) / 1000);
    // the gate card mentions who may decide (gate-timers.ts), so someone is notified
    if (approvalId) posts.push(post(deps, ref, { kind: 'gate', approvalId }, gateView(role, approvalId, escalation, await approverMentions(deps, role, ref.thread, { workflowId: step.workflowId }))));
    const seal = await sealerFor(deps, ref.thread); // output at rest (privacy/at-rest.ts): a cached key, before the transaction
    // One statement writes the result and everything that goes with it (its model calls, violations, tier runs,
    // spend, gate and posts), a second settles the workflow and says what starts next: BEGIN, 2, COMMIT.
    const rows = await outboxRows(deps.prisma, posts, deps);
    const spend = later.upsert();
    const also = [
      ...traceInserts(ref, result, RAN),
      ...(tierRuns.length ? [tierRunsInsert(tierRuns, RAN)] : []),
      ...(approvalId ? [T.gateInsert({ id: approvalId, workflowId: step.workflowId, stepId: step.id, revision: step.revision }, RAN)] : []),
      outboxInsert(rows, Prisma.sql`WHERE ${RAN}`),
      ...(spend ? [spend] : []), // unguarded: the calls were made whoever's result is kept
    ];
    const next = await deps.prisma.$transaction(async (tx) => {
      if (!(await T.finishStepRunLocked(tx, ref, gate, { output: seal.text(result.text), outputData: outputData && seal.json(outputData), escalation }, also))) return undefined;
      return moveOn(deps, tx, step.workflowId, [], posts);
    });
    if (spend) later.taken(); // committed (a superseded run's spend too: the statement ran whole)
    if (next) await Promise.all([afterCommit(deps, next), queueOutputFiles(deps, { ...ref, outputData }), ...(approvalId ? [scheduleGateTimers(deps, approvalId, role.role_id)] : [])]); // files: orchestrator/outputs.ts; the gate's reminder and expiry jobs
    await warnBudgets(deps, ref, new Date(), budgetRules); // the 80% notice, once per budget window (budgets.ts), under the rules the step read
  } finally {
    // spend no statement took (the run failed, asked a person, or its transaction did not commit)
    await later.flush(deps.prisma).catch((e: unknown) => deps.log.warn('could not add a step\'s model spend to its budget windows', { stepId: step.id, error: errorMessage(e) }));
  }
}

const { RAN } = T; // the guard of what is written with a step's result: the run finished

const NO_FILES: Awaited<ReturnType<typeof promptFiles>> = { files: [], images: [], calls: [] };

type Produced = { result: Extract<AgentResult, { kind: 'ok' | 'escalate' }>; outputData: Record<string, unknown> | null; escalation: string | null; budgetRules: BudgetRules; tierRuns: Prisma.TierRunCreateManyInput[] } | { question: string; result: AgentResult };

/** The role agent's answer (its model calls are recorded with the step's result, in the step's transaction). A step
 *  held by a spent budget says so in its status line (waiting for budget, who can raise it) and its job is delayed. */
async function producedOutput(deps: EngineDeps, step: T.StartedStep, ref: StepRef, role: Role, ctx: JobContext, later: SpendLater): Promise<Produced> {
  try {
    return await budgetedOutput(deps, step, ref, role, ctx, later);
  } catch (e) {
    if (e instanceof BudgetHeldError) {
      const view = await holdStep(deps, ref, e, role.persona.display_name);
      if (view) await queuePosts(deps, [edit(deps, ref, statusKey(ref), `budget-${e.windowId}`, view)]);
    }
    throw e;
  }
}

async function budgetedOutput(deps: EngineDeps, step: T.StartedStep, ref: StepRef, role: Role, ctx: JobContext, later: SpendLater): Promise<Produced> {
  const onRetry = async (r: ModelRetry) => void (await queuePosts(deps, [edit(deps, ref, statusKey(ref), `model-a${ctx.attempt}-${r.model}-${r.attempt}`, modelRetryView(role, r))]));
  const budget = await checkBudgets(deps, ref, role, new Date(), step.budgets); // over a budget: held (a delayed job), or on the local model
  // a run held before says it is at work again (a run can only have been held where a limit is set)
  const holds = budget.rules.length ? await deps.prisma.budgetHold.count({ where: { stepId: ref.id, revision: ref.revision, run: ref.runCount } }) : 0;
  if (holds) await queuePosts(deps, [edit(deps, ref, statusKey(ref), `work-after-hold-${holds}`, workingView(role, ctx.attempt, ctx.maxAttempts, ref.revision))]);
  // Every model call of the step (its tiers, the judge, a shadow run, file summaries) is admitted against the budgets
  // before it is sent and counted as soon as it returns (budgets.ts budgetedRouter).
  const llm = budgetedRouter(deps, spendScopeOf(ref), budget.local ?? deps.llm, budget.rules, later);
  const files = step.hasFiles ? await promptFiles({ ...deps, llm }, role, step.workflowId) : NO_FILES; // hasFiles: read by the start
  if (files.calls.length) {
    // Summarising large files is a model call like any other: recorded with the step, priced (counted by the router).
    await deps.prisma.llmCall.createMany({ data: files.calls.map((c) => ({ ...c, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, purpose: 'file' })) });
  }
  const context = { ...stepContext(deps, step), ...(files.files.length ? { files: files.files } : {}), ...(files.images.length ? { images: files.images } : {}) };
  // On the role's model tier (orchestrator/tiers.ts: starts cheap, moves up on failed checks; recorded; status line).
  const status = (tag: string, view: MessageView) => queuePosts(deps, [edit(deps, ref, statusKey(ref), `${tag}-a${ctx.attempt}`, view)]);
  const tierRuns: Prisma.TierRunCreateManyInput[] = []; // recorded with the result (or now, when there is none)
  const result = await runRoutedStep({ ...deps, llm }, step, role, context, deps.tools?.({ workflowId: step.workflowId, stepId: step.id }), { onRetry, status, runs: tierRuns });
  if ((result.kind === 'llm_error' || result.kind === 'question') && tierRuns.length) await deps.prisma.$executeRaw`${tierRunsInsert(tierRuns)}`;
  // The model's attempts (and its fallback's) are spent inside runAgent, with backoff: what is left is for a person.
  if (result.kind === 'llm_error') {
    await recordTrace(deps.prisma, ref, result);
    throw new ModelAttemptsFailedError(result.tried, result.error.message);
  }
  if (result.kind === 'question') return { question: result.question, result };
  const escalation = result.kind === 'escalate' ? result.reasons.map((r) => `${r.kind}: ${r.detail}`).join('\n') : null;
  return { result, outputData: result.kind === 'ok' ? result.data : null, escalation, budgetRules: budget.rules, tierRuns };
}

/** The status message becomes the output when the output fits one message; otherwise the status says "finished" and
 *  the output follows as posts of its own (cut into parts by the poster), as before the outbox. */
function outputPosts(deps: EngineDeps, ref: StepRef, role: Role, result: Extract<AgentResult, { kind: 'ok' | 'escalate' }>, escalation: string | null, seconds: number): OutboxItem[] {
  const outputKey: PostKey = { kind: 'output', stepId: ref.id, revision: ref.revision, roleId: ref.roleId };
  const merged = stepOutputView(role, result.text, result.model, escalation, seconds);
  const port = chatFor(deps, ref.thread.platform);
  if ((port.split?.(merged) ?? [merged]).length === 1) return [{ ...edit(deps, ref, statusKey(ref), 'output', merged), as: outputKey } as OutboxItem];
  return [edit(deps, ref, statusKey(ref), 'done', doneView(role, seconds)), post(deps, ref, outputKey, outputView(result.text, result.model, escalation))];
}

/** The role cannot go on without an answer: it asks in the thread and the step waits, durably, for a reply. */
async function askPerson(deps: EngineDeps, ref: StepRef, role: Role, question: string, result: AgentResult): Promise<void> {
  const posts = [edit(deps, ref, statusKey(ref), 'waiting', waitingView(role)), post(deps, ref, { kind: 'question', stepId: ref.id }, questionView(role, question))];
  const asked = await deps.prisma.$transaction(async (tx) => {
    if (!(await T.askForInput(tx, ref, question))) return false;
    await recordTrace(tx, ref, result);
    await writeOutbox(tx, posts, deps);
    return true;
  });
  if (asked) await kickDrains(deps, posts);
}

/** The run's model calls and constraint violations as statements (CTE bodies of the statement that finishes the run,
 *  with `guard` RAN: written only when it finished; alone, recordTrace). */
function traceInserts(step: StepRef, result: AgentResult, guard: Prisma.Sql = Prisma.sql`true`): Prisma.Sql[] {
  const out: Prisma.Sql[] = [];
  if (result.calls.length) {
    out.push(Prisma.sql`
      INSERT INTO "LlmCall" (id, "workflowId", "stepId", purpose, "roleId", provider, model, "promptTokens", "completionTokens", "latencyMs", "costUsd", "priceUnknown", ok, error)
      SELECT gen_random_uuid()::text, ${step.workflowId}, ${step.id}, 'step', ${step.roleId}, c.provider, c.model, c."promptTokens", c."completionTokens", c."latencyMs", c."costUsd", coalesce(c."priceUnknown", false), c.ok, c.error
      FROM jsonb_to_recordset(${JSON.stringify(result.calls)}::jsonb) AS c(provider text, model text, "promptTokens" int, "completionTokens" int, "latencyMs" int, "costUsd" numeric, "priceUnknown" boolean, ok boolean, error text)
      WHERE ${guard}`);
  }
  if (result.violations.length) {
    out.push(Prisma.sql`
      INSERT INTO "ConstraintViolation" (id, "workflowId", "stepId", "roleId", kind, detail, action)
      SELECT gen_random_uuid()::text, ${step.workflowId}, ${step.id}, ${step.roleId}, v.kind, v.detail, v.action
      FROM jsonb_to_recordset(${JSON.stringify(result.violations)}::jsonb) AS v(kind text, detail text, action text)
      WHERE ${guard}`);
  }
  return out;
}

/** Records the run's model calls and violations (a run that ends without the finishing statement: a question, a
 *  model failure). Their spend is counted by the budgets' router (budgets.ts budgetedRouter, SpendLater). */
async function recordTrace(db: T.Writer, step: StepRef, result: AgentResult): Promise<void> {
  for (const insert of traceInserts(step, result)) await db.$executeRaw`${insert}`;
}

/** What a step works from: the outputs of the steps it depends on (transitively), as structured data. */
function stepContext(deps: EngineDeps, step: T.StartedStep): StepContext {
  const upstream = ancestors(step.steps, step);
  const previous = step.steps.filter((p) => upstream.has(p.key) && p.output !== null && p.status === 'completed');
  return {
    request: step.workflow.requestText,
    previous: previous.map((p) => ({ roleName: roleOf(deps, p.roleId).persona.display_name, output: p.outputData ? JSON.stringify(p.outputData, null, 1) : p.output! })),
    threadNotes: step.replies.map((r) => ({ userId: r.userId, text: r.text })),
    revision: step.revision > 1 && step.feedback && step.output ? { previousOutput: step.output, feedback: step.feedback } : undefined,
    question: step.question && step.answer ? { question: step.question, answer: step.answer } : undefined,
    mayAsk: !step.question,
    language: isLanguage(step.workflow.language) && step.workflow.language !== 'en' ? LANGUAGE_NAMES[step.workflow.language] : undefined,
  };
}

function ancestors(all: { key: string; dependsOn: string[] }[], step: { dependsOn: string[] }): Set<string> {
  const byKey = new Map(all.map((s) => [s.key, s]));
  const seen = new Set<string>();
  const visit = (keys: string[]) => keys.forEach((k) => { if (!seen.has(k)) { seen.add(k); visit(byKey.get(k)?.dependsOn ?? []); } });
  visit(step.dependsOn);
  return seen;
}

// ---- what comes next ----

/** What a committed transaction leaves to do: the steps to start and the posts to send. */
export interface Next {
  ready: T.ReadyStep[];
  posts: OutboxItem[];
}

/** Inside a transaction that has locked the workflow's row: settles the workflow (completing it when every step is
 *  done, with the closing post), writes `posts` and the closing post to the outbox, and says what to start (and which
 *  posts to drain: `written`, already written in the transaction, and those). */
export async function moveOn(deps: EngineDeps, tx: Prisma.TransactionClient, workflowId: string, posts: OutboxItem[], written: OutboxItem[] = []): Promise<Next> {
  const adv = await T.advanceLocked(tx, workflowId);
  if (adv.completed && adv.lastRoleId && adv.thread) {
    posts.push({
      op: 'post', key: { kind: 'satisfaction', workflowId }, workflowId, roleId: adv.lastRoleId, thread: adv.thread,
      persona: personaOf(roleOf(deps, adv.lastRoleId)), view: satisfactionView(workflowId),
    });
    deps.log.info('workflow completed', { workflowId });
  }
  await writeOutbox(tx, posts, deps);
  return { ready: adv.ready, posts: [...written, ...posts] };
}

/** After the commit: the next steps' jobs and the posts' drain jobs (a failure here is made up for by the job's
 *  re-run, which finds the committed state, by resumeWorkflows, and by the outbox sweep). */
export async function afterCommit(deps: EngineDeps, next: Next): Promise<void> {
  await Promise.all([
    ...next.ready.map((s) => deps.queue.enqueue({ kind: 'step', stepId: s.id, revision: s.revision, run: s.runCount, roleId: s.roleId })),
    kickDrains(deps, next.posts),
  ]);
}

/** The run did not start: superseded, waiting for a person, or finished by a run whose jobs may not have been added
 *  (a crash between its commit and the adds): then only what comes next is added. */
async function resumeRun(deps: EngineDeps, data: { stepId: string; revision: number; run: number }): Promise<void> {
  const s = await stepRef(deps, data.stepId);
  if (!s || s.revision !== data.revision || s.runCount !== data.run) return;
  if (s.status === 'completed' || s.status === 'awaiting_approval') return continueAfter(deps, s.id);
}

/** Moves the workflow on from a finished step: opens its gate (if its post is missing), adds the next steps' jobs, or
 *  completes. Safe to repeat. */
export async function continueAfter(deps: EngineDeps, stepId: string): Promise<void> {
  const step = await stepRef(deps, stepId);
  if (!step) return;
  if (step.status === 'awaiting_approval') return openGate(deps, step);
  if (step.status !== 'completed' && step.status !== 'skipped') return;
  return advanceWorkflow(deps, step.workflowId, [drainJobFor(step.thread, `resume:${step.id}:r${step.revision}:n${step.runCount}`)]);
}

/** Starts every step whose inputs exist (parallel where the DAG allows) and completes the workflow when all are done.
 *  `drains`: drain jobs to add as well (a recovery adds one for the thread's channel); `posts`: written in the same
 *  transaction, before the steps' own (the plan: plan-edits.ts). */
export async function advanceWorkflow(deps: EngineDeps, workflowId: string, drains: JobData[] = [], posts: OutboxItem[] = []): Promise<void> {
  const next = await deps.prisma.$transaction(async (tx) => {
    await T.lockWorkflow(tx, workflowId);
    return moveOn(deps, tx, workflowId, [...posts]);
  });
  await Promise.all([afterCommit(deps, next), ...drains.map((d) => deps.queue.enqueue(d))]);
}

/** A workflow created a moment ago, its plan post (`planPosts`) committed with it (start.ts createWorkflow): starts
 *  the steps that depend on nothing in ONE statement (issue 12) — advanceLocked alone, in autocommit, without
 *  advanceWorkflow's BEGIN, lock and COMMIT. Safe because nothing else moves a workflow created a moment ago: none of
 *  its steps has a job before afterCommit adds them, and a running workflow's plan has no buttons; the statement is
 *  atomic on its own and its status write conditional (transitions.ts). A second start of the same workflow (intake
 *  re-run for the same message: kickOff without `known`) goes through advanceWorkflow and finds the same pending
 *  steps, whose jobs start each run once. The plan's row was committed before the steps' jobs are added, so its
 *  ChatOutbox id is below that of their "working…" posts, written when those jobs start: the plan goes out first.
 *  A fresh workflow has no finished step, so it cannot complete here (moveOn would write the closing post). */
export async function startFresh(deps: EngineDeps, workflowId: string, planPosts: OutboxItem[]): Promise<void> {
  await afterCommit(deps, await moveOn(deps, deps.prisma, workflowId, [], planPosts));
}

/** A gate whose step finished: its row and card exist (written with the step); after a restart, written if missing,
 *  and a decision whose job was lost is applied. */
async function openGate(deps: EngineDeps, step: StepRef): Promise<void> {
  const role = roleOf(deps, step.roleId);
  const who = await approverMentions(deps, role, step.thread, { workflowId: step.workflowId });
  const gate = await deps.prisma.$transaction(async (tx) => {
    await T.insertGate(tx, { id: approvalIdOf(step.id, step.revision), workflowId: step.workflowId, stepId: step.id, revision: step.revision });
    const approval = await tx.approval.findUniqueOrThrow({ where: { stepId_revision: { stepId: step.id, revision: step.revision } }, select: { id: true, status: true } });
    if (approval.status !== 'pending') return { approval, next: undefined };
    const escalation = (await tx.step.findUniqueOrThrow({ where: { id: step.id }, select: { escalation: true } })).escalation;
    await T.lockWorkflow(tx, step.workflowId);
    const next = await moveOn(deps, tx, step.workflowId, [post(deps, step, { kind: 'gate', approvalId: approval.id }, gateView(role, approval.id, escalation, who))]);
    return { approval, next };
  });
  if (!gate.next) return deps.queue.enqueue({ kind: 'decision', approvalId: gate.approval.id });
  await Promise.all([afterCommit(deps, gate.next), scheduleGateTimers(deps, gate.approval.id, step.roleId)]); // timers lost in a crash are added again
}

// ---- failures ----

/** The last attempt failed: the step fails visibly in the thread with a Retry button; the workflow waits. */
export async function failStep(deps: EngineDeps, stepId: string, error: string, attempts: number, cause?: unknown): Promise<void> {
  const step = await stepRef(deps, stepId);
  if (!step) return;
  const role = roleOf(deps, step.roleId);
  const next = step.fallbackRoles.find((r) => r !== step.roleId && !step.attemptedRoles.includes(r));
  if (next) return handOver(deps, step, next, error);
  const posts = [
    edit(deps, step, statusKey(step), 'stopped', stoppedView(role)),
    post(deps, step, failurePostKey(step), failedView(role, error, step.id, cause instanceof ModelAttemptsFailedError ? null : attempts, step.workflowId)),
  ];
  // A thread that cannot be posted to: the poster records the refusal (posts.ts) and the console's workflow page shows it.
  const failed = await deps.prisma.$transaction(async (tx) => {
    if (!(await T.failStepRun(tx, step, error))) return false;
    await T.settleWorkflow(tx, step.workflowId);
    await writeOutbox(tx, posts, deps);
    return true;
  });
  if (!failed) return;
  deps.log.warn('step failed', { stepId, workflowId: step.workflowId, error });
  await kickDrains(deps, posts);
}

/** The step's role keeps failing: the next role of its fallback chain takes the step over. */
async function handOver(deps: EngineDeps, step: StepRef & { attemptedRoles: string[] }, nextRoleId: string, error: string): Promise<void> {
  const from = roleOf(deps, step.roleId);
  const to = roleOf(deps, nextRoleId);
  const posts = [
    edit(deps, step, statusKey(step), 'stopped', stoppedView(from)),
    post(deps, step, { kind: 'handover', stepId: step.id, toRoleId: nextRoleId }, handoverView(from, to, error)),
  ];
  const handed = await deps.prisma.$transaction(async (tx) => {
    if (!(await T.handOverStep(tx, step, nextRoleId))) return false;
    await writeOutbox(tx, posts, deps);
    return true;
  });
  if (!handed) return;
  await afterCommit(deps, { ready: [{ id: step.id, revision: step.revision, runCount: step.runCount + 1, roleId: nextRoleId }], posts });
}

/** The failure card of a step's current run (its Retry / Skip / Cancel buttons are settled on it later). */
export const failurePostKey = (step: T.StepRun): PostKey => ({ kind: 'failure', stepId: step.id, revision: step.revision, run: step.runCount });

export async function noteRetry(deps: EngineDeps, stepId: string, error: string, ctx: JobContext): Promise<void> {
  const step = await stepRef(deps, stepId);
  if (!step) return;
  await queuePosts(deps, [edit(deps, step, statusKey(step), `retry-a${ctx.attempt}`, retryingView(roleOf(deps, step.roleId), ctx.attempt, ctx.maxAttempts, error))]);
}

export const isPermanent = (e: unknown) => e instanceof PermanentStepError || (e instanceof LlmError && !e.retryable) || isPostRefused(e);

// ---- posts ----

/** A step's run and its thread, in one query. */
export async function stepRef(deps: EngineDeps, stepId: string): Promise<(StepRef & { status: string; fallbackRoles: string[]; attemptedRoles: string[] }) | undefined> {
  const rows = await deps.prisma.$queryRaw<{ id: string; workflowId: string; roleId: string; revision: number; runCount: number; status: string; fallbackRoles: string[]; attemptedRoles: string[]; platform: ThreadRef['platform']; teamId: string; channelId: string; threadTs: string }[]>`
    SELECT s.id, s."workflowId", s."roleId", s.revision, s."runCount", s.status::text AS status, s."fallbackRoles", s."attemptedRoles",
      w.platform::text AS platform, w."teamId", w."channelId", w."threadTs"
    FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId" WHERE s.id = ${stepId}`;
  const r = rows[0];
  return r && { ...r, thread: threadOf(r) };
}

/** The status message of a step's run (it becomes the run's output). */
export const statusKey = (s: T.StepRun): PostKey => ({ kind: 'status', stepId: s.id, revision: s.revision, run: s.runCount });

/** A new post of the step's persona in its thread. */
export function post(deps: EngineDeps, step: StepRef, key: PostKey, view: MessageView): OutboxItem {
  return { op: 'post', key, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread: step.thread, persona: personaOf(roleOf(deps, step.roleId)), view };
}

/** An edit of a post of the step (`tag` names the edit: the same edit written twice is sent once). */
export function edit(deps: EngineDeps, step: StepRef, target: PostKey, tag: string, view: MessageView): OutboxItem {
  return { op: 'update', target, tag, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread: step.thread, persona: personaOf(roleOf(deps, step.roleId)), view };
}
