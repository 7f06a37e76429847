// The orchestrator's ChatPort on the Slack Web API: persona posts (chat:write.customize) and updates.
import { WebClient } from '@slack/web-api';
import type { ChatPort, MessageView, Persona, ThreadRef } from '../../orchestrator/chat';
import { toSlack } from './blocks';

export function slackWebClient(token: string, apiUrl: string): WebClient {
  return new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: 2, factor: 2, minTimeout: 500 } });
}

export function slackChat(client: WebClient): ChatPort {
  return {
    async post(thread: ThreadRef, persona: Persona, view: MessageView) {
      const res = await client.chat.postMessage({
        channel: thread.channelId,
        thread_ts: thread.threadTs,
        username: persona.displayName,
        ...(persona.iconUrl ? { icon_url: persona.iconUrl } : { icon_emoji: persona.iconEmoji }),
        ...toSlack(view),
      });
      if (!res.ts) throw new Error('Slack chat.postMessage returned no ts');
      return res.ts;
    },
    async update(thread: ThreadRef, messageId: string, _persona: Persona, view: MessageView) {
      await client.chat.update({ channel: thread.channelId, ts: messageId, ...toSlack(view) });
    },
    mention: (userId) => `<@${userId}>`,
    nameOf: async (userId) => `<@${userId}>`, // rendered as the person's name, without notifying them, in an ephemeral note
  };
}
