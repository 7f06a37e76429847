// Card buttons (Action.Execute, or the Action.Submit fallback): the card's data was parsed with zod (activity.ts);
// this names the actor — the person and the conversation the click came from — and the thread where the outcome is
// told, for the orchestrator to queue the press (orchestrator.click). The decisions, permission checks and words live
// in the orchestrator.
import type { Orchestrator } from '../../orchestrator';
import { sentAtOf, teamIdOf, userIdOf, type CardActionData, type IncomingActivity } from './activity';
import { threadKeyOf } from './ids';

export type CardPress = Parameters<Orchestrator['click']>[0];

export function cardPress(data: CardActionData, a: IncomingActivity): CardPress {
  const { channelId, threadTs } = threadKeyOf(a.id ?? '', a.conversation);
  const { action, value } = data.rolecall;
  const teamId = teamIdOf(a);
  return {
    // the activity id: a redelivered activity is the same press (without one, the press itself is the identity)
    deliveryId: a.id ? `teams:${a.id}` : `teams:${a.from.id}:${a.timestamp ?? ''}:${action}:${value}:${data.feedback ?? ''}`,
    action, value, feedback: data.feedback,
    pressedAt: sentAtOf(a), // absent or unreadable: the time received
    actor: { kind: 'chat', platform: 'teams', userId: userIdOf(a), teamId, channelId },
    reply: { thread: { platform: 'teams', teamId, channelId, threadTs }, person: { id: a.from.id, name: a.from.name } },
  };
}
