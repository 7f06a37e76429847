// Slack payloads validated at the edge with zod: event callbacks (a mention, a thread reply), button clicks (block_actions)
// and the "Request changes" modal (view_submission). Nothing from Slack is cast: what does not parse is ignored.
import { z } from 'zod';
import { isActionId, type ActionId } from '../../orchestrator/contract';

const MAX_TEXT = 40_000; // Slack's own limit for a message's text
const id = z.string().min(1).max(64);

/** A file shared with a message (Slack's file object, the fields Rolecall reads). A file without url_private (a
 *  tombstone, one hidden by the workspace's plan) cannot be fetched and is left out by the edge. */
export const SlackFile = z.object({
  id,
  name: z.string().max(1000).optional(),
  title: z.string().max(1000).optional(),
  mimetype: z.string().max(200).optional(),
  size: z.number().int().min(0).optional(),
  url_private: z.string().url().max(2000).optional(),
  url_private_download: z.string().url().max(2000).optional(),
});
export type SlackFile = z.infer<typeof SlackFile>;

export const MessageEvent = z.object({
  user: id.optional(),
  text: z.string().max(MAX_TEXT).optional(),
  ts: z.string().min(1).max(32),
  thread_ts: z.string().min(1).max(32).optional(),
  channel: id,
  bot_id: z.string().optional(),
  subtype: z.string().optional(),
  /** "im" for a direct message to the app (its Messages tab), "channel", "group", "mpim". */
  channel_type: z.string().max(16).optional(),
  /** Files shared with the message (subtype file_share, or on an app_mention); at most 20 are read. */
  files: z.array(SlackFile).max(100).optional(),
});
export type MessageEvent = z.infer<typeof MessageEvent>;

/** An Events API callback: the workspace and the event's type (the event itself is then parsed by its type). */
export const EventCallback = z.object({
  team_id: id,
  event: z.object({ type: z.string().max(64) }),
  /** The installation the event is for: its user_id is the bot's own user in that workspace. */
  authorizations: z.array(z.object({ team_id: id.nullish(), user_id: id.optional(), is_bot: z.boolean().optional() })).max(10).optional(),
});

/** The App Home tab (or the Messages tab) was opened. */
export const AppHomeOpened = z.object({ type: z.literal('app_home_opened'), user: id, tab: z.enum(['home', 'messages']).optional() });

/** A person opened an assistant thread with the app (Slack's AI app features): its DM channel and thread. */
export const AssistantThreadStarted = z.object({
  type: z.literal('assistant_thread_started'),
  assistant_thread: z.object({ user_id: id, channel_id: id, thread_ts: z.string().min(1).max(32) }),
});

/** A person's profile changed; `deleted` when their account was deactivated or deleted (needs users:read). */
export const UserChange = z.object({
  type: z.literal('user_change'),
  user: z.object({ id, team_id: id.optional(), deleted: z.boolean().optional() }),
});

/** Tokens revoked in a workspace: the bot's user ids (tokens.bot) and people's (tokens.oauth). */
export const TokensRevoked = z.object({
  type: z.literal('tokens_revoked'),
  tokens: z.object({ oauth: z.array(id).max(1000).optional(), bot: z.array(id).max(1000).optional() }),
});

/** The `/rolecall` slash command, as Slack posts it (form fields) or sends it over Socket Mode. */
export const SlashCommand = z.object({
  command: z.string().max(64),
  text: z.string().max(4000).default(''),
  team_id: id,
  channel_id: id,
  user_id: id,
  trigger_id: z.string().max(256).optional(),
});
export type SlashCommand = z.infer<typeof SlashCommand>;

const actionIdSchema = z.string().refine(isActionId, 'not a Rolecall action').transform((s) => s as ActionId);

/** The person who clicked; `team_id` is their workspace (the payload's `team` can be null for org-wide apps). */
const SlackUser = z.object({ id, team_id: id.optional() });

export const BlockActions = z.object({
  user: SlackUser,
  team: z.object({ id }).nullish(),
  channel: z.object({ id }).optional(),
  message: z.object({ ts: z.string().max(32), thread_ts: z.string().max(32).optional() }).optional(),
  trigger_id: z.string().max(256),
  actions: z.array(z.object({ action_id: actionIdSchema, value: z.string().max(300), action_ts: z.string().regex(/^\d{1,12}(\.\d{1,9})?$/).optional() })).min(1).max(1),
});
export type BlockActions = z.infer<typeof BlockActions>;

/** What the feedback modal carries from the click that opened it. */
export const ModalMetadata = z.object({ approvalId: id, channel: id, team: id.optional(), threadTs: z.string().max(32).optional() });
export type ModalMetadata = z.infer<typeof ModalMetadata>;

export const ViewSubmission = z.object({
  user: SlackUser,
  team: z.object({ id }).nullish(),
  trigger_id: z.string().max(256).optional(),
  view: z.object({
    id: z.string().min(1).max(64),
    hash: z.string().max(256).optional(),
    private_metadata: z.string().max(3000).transform((s, ctx) => {
      try {
        return ModalMetadata.parse(JSON.parse(s));
      } catch {
        ctx.addIssue({ code: 'custom', message: 'bad private_metadata' });
        return z.NEVER;
      }
    }),
    state: z.object({ values: z.object({ feedback: z.object({ text: z.object({ value: z.string().max(3000).nullish() }) }) }) }),
  }),
});
