// A person's message reaches the orchestrator: start a workflow, ask which workflow is meant (the classifier is
// unsure), say what Rolecall can do (small talk, nothing fits), or add the reply to the thread's running workflow.
import { errorMessage } from '../agents/errors';
import type { InboundMessage } from './chat';
import { askWhich, postQuestion, refreshTraining } from './clarify';
import { chatFor, type EngineDeps } from './deps';
import { ingestMessageFiles } from './files';
import { sealerFor } from './privacy/at-rest';
import { intentThresholdFor } from './experiments/assign';
import { insertWorkflow, kickOff } from './start';
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

async function takeInbound(deps: EngineDeps, msg: InboundMessage): Promise<void> {
  const key = sourceKey(msg);
  if (await deps.prisma.inboundEvent.findUnique({ where: { id: key } })) {
    const started = await deps.prisma.workflow.findUnique({ where: { sourceEventId: key } });
    if (started) {
      await ingestMessageFiles(deps, msg, started.id); // files not yet taken before the crash (taken ones are skipped)
      await kickOff(deps, started.id); // a re-run after a crash between creating and enqueuing
    }
    else await postQuestion(deps, key); // a re-run after a crash between recording a question and posting it
    return;
  }
  const active = await deps.prisma.workflow.findFirst({
    where: { platform: msg.platform, channelId: msg.channelId, threadTs: msg.threadTs, status: { in: [...ACTIVE_STATUSES] } },
    orderBy: { createdAt: 'desc' },
  });
  if (active) {
    // A 1:1 chat has no threads: a new message there is asked about (add it, or start anew), unless a step waits for an
    // answer (orchestrator/pending.ts).
    if (isOneToOneChat(msg) && !(await deps.prisma.step.findFirst({ where: { workflowId: active.id, status: 'waiting_input' }, select: { id: true } }))) {
      return askAddOrNew(deps, active.id, msg, key);
    }
    return addReply(deps, active.id, msg, key);
  }
  const planned = msg.mentioned ? await deps.prisma.workflow.findFirst({ where: { platform: msg.platform, channelId: msg.channelId, threadTs: msg.threadTs, status: 'planned' } }) : null;
  if (planned) return addReply(deps, planned.id, msg, key);
  if (msg.mentioned) return startWorkflow(deps, msg, key);
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

export async function startWorkflow(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  if (await refusedByThrottle(deps, msg, key)) return; // too many new workflows from this person or channel
  await refreshTraining(deps);
  // an experiment arm may decide this thread with its own intent threshold (orchestrator/experiments/assign.ts)
  const arm = await intentThresholdFor(deps.prisma, msg);
  const spend = { workspace: `${msg.platform}:${msg.teamId}`, channel: `${msg.platform}:${msg.channelId}` }; // budgets.ts scopeKeysOf
  const d = await deps.planner.decide(msg.text, { ...(arm ? { minConfidence: arm.threshold } : {}), spend });
  if (d.kind === 'clarify') {
    await ingestMessageFiles(deps, msg, null); // kept for the workflow the answer starts (clarify.ts adopts them)
    return askWhich(deps, msg, key, d);
  }
  if (d.kind === 'none') return explainNoPlan(deps, msg, key);
  const plan = d.plan;
  const workflowId = await insertWorkflow(deps, { ...msg, text: msg.text, key, language: d.language }, plan, true);
  if (!workflowId) return;
  await ingestMessageFiles(deps, msg, workflowId); // before the first step is queued, so it sees them
  deps.log.info('workflow started', { workflowId, key, template: plan.templateId, intent: plan.intent.intent, confidence: plan.intent.confidence, language: d.language });
  await kickOff(deps, workflowId);
}

/** No template fits and no role's capabilities match: say so, and say what Rolecall can do. */
async function explainNoPlan(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  const { count } = await deps.prisma.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'mention' }], skipDuplicates: true });
  if (count === 0) return;
  const thread = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  await chatFor(deps, msg.platform).post(thread, ROLECALL_PERSONA, noPlanView(deps.planner.templates));
}

