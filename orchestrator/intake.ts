// A person's message reaches the orchestrator: start a workflow, ask which workflow is meant (the classifier is
// unsure), say what Rolecall can do (small talk, nothing fits), or add the reply to the thread's running workflow.
// Statements (issue 12): one look answers what each branch needs — whether the event was seen (and its workflow),
// the thread's active workflow (and whether a step of it waits for an answer), its planned one, and for a mention
// that may start a workflow the settings the decision and the creation read (accepted examples' version, running
// experiments, stored template versions), each read with every such message, so a change applies from the next one.
import { z } from 'zod';
import { Prisma } from '../generated/prisma/client';
import { errorMessage } from '../agents/errors';
import type { InboundMessage } from './chat';
import { askWhich, postQuestion } from './clarify';
import { chatFor, type EngineDeps } from './deps';
import { ingestMessageFiles } from './files';
import { sealerFor } from './privacy/at-rest';
import { RUNNING_EXPERIMENTS_JSON, thresholdFrom } from './experiments/assign';
import { ACCEPTED_EXAMPLES_VERSION, retrainIfChanged } from './intent/retrain';
import { STORED_TEMPLATE_VERSIONS_JSON } from './template-store';
import { CREATION_CONFIG, createWorkflow, creationConfigOf, kickOff, type CreationConfig } from './start';
import { refusedByThrottle } from './throttle';
import { ACTIVE_STATUSES, answerStep } from './workflow/transitions';
import { noPlanView, ROLECALL_PERSONA } from './views';
import { askAddOrNew, isOneToOneChat } from './pending';
import { rememberPerson } from './people';

export const sourceKey = (m: InboundMessage) => `${m.platform}:${m.channelId}:${m.messageTs}`;

/** When the person wrote the message (the platform's own timestamp), or, when the edge had none, now. */
const sentAtOf = (m: InboundMessage): Date => {
  const t = m.sentAt ? Date.parse(m.sentAt) : NaN;
  return Number.isFinite(t) ? new Date(t) : new Date();
};

export async function handleInbound(deps: EngineDeps, msg: InboundMessage): Promise<void> {
  await takeInbound(deps, msg);
  // the writer's name for the console, after the message was taken (best effort, at most once a day: people.ts)
  await rememberPerson(deps, { platform: msg.platform, teamId: msg.teamId, userId: msg.userId });
}

/** What a new workflow's decision and creation read: the accepted examples' version (the retrain check) and the
 *  console's settings (orchestrator/start.ts CreationConfig). */
interface DecisionReads { examples: string; config: CreationConfig }

const lookSchema = z.object({
  seen: z.boolean(),
  started: z.string().nullable(),
  activeId: z.string().nullable(),
  activeWaiting: z.boolean().nullable(),
  plannedId: z.string().nullable(),
  examples: z.string().nullable(),
  experiments: z.unknown(),
  templateVersions: z.unknown(),
});

/** Intake's look at a message, one query: the event seen (and the workflow it started), the thread's active workflow
 *  (newest) and whether a step of it waits for an answer, its planned workflow (a mention), and — only for a mention
 *  that no seen event, active or planned workflow takes — what the decision and the creation read. */
async function lookAt(deps: EngineDeps, msg: InboundMessage, key: string): Promise<z.infer<typeof lookSchema>> {
  const thread = Prisma.sql`platform = CAST(${msg.platform}::text AS "Platform") AND "channelId" = ${msg.channelId} AND "threadTs" = ${msg.threadTs}`;
  const deciding = Prisma.sql`${msg.mentioned === true}::boolean AND NOT e.seen AND a.id IS NULL AND p.id IS NULL`;
  const [row] = await deps.prisma.$queryRaw<unknown[]>`
    SELECT e.seen, e.started, a.id AS "activeId", a.waiting AS "activeWaiting", p.id AS "plannedId",
      CASE WHEN ${deciding} THEN ${ACCEPTED_EXAMPLES_VERSION} END AS examples,
      CASE WHEN ${deciding} THEN ${RUNNING_EXPERIMENTS_JSON} END AS experiments,
      CASE WHEN ${deciding} THEN ${STORED_TEMPLATE_VERSIONS_JSON} END AS "templateVersions"
    FROM (SELECT EXISTS (SELECT 1 FROM "InboundEvent" WHERE id = ${key}) AS seen, (SELECT id FROM "Workflow" WHERE "sourceEventId" = ${key}) AS started) e
    LEFT JOIN LATERAL (
      SELECT w.id, EXISTS (SELECT 1 FROM "Step" s WHERE s."workflowId" = w.id AND s.status = 'waiting_input') AS waiting
      FROM "Workflow" w WHERE ${thread} AND status = ANY(CAST(${[...ACTIVE_STATUSES]}::text[] AS "WorkflowStatus"[]))
      ORDER BY w."createdAt" DESC LIMIT 1
    ) a ON true
    LEFT JOIN LATERAL (
      SELECT id FROM "Workflow" WHERE ${msg.mentioned === true}::boolean AND ${thread} AND status = 'planned' ORDER BY "createdAt" DESC LIMIT 1
    ) p ON true`;
  return lookSchema.parse(row);
}

async function takeInbound(deps: EngineDeps, msg: InboundMessage): Promise<void> {
  const key = sourceKey(msg);
  const look = await lookAt(deps, msg, key);
  if (look.seen) {
    if (look.started) {
      await ingestMessageFiles(deps, msg, look.started); // files not yet taken before the crash (taken ones are skipped)
      await kickOff(deps, look.started); // a re-run after a crash between creating and enqueuing
    }
    else await postQuestion(deps, key); // a re-run after a crash between recording a question and posting it
    return;
  }
  if (look.activeId) {
    // A 1:1 chat has no threads: a new message there is asked about (add it, or start anew), unless a step waits for an
    // answer (orchestrator/pending.ts).
    if (isOneToOneChat(msg) && !look.activeWaiting) return askAddOrNew(deps, look.activeId, msg, key);
    return addReply(deps, look.activeId, msg, key);
  }
  if (look.plannedId) return addReply(deps, look.plannedId, msg, key);
  if (msg.mentioned) {
    const reads = look.examples === null ? undefined : { examples: look.examples, config: creationConfigOf(look) };
    return startWorkflow(deps, msg, key, reads);
  }
  deps.log.debug('ignored thread message without a running workflow', { key });
}

/** A reply in a running workflow's thread answers the step waiting for one, or becomes context for later steps. */
export async function addReply(deps: EngineDeps, workflowId: string, msg: InboundMessage, key: string): Promise<void> {
  await ingestMessageFiles(deps, msg, workflowId); // before the reply is recorded: the steps it wakes see the files
  const waiting = await deps.prisma.step.findFirst({ where: { workflowId, status: 'waiting_input' }, orderBy: { position: 'asc' } });
  const seal = await sealerFor(deps, msg); // the reply's text at rest (privacy/at-rest.ts), the key before the transaction
  // One transaction: the event is marked seen only together with what it did, so a retry after a crash redoes it all.
  const answered = await deps.prisma.$transaction(async (tx) => {
    await tx.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'reply' }], skipDuplicates: true });
    await tx.threadReply.createMany({ data: [{ workflowId, userId: msg.userId, text: seal.text(msg.text), messageTs: msg.messageTs, sentAt: sentAtOf(msg) }], skipDuplicates: true });
    return waiting ? answerStep(tx, waiting, msg.text) : false;
  });
  await acknowledge(deps, msg, waiting && answered ? 'white_check_mark' : 'eyes');
  if (waiting && answered) {
    await deps.queue.enqueue({ kind: 'step', stepId: waiting.id, revision: waiting.revision, run: waiting.runCount + 1 });
    deps.log.info('thread reply answers a waiting step', { workflowId, stepId: waiting.id, key });
    return;
  }
  deps.log.info('thread reply added as context', { workflowId, key });
}

/** A reaction on the person's reply so they see it was taken: ✅ when it answered a waiting step, 👀 when it became
 * context. Best effort (a platform without reactions, or a refusal, only loses the mark; the reply itself is kept). */
async function acknowledge(deps: EngineDeps, msg: InboundMessage, emoji: 'eyes' | 'white_check_mark'): Promise<void> {
  const port = chatFor(deps, msg.platform);
  const thread = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  const failed = (e: unknown) => deps.log.warn('could not acknowledge a thread reply', { platform: msg.platform, error: errorMessage(e) });
  if (port.react) return void (await port.react(thread, msg.messageTs, emoji).catch(failed));
  // No reactions (Teams): a message addressed to Rolecall (a mention, or any message of a 1:1 chat, where a new
  // request would otherwise vanish into the running workflow) is answered with what happened to it.
  if (!msg.mentioned) return;
  const text = emoji === 'white_check_mark'
    ? 'Thanks: your answer went to the step that asked for it.'
    : 'I added this to the workflow already running here, as context for its next steps. To start a separate request, wait until this one finishes or cancel it, then write it again.';
  await port.notify(thread, { id: msg.userId }, text).catch(failed);
}

/** What the decision and the creation read, now (one query): for a start not preceded by intake's look. */
async function decisionReads(deps: EngineDeps): Promise<DecisionReads> {
  const [row] = await deps.prisma.$queryRaw<unknown[]>`SELECT ${ACCEPTED_EXAMPLES_VERSION} AS examples, ${CREATION_CONFIG}`;
  return { examples: z.object({ examples: z.string() }).parse(row).examples, config: creationConfigOf(row) };
}

/** `read`: what intake's look read for this message (DecisionReads); absent (a start from a button), read here. */
export async function startWorkflow(deps: EngineDeps, msg: InboundMessage, key: string, read?: DecisionReads): Promise<void> {
  if (await refusedByThrottle(deps, msg, key)) return; // too many new workflows from this person or channel
  const { examples, config } = read ?? (await decisionReads(deps));
  await retrainIfChanged(deps, examples); // accepted examples reviewed since the last decision train it first
  // an experiment arm may decide this thread with its own intent threshold (orchestrator/experiments/assign.ts)
  const arm = thresholdFrom(config.experiments, msg);
  const spend = { workspace: `${msg.platform}:${msg.teamId}`, channel: `${msg.platform}:${msg.channelId}` }; // budgets.ts scopeKeysOf
  const d = await deps.planner.decide(msg.text, { ...(arm ? { minConfidence: arm.threshold } : {}), spend });
  if (d.kind === 'clarify') {
    await ingestMessageFiles(deps, msg, null); // kept for the workflow the answer starts (clarify.ts adopts them)
    return askWhich(deps, msg, key, d);
  }
  if (d.kind === 'none') return explainNoPlan(deps, msg, key);
  const plan = d.plan;
  // the same reading of experiments as the threshold's, so the workflow records the arm whose threshold decided it
  const created = await createWorkflow(deps, { ...msg, text: msg.text, key, language: d.language }, plan, true, config);
  if (!created) return;
  const workflowId = created.id;
  await ingestMessageFiles(deps, msg, workflowId); // before the first step is queued, so it sees them
  deps.log.info('workflow started', { workflowId, key, template: plan.templateId, intent: plan.intent.intent, confidence: plan.intent.confidence, language: d.language });
  await kickOff(deps, workflowId, created); // the plan as just written: nothing read back
}

/** No template fits and no role's capabilities match: say so, and say what Rolecall can do. */
async function explainNoPlan(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  const { count } = await deps.prisma.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'mention' }], skipDuplicates: true });
  if (count === 0) return;
  const thread = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  await chatFor(deps, msg.platform).post(thread, ROLECALL_PERSONA, noPlanView(deps.planner.templates));
}

