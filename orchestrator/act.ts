// Every chat action (the eleven buttons Rolecall posts) and the console's Retry / Cancel, through one command:
// act(action, value, actor, feedback?). The edges parse their payloads, call it and render the outcome; the
// decisions, the permission checks, the audit rows and the words are all here.
// Invariants:
// - a chat action is refused unless the workflow belongs to the conversation (platform, team, channel) the click came
//   from, and the person passes the same RBAC rules as gate decisions (GatePolicy rows, then the role file's
//   rbac_role policy); refusals change nothing and are audited;
// - every action that changes something is audited by the command itself, with the actor as "slack:U1",
//   "teams:…" or "console:alice@example.com";
// - console actors were authorised by the console (its RBAC); they are never named as chat users in a thread.
import { audit } from './audit';
import { answerWhich } from './clarify';
import { actorId, parseButtonValue, type PlatformName, type ActionId, type ActOutcome, type Actor, type ButtonTarget, type DecideResult, type Decision } from './contract';
import type { EngineDeps } from './deps';
import { cancelWorkflow, decide, retryStep, skipStep } from './gates';
import { announceRaise, raiseBudget } from './budgets';
import { atLeast, mayDecide, policyAllows, type MayDecide, type RbacRole } from './permissions';
import { Prisma } from '../generated/prisma/client';
import { editPlan } from './plan-edits';
import { recordSatisfaction } from './satisfaction';
import { notDecidedText } from './views';
import { answerAddOrNew } from './pending';
import { addReply, startWorkflow } from './intake';

const DECISIONS: Partial<Record<ActionId, Decision>> = { approve: 'approved', request_changes: 'changes_requested', reject: 'rejected' };

/** The workflow a button belongs to, and the workflow roles whose gate policies govern it. */
interface Scope {
  workflow: { id: string; platform: string; teamId: string; channelId: string };
  governingRoles: string[];
  /** A gate's button: the gate as read with the scope, in the same statement (issue 12): its status, the console's
   *  GatePolicy row for its role (minRole) and the clicking person's own RBAC role (ChatUserRole; AdminUser on the
   *  playground; null: none, or not a chat click). */
  gate?: { status: string; roleId: string; policyMin: RbacRole | null; mine: RbacRole | null };
}

export async function act(deps: EngineDeps, action: ActionId, value: string, actor: Actor, feedback?: string, at = new Date()): Promise<ActOutcome> {
  const target = parseButtonValue(action, value);
  const scope = target && (await scopeOf(deps, target, actor));
  if (!target || !scope) return refuse(deps, action, value, actor, 'unknown', gone(action));
  if (actor.kind === 'chat') {
    if (!sameConversation(scope.workflow, actor)) {
      const decision = DECISIONS[action];
      return refuse(deps, action, value, actor, 'other_conversation', 'This button belongs to a workflow in another conversation.', scope.workflow.id,
        decision ? 'gate.refused' : 'action.refused', decision ? { decision } : {});
    }
    // Satisfaction votes are open to everyone in the conversation, and only the requester answers a clarifying question
    // (checked by answerWhich); every other action follows the gate policies.
    if (action !== 'satisfaction_up' && action !== 'satisfaction_down' && target.kind !== 'intent_choice' && target.kind !== 'pending_request') {
      const allowed = scope.gate ? gateAllows(deps, scope.gate) : await allowedFor(deps, actor, scope.governingRoles);
      if (!allowed.ok) {
        const text = `You may not ${VERBS[action]}: ${allowed.reason}.`;
        const decision = DECISIONS[action];
        const detail = decision ? { decision, gateRole: scope.governingRoles[0] } : { roles: scope.governingRoles };
        return refuse(deps, action, value, actor, allowed.reason, text, scope.workflow.id, decision ? 'gate.refused' : 'action.refused', detail);
      }
    }
  }
  const by = actorId(actor);
  const wf = scope.workflow.id;
  switch (target.kind) {
    case 'approval': {
      const decision = DECISIONS[action]!;
      const userId = actor.kind === 'chat' ? actor.userId : by;
      const text = feedback?.trim();
      if (decision === 'changes_requested' && !text && scope.gate?.status === 'pending') return { kind: 'needs_feedback', text: 'Please say what should change.' };
      // the winning decision's audit row is written by the statement that decides (gates.ts decide)
      const result = await decide(deps, target.approvalId, decision, userId, text || undefined, {
        ...(scope.gate ? { gate: { status: scope.gate.status, roleId: scope.gate.roleId } } : {}),
        audit: { actor: by, action: `gate.${decision}`, target: target.approvalId, detail: { workflowId: wf, gateRole: scope.governingRoles[0], ...(text ? { feedback: text } : {}) } },
      });
      if (result.won) {
        return { kind: 'done', text: `${DECISION_WORDS[decision]}: your decision is recorded. The message will show it for everyone in a moment.`, confirm: false };
      }
      if (result.reason === 'vote_recorded') {
        await audit(deps.prisma, { actor: by, action: 'gate.vote', target: target.approvalId, detail: { workflowId: wf, votes: result.votes, needed: result.needed } });
        return { kind: 'done', text: notDecidedText(result, ''), confirm: true };
      }
      return { kind: 'refused', text: notDecidedText(result, await decidedByName(deps, scope.workflow.platform, result)) };
    }
    case 'step': {
      const ok = action === 'retry_step' ? await retryStep(deps, target.stepId, actor) : await skipStep(deps, target.stepId, actor);
      const verb = action === 'retry_step' ? 'retried' : 'skipped';
      await audit(deps.prisma, { actor: by, action: ok ? `step.${verb}` : `step.${action === 'retry_step' ? 'retry' : 'skip'}_refused`, target: target.stepId, detail: { workflowId: wf } });
      if (ok) return { kind: 'done', text: action === 'retry_step' ? 'Retrying the step.' : 'Step skipped.', confirm: false };
      return { kind: 'refused', text: action === 'retry_step' ? 'This step is not waiting for a retry any more (someone already retried it).' : 'This step is not waiting for a decision any more.' };
    }
    case 'budget': {
      if (actor.kind === 'chat') {
        const mine = await deps.prisma.chatUserRole.findUnique({ where: { platform_userId: { platform: actor.platform, userId: actor.userId } } });
        if (!mine || !atLeast(mine.role, 'approver')) {
          const reason = mine ? `it needs the approver role or above, and you are ${mine.role}` : 'it needs the approver role or above, and you have no Rolecall role';
          return refuse(deps, action, value, actor, 'not_approver', `You may not ${VERBS[action]}: ${reason}.`, wf, 'budget.raise_refused', { windowId: target.windowId });
        }
      }
      const r = await raiseBudget(deps, wf, target.windowId, by, at);
      if (!r.ok) return refuse(deps, action, value, actor, 'not_raised', r.text, wf, 'budget.raise_refused', { windowId: target.windowId });
      await audit(deps.prisma, { actor: by, action: 'budget.raised', target: target.windowId, detail: { workflowId: wf, ...r.detail } });
      await announceRaise(deps, wf, target.windowId, actor.kind === 'chat' ? { platform: actor.platform, userId: actor.userId } : undefined);
      return { kind: 'done', text: 'Budget raised once: waiting steps go on shortly.', confirm: true };
    }
    case 'pending_request': {
      // only its writer answers (checked by answerAddOrNew)
      if (actor.kind !== 'chat') return refuse(deps, action, value, actor, 'not_in_chat', 'Only the person who wrote this request can choose.');
      const choice = action === 'request_add' ? 'added' : 'started';
      const r = await answerAddOrNew(deps, target.requestId, choice, actor.userId, { add: (w, m, k) => addReply(deps, w, m, k), start: (m, k) => startWorkflow(deps, m, k) });
      if (!r.ok) return refuse(deps, action, value, actor, r.reason, r.text, wf, 'request.choice_refused', { requestId: target.requestId });
      await audit(deps.prisma, { actor: by, action: `request.${choice}`, target: target.requestId, detail: { workflowId: r.workflowId } });
      return { kind: 'done', text: choice === 'added' ? 'Added to the running workflow.' : 'Starting a new workflow.', confirm: false };
    }
    case 'intent_choice': {
      if (actor.kind !== 'chat') return refuse(deps, action, value, actor, 'not_in_chat', 'Only the person who asked can answer this question.');
      const r = await answerWhich(deps, target.exampleId, target.choice, actor.userId);
      if (!r.ok) return refuse(deps, action, value, actor, r.reason, r.text, undefined, 'intent.answer_refused', { exampleId: target.exampleId });
      await audit(deps.prisma, { actor: by, action: 'intent.chosen', target: target.exampleId, detail: { choice: r.choice, ...(r.workflowId ? { workflowId: r.workflowId } : {}) } });
      return { kind: 'done', text: r.workflowId ? 'Starting that workflow.' : 'Thanks: tell me a little more in a new message.', confirm: false };
    }
    case 'plan_step': {
      const ok = await editPlan(deps, wf, { op: action === 'plan_drop' ? 'drop' : 'gate', stepKey: target.stepKey });
      if (ok) await audit(deps.prisma, { actor: by, action: action === 'plan_drop' ? 'plan.role_dropped' : 'plan.gate_changed', target: wf, detail: { stepKey: target.stepKey } });
      if (ok) return { kind: 'done', text: action === 'plan_drop' ? 'Role dropped from the plan.' : 'Gate changed.', confirm: false };
      return { kind: 'refused', text: action === 'plan_drop' ? 'This plan cannot be changed any more (it runs, or that was its last step).' : 'This plan cannot be changed any more.' };
    }
    case 'workflow': {
      if (action === 'satisfaction_up' || action === 'satisfaction_down') {
        const vote = action === 'satisfaction_up' ? 'up' : 'down';
        const recorded = await recordSatisfaction(deps.prisma, wf, actor.kind === 'chat' ? actor.userId : by, vote, at);
        return recorded ? { kind: 'done', text: `Thanks for the feedback (${vote === 'up' ? '👍' : '👎'}).`, confirm: true } : { kind: 'refused', text: gone(action) };
      }
      if (action === 'plan_confirm') {
        const ok = await editPlan(deps, wf, { op: 'confirm' });
        if (ok) await audit(deps.prisma, { actor: by, action: 'plan.confirmed', target: wf });
        return ok ? { kind: 'done', text: 'Plan confirmed: the roles start now.', confirm: false } : { kind: 'refused', text: 'This plan already runs.' };
      }
      const ok = await cancelWorkflow(deps, wf, actor);
      await audit(deps.prisma, { actor: by, action: ok ? 'workflow.cancelled' : 'workflow.cancel_refused', target: wf });
      return ok ? { kind: 'done', text: 'Workflow cancelled.', confirm: false } : { kind: 'refused', text: 'This workflow is not running any more.' };
    }
  }
}

const VERBS: Record<ActionId, string> = {
  approve: 'decide this gate', request_changes: 'decide this gate', reject: 'decide this gate',
  retry_step: 'retry this step', skip_step: 'skip this step', cancel_workflow: 'cancel this workflow',
  plan_drop: 'change this plan', plan_gate: 'change this plan', plan_confirm: 'run this plan',
  satisfaction_up: 'rate this workflow', satisfaction_down: 'rate this workflow',
  intent_pick_1: 'answer this question', intent_pick_2: 'answer this question', intent_pick_3: 'answer this question', intent_other: 'answer this question',
  budget_raise: 'raise this budget',
  request_add: 'answer this question', request_new: 'answer this question',
};

const DECISION_WORDS: Record<Decision, string> = { approved: 'Approved', changes_requested: 'Changes requested', rejected: 'Rejected' };

const gone = (action: ActionId) =>
  DECISIONS[action] ? 'This approval request no longer exists.' : action.startsWith('satisfaction') ? 'This workflow no longer exists.'
    : action.startsWith('intent_') || action.startsWith('request_') ? 'This question no longer exists.' : 'This workflow or step no longer exists.';

async function scopeOf(deps: EngineDeps, t: ButtonTarget, actor: Actor): Promise<Scope | undefined> {
  const select = { id: true, platform: true, teamId: true, channelId: true } as const;
  switch (t.kind) {
    case 'approval': {
      // One statement (issue 12): the workflow, the gate's status and role, the role's GatePolicy row and the clicking
      // person's RBAC role, which is all a gate click reads before it decides.
      const mine = actor.kind !== 'chat' ? Prisma.sql`NULL::text`
        : actor.platform === 'web' ? Prisma.sql`(SELECT u.role::text FROM "AdminUser" u WHERE u.id = ${actor.userId})`
        : Prisma.sql`(SELECT c.role::text FROM "ChatUserRole" c WHERE c.platform = ${actor.platform}::"Platform" AND c."userId" = ${actor.userId})`;
      const [a] = await deps.prisma.$queryRaw<{ roleId: string; status: string; policyMin: RbacRole | null; mine: RbacRole | null; id: string; platform: string; teamId: string; channelId: string }[]>`
        SELECT s."roleId", a.status::text AS status, g."minRole"::text AS "policyMin", ${mine} AS mine,
          w.id, w.platform::text AS platform, w."teamId", w."channelId"
        FROM "Approval" a JOIN "Step" s ON s.id = a."stepId" JOIN "Workflow" w ON w.id = a."workflowId" LEFT JOIN "GatePolicy" g ON g."roleId" = s."roleId"
        WHERE a.id = ${t.approvalId}`;
      return a ? {
        workflow: { id: a.id, platform: a.platform, teamId: a.teamId, channelId: a.channelId }, governingRoles: [a.roleId],
        gate: { status: a.status, roleId: a.roleId, policyMin: a.policyMin, mine: a.mine },
      } : undefined;
    }
    case 'step': {
      const s = await deps.prisma.step.findUnique({ where: { id: t.stepId }, select: { roleId: true, workflow: { select } } });
      return s ? { workflow: s.workflow, governingRoles: [s.roleId] } : undefined;
    }
    case 'intent_choice': {
      const ex = await deps.prisma.intentExample.findUnique({ where: { id: t.exampleId }, select: { id: true, platform: true, teamId: true, channelId: true } });
      return ex ? { workflow: ex, governingRoles: [] } : undefined;
    }
    case 'pending_request': {
      const p = await deps.prisma.pendingRequest.findUnique({ where: { id: t.requestId }, select: { workflowId: true, platform: true, teamId: true, channelId: true } });
      return p ? { workflow: { id: p.workflowId, platform: p.platform, teamId: p.teamId, channelId: p.channelId }, governingRoles: [] } : undefined;
    }
    case 'budget': {
      // governed by the raiser's own role (approver or above, checked in act), not by a role's gate policy
      const w = await deps.prisma.workflow.findUnique({ where: { id: t.workflowId }, select });
      return w ? { workflow: w, governingRoles: [] } : undefined;
    }
    case 'workflow':
    case 'plan_step': {
      const w = await deps.prisma.workflow.findUnique({ where: { id: t.workflowId }, select: { ...select, steps: { select: { roleId: true } } } });
      return w ? { workflow: w, governingRoles: [...new Set(w.steps.map((s) => s.roleId))] } : undefined;
    }
  }
}

/** Platform, team and channel must all match: a click whose payload leaves the team out matches no workflow. */
function sameConversation(wf: Scope['workflow'], actor: Extract<Actor, { kind: 'chat' }>): boolean {
  return wf.platform === actor.platform && actor.channelId !== '' && actor.channelId === wf.channelId && actor.teamId !== '' && actor.teamId === wf.teamId;
}

/** A gate's click, from what its scope read: the same rules as permissions.ts mayDecide (the GatePolicy row, else the
 *  role file's rbac_role policy; none: anyone; else the person's role must be that role or above), without its reads. */
function gateAllows(deps: EngineDeps, gate: NonNullable<Scope['gate']>): MayDecide {
  const file = deps.roles.get(gate.roleId)?.approval;
  return policyAllows(gate.policyMin ?? (file?.policy === 'rbac_role' ? file.rbac_role : undefined), gate.mine);
}

/** The person must pass the gate policy of every role that governs the action. */
async function allowedFor(deps: EngineDeps, actor: Extract<Actor, { kind: 'chat' }>, roleIds: string[]): Promise<MayDecide> {
  for (const roleId of roleIds) {
    const policy = deps.roles.get(roleId)?.approval;
    const r = await mayDecide(deps.prisma, actor.platform, actor.userId, roleId, policy?.policy === 'rbac_role' ? policy.rbac_role : undefined);
    if (!r.ok) return r;
  }
  return { ok: true };
}

async function refuse(
  deps: EngineDeps, action: ActionId, value: string, actor: Actor, reason: string, text: string,
  workflowId?: string, auditAction = 'action.refused', extra: Record<string, unknown> = {},
): Promise<ActOutcome> {
  await audit(deps.prisma, { actor: actorId(actor), action: auditAction, target: value.slice(0, 200), detail: { action, reason, ...extra, ...(workflowId ? { workflowId } : {}) } });
  return { kind: 'refused', text };
}

async function decidedByName(deps: EngineDeps, platform: string, result: Exclude<DecideResult, { won: true }>): Promise<string> {
  if (result.reason !== 'already_decided' || !result.decidedBy) return 'someone';
  if (result.decidedBy.startsWith('console:')) return 'an operator in the admin console';
  const port = deps.chat[platform as PlatformName];
  return port ? port.nameOf(result.decidedBy) : 'someone';
}

