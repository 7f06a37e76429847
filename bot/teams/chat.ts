// The orchestrator's ChatPort on Teams: every post is proactive (a stored conversation reference + the adapter),
// so workers post without any inbound HTTP request, in any process.
import { Activity } from '@microsoft/agents-activity';
import type { TurnContext } from '@microsoft/agents-hosting';
import type { ChatPort, MessageView, Persona, ThreadRef } from '../../orchestrator/chat';
import type { TeamsAdapter } from './adapter';
import { teamsMention, toTeamsMessage } from './cards';
import type { StoredReference, TeamsStore } from './store';
import { RolecallError } from '../../agents/errors';

/** No conversation reference is stored for a thread: nobody ever wrote to Rolecall there (a bug or a wiped table). */
export class TeamsConversationUnknownError extends RolecallError {
}

export function teamsChat(teams: TeamsAdapter, store: TeamsStore): ChatPort {
  const inThread = async (thread: ThreadRef, logic: (ctx: TurnContext) => Promise<void>) => {
    const ref = await store.reference(thread);
    if (!ref) throw new TeamsConversationUnknownError(`no Teams conversation reference for ${thread.channelId} / ${thread.threadTs}`);
    await teams.adapter.continueConversation(teams.botIdentity as string, { ...ref, conversation: { ...ref.conversation } }, logic);
  };
  const render = async (persona: Persona, view: MessageView) => toTeamsMessage(persona, view, await store.names(mentionedIds(view)));
  return {
    async post(thread, persona, view) {
      const message = await render(persona, view);
      let id: string | undefined;
      await inThread(thread, async (ctx) => {
        id = (await ctx.sendActivity(Activity.fromObject(message)))?.id;
      });
      if (!id) throw new Error('the Bot Connector returned no activity id');
      return id;
    },
    async update(thread, messageId, persona, view) {
      const message = await render(persona, view);
      await inThread(thread, async (ctx) => {
        await ctx.updateActivity(Activity.fromObject({ ...message, id: messageId, conversation: ctx.activity.conversation, serviceUrl: ctx.activity.serviceUrl }));
        if (!view.actions?.length) await ctx.sendActivity(Activity.fromObject({ type: 'typing' })); // a role is (still) at work
      });
    },
    mention: teamsMention,
    nameOf: async (userId) => (await store.names([userId])).get(userId) ?? 'someone',
  };
}

const mentionedIds = (view: MessageView) => [...`${view.text}\n${view.context ?? ''}`.matchAll(/<at>([^<]+)<\/at>/g)].map((m) => m[1]!);

export function referenceOf(a: { serviceUrl: string; channelId: string; conversation: StoredReference['conversation']; recipient: { id: string; name?: string } }, conversationId: string): StoredReference {
  return {
    serviceUrl: a.serviceUrl,
    channelId: a.channelId,
    conversation: { ...a.conversation, id: conversationId },
    agent: { id: a.recipient.id, name: a.recipient.name },
  };
}
