// Teams conversation references (for proactive posts from any worker) and people's display names (for mentions).
import type { Db } from '../../orchestrator/db';
import type { TeamsThreadKey } from './ids';

export interface StoredReference {
  serviceUrl: string;
  channelId: string;
  conversation: { id: string; conversationType?: string; tenantId?: string };
  agent: { id: string; name?: string };
  locale?: string;
}

export interface TeamsStore {
  saveReference(key: Pick<TeamsThreadKey, 'channelId' | 'threadTs'>, ref: StoredReference): Promise<void>;
  reference(key: Pick<TeamsThreadKey, 'channelId' | 'threadTs'>): Promise<StoredReference | undefined>;
  saveName(userId: string, name: string): Promise<void>;
  names(userIds: string[]): Promise<Map<string, string>>;
}

export function teamsStore(prisma: Db): TeamsStore {
  return {
    async saveReference(key, ref) {
      const reference = JSON.parse(JSON.stringify(ref));
      await prisma.teamsConversation.upsert({
        where: { channelId_threadTs: { channelId: key.channelId, threadTs: key.threadTs } },
        create: { channelId: key.channelId, threadTs: key.threadTs, reference },
        update: { reference },
      });
    },
    async reference(key) {
      const row = await prisma.teamsConversation.findUnique({ where: { channelId_threadTs: { channelId: key.channelId, threadTs: key.threadTs } } });
      return (row?.reference as StoredReference | null) ?? undefined;
    },
    async saveName(id, name) {
      await prisma.teamsUser.upsert({ where: { id }, create: { id, name }, update: { name } });
    },
    async names(ids) {
      if (!ids.length) return new Map();
      const rows = await prisma.teamsUser.findMany({ where: { id: { in: ids } } });
      return new Map(rows.map((r) => [r.id, r.name]));
    },
  };
}
