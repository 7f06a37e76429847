// Workspaces: the Slack workspaces that installed Rolecall through "Add to Slack" (active, uninstalled, tokens
// revoked) and which console users are bound to which workspaces (web-admin/auth/workspaces.ts). Everyone not bound
// to workspaces may look (admin and above); admins bind users, owners alone bind owners. A change ends the user's
// sessions (as a role change does) and is audited.
import type { Hono } from 'hono';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { revokeUserSessions } from '../auth/session';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Notice, Page } from '../views/layout';

const TEAM_ID = /^[A-Za-z0-9_.:@-]{2,200}$/;
const bindSchema = z.object({
  teams: z.string().max(2000).transform((v) => [...new Set(v.split(/[\s,]+/).filter(Boolean))]).pipe(z.array(z.string().regex(TEAM_ID, 'is not a workspace (team) id')).max(50)),
});

export function mountWorkspaces(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const page = async (user: ConsoleEnv['Variables']['user'], csrf: string, error?: string, done?: boolean) => {
    const [installs, users] = await Promise.all([
      deps.prisma.slackInstallation.findMany({ orderBy: { installedAt: 'desc' }, select: { teamId: true, teamName: true, status: true, installedAt: true, disabledAt: true, installedBy: true } }),
      deps.prisma.adminUser.findMany({ orderBy: { email: 'asc' }, select: { id: true, email: true, role: true, workspaces: { select: { teamId: true } } } }),
    ]);
    return (
      <Page title="Workspaces" user={user} csrf={csrf} active="workspaces">
        <Notice kind="error" text={error} />
        {done && <Notice kind="ok" text="Saved." />}
        <h2>Slack installs</h2>
        {installs.length === 0
          ? <p>No workspace has installed Rolecall through “Add to Slack” yet: send people to <code>/slack/install</code> (needs SLACK_CLIENT_ID and the rest, see README “Slack distribution”).</p>
          : (
            <table id="installs">
              <thead><tr><th>Workspace</th><th>Team id</th><th>Status</th><th>Installed</th><th>By</th><th>Disabled</th></tr></thead>
              <tbody>{installs.map((i) => (
                <tr><td>{i.teamName ?? ''}</td><td>{i.teamId}</td><td class="status">{i.status === 'active' ? 'active' : i.status === 'uninstalled' ? 'uninstalled: nothing is posted' : 'token revoked: nothing is posted'}</td><td>{fmtDate(i.installedAt)}</td><td>{i.installedBy ?? ''}</td><td>{fmtDate(i.disabledAt)}</td></tr>
              ))}</tbody>
            </table>
          )}
        <h2>Console users by workspace</h2>
        <p>A user bound to workspaces sees only their workflows, and no page that covers every workspace. Leave empty for every workspace.</p>
        <table id="bindings">
          <thead><tr><th>User</th><th>Role</th><th>Workspaces (team ids)</th></tr></thead>
          <tbody>{users.map((u) => (
            <tr>
              <td>{u.email}</td><td>{u.role}</td>
              <td>
                <form method="post" action={`/admin/workspaces/users/${u.id}`} class="inline">
                  <CsrfField token={csrf} />
                  <input name="teams" value={u.workspaces.map((w) => w.teamId).join(', ')} placeholder="every workspace" aria-label={`workspaces of ${u.email}`} />
                  <button type="submit">Save</button>
                </form>
              </td>
            </tr>
          ))}</tbody>
        </table>
      </Page>
    );
  };

  app.get('/admin/workspaces', requireRole('admin'), async (c) => c.html(await page(c.get('user'), c.get('session').csrf, undefined, c.req.query('done') === '1')));

  app.post('/admin/workspaces/users/:id', requireRole('admin'), requireCsrfToken(), async (c) => {
    const id = z.string().uuid().safeParse(c.req.param('id'));
    const target = id.success ? await deps.prisma.adminUser.findUnique({ where: { id: id.data }, include: { workspaces: true } }) : null;
    if (!target) return c.html(await page(c.get('user'), c.get('session').csrf, 'Unknown user.'), 404);
    const body = bindSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await page(c.get('user'), c.get('session').csrf, body.error.issues.map((i) => i.message).join('; ')), 400);
    if (target.role === 'owner' && c.get('user').role !== 'owner') return c.html(await page(c.get('user'), c.get('session').csrf, 'Only an owner may bind an owner to workspaces.'), 403);
    if (target.id === c.get('user').id && body.data.teams.length) return c.html(await page(c.get('user'), c.get('session').csrf, 'You cannot limit your own account.'), 400);
    const before = target.workspaces.map((w) => w.teamId).sort();
    const after = [...body.data.teams].sort();
    if (before.join() !== after.join()) {
      await deps.prisma.$transaction([
        deps.prisma.adminWorkspace.deleteMany({ where: { userId: target.id } }),
        deps.prisma.adminWorkspace.createMany({ data: after.map((teamId) => ({ userId: target.id, teamId })) }),
      ]);
      const sessionsRevoked = await revokeUserSessions(deps.prisma, target.id);
      await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.user_workspaces', target: target.email, detail: { from: before, to: after, sessionsRevoked } });
    }
    return c.redirect('/admin/workspaces?done=1', 303);
  });
}
