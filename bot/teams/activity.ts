// The fields of incoming Bot Framework activities that Rolecall uses, validated at the boundary.
import { ACTION_IDS } from '../../orchestrator/contract';
import { z } from 'zod';

const Account = z.object({ id: z.string().min(1), name: z.string().optional(), aadObjectId: z.string().optional() });

export const IncomingActivity = z.object({
  type: z.string().min(1),
  id: z.string().min(1).optional(),
  /** When the activity was sent (ISO 8601, set by the channel). */
  timestamp: z.string().max(64).optional(),
  name: z.string().optional(),
  channelId: z.string().min(1),
  serviceUrl: z.string().url(),
  conversation: z.object({ id: z.string().min(1), conversationType: z.string().optional(), tenantId: z.string().optional() }),
  from: Account,
  recipient: Account,
  text: z.string().optional(),
  replyToId: z.string().optional(),
  value: z.unknown().optional(),
  entities: z.array(z.object({ type: z.string().optional(), mentioned: z.object({ id: z.string() }).optional() }).passthrough()).optional(),
  channelData: z.object({ tenant: z.object({ id: z.string() }).optional(), team: z.object({ id: z.string() }).optional() }).passthrough().optional(),
});
export type IncomingActivity = z.infer<typeof IncomingActivity>;

/** What our card buttons carry (Action.Execute data, or the Action.Submit value), plus the feedback input. */
export const CardActionData = z.object({
  rolecall: z.object({ action: z.enum(ACTION_IDS), value: z.string().min(1).max(200) }),
  feedback: z.string().max(4000).optional(),
});
export type CardActionData = z.infer<typeof CardActionData>;

export const ExecuteInvokeValue = z.object({
  action: z.object({ type: z.literal('Action.Execute'), verb: z.string().optional(), data: z.unknown() }),
});

export const userIdOf = (a: IncomingActivity) => a.from.aadObjectId ?? a.from.id;
export const teamIdOf = (a: IncomingActivity) => a.channelData?.team?.id ?? a.conversation.tenantId ?? a.channelData?.tenant?.id ?? 'teams';

export function isMentioned(a: IncomingActivity): boolean {
  if (a.conversation.conversationType === 'personal') return true;
  return (a.entities ?? []).some((e) => e.type === 'mention' && e.mentioned?.id === a.recipient.id);
}

/** The text a person wrote, without <at> mentions of the bot and without HTML. */
export function plainText(a: IncomingActivity): string {
  return (a.text ?? '')
    .replace(/<at>[^<]*<\/at>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** When the person sent the activity, as ISO 8601 (undefined when absent or unreadable: arrival time is used). */
export function sentAtOf(a: IncomingActivity): string | undefined {
  const t = a.timestamp ? Date.parse(a.timestamp) : NaN;
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}
