// A person's message reaches the orchestrator: start a workflow, or add the reply to the thread's running workflow.
import { Prisma } from '../generated/prisma/client';
import type { InboundMessage } from './chat';
import { chatFor, type EngineDeps } from './deps';
import { postPlan } from './plan-edits';
import { postOnce } from './posts';
import { advanceWorkflow } from './steps';
import { ACTIVE_STATUSES, answerStep } from './workflow/transitions';
import { noPlanView, ROLECALL_PERSONA } from './views';

export const sourceKey = (m: InboundMessage) => `${m.platform}:${m.channelId}:${m.messageTs}`;

export async function handleInbound(deps: EngineDeps, msg: InboundMessage): Promise<void> {
  const key = sourceKey(msg);
  if (await deps.prisma.inboundEvent.findUnique({ where: { id: key } })) {
    const started = await deps.prisma.workflow.findUnique({ where: { sourceEventId: key } });
    if (started) await kickOff(deps, started.id); // a re-run after a crash between creating and enqueuing
    return;
  }
  const active = await deps.prisma.workflow.findFirst({
    where: { platform: msg.platform, channelId: msg.channelId, threadTs: msg.threadTs, status: { in: [...ACTIVE_STATUSES] } },
    orderBy: { createdAt: 'desc' },
  });
  if (active) return addReply(deps, active.id, msg, key);
  const planned = msg.mentioned ? await deps.prisma.workflow.findFirst({ where: { platform: msg.platform, channelId: msg.channelId, threadTs: msg.threadTs, status: 'planned' } }) : null;
  if (planned) return addReply(deps, planned.id, msg, key);
  if (msg.mentioned) return startWorkflow(deps, msg, key);
  deps.log.debug('ignored thread message without a running workflow', { key });
}

/** A reply in a running workflow's thread answers the step waiting for one, or becomes context for later steps. */
async function addReply(deps: EngineDeps, workflowId: string, msg: InboundMessage, key: string): Promise<void> {
  const waiting = await deps.prisma.step.findFirst({ where: { workflowId, status: 'waiting_input' }, orderBy: { position: 'asc' } });
  // One transaction: the event is marked seen only together with what it did, so a retry after a crash redoes it all.
  const answered = await deps.prisma.$transaction(async (tx) => {
    await tx.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'reply' }], skipDuplicates: true });
    await tx.threadReply.createMany({ data: [{ workflowId, userId: msg.userId, text: msg.text, messageTs: msg.messageTs }], skipDuplicates: true });
    return waiting ? answerStep(tx, waiting, msg.text) : false;
  });
  if (waiting && answered) {
    await deps.queue.enqueue({ kind: 'step', stepId: waiting.id, revision: waiting.revision, run: waiting.runCount + 1 });
    deps.log.info('thread reply answers a waiting step', { workflowId, stepId: waiting.id, key });
    return;
  }
  deps.log.info('thread reply added as context', { workflowId, key });
}

async function startWorkflow(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  const plan = await deps.planner.plan(msg.text);
  if (!plan) return explainNoPlan(deps, msg, key);
  let workflowId: string;
  try {
    workflowId = await deps.prisma.$transaction(async (tx) => {
      await tx.inboundEvent.create({ data: { id: key, platform: msg.platform, kind: 'mention' } });
      const wf = await tx.workflow.create({
        data: {
          platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs,
          requestText: msg.text, requestedBy: msg.userId, sourceEventId: key, template: plan.templateId,
          status: plan.needsConfirmation ? 'planned' : 'running',
          intent: plan.intent.intent, intentConfidence: plan.intent.confidence, intentReason: plan.intent.reason, intentSource: plan.intent.source,
          steps: {
            create: plan.steps.map((s, position) => ({ position, key: s.key, roleId: s.roleId, dependsOn: s.dependsOn, gateAfter: s.gateAfter, fallbackRoles: s.fallbackRoles })),
          },
        },
      });
      return wf.id;
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return; // the same message, twice at once
    throw e;
  }
  deps.log.info('workflow started', { workflowId, key, template: plan.templateId, intent: plan.intent.intent, confidence: plan.intent.confidence });
  await kickOff(deps, workflowId);
}

/** Posts the plan and, unless it waits for confirmation, starts the steps that depend on nothing. Safe to repeat. */
async function kickOff(deps: EngineDeps, workflowId: string): Promise<void> {
  const wf = await postPlan(deps, workflowId, postOnce);
  if (wf.status !== 'planned') await advanceWorkflow(deps, workflowId);
}

/** No template fits and no role's capabilities match: say so, and say what Rolecall can do. */
async function explainNoPlan(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  const { count } = await deps.prisma.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'mention' }], skipDuplicates: true });
  if (count === 0) return;
  const thread = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  await chatFor(deps, msg.platform).post(thread, ROLECALL_PERSONA, noPlanView(deps.planner.templates));
}

