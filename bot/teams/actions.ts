// Card buttons: Approve / Request changes / Reject / Retry, from Action.Execute or the Action.Submit fallback.
// The orchestrator decides durably (one decision wins); this only turns the outcome into words for the person.
import type { DecideResult, Orchestrator } from '../../orchestrator/api';
import type { CardActionData } from './activity';
import type { TeamsStore } from './store';

export type ActionOutcome = { ok: true; text: string } | { ok: false; note: string };

const DONE_WORDS = { approve: 'Approved', request_changes: 'Changes requested', reject: 'Rejected', retry_step: 'Retrying', satisfaction_up: 'Thanks', satisfaction_down: 'Thanks' } as const;

/** Skip / Cancel on a failed step and the edit buttons of a plan waiting for confirmation. */
const WORKFLOW_ACTIONS: Record<string, { run: (o: Orchestrator, value: string, userId: string) => Promise<boolean>; done: string; refused: string }> = {
  skip_step: { run: (o, v, u) => o.skip(v, u), done: 'Step skipped.', refused: 'This step is not waiting for a decision any more.' },
  cancel_workflow: { run: (o, v, u) => o.cancelFromThread(v, u), done: 'Workflow cancelled.', refused: 'This workflow is not running any more.' },
  plan_drop: { run: (o, v, u) => planEdit(o, v, u, 'drop'), done: 'Role dropped from the plan.', refused: 'This plan cannot be changed any more (it runs, or that was its last step).' },
  plan_gate: { run: (o, v, u) => planEdit(o, v, u, 'gate'), done: 'Gate changed.', refused: 'This plan cannot be changed any more.' },
  plan_confirm: { run: (o, v, u) => o.editPlan(v, { op: 'confirm' }, u), done: 'Plan confirmed: the roles start now.', refused: 'This plan already runs.' },
};

function planEdit(o: Orchestrator, value: string, userId: string, op: 'drop' | 'gate'): Promise<boolean> {
  const [workflowId = '', stepKey = ''] = value.split('|');
  return o.editPlan(workflowId, { op, stepKey }, userId);
}

export async function runCardAction(orchestrator: Orchestrator, store: TeamsStore, data: CardActionData, userId: string): Promise<ActionOutcome> {
  const { action, value } = data.rolecall;
  const steer = WORKFLOW_ACTIONS[action];
  if (steer) return (await steer.run(orchestrator, value, userId)) ? { ok: true, text: steer.done } : { ok: false, note: steer.refused };
  const done: ActionOutcome = { ok: true, text: `${DONE_WORDS[action as keyof typeof DONE_WORDS]}: your decision is recorded. This card will show it for everyone in a moment.` };
  if (action === 'satisfaction_up' || action === 'satisfaction_down') {
    const vote = action === 'satisfaction_up' ? 'up' : 'down';
    return (await orchestrator.rate(value, userId, vote)) ? { ok: true, text: `Thanks for the feedback (${vote === 'up' ? '👍' : '👎'}).` } : { ok: false, note: 'This workflow no longer exists.' };
  }
  if (action === 'retry_step') {
    return (await orchestrator.retry(value, userId)) ? { ok: true, text: 'Retrying the step.' } : { ok: false, note: 'This step is not waiting for a retry any more (someone already retried it).' };
  }
  if (action === 'request_changes') {
    const feedback = data.feedback?.trim();
    if (!feedback) {
      if (await orchestrator.gateIsOpen(value)) return { ok: false, note: 'Please write what should change in the box above, then press Request changes.' };
      return explainLoss(store, await orchestrator.decide(value, 'changes_requested', userId));
    }
    const result = await orchestrator.decide(value, 'changes_requested', userId, feedback);
    return result.won ? done : explainLoss(store, result);
  }
  const result = await orchestrator.decide(value, action === 'approve' ? 'approved' : 'rejected', userId);
  return result.won ? done : explainLoss(store, result);
}

const STATUS_WORDS: Record<string, string> = { approved: 'approved', changes_requested: 'sent back for changes', rejected: 'rejected' };

async function explainLoss(store: TeamsStore, result: DecideResult): Promise<ActionOutcome> {
  if (result.won) return { ok: true, text: 'Recorded.' };
  const r = result as { reason: string; status?: string; decidedBy?: string | null; decidedAt?: Date | null; message?: string };
  if (r.reason === 'unknown') return { ok: false, note: 'This approval request no longer exists.' };
  if (r.reason === 'vote_recorded') {
    const v = result as { votes: number; needed: number };
    return { ok: true, text: `Your approval is recorded: ${v.votes} of ${v.needed} approvals needed.` };
  }
  if (r.reason !== 'already_decided') return { ok: false, note: r.message ?? 'You cannot decide this gate.' };
  const who = r.decidedBy ? ((await store.names([r.decidedBy])).get(r.decidedBy) ?? 'someone') : 'someone';
  const when = r.decidedAt ? ` at ${r.decidedAt.toISOString().replace('T', ' ').slice(0, 19)} UTC` : '';
  return { ok: false, note: `Already decided: ${STATUS_WORDS[r.status ?? ''] ?? r.status} by ${who}${when}.` };
}
