// What the admin console needs from the rest of Rolecall, and the per-request values its middleware sets.
import type { Registry } from 'prom-client';
import type { RoleRegistry } from '../agents/mcp/registry';
import type { Role } from '../agents/roles';
import type { AdminUser } from '../generated/prisma/client';
import type { Db } from '../orchestrator/db';
import type { Logger, Orchestrator } from '../orchestrator';
import type { LoginLimiter } from './auth/rate-limit';
import type { Session, SessionSettings } from './auth/session';

/** The console's Retry and Cancel go through the orchestrator's one command, with the console user as actor. */
export type WorkflowActions = Pick<Orchestrator, 'act'>;

export interface ConsoleDeps {
  prisma: Db;
  /** The live role definitions (edits replace entries here and in rolesDir). */
  roles: Map<string, Role>;
  /** Role health as the MCP registry reports it (provider configured, endpoint). */
  registry: RoleRegistry;
  rolesDir: string;
  workflows: WorkflowActions;
  queueCounts(): Promise<Record<string, number>>;
  session: SessionSettings;
  limiter: LoginLimiter;
  /** When set, /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** Worker connections and the age of the oldest waiting job, for /metrics. */
  queueHealth?(): Promise<{ workers: number; oldestWaitingSeconds: number }>;
  /** This process's own metrics (Node, HTTP requests), appended to /metrics. */
  processRegistry?: Registry;
  /** Intent examples: the labels an admin may give (templates and `none`), and retraining this process's classifier. */
  intents?: { labels: { id: string; name: string }[]; refresh(): Promise<void> };
  /** Where shared files' bytes are (the workflow page's downloads); absent: files are listed without downloads. */
  files?: { get(sha256: string): Promise<Uint8Array | undefined> };
  log: Logger;
}

export type ConsoleEnv = { Variables: { user: AdminUser; session: Session } };

export const consoleActor = (user: AdminUser) => `console:${user.email}`;
