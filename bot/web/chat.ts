// The orchestrator's ChatPort on the playground (platform "web"): a post is a row in WebMessage, an update rewrites
// it (and bumps its version, which the playground's live view sends on), a note for one person is a row only they
// see. Works in any process (server or worker): the database is the channel.
// Invariants: a thread that does not exist (deleted) is ChannelUnreachableError, so the orchestrator stops posting
// there; nothing is rendered here (text stays the views' neutral markdown: the playground escapes it on display).
import { ChannelUnreachableError, MessageRejectedError, type ChatPort } from '../../orchestrator/chat';
import type { FileDownloader } from '../../orchestrator/files';
import { FileDownloadFailed } from '../../orchestrator/files';
import { FileTooLarge } from '../../agents/files/errors';
import type { FileStore } from '../../agents/files/store';
import type { WebStore } from './store';

export function webChat(store: WebStore): ChatPort {
  return {
    async post(thread, persona, view) {
      if (!(await store.threadExists(thread.channelId))) throw new ChannelUnreachableError('web', 'thread_not_found');
      return store.addPost(thread.channelId, persona, view);
    },
    async update(thread, messageId, persona, view) {
      if (!(await store.updatePost(thread.channelId, messageId, persona, view))) {
        if (!(await store.threadExists(thread.channelId))) throw new ChannelUnreachableError('web', 'thread_not_found');
        throw new MessageRejectedError('web', 'message_not_found');
      }
    },
    mention: (userId) => `<@${userId}>`,
    nameOf: async (userId) => (await store.names([userId])).get(userId) ?? 'someone',
    async notify(thread, person, text) {
      if (!(await store.threadExists(thread.channelId))) return; // the thread was deleted: nobody to tell
      await store.addPost(thread.channelId, { displayName: 'Rolecall', iconEmoji: ':robot_face:' }, { text, context: 'Only you can see this.' }, person.id);
    },
  };
}

/** Where a file uploaded in the playground is: the server stored its bytes in the file store already. */
export const webFileUrl = (sha256: string) => `rolecall-web://files/${sha256}`;

/** The FileDownloader of the web platform: reads the uploaded bytes back from the file store (by their sha256). */
export function webFiles(store: Pick<FileStore, 'get'>): FileDownloader {
  return {
    async download(file, maxBytes) {
      const m = /^rolecall-web:\/\/files\/([0-9a-f]{64})$/.exec(file.url);
      if (!m) throw new FileDownloadFailed(file.name, 'it is not a playground upload');
      const bytes = await store.get(m[1]!);
      if (!bytes) throw new FileDownloadFailed(file.name, 'the uploaded bytes are gone');
      if (bytes.length > maxBytes) throw new FileTooLarge(file.name, bytes.length, maxBytes);
      return bytes;
    },
  };
}
