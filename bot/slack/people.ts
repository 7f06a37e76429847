// A Slack person's display name, looked up with users.info (scope users:read) for the console's "people by name"
// (issue 14; stored and refreshed by orchestrator/people.ts). Invariant: Slack's answer is zod-parsed, the name chosen
// is the profile's display name, else the real name, else the handle, with control characters removed and at most
// NAME_MAX characters; a person Slack does not know is undefined; any other failure rejects (the caller logs it).
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { slackErrorCode } from './errors';

/** The longest name kept (longer ones are cut). */
export const NAME_MAX = 200;

const text = z.string().max(10_000).optional();
/** The part of users.info's answer Rolecall reads. */
const UsersInfo = z.object({
  ok: z.literal(true),
  user: z.object({
    id: z.string().min(1).max(64),
    name: text,
    real_name: text,
    profile: z.object({ display_name: text, real_name: text }).partial().optional(),
  }),
});
export const SlackName = z.string().min(1).max(NAME_MAX);

/** Slack's answer that means there is no such person (or not one this token may see). */
const UNKNOWN = new Set(['user_not_found', 'user_not_visible', 'users_not_found']);

/** Slack's user answer as a name: display name, then real name, then handle; undefined when all are empty. */
export function nameOfSlackUser(user: z.infer<typeof UsersInfo>['user']): string | undefined {
  for (const n of [user.profile?.display_name, user.profile?.real_name, user.real_name, user.name]) {
    // eslint-disable-next-line no-control-regex
    const clean = cut((n ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim()).trim();
    if (clean) return SlackName.parse(clean);
  }
  return undefined;
}

/** At most NAME_MAX UTF-16 units of `s`, never half a character. */
function cut(s: string): string {
  let out = '';
  for (const ch of s) {
    if (out.length + ch.length > NAME_MAX) break;
    out += ch;
  }
  return out;
}

/** ChatPort.lookupName on Slack: users.info with the workspace's bot token (`clientFor`: chat.ts SlackClientFor). */
export function slackLookupName(clientFor: (teamId: string) => Promise<WebClient>): (teamId: string, userId: string) => Promise<string | undefined> {
  return async (teamId, userId) => {
    const client = await clientFor(teamId);
    let raw: unknown;
    try {
      raw = await client.users.info({ user: userId });
    } catch (e) {
      if (UNKNOWN.has(slackErrorCode(e) ?? '')) return undefined;
      throw e;
    }
    const answer = UsersInfo.safeParse(raw);
    if (!answer.success) throw new Error(`Slack users.info answered in an unexpected shape (${answer.error.issues.map((i) => i.path.join('.')).join(', ')})`);
    if (answer.data.user.id !== userId) throw new Error('Slack users.info answered for another user');
    return nameOfSlackUser(answer.data.user);
  };
}
