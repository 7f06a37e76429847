// A person's message reaches the orchestrator: start a workflow, or add the reply to the thread's running workflow.
import { Prisma } from '../generated/prisma/client';
import type { InboundMessage } from './chat';
import { roleOf, type EngineDeps } from './deps';
import { postOnce } from './posts';
import { DEFAULT_TEMPLATE } from './template';
import { ACTIVE_STATUSES, threadOf } from './threads';
import { planView, ROLECALL_PERSONA } from './views';

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
  if (msg.mentioned) return startWorkflow(deps, msg, key);
  deps.log.debug('ignored thread message without a running workflow', { key });
}

async function addReply(deps: EngineDeps, workflowId: string, msg: InboundMessage, key: string): Promise<void> {
  await deps.prisma.$transaction([
    deps.prisma.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'reply' }], skipDuplicates: true }),
    deps.prisma.threadReply.createMany({ data: [{ workflowId, userId: msg.userId, text: msg.text, messageTs: msg.messageTs }], skipDuplicates: true }),
  ]);
  deps.log.info('thread reply added as context', { workflowId, key });
}

async function startWorkflow(deps: EngineDeps, msg: InboundMessage, key: string): Promise<void> {
  const template = DEFAULT_TEMPLATE;
  let workflowId: string;
  try {
    workflowId = await deps.prisma.$transaction(async (tx) => {
      await tx.inboundEvent.create({ data: { id: key, platform: msg.platform, kind: 'mention' } });
      const wf = await tx.workflow.create({
        data: {
          platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs,
          requestText: msg.text, requestedBy: msg.userId, sourceEventId: key, template: template.id,
          steps: { create: template.steps.map((s, position) => ({ position, roleId: s.roleId, gateAfter: s.gateAfter })) },
        },
      });
      return wf.id;
    });
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return; // the same message, twice at once
    throw e;
  }
  deps.log.info('workflow started', { workflowId, key, template: template.id });
  await kickOff(deps, workflowId);
}

/** Posts the plan and enqueues the first step. Safe to repeat. */
async function kickOff(deps: EngineDeps, workflowId: string): Promise<void> {
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  const plan = planView(wf.requestText, wf.steps.map((s) => ({ displayName: roleOf(deps, s.roleId).persona.display_name, gateAfter: s.gateAfter })));
  await postOnce(deps, { key: `plan:${wf.id}`, workflowId: wf.id, roleId: 'rolecall', kind: 'plan', thread: threadOf(wf), persona: ROLECALL_PERSONA, view: plan });
  const first = wf.steps[0];
  if (first && first.status === 'pending') await deps.queue.enqueue({ kind: 'step', stepId: first.id, revision: first.revision, run: first.runCount });
}

