// Card buttons: Approve / Request changes / Reject / Retry, from Action.Execute or the Action.Submit fallback.
// The orchestrator decides durably (one decision wins); this only turns the outcome into words for the person.
import type { DecideResult, Orchestrator } from '../../orchestrator/api';
import { isSteeringAction, steer } from '../../orchestrator/steering';
import { notDecidedText } from '../../orchestrator/views';
import type { CardActionData } from './activity';
import type { TeamsStore } from './store';

export type ActionOutcome = { ok: true; text: string } | { ok: false; note: string };

const DONE_WORDS = { approve: 'Approved', request_changes: 'Changes requested', reject: 'Rejected', retry_step: 'Retrying', satisfaction_up: 'Thanks', satisfaction_down: 'Thanks' } as const;


export async function runCardAction(orchestrator: Orchestrator, store: TeamsStore, data: CardActionData, userId: string): Promise<ActionOutcome> {
  const { action, value } = data.rolecall;
  if (isSteeringAction(action)) {
    const outcome = await steer(orchestrator, action, value, userId);
    return outcome.done ? { ok: true, text: outcome.text } : { ok: false, note: outcome.text };
  }
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

async function explainLoss(store: TeamsStore, result: DecideResult): Promise<ActionOutcome> {
  if (result.won) return { ok: true, text: 'Recorded.' };
  if (result.reason === 'vote_recorded') return { ok: true, text: notDecidedText(result, '') };
  const by = result.reason === 'already_decided' ? result.decidedBy : null;
  const who = by ? ((await store.names([by])).get(by) ?? 'someone') : 'someone';
  return { ok: false, note: notDecidedText(result, who) };
}
