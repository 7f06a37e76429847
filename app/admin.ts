// Builds the admin console's dependencies from the runtime's and returns its routes (server processes only).
import { refreshTraining } from '../orchestrator/intent/retrain';
import { NO_INTENT } from '../orchestrator/intent/classifier';
import type { Hono } from 'hono';
import type { Role } from '../agents/roles';
import type { ConsoleDeps } from '../web-admin/context';
import { ensureFirstAdmin } from '../web-admin/auth/bootstrap';
import { createLoginLimiter } from '../web-admin/auth/rate-limit';
import { adminConsoleRoutes } from '../web-admin/console';
import { createOrchestrator } from '../orchestrator/api';
import { mountPlayground, WebStore } from '../bot/web';
import type { Config } from './config';
import { workflowTraceId } from '../agents/tracing';
import type { EngineDeps } from '../orchestrator/deps';
import type { Logger } from '../orchestrator/log';

export interface AdminExtras {
  /** The loaded role files behind deps.roles: a saved edit replaces its entry here. */
  roleFiles: Map<string, Role>;
  /** Saves role edits for every process (PostgreSQL) and reloads those saved elsewhere. */
  roleSync?: ConsoleDeps['roleStore'];
  queueCounts(): Promise<Record<string, number>>;
  queueHealth?: ConsoleDeps['queueHealth'];
  processRegistry?: ConsoleDeps['processRegistry'];
  /** The console's session secret, resolved once at start (app/runtime.ts). */
  sessionSecret: string;
}

export async function adminConsole(config: Config, deps: EngineDeps, extras: AdminExtras, log: Logger): Promise<Hono> {
  const orchestrator = createOrchestrator(deps);
  const secret = extras.sessionSecret;
  await ensureFirstAdmin(deps.prisma, log);
  return adminConsoleRoutes({
    prisma: deps.prisma,
    roles: extras.roleFiles,
    ...(extras.roleSync ? { roleStore: extras.roleSync } : {}),
    registry: deps.roles,
    rolesDir: config.rolesDir,
    templatesDir: config.templatesDir,
    workflows: orchestrator,
    queueCounts: extras.queueCounts,
    queueHealth: extras.queueHealth,
    processRegistry: extras.processRegistry,
    intents: {
      labels: [...deps.planner.templates.map((t) => ({ id: t.id, name: t.name })), { id: NO_INTENT, name: 'none (small talk)' }],
      refresh: () => refreshTraining(deps),
    },
    session: { secret, ttlSeconds: config.admin.sessionTtlSeconds, maxAgeSeconds: config.admin.sessionMaxAgeSeconds, secure: config.admin.secureCookies },
    metricsToken: config.metricsToken,
    ...(deps.budgets ? { budgets: deps.budgets } : {}),
    providers: [...deps.llm.providers.keys()],
    tiers: { minSamples: config.tiers.minSamples },
    ...(config.traceUrlTemplate ? { traceUrl: traceUrlOf(config.traceUrlTemplate) } : {}),
    ...(deps.files ? { files: deps.files.store } : {}),
    privacy: { pseudonymSecret: config.privacy.pseudonymSecret ?? secret, retention: config.privacy.retention, ...(deps.files ? { store: deps.files.store } : {}), ...(deps.atRest ? { atRest: deps.atRest } : {}) },
    limiter: createLoginLimiter(deps.prisma, config.admin.login),
    playground: (app) => mountPlayground(app, {
      store: new WebStore(deps.prisma, deps.atRest),
      orchestrator,
      demoModel: deps.llm.providers.size === 0,
      ...(deps.files ? { files: { put: (bytes, mime) => deps.files!.store.put(bytes, mime), maxBytes: deps.files.maxBytes } } : {}),
      log,
    }),
    log,
  });
}

/** OTEL_TRACE_URL_TEMPLATE with {traceId} (the workflow's trace, agents/tracing.ts) filled in. */
export const traceUrlOf = (template: string) => (workflowId: string): string => template.replaceAll('{traceId}', workflowTraceId(workflowId));
