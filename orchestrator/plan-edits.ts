// The posted plan of an assembled workflow can be edited with buttons (drop a role, add or remove a gate) before a
// person confirms it. Every edit re-renders the plan message. Edits are conditional writes on a plan that still waits
// (transitions.ts): an edit that loses to Run this plan changes nothing. The plan and its re-renders are posted through
// the chat outbox (orchestrator/outbox.ts), so they keep their place in the thread's order: the plan before the first
// step's post, an edit after what was decided before it. The plan is read in one query (the workflow with its steps),
// or not at all when the workflow was just created (orchestrator/start.ts hands over what it wrote).
import { isLanguage, LANGUAGE_NAMES } from './intent/language';
import { z } from 'zod';
import * as T from './workflow/transitions';
import { roleOf, type EngineDeps } from './deps';
import { randomUUID } from 'node:crypto';
import { queuePosts, type OutboxItem } from './outbox';
import { advanceWorkflow } from './steps';
import { threadOf } from './threads';
import type { ThreadRef } from './chat';
import { PLATFORMS } from './contract';
import { planView, ROLECALL_PERSONA } from './views';

/** What the plan message shows of a workflow: the workflow and its steps in order. */
export interface PlanSource {
  id: string;
  platform: ThreadRef['platform'];
  teamId: string;
  channelId: string;
  threadTs: string;
  requestText: string;
  template: string;
  language: string | null;
  status: string;
  intent: string | null;
  intentConfidence: number | null;
  intentReason: string | null;
  intentSource: string | null;
  steps: { key: string; roleId: string; gateAfter: boolean; dependsOn: string[] }[];
}

const planSourceSchema = z.object({
  id: z.string(), platform: z.enum(PLATFORMS), teamId: z.string(), channelId: z.string(), threadTs: z.string(),
  requestText: z.string(), template: z.string(), language: z.string().nullable(), status: z.string(),
  intent: z.string().nullable(), intentConfidence: z.number().nullable(), intentReason: z.string().nullable(), intentSource: z.string().nullable(),
  steps: z.array(z.object({ key: z.string(), roleId: z.string(), gateAfter: z.boolean(), dependsOn: z.array(z.string()) })),
});

/** The workflow and its steps (by position), one query; throws when there is no such workflow. */
async function readPlanSource(deps: EngineDeps, workflowId: string): Promise<PlanSource> {
  const [row] = await deps.prisma.$queryRaw<unknown[]>`
    SELECT w.id, w.platform::text AS platform, w."teamId", w."channelId", w."threadTs", w."requestText", w.template, w.language,
      w.status::text AS status, w.intent, w."intentConfidence", w."intentReason", w."intentSource",
      coalesce((SELECT json_agg(json_build_object('key', s.key, 'roleId', s."roleId", 'gateAfter', s."gateAfter", 'dependsOn', s."dependsOn") ORDER BY s.position)
        FROM "Step" s WHERE s."workflowId" = w.id), '[]'::json) AS steps
    FROM "Workflow" w WHERE w.id = ${workflowId}`;
  if (!row) throw new Error(`workflow ${workflowId} not found`);
  return planSourceSchema.parse(row);
}

/** The plan message of a workflow as an outbox row: its post, or (`edit`) a re-render of it. Each re-render is an edit
 *  of its own (a unique tag): the thread shows the latest, also when a later plan reads as an earlier one did. */
export async function planPost(deps: EngineDeps, workflowId: string, edit = false, known?: PlanSource): Promise<{ wf: PlanSource; item: OutboxItem }> {
  const wf = known ?? (await readPlanSource(deps, workflowId));
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
  const base = { workflowId: wf.id, roleId: 'rolecall', thread: threadOf(wf), persona: ROLECALL_PERSONA, view };
  const key = { kind: 'plan', workflowId: wf.id } as const;
  return { wf, item: edit ? { ...base, op: 'update', target: key, tag: `edit-${randomUUID()}` } : { ...base, op: 'post', key } };
}

export type PlanEdit = { op: 'drop' | 'gate'; stepKey: string } | { op: 'confirm' };

/** Applies an edit to a plan still waiting for confirmation; false when the plan already runs or the step is gone. */
export async function editPlan(deps: EngineDeps, workflowId: string, edit: PlanEdit): Promise<boolean> {
  if (edit.op === 'confirm') {
    if (!(await T.confirmPlan(deps.prisma, workflowId))) return false;
    deps.log.info('plan confirmed', { workflowId });
    // the re-rendered plan is written with the first steps' start, in one transaction
    await advanceWorkflow(deps, workflowId, [], [(await planPost(deps, workflowId, true)).item]);
    return true;
  }
  if (edit.op === 'drop') {
    if (!(await T.dropPlannedStep(deps.prisma, workflowId, edit.stepKey))) return false;
  } else {
    const step = await deps.prisma.step.findFirst({ where: { workflowId, key: edit.stepKey } });
    if (!step || !(await T.togglePlannedGate(deps.prisma, step.id, !step.gateAfter))) return false;
  }
  await queuePosts(deps, [(await planPost(deps, workflowId, true)).item]);
  return true;
}
