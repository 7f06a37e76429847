// Creating a workflow from a plan and kicking it off: shared by intake (a message) and the answer to a clarifying
// question (a button). Invariant: one workflow per source message (Workflow.sourceEventId is unique); a second
// attempt for the same message changes nothing.
import { Prisma } from '../generated/prisma/client';
import type { PlatformName } from './chat';
import type { EngineDeps } from './deps';
import { postPlan } from './plan-edits';
import type { Plan } from './planning';
import { postOnce } from './posts';
import { advanceWorkflow } from './steps';
import { assignExperiments, recordAssignments } from './experiments/assign';
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
  // running experiments (orchestrator/experiments): the thread's sticky arm may vary the plan; recorded with the workflow
  const { plan, assignments } = await assignExperiments(deps.prisma, { ...req, templateId: planned.templateId }, planned);
  try {
    const id = await deps.prisma.$transaction(async (tx) => {
      if (markInbound) await tx.inboundEvent.create({ data: { id: req.key, platform: req.platform, kind: 'mention' } });
      const wf = await tx.workflow.create({
        data: {
          platform: req.platform, teamId: req.teamId, channelId: req.channelId, threadTs: req.threadTs,
          requestText: req.text, requestedBy: req.userId, sourceEventId: req.key, template: plan.templateId, language: req.language ?? null,
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
    // Traces (when on): the workflow's root span, once, in the trace every step of it joins (agents/tracing.ts)
    recordWorkflowSpan(id, { 'rolecall.workflow.template': plan.templateId, 'rolecall.workflow.intent': plan.intent.intent, 'rolecall.chat.platform': req.platform, 'rolecall.workflow.steps': plan.steps.length });
    return id;
  } catch (e) {
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return undefined; // the same message, twice at once
    throw e;
  }
}

/** Posts the plan and, unless it waits for confirmation, starts the steps that depend on nothing. Safe to repeat. */
export async function kickOff(deps: EngineDeps, workflowId: string): Promise<void> {
  const wf = await postPlan(deps, workflowId, postOnce);
  if (wf.status === 'planned') return;
  // the first steps are queued from inside the workflow's trace, so their runs are children of its root span
  if (tracingEnabled()) await context.with(workflowContext(workflowId), () => advanceWorkflow(deps, workflowId));
  else await advanceWorkflow(deps, workflowId);
}
