// The posted plan of an assembled workflow can be edited with buttons (drop a role, add or remove a gate) before a
// person confirms it. Every edit re-renders the plan message. Edits are conditional writes on a plan that still waits
// (transitions.ts): an edit that loses to Run this plan changes nothing.
import { isLanguage, LANGUAGE_NAMES } from './intent/language';
import type { Workflow, Step } from '../generated/prisma/client';
import * as T from './workflow/transitions';
import { roleOf, type EngineDeps } from './deps';
import type { PostSpec } from './posts';
import { updatePost } from './posts';
import { advanceWorkflow } from './steps';
import { threadOf } from './threads';
import { planView, ROLECALL_PERSONA } from './views';

type WithSteps = Workflow & { steps: Step[] };

/** Posts (or re-renders) the plan message with `post` (postOnce or updatePost). */
export async function postPlan(deps: EngineDeps, workflowId: string, post: (deps: EngineDeps, spec: PostSpec) => Promise<string>): Promise<WithSteps> {
  const wf = await deps.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  const name = (roleId: string) => roleOf(deps, roleId).persona.display_name;
  const byKey = new Map(wf.steps.map((s) => [s.key, s]));
  const view = planView({
    request: wf.requestText,
    templateName: deps.planner.templates.find((t) => t.id === wf.template)?.name ?? 'Assembled from role capabilities',
    intent: wf.intent ? { intent: wf.intent, confidence: wf.intentConfidence ?? 0, reason: wf.intentReason ?? '', source: wf.intentSource ?? 'local' } : null,
    steps: wf.steps.map((s, i) => ({
      key: s.key,
      displayName: name(s.roleId),
      gateAfter: s.gateAfter,
      after: s.dependsOn.length === 1 && wf.steps[i - 1]?.key === s.dependsOn[0] ? [] : s.dependsOn.map((d) => name(byKey.get(d)?.roleId ?? d)),
    })),
    editable: wf.status === 'planned' ? { workflowId: wf.id } : undefined,
    language: isLanguage(wf.language) && wf.language !== 'en' ? LANGUAGE_NAMES[wf.language] : undefined,
  });
  await post(deps, { key: { kind: 'plan', workflowId: wf.id }, workflowId: wf.id, roleId: 'rolecall', thread: threadOf(wf), persona: ROLECALL_PERSONA, view });
  return wf;
}

export type PlanEdit = { op: 'drop' | 'gate'; stepKey: string } | { op: 'confirm' };

/** Applies an edit to a plan still waiting for confirmation; false when the plan already runs or the step is gone. */
export async function editPlan(deps: EngineDeps, workflowId: string, edit: PlanEdit): Promise<boolean> {
  if (edit.op === 'confirm') {
    if (!(await T.confirmPlan(deps.prisma, workflowId))) return false;
    deps.log.info('plan confirmed', { workflowId });
    await postPlan(deps, workflowId, updatePost);
    await advanceWorkflow(deps, workflowId);
    return true;
  }
  if (edit.op === 'drop') {
    if (!(await T.dropPlannedStep(deps.prisma, workflowId, edit.stepKey))) return false;
  } else {
    const step = await deps.prisma.step.findFirst({ where: { workflowId, key: edit.stepKey } });
    if (!step || !(await T.togglePlannedGate(deps.prisma, step.id, !step.gateAfter))) return false;
  }
  await postPlan(deps, workflowId, updatePost);
  return true;
}
