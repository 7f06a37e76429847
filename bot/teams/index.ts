// Everything the composition root needs from the Teams edge.
import type { Hono } from 'hono';
import type { Orchestrator } from '../../orchestrator/api';
import type { ChatPort } from '../../orchestrator/chat';
import type { Db } from '../../orchestrator/db';
import type { Logger } from '../../orchestrator/log';
import type { TeamsConfig } from './config';
import { createTeamsAdapter } from './adapter';
import { teamsRoutes } from './app';
import { teamsChat } from './chat';
import { teamsStore } from './store';
import { teamsFiles } from './files';
import { clientCredentialsTokens } from './tokens';
import type { FileDownloader } from '../../orchestrator/files';

export interface TeamsEdge {
  chat: ChatPort;
  /** Downloads files shared with the bot (bot/teams/files.ts). */
  files: FileDownloader;
  /** POST /api/messages, answering through `orchestrator`. */
  routes(orchestrator: Orchestrator): Hono;
  describe: string;
}

export function createTeams(cfg: TeamsConfig, prisma: Db, log: Logger): TeamsEdge {
  const teams = createTeamsAdapter(cfg);
  const store = teamsStore(prisma);
  return {
    chat: teamsChat(teams, store),
    files: teamsFiles({ tokens: cfg.mode === 'authenticated' ? clientCredentialsTokens(cfg) : undefined }),
    routes: (orchestrator) => teamsRoutes(teams, orchestrator, store, log),
    describe: cfg.mode === 'anonymous' ? 'anonymous (local development only: requests are not authenticated)' : `app ${cfg.appId} (${cfg.appType}, tenant ${cfg.tenantId})`,
  };
}
