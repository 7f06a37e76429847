// Creating a workflow from a plan and kicking it off: shared by intake (a message) and the answer to a clarifying
// question (a button). Invariant: one workflow per source message (Workflow.sourceEventId is unique, and with
// `markInbound` the InboundEvent's id too); a second attempt for the same message changes nothing. Statements (issue
// 12): what creating reads of the console's settings (running experiments, stored template versions) is one look,
// or none when intake's look brought it; the workflow, its inbound event, steps and arms are one transaction of two
// statements, which write the plan post too (its ChatOutbox row, built from what is written: nothing read back); a
// duplicate (the event recorded already) rolls all of it back, plan row included. A workflow created a moment ago is
// then started by one statement (kickOff with `known`: steps.ts startFresh).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { Prisma } from '../generated/prisma/client';
import type { PlatformName } from './chat';
import type { EngineDeps } from './deps';
import { planPost, type PlanSource } from './plan-edits';
import type { Plan } from './planning';
import { kickDrains, noPersonaVariants, outboxInsert, outboxRows, queuePosts, writeOutbox } from './outbox';
import { sealerFor } from './privacy/at-rest';
import { advanceWorkflow, startFresh } from './steps';
import { assignFrom, RUNNING_EXPERIMENTS_JSON, type Assigned, type RunningExperiment } from './experiments/assign';
import { STORED_TEMPLATE_VERSIONS_JSON, withStoredVersion } from './template-store';
import { context } from '@opentelemetry/api';
import { recordWorkflowSpan, tracingEnabled, workflowContext } from '../agents/tracing';

export interface WorkflowRequest {
  platform: PlatformName;
  teamId: string;
  channelId: string;
  threadTs: string;
  text: string;
  userId: string;
  /** The intake key of the message (platform:channel:ts). */
  key: string;
  language?: string | null;
}

/** What creating a workflow reads of the console's settings: the running experiments and the stored templates'
 *  versions (orchestrator/template-store.ts), read together with whatever else the reader needs (CREATION_CONFIG). */
export interface CreationConfig {
  experiments: RunningExperiment[];
  templateVersions: Record<string, number>;
}

/** The columns of a CreationConfig, for a SELECT list (`experiments`, `templateVersions`). */
export const CREATION_CONFIG = Prisma.sql`${RUNNING_EXPERIMENTS_JSON} AS experiments, ${STORED_TEMPLATE_VERSIONS_JSON} AS "templateVersions"`;

const creationConfigSchema = z.object({
  experiments: z.array(z.object({ id: z.string(), definition: z.unknown() })),
  templateVersions: z.record(z.string(), z.number().int()),
});

/** A CreationConfig from a row with the CREATION_CONFIG columns. */
export const creationConfigOf = (row: unknown): CreationConfig => creationConfigSchema.parse(row) as CreationConfig;

/** The CreationConfig now (one query). */
export async function readCreationConfig(deps: Pick<EngineDeps, 'prisma'>): Promise<CreationConfig> {
  const [row] = await deps.prisma.$queryRaw<unknown[]>`SELECT ${CREATION_CONFIG}`;
  return creationConfigOf(row);
}

/**
 * Inserts the workflow and its steps; with `markInbound`, the inbound event too, in the same transaction (a retry
 * after a crash redoes both). Undefined when this message already has a workflow.
 */
export async function insertWorkflow(deps: EngineDeps, req: WorkflowRequest, planned: Plan, markInbound: boolean): Promise<string | undefined> {
  return (await createWorkflow(deps, req, planned, markInbound))?.id;
}

/**
 * insertWorkflow, answering also what the plan post needs (kickOff's `known`: nothing read back). `config`: the
 * console's settings as read with the message (intake's look); absent, they are read here (one query). The plan post's
 * ChatOutbox row is written in the same transaction (plan-edits.ts planPost, from what is written), in the statement of
 * the event and steps: committed with the workflow or not at all.
 */
export async function createWorkflow(deps: EngineDeps, req: WorkflowRequest, planned: Plan, markInbound: boolean, config?: CreationConfig): Promise<PlanSource | undefined> {
  const cfg = config ?? (await readCreationConfig(deps));
  // a template changed in the console (an experiment's rolled-out winner) wins over its file (orchestrator/template-store.ts)
  const current = await withStoredVersion(deps.prisma, planned, new Set(deps.roles.ids()), cfg.templateVersions[planned.templateId]);
  // running experiments (orchestrator/experiments): the thread's sticky arm may vary the plan; recorded with the workflow
  const { plan, assignments } = assignFrom(cfg.experiments, { ...req, templateId: current.templateId }, current);
  const seal = await sealerFor(deps, req); // the request's text at rest (privacy/at-rest.ts), the key before the transaction
  const id = randomUUID();
  const status = plan.needsConfirmation ? 'planned' : 'running';
  const steps = plan.steps.map((s, position) => ({ id: randomUUID(), position, key: s.key, roleId: s.roleId, dependsOn: s.dependsOn, gateAfter: s.gateAfter, fallbackRoles: s.fallbackRoles }));
  const created: PlanSource = {
    id, platform: req.platform, teamId: req.teamId, channelId: req.channelId, threadTs: req.threadTs, requestText: req.text,
    template: plan.templateId, language: req.language ?? null, status,
    intent: plan.intent.intent, intentConfidence: plan.intent.confidence, intentReason: plan.intent.reason, intentSource: plan.intent.source,
    steps: steps.map((s) => ({ key: s.key, roleId: s.roleId, gateAfter: s.gateAfter, dependsOn: s.dependsOn })),
  };
  const { item } = await planPost(deps, id, false, created); // no query: from what is about to be written
  // In no experiment: its posts need no look for an arm's persona, so the plan's row is built now and written in the
  // statement of the event and steps. In one: an arm may vary a persona, looked up from its assignment, which must be
  // written first (outboxRows would otherwise find none and remember the workflow as plain): written after it.
  if (!assignments.length) noPersonaVariants(id);
  const planRows = assignments.length ? undefined : await outboxRows(deps.prisma, [item], deps);
  try {
    await deps.prisma.$transaction(async (tx) => {
      const wf = await tx.workflow.create({
        data: {
          id, platform: req.platform, teamId: req.teamId, channelId: req.channelId, threadTs: req.threadTs,
          requestText: seal.text(req.text), requestedBy: req.userId, sourceEventId: req.key, template: plan.templateId, language: req.language ?? null,
          status,
          intent: plan.intent.intent, intentConfidence: plan.intent.confidence, intentReason: plan.intent.reason, intentSource: plan.intent.source,
        },
        select: { id: true },
      });
      // its inbound event, steps and arms in one statement; an event seen already undoes the workflow (a duplicate)
      const [row] = await tx.$queryRaw<{ marked: number }[]>(rowsOfWorkflow(wf.id, markInbound ? req : undefined, steps, assignments, planRows));
      if (!row || row.marked !== 1) throw new SeenAlready();
      if (!planRows) await writeOutbox(tx, [item], deps); // in an experiment: after its assignments (see above)
    });
  } catch (e) {
    if (e instanceof SeenAlready || (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002')) return undefined; // the same message, twice at once
    throw e;
  }
  // Traces (when on): the workflow's root span, once, in the trace every step of it joins (agents/tracing.ts)
  recordWorkflowSpan(id, { 'rolecall.workflow.template': plan.templateId, 'rolecall.workflow.intent': plan.intent.intent, 'rolecall.chat.platform': req.platform, 'rolecall.workflow.steps': plan.steps.length });
  return created;
}

type StepRow = { id: string; position: number; key: string; roleId: string; dependsOn: string[]; gateAfter: boolean; fallbackRoles: string[] };

/** The message's inbound event was recorded by someone else meanwhile: this workflow is rolled back. */
class SeenAlready extends Error {}

/** The rows a new workflow has besides itself, one statement: its inbound event (`inbound`: marked with it; `marked`
 *  is 0 when that event was recorded already, and the caller rolls everything back), steps, arms and (`planRows`:
 *  outbox.ts outboxRows) its plan post's ChatOutbox row, written only with the event. */
function rowsOfWorkflow(workflowId: string, inbound: WorkflowRequest | undefined, steps: StepRow[], assignments: Assigned[], planRows?: string): Prisma.Sql {
  const event = inbound
    ? Prisma.sql`event AS (INSERT INTO "InboundEvent" (id, platform, kind) VALUES (${inbound.key}, CAST(${inbound.platform}::text AS "Platform"), 'mention') ON CONFLICT DO NOTHING RETURNING id),`
    : Prisma.sql`event AS (SELECT 1 AS id),`;
  const arms = assignments.length
    ? Prisma.sql`arms AS (INSERT INTO "ExperimentAssignment" ("experimentId", "workflowId", "threadKey", arm)
        SELECT a."experimentId", ${workflowId}, a."threadKey", a.arm FROM jsonb_to_recordset(${JSON.stringify(assignments)}::jsonb) AS a("experimentId" text, "threadKey" text, arm text)
        ON CONFLICT DO NOTHING),`
    : Prisma.empty;
  const plan = planRows ? Prisma.sql`plan AS (${outboxInsert(planRows, Prisma.sql`WHERE EXISTS (SELECT 1 FROM event)`)}),` : Prisma.empty;
  return Prisma.sql`WITH ${event} ${arms} ${plan}
    steps AS (INSERT INTO "Step" (id, "workflowId", position, key, "roleId", "dependsOn", "gateAfter", "fallbackRoles")
      SELECT s.id, ${workflowId}, s.position, s.key, s."roleId", s."dependsOn", s."gateAfter", s."fallbackRoles"
      FROM jsonb_to_recordset(${JSON.stringify(steps)}::jsonb) AS s(id text, position int, key text, "roleId" text, "dependsOn" text[], "gateAfter" boolean, "fallbackRoles" text[]))
    SELECT (SELECT count(*) FROM event)::int AS marked`;
}

/** Posts the plan and, unless it waits for confirmation, starts the steps that depend on nothing. Safe to repeat (the
 *  plan's outbox row has the plan's key). The plan goes through the chat outbox, its row committed before the first
 *  steps' jobs are added, so it precedes their posts in the thread. `known`: the workflow as createWorkflow answered
 *  it a moment ago — its plan row was committed with it, so only its drain job is added, and the steps are started by
 *  one statement (steps.ts startFresh: nothing else moves the workflow yet). Absent (a re-run after a crash, the
 *  answer to a clarifying question), the workflow is read (one query) and started by advanceWorkflow, which writes
 *  the plan row with the start (a repeat inserts nothing). */
export async function kickOff(deps: EngineDeps, workflowId: string, known?: PlanSource): Promise<void> {
  const { wf, item } = await planPost(deps, workflowId, false, known);
  if (wf.status === 'planned') return known ? kickDrains(deps, [item]) : queuePosts(deps, [item]);
  const start = () => (known ? startFresh(deps, workflowId, [item]) : advanceWorkflow(deps, workflowId, [], [item]));
  // the first steps are queued from inside the workflow's trace, so their runs are children of its root span
  if (tracingEnabled()) await context.with(workflowContext(workflowId), start);
  else await start();
}
