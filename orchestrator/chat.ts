// What the orchestrator needs from a chat platform (ChatPort) and what a platform hands it (InboundMessage).
// Platform SDKs implement the port in bot/; views stay platform-neutral here.
import { RolecallError } from '../agents/errors';
import { PLATFORM_LABELS, type ActionId, type PlatformName } from './contract';

export type { ActionId, PlatformName };

export interface ThreadRef {
  platform: PlatformName;
  teamId: string;
  channelId: string;
  threadTs: string;
}

export interface Persona {
  displayName: string;
  iconEmoji?: string;
  iconUrl?: string;
}

export interface ViewAction {
  id: ActionId;
  label: string;
  value: string;
  style?: 'primary' | 'danger';
}

/** A platform-neutral message: markdown text, an optional small-print line, optional buttons. */
export interface MessageView {
  text: string;
  context?: string;
  actions?: ViewAction[];
  /** The message says its role is working: once it is sent, the platform's own working indicator may show this
   *  status too (ChatPort.working; e.g. "is working…", shown after the persona's name). Not part of the message. */
  working?: string;
}

export interface ChatPort {
  /** Posts one message. Throws ChannelUnreachableError or MessageRejectedError when the platform refuses for good;
   * anything else it throws may be passing (the queue tries again). */
  post(thread: ThreadRef, persona: Persona, view: MessageView, opts?: PostOptions): Promise<string>;
  /** The id of the message this app posted in `thread` under `key` (PostOptions.key), or undefined when there is none.
   *  The outbox asks before it posts a row again whose first try's outcome is unknown (a crash, or the database gone,
   *  between the platform's answer and the write that records it), so that post is not made twice. Absent: the
   *  platform cannot look a post up (Teams: the Bot Connector cannot list a conversation's messages), and such a row
   *  is posted again. Throws like `post`. */
  findPosted?(thread: ThreadRef, key: string): Promise<string | undefined>;
  /** Cuts a view too long for one message of this platform into several, in order (orchestrator/split.ts); absent:
   * every view fits one message. */
  split?(view: MessageView): MessageView[];
  update(thread: ThreadRef, messageId: string, persona: Persona, view: MessageView): Promise<void>;
  /** A person as a mention inside a posted message (notifies them where the platform does). */
  mention(userId: string): string;
  /** A user group as a mention (Slack `<!subteam^S…>`), only for a gate's configured approvers; absent: the platform
   *  has no groups Rolecall can mention, and a configured group is left out. */
  mentionGroup?(groupId: string): string;
  /** A person named in a note shown only to someone else (no notification). */
  nameOf(userId: string): Promise<string>;
  /** The person's display name as the platform has it now (Slack users.info), for the console (orchestrator/people.ts
   *  stores it); undefined when the platform knows no such person. Absent where names arrive with messages (Teams).
   *  Throws when the lookup fails; callers treat it as best effort. */
  lookupName?(teamId: string, userId: string): Promise<string | undefined>;
  /** A short note to one person about their own action, in `thread`: only they see it where the platform allows
   * (Slack), otherwise a reply that mentions them (Teams). `person.id` is their id on the platform. */
  notify(thread: ThreadRef, person: { id: string; name?: string }, text: string): Promise<void>;
  /** Uploads files into `thread`, with `comment` (markdown) above them, and returns the platform's ids of the files.
   *  Absent where a bot cannot upload into a thread (Teams: orchestrator/outputs.ts posts links to the console instead).
   *  Throws like `post`. */
  upload?(thread: ThreadRef, persona: Persona, files: OutgoingFile[], comment: string): Promise<string[]>;
  /** Marks a person's message in `thread` with an emoji reaction (a shortcode name, e.g. `eyes`), so they see it was
   * taken. Absent where a bot cannot react (Teams: the Bot Framework has no API for a bot's reaction). Best effort:
   * an error is logged by the caller and nothing else depends on it. */
  react?(thread: ThreadRef, messageId: string, emoji: 'eyes' | 'white_check_mark'): Promise<void>;
  /** Shows the platform's own "working" indicator in `thread` for `persona` (Slack: the assistant thread status,
   *  "<persona> is working…", which Slack clears when the app next posts in the thread, or after two minutes; an
   *  empty `status` clears it). Does nothing where the thread cannot show one (Slack: not an assistant thread). Absent
   *  where the platform has none (Teams). Best effort, like `react`: the caller logs an error and goes on. */
  working?(thread: ThreadRef, persona: Persona, status: string): Promise<void>;
}

/** How a post is sent. */
export interface PostOptions {
  /** The post's idempotency key (the outbox row's), carried by the message where the platform can (Slack message
   *  metadata) so that findPosted can find it. */
  key?: string;
}

/** A file Rolecall attaches in a thread (a role's output file). */
export interface OutgoingFile {
  name: string;
  mime: string;
  bytes: Uint8Array;
  title: string;
}

export type ChatPorts = Partial<Record<PlatformName, ChatPort>>;

/** The platform will not take posts in this thread at all: the channel is gone or archived, the app is not in it or
 * was removed, or its token was revoked. Retrying will not help; a person must fix it (then Retry in the console). */
export class ChannelUnreachableError extends RolecallError {
  constructor(readonly platform: PlatformName, readonly code: string, options?: ErrorOptions) {
    super(`${PLATFORM_LABELS[platform]} will not take posts in this channel (${code})`, options);
  }
}

/** The platform refused this one message (too long, malformed): the thread itself is reachable. */
export class MessageRejectedError extends RolecallError {
  constructor(readonly platform: PlatformName, readonly code: string, options?: ErrorOptions) {
    super(`${PLATFORM_LABELS[platform]} refused the message (${code})`, options);
  }
}

export const isPostRefused = (e: unknown): e is ChannelUnreachableError | MessageRejectedError =>
  e instanceof ChannelUnreachableError || e instanceof MessageRejectedError;

/** A message from a person, as the platform edge hands it to the orchestrator. */
export interface InboundMessage {
  platform: PlatformName;
  teamId: string;
  channelId: string;
  threadTs: string;
  messageTs: string;
  /** When the person wrote it (ISO 8601; Slack's ts, Teams' activity timestamp): thread replies are ordered by it,
   *  since platforms do not deliver events in order. Absent in jobs queued by older versions: arrival time is used. */
  sentAt?: string;
  userId: string;
  text: string;
  mentioned: boolean;
  /** Files shared with the message: only references here (the edge acks at once); the worker downloads them. */
  files?: InboundFile[];
}

/** A file on the chat platform, as the message event names it (the bytes are fetched later, by the worker). */
export interface InboundFile {
  /** The platform's id of the file (Slack F…). */
  id: string;
  name: string;
  /** Where the bytes are (Slack url_private, which needs the bot token). */
  url: string;
  /** Size the platform declares (checked again while downloading). */
  bytes?: number;
  mime?: string;
  /** Send the platform's bot token with the download: set by the edge only for URLs on the platform's own host
   *  (Teams hosted content on the activity's authenticated serviceUrl); absent: the URL is fetched without it. */
  auth?: 'platform';
}
