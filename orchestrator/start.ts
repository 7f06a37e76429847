// Creating a workflow from a plan and kicking it off: shared by intake (a message) and the answer to a clarifying
// question (a button). Invariant: one workflow per source message (Workflow.sourceEventId is unique); a second
// attempt for the same message changes nothing.
import { Prisma } from '../generated/prisma/client';
import type { PlatformName } from './chat';
import type { EngineDeps } from './deps';
import { planPost } from './plan-edits';
import type { Plan } from './planning';
import { noPersonaVariants, queuePosts } from './outbox';
import { sealerFor } from './privacy/at-rest';
import { advanceWorkflow } from './steps';
import { assignExperiments, recordAssignments } from './experiments/assign';
import { withStoredTemplate } from './template-store';
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

/**
 * Inserts the workflow and its steps; with `markInbound`, the inbound event too, in the same transaction (a retry
 * after a crash redoes both). Undefined when this message already has a workflow.
 */
export async function insertWorkflow(deps: EngineDeps, req: WorkflowRequest, planned: Plan, markInbound: boolean): Promise<string | undefined> {
  // a template changed in the console (an experiment's rolled-out winner) wins over its file (orchestrator/template-store.ts)
  const current = await withStoredTemplate(deps.prisma, planned, new Set(deps.roles.ids()));
  // running experiments (orchestrator/experiments): the thread's sticky arm may vary the plan; recorded with the workflow
  const { plan, assignments } = await assignExperiments(deps.prisma, { ...req, templateId: current.templateId }, current);
  const seal = await sealerFor(deps, req); // the request's text at rest (privacy/at-rest.ts), the key before the transaction
  try {
    const id = await deps.prisma.$transaction(async (tx) => {
      if (markInbound) await tx.inboundEvent.create({ data: { id: req.key, platform: req.platform, kind: 'mention' } });
      const wf = await tx.workflow.create({
        data: {
          platform: req.platform, teamId: req.teamId, channelId: req.channelId, threadTs: req.threadTs,
          requestText: seal.text(req.text), requestedBy: req.userId, sourceEventId: req.key, template: plan.templateId, language: req.language ?? null,
          status: plan.needsConfirmation ? 'planned' : 'running',
          intent: plan.intent.intent, intentConfidence: plan.intent.confidence, intentReason: plan.intent.reason, intentSource: plan.intent.source,
          steps: {
            create: plan.steps.map((s, position) => ({ position, key: s.key, roleId: s.roleId, dependsOn: s.dependsOn, gateAfter: s.gateAfter, fallbackRoles: s.fallbackRoles })),
          },
        },
      });
      await recordAssignments(tx, wf.id, assignments);
      return wf.id;
    });
    if (!assignments.length) noPersonaVariants(id); // in no experiment: its posts need no look for an arm's persona
    // Traces (when on): the workflow's root span, once, in the trace every step of it joins (agents/tracing.ts)
    recordWorkflowSpan(id, { 'rolecall.workflow.template': plan.templateId, 'rolecall.workflow.intent': plan.intent.intent, 'rolecall.chat.platform': req.platform, 'rolecall.workflow.steps': plan.steps.length });
    return id;
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return undefined; // the same message, twice at once
    throw e;
  }
}

/** Posts the plan and, unless it waits for confirmation, starts the steps that depend on nothing. Safe to repeat (the
 *  plan's outbox row has the plan's key). The plan goes through the chat outbox: written in the transaction that
 *  starts the first steps, so it precedes their posts in the thread. */
export async function kickOff(deps: EngineDeps, workflowId: string): Promise<void> {
  const { wf, item } = await planPost(deps, workflowId);
  if (wf.status === 'planned') return queuePosts(deps, [item]);
  // the first steps are queued from inside the workflow's trace, so their runs are children of its root span
  if (tracingEnabled()) await context.with(workflowContext(workflowId), () => advanceWorkflow(deps, workflowId, [], [item]));
  else await advanceWorkflow(deps, workflowId, [], [item]);
}
