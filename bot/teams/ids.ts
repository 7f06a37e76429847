// Where a Teams message belongs: a chat is one thread; in a channel, each reply chain is one thread.
// Ids are URI-encoded so they contain no ":" (queue job ids are built from them).

export interface TeamsThreadKey {
  channelId: string;
  threadTs: string;
  messageTs: string;
}

const CHAT_THREAD = 'chat';

export interface ConversationShape {
  id: string;
  conversationType?: string;
}

export function threadKeyOf(activityId: string, conversation: ConversationShape): TeamsThreadKey {
  const [base, ...params] = conversation.id.split(';');
  const root = params.map((p) => p.match(/^messageid=(.+)$/)?.[1]).find(Boolean);
  const threadTs = conversation.conversationType === 'channel' ? (root ?? activityId) : CHAT_THREAD;
  return { channelId: encodeURIComponent(base!), threadTs: encodeURIComponent(threadTs), messageTs: encodeURIComponent(activityId) };
}

/** The conversation id to post into so that a reply lands in the thread (a channel reply chain needs ;messageid=). */
export function replyConversationId(key: Pick<TeamsThreadKey, 'channelId' | 'threadTs'>): string {
  const base = decodeURIComponent(key.channelId);
  return key.threadTs === CHAT_THREAD ? base : `${base};messageid=${decodeURIComponent(key.threadTs)}`;
}
