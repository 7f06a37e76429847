// Per-workspace data separation in the console. A console user bound to workspaces (AdminWorkspace rows: chat team
// ids) sees only those workspaces' workflows; a user without bindings sees every workspace (the global admin).
// Invariants (fail closed): a bound user reaches only the paths listed in SCOPED_PATHS (their workflows, their
// workspaces' settings, their own password and sign-out); every page that spans workspaces (analytics, audit, intents, roles, access, API keys,
// anything added later) answers 403 to them; a workflow of another workspace is answered exactly like one that does
// not exist (404), so ids cannot be probed.
import type { MiddlewareHandler } from 'hono';
import type { Db } from '../../orchestrator/db';
import type { ConsoleEnv } from '../context';

/** What a workspace-bound user may open: their workflows (list, pages, files, actions), a workspace's settings page
 *  (its route answers 404 for a workspace not theirs) and their own account. */
const SCOPED_PATHS = [/^\/admin\/workflows(\/|$)/, /^\/admin\/api\/workflows(\/|$)/, /^\/admin\/workspaces\/(slack|teams|web)\/[^/]+$/, /^\/admin\/password$/, /^\/admin\/logout$/];

/** The team ids `userId` is bound to; undefined: every workspace. */
export async function workspacesOf(prisma: Db, userId: string): Promise<string[] | undefined> {
  const rows = await prisma.adminWorkspace.findMany({ where: { userId }, select: { teamId: true } });
  return rows.length ? rows.map((r) => r.teamId) : undefined;
}

/** Sets `workspaces` for the signed-in user, and refuses a bound user every page outside their workspaces. */
export function workspaceScope(prisma: Db): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const teams = await workspacesOf(prisma, c.get('user').id);
    c.set('workspaces', teams);
    if (!teams) return next();
    const path = c.req.path.replace(/\/+$/, '') || '/';
    if (path === '/admin') return c.redirect('/admin/workflows', 303);
    if (SCOPED_PATHS.some((p) => p.test(path))) return next();
    const message = `Your console account is limited to workspace${teams.length > 1 ? 's' : ''} ${teams.join(', ')}; this page covers every workspace.`;
    return path.startsWith('/admin/api/') ? c.json({ error: 'forbidden', message }, 403) : c.html(`<!doctype html><title>Forbidden</title><p>${escapeHtml(message)}</p><p><a href="/admin/workflows">Your workflows</a></p>`, 403);
  };
}

/** The workflow filter for the signed-in user: their workspaces, or no restriction. */
export const teamFilter = (teams: string[] | undefined) => (teams ? { teamId: { in: teams } } : {});

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
