// What the orchestrator needs from a chat platform (ChatPort) and what a platform hands it (InboundMessage).
// Platform SDKs implement the port in bot/; views stay platform-neutral here.
import type { ActionId, PlatformName } from './contract';

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
}

export interface ChatPort {
  post(thread: ThreadRef, persona: Persona, view: MessageView): Promise<string>;
  update(thread: ThreadRef, messageId: string, persona: Persona, view: MessageView): Promise<void>;
  /** A person as a mention inside a posted message (notifies them where the platform does). */
  mention(userId: string): string;
  /** A person named in a note shown only to someone else (no notification). */
  nameOf(userId: string): Promise<string>;
}

export type ChatPorts = Partial<Record<PlatformName, ChatPort>>;

/** A message from a person, as the platform edge hands it to the orchestrator. */
export interface InboundMessage {
  platform: PlatformName;
  teamId: string;
  channelId: string;
  threadTs: string;
  messageTs: string;
  userId: string;
  text: string;
  mentioned: boolean;
}
