// A workflow's thread as the chat ports address it.
import type { ThreadRef } from './chat';

export interface ThreadRow {
  platform: ThreadRef['platform'];
  teamId: string;
  channelId: string;
  threadTs: string;
}

export const threadOf = (w: ThreadRow): ThreadRef => ({ platform: w.platform, teamId: w.teamId, channelId: w.channelId, threadTs: w.threadTs });
