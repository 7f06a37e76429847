import type { ToolRunner } from '../agents/agent';
import type { RoleRegistry } from '../agents/mcp/registry';
import type { Role } from '../agents/roles';
import type { LlmRouter } from '../agents/llm/router';
import type { ChatPort, ChatPorts, PlatformName } from './chat';
import type { BudgetOptions, WorkflowThrottle } from './cost-controls';
import type { Db } from './db';
import type { FilesDeps } from './files';
import type { JobQueue } from './jobs';
import type { Logger } from './log';
import type { Planner } from './planning';
import type { TierOptions } from '../agents/llm/routing';
import type { AtRest } from './privacy/at-rest';

export interface EngineDeps {
  prisma: Db;
  chat: ChatPorts;
  queue: JobQueue;
  roles: RoleRegistry;
  planner: Planner;
  /** The tools a role may call while it works on a step (absent: roles answer without tools). */
  tools?: (where: { workflowId: string; stepId: string }) => ToolRunner;
  llm: LlmRouter;
  log: Logger;
  /** Shared files (store, parser threads, downloaders); absent: files in messages are ignored with a log line. */
  files?: FilesDeps;
  /** Model tiers: the shadow-mode sample (orchestrator/tiers.ts); absent: no shadow runs. */
  tiers?: TierOptions;
  /** Budgets (orchestrator/budgets.ts); absent: no limits, spend still counted. */
  budgets?: BudgetOptions;
  /** Role edits saved in the console by any process (orchestrator/role-sync.ts): a step reloads them when the version
   *  its first statement read is not the one in use; absent: the roles are fixed. */
  roleEdits?: { version(): number; upTo(version: number): Promise<void> };
  /** Limits on new workflows per person and channel (orchestrator/throttle.ts); absent: none. */
  throttle?: WorkflowThrottle;
  /** Encryption at rest (orchestrator/privacy/at-rest.ts): seals message text, outputs and posts as they are written;
   *  absent: written in clear. */
  atRest?: AtRest;
}

export function chatFor(deps: EngineDeps, platform: PlatformName): ChatPort {
  const port = deps.chat[platform];
  if (!port) throw new Error(`no chat connection configured for platform ${platform}`);
  return port;
}

export function roleOf(deps: EngineDeps, roleId: string): Role {
  const role = deps.roles.get(roleId);
  if (!role) throw new Error(`role ${roleId} is not defined in roles/`);
  return role;
}
