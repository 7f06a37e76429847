// The posted plan of an assembled workflow can be edited with buttons (drop a role, add or remove a gate) before a
// person confirms it. Every edit re-renders the plan message.
import type { Workflow, Step } from '../generated/prisma/client';
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
  });
  await post(deps, { key: `plan:${wf.id}`, workflowId: wf.id, roleId: 'rolecall', kind: 'plan', thread: threadOf(wf), persona: ROLECALL_PERSONA, view });
  return wf;
}

export type PlanEdit = { op: 'drop' | 'gate'; stepKey: string } | { op: 'confirm' };

/** Applies an edit to a plan still waiting for confirmation; false when the plan already runs or the step is gone. */
export async function editPlan(deps: EngineDeps, workflowId: string, edit: PlanEdit, userId: string): Promise<boolean> {
  const wf = await deps.prisma.workflow.findUnique({ where: { id: workflowId }, include: { steps: { orderBy: { position: 'asc' } } } });
  if (!wf || wf.status !== 'planned') return false;
  if (edit.op === 'confirm') {
    const { count } = await deps.prisma.workflow.updateMany({ where: { id: workflowId, status: 'planned' }, data: { status: 'running' } });
    if (count !== 1) return false;
    deps.log.info('plan confirmed', { workflowId, userId });
    await postPlan(deps, workflowId, updatePost);
    await advanceWorkflow(deps, workflowId);
    return true;
  }
  const step = wf.steps.find((s) => s.key === edit.stepKey);
  if (!step) return false;
  if (edit.op === 'gate') await deps.prisma.step.update({ where: { id: step.id }, data: { gateAfter: !step.gateAfter } });
  else if (!(await dropStep(deps, wf, step))) return false;
  await postPlan(deps, workflowId, updatePost);
  return true;
}

/** Removes a step; the steps that depended on it inherit its dependencies. The last step cannot be dropped. */
async function dropStep(deps: EngineDeps, wf: WithSteps, step: Step): Promise<boolean> {
  if (wf.steps.length === 1) return false;
  await deps.prisma.$transaction([
    ...wf.steps
      .filter((s) => s.dependsOn.includes(step.key))
      .map((s) => deps.prisma.step.update({ where: { id: s.id }, data: { dependsOn: [...new Set([...s.dependsOn.filter((d) => d !== step.key), ...step.dependsOn])] } })),
    deps.prisma.step.delete({ where: { id: step.id } }),
  ]);
  return true;
}

