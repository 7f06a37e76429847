// The buttons that steer a workflow (Skip / Cancel on a failed step, the edit buttons of a plan awaiting
// confirmation), and what to tell the person who pressed one: the same on every platform.
import type { Orchestrator } from './api';

export type SteeringAction = 'skip_step' | 'cancel_workflow' | 'plan_drop' | 'plan_gate' | 'plan_confirm';

export interface SteerOutcome {
  done: boolean;
  text: string;
}

/** A plan edit button carries the workflow and the step it edits. */
export const planButtonValue = (workflowId: string, stepKey: string) => `${workflowId}|${stepKey}`;

function planEdit(o: Orchestrator, value: string, userId: string, op: 'drop' | 'gate'): Promise<boolean> {
  const [workflowId = '', stepKey = ''] = value.split('|');
  return o.editPlan(workflowId, { op, stepKey }, userId);
}

const ACTIONS: Record<SteeringAction, { run: (o: Orchestrator, value: string, userId: string) => Promise<boolean>; done: string; refused: string }> = {
  skip_step: { run: (o, v, u) => o.skip(v, u), done: 'Step skipped.', refused: 'This step is not waiting for a decision any more.' },
  cancel_workflow: { run: (o, v, u) => o.cancelFromThread(v, u), done: 'Workflow cancelled.', refused: 'This workflow is not running any more.' },
  plan_drop: { run: (o, v, u) => planEdit(o, v, u, 'drop'), done: 'Role dropped from the plan.', refused: 'This plan cannot be changed any more (it runs, or that was its last step).' },
  plan_gate: { run: (o, v, u) => planEdit(o, v, u, 'gate'), done: 'Gate changed.', refused: 'This plan cannot be changed any more.' },
  plan_confirm: { run: (o, v, u) => o.editPlan(v, { op: 'confirm' }, u), done: 'Plan confirmed: the roles start now.', refused: 'This plan already runs.' },
};

export const STEERING_ACTIONS = Object.keys(ACTIONS) as SteeringAction[];

export const isSteeringAction = (action: string): action is SteeringAction => action in ACTIONS;

export async function steer(o: Orchestrator, action: SteeringAction, value: string, userId: string): Promise<SteerOutcome> {
  const a = ACTIONS[action];
  return (await a.run(o, value, userId)) ? { done: true, text: a.done } : { done: false, text: a.refused };
}
