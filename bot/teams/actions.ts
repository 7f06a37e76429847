// Card buttons (Action.Execute, or the Action.Submit fallback): the card's data was parsed with zod (activity.ts);
// this names the actor — the person and the conversation the click came from — and calls the orchestrator's one
// command. The decisions, permission checks and words live in the orchestrator.
import type { ActOutcome, Orchestrator } from '../../orchestrator';
import { teamIdOf, userIdOf, type CardActionData, type IncomingActivity } from './activity';
import { threadKeyOf } from './ids';

export function runCardAction(orchestrator: Orchestrator, data: CardActionData, a: IncomingActivity): Promise<ActOutcome> {
  const { channelId } = threadKeyOf(a.id ?? '', a.conversation);
  const { action, value } = data.rolecall;
  return orchestrator.act(action, value, { kind: 'chat', platform: 'teams', userId: userIdOf(a), teamId: teamIdOf(a), channelId }, data.feedback);
}
