// What the admin console needs from the rest of Rolecall, and the per-request values its middleware sets.
import type { FileStore } from '../agents/files/store';
import type { RetentionRule } from '../orchestrator/privacy/retention';
import type { AtRest } from '../orchestrator/privacy/at-rest';
import type { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { RoleRegistry } from '../agents/mcp/registry';
import type { Role } from '../agents/roles';
import type { AdminUser } from '../generated/prisma/client';
import type { BudgetOptions } from '../orchestrator/cost-controls';
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
  /** TEMPLATES_DIR: an experiment's winning template variation is applied to these files (orchestrator/template-store.ts). */
  templatesDir?: string;
  /** Where a saved role edit is kept for every server and worker (orchestrator/role-sync.ts); absent: this process only. */
  roleStore?: { save(roleId: string, yaml: string, by: string): Promise<void>; storedYaml(roleId: string): Promise<string | undefined>; refresh(): Promise<void> };
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
  /** Mounts the playground (/admin/playground, the web chat platform: bot/web) behind the console's guards. */
  playground?: (app: Hono<ConsoleEnv>) => void;
  /** The trace of a workflow (OTEL_TRACE_URL_TEMPLATE with its trace id): the workflow page links each step to it;
   *  absent: no links. Every step of a workflow is traced in that one trace (agents/tracing.ts). */
  traceUrl?(workflowId: string): string;
  /** Model tiers: how many shadow runs a recommendation needs (MODEL_SHADOW_MIN_SAMPLES); absent: 20. */
  tiers?: { minSamples: number };
  /** Budgets (orchestrator/budgets.ts): config defaults and policy, for the budgets page; absent: none. */
  budgets?: BudgetOptions;
  /** Privacy (issue 18, web-admin/routes/privacy.tsx): the pseudonym key of erasures, retention defaults, the file
   *  store whose bytes an erasure removes; absent: subject requests use the session secret and no file store. */
  privacy?: { pseudonymSecret: string; retention: RetentionRule[]; store?: FileStore; atRest?: AtRest };
  /** The configured model providers' names, for the providers page. */
  providers?: string[];
  log: Logger;
}

/** `workspaces`: the team ids the user is bound to (web-admin/auth/workspaces.ts); undefined: every workspace. */
export type ConsoleEnv = { Variables: { user: AdminUser; session: Session; workspaces?: string[] } };

export const consoleActor = (user: AdminUser) => `console:${user.email}`;
