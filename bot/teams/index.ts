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

/** What one of the Teams edge's own HTTP requests does, for its span (orchestrator/traced.ts tracedFetch): a token from
 *  Entra ID, or a shared file's bytes. */
export const teamsOperationOf = (url: URL): string => (url.pathname.endsWith('/oauth2/v2.0/token') ? 'token' : 'file download');

/** `fetch`: the transport of token requests and file downloads (default: the global fetch; traced when tracing is on,
 *  app/runtime.ts). */
export function createTeams(cfg: TeamsConfig, prisma: Db, log: Logger, fetch?: typeof globalThis.fetch): TeamsEdge {
  const teams = createTeamsAdapter(cfg, fetch);
  const store = teamsStore(prisma);
  return {
    chat: teamsChat(teams, store),
    files: teamsFiles({ tokens: cfg.mode === 'authenticated' ? clientCredentialsTokens(cfg, fetch) : undefined, fetch }),
    routes: (orchestrator) => teamsRoutes(teams, orchestrator, store, log),
    describe: cfg.mode === 'anonymous' ? 'anonymous (local development only: requests are not authenticated)' : `app ${cfg.appId} (${cfg.appType}, tenant ${cfg.tenantId})`,
  };
}
