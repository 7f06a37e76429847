// What the chat platform edges (bot/) may ask of the orchestrator.
import type { InboundMessage } from './chat';
import type { EngineDeps } from './deps';
import { cancelFromThread, cancelWorkflow, decide, retryStep, skipStep, type DecideResult, type Decision } from './gates';
import { editPlan, type PlanEdit } from './plan-edits';
import { recordSatisfaction, type Vote } from './satisfaction';

export interface Orchestrator {
  receive(message: InboundMessage): Promise<void>;
  decide(approvalId: string, decision: Decision, userId: string, feedback?: string): Promise<DecideResult>;
  gateIsOpen(approvalId: string): Promise<boolean>;
  retry(stepId: string, userId: string): Promise<boolean>;
  /** A thumbs up/down on a completed workflow; false when the workflow is unknown. */
  rate(workflowId: string, userId: string, vote: Vote): Promise<boolean>;
  cancel(workflowId: string): Promise<boolean>;
  /** The Skip and Cancel buttons of a failed step, and the edit buttons of a plan waiting for confirmation. */
  skip(stepId: string, userId: string): Promise<boolean>;
  cancelFromThread(workflowId: string, userId: string): Promise<boolean>;
  editPlan(workflowId: string, edit: PlanEdit, userId: string): Promise<boolean>;
}

export function createOrchestrator(deps: EngineDeps): Orchestrator {
  return {
    receive: (message) => deps.queue.enqueue({ kind: 'intake', message }),
    decide: (approvalId, decision, userId, feedback) => decide(deps, approvalId, decision, userId, feedback),
    gateIsOpen: async (approvalId) => (await deps.prisma.approval.findUnique({ where: { id: approvalId } }))?.status === 'pending',
    retry: (stepId, userId) => retryStep(deps, stepId, userId),
    rate: (workflowId, userId, vote) => recordSatisfaction(deps.prisma, workflowId, userId, vote),
    cancel: (workflowId) => cancelWorkflow(deps, workflowId),
    skip: (stepId, userId) => skipStep(deps, stepId, userId),
    cancelFromThread: (workflowId, userId) => cancelFromThread(deps, workflowId, userId),
    editPlan: (workflowId, edit, userId) => editPlan(deps, workflowId, edit, userId),
  };
}

export type { DecideResult, Decision, PlanEdit, Vote };
