// What the orchestrator needs from a chat platform. Platform SDKs implement it in bot/.
export type PlatformName = 'slack' | 'teams';

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

export type ActionId =
  | 'approve' | 'request_changes' | 'reject' | 'retry_step' | 'skip_step' | 'cancel_workflow'
  | 'plan_drop' | 'plan_gate' | 'plan_confirm' | 'satisfaction_up' | 'satisfaction_down';

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
  mention(userId: string): string;
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
