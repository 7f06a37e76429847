// The admin console at /admin and /metrics, mounted on the shared Hono app.
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { secureHeaders } from 'hono/secure-headers';
import { requireUser } from './auth/guard';
import { workspaceScope } from './auth/workspaces';
import type { ConsoleDeps, ConsoleEnv } from './context';
import { mountAnalytics } from './routes/analytics';
import { mountApiKeys } from './routes/api-keys';
import { mountCost } from './routes/cost';
import { mountBudgets } from './routes/budgets';
import { mountPrivacy } from './routes/privacy';
import { mountAssets } from './routes/assets';
import { mountAudit } from './routes/audit';
import { mountIntents } from './routes/intents';
import { mountLogin } from './routes/login';
import { mountMcpFiles } from './routes/mcp-files';
import { mountMetrics } from './routes/metrics';
import { mountRbac } from './routes/rbac';
import { mountRoles } from './routes/roles';
import { mountExperiments } from './routes/experiments';
import { mountWorkflows } from './routes/workflows';
import { mountWorkspaces } from './routes/workspaces';

/** The console's routes (/admin/*) and /metrics. */
export function adminConsoleRoutes(deps: ConsoleDeps): Hono {
  const admin = new Hono<ConsoleEnv>();
  const app = admin as unknown as Hono;
  admin.use('/admin/*', secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'self'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], frameAncestors: ["'none'"], formAction: ["'self'"] },
  }));
  admin.use('/admin', secureHeaders());
  // Origin check on every form post; the per-session token is checked by the routes that change things.
  admin.use('/admin/*', csrf());
  mountAssets(app);
  mountLogin(admin, deps);
  mountMetrics(app, deps);
  admin.use('/admin', requireUser(deps));
  admin.use('/admin/*', requireUser(deps));
  // A console user bound to workspaces sees only theirs, and no page that spans every workspace.
  admin.use('/admin', workspaceScope(deps.prisma));
  admin.use('/admin/*', workspaceScope(deps.prisma));
  mountAnalytics(admin, deps);
  mountCost(admin, deps);
  mountBudgets(admin, deps);
  mountWorkflows(admin, deps);
  mountMcpFiles(admin, deps);
  mountRoles(admin, deps);
  mountExperiments(admin, deps);
  mountRbac(admin, deps);
  mountApiKeys(admin, deps);
  mountIntents(admin, deps);
  mountAudit(admin, deps);
  mountWorkspaces(admin, deps);
  mountPrivacy(admin, deps);
  deps.playground?.(admin); // /admin/playground (bot/web): signed-in users, the same guards
  return app;
}
