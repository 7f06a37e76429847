// Workspaces: the Slack workspaces that installed Rolecall through "Add to Slack" (active, uninstalled, tokens
// revoked), the workspaces workflows came from, and which console users are bound to which workspaces
// (web-admin/auth/workspaces.ts). Everyone not bound to workspaces may look (admin and above); admins bind users,
// owners alone bind owners. A change ends the user's sessions (as a role change does) and is audited.
// Per-workspace settings (/admin/workspaces/<platform>/<team id>): the workspace's own privacy setting and retention
// policies (rows of scope team:<platform>:<team id>, read by the runtime: orchestrator/privacy) over the defaults of
// every workspace. A user bound to workspaces reaches the settings of theirs alone (any other answers 404, as if it
// did not exist); changing them needs the admin role; every change is audited.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { PLATFORMS } from '../../orchestrator/contract';
import { RETENTION_KINDS, retentionRules } from '../../orchestrator/privacy/retention';
import { OFF } from '../../orchestrator/privacy/settings';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { revokeUserSessions } from '../auth/session';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';

const TEAM_ID = /^[A-Za-z0-9_.:@-]{2,200}$/;
const workspaceParam = z.object({ platform: z.enum(PLATFORMS), teamId: z.string().regex(/^[A-Za-z0-9_.:%@-]{1,200}$/) });
const days = z.preprocess((v) => (v === '' || v === undefined ? undefined : v), z.coerce.number().int().min(1).max(36_500).optional());
const settingsSchema = z.object({
  privacyOwn: z.string().optional(),
  redactPii: z.string().optional(),
  localModelsOnly: z.string().optional(),
  ...Object.fromEntries(RETENTION_KINDS.map((k) => [`retention_${k}`, days])) as Record<`retention_${(typeof RETENTION_KINDS)[number]}`, typeof days>,
});
/** The scope key of a workspace in PrivacySetting and RetentionPolicy rows. */
const scopeOf = (platform: string, teamId: string) => `team:${platform}:${teamId}`;
const settingsHref = (platform: string, teamId: string) => `/admin/workspaces/${platform}/${encodeURIComponent(teamId)}`;
const bindSchema = z.object({
  teams: z.string().max(2000).transform((v) => [...new Set(v.split(/[\s,]+/).filter(Boolean))]).pipe(z.array(z.string().regex(TEAM_ID, 'is not a workspace (team) id')).max(50)),
});

export function mountWorkspaces(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const page = async (user: ConsoleEnv['Variables']['user'], csrf: string, error?: string, done?: boolean) => {
    const [installs, users, seen] = await Promise.all([
      deps.prisma.slackInstallation.findMany({ orderBy: { installedAt: 'desc' }, select: { teamId: true, teamName: true, status: true, installedAt: true, disabledAt: true, installedBy: true } }),
      deps.prisma.adminUser.findMany({ orderBy: { email: 'asc' }, select: { id: true, email: true, role: true, workspaces: { select: { teamId: true } } } }),
      deps.prisma.$queryRaw<{ platform: string; teamId: string; workflows: number; last: Date }[]>`
        SELECT platform::text AS platform, "teamId", count(*)::int AS workflows, max("createdAt") AS last FROM "Workflow" GROUP BY 1, 2 ORDER BY 4 DESC LIMIT 200`,
    ]);
    const teamNames = new Map(installs.map((i) => [i.teamId, i.teamName ?? '']));
    const known = [...seen, ...installs.filter((i) => !seen.some((w) => w.platform === 'slack' && w.teamId === i.teamId)).map((i) => ({ platform: 'slack', teamId: i.teamId, workflows: 0, last: null }))];
    const names = await loadNames(deps.prisma, installs.map((i) => (i.installedBy ? `slack:${i.installedBy}` : null)));
    return (
      <Page title="Workspaces" user={user} csrf={csrf} active="workspaces">
        <Notice kind="error" text={error} />
        {done && <Notice kind="ok" text="Saved." />}
        <h2>Slack installs</h2>
        {installs.length === 0
          ? <p>No workspace has installed Rolecall through “Add to Slack” yet: send people to <code>/slack/install</code> (needs SLACK_CLIENT_ID and the rest, see README “Slack distribution”).</p>
          : (
            <div class="table-wrap"><table id="installs">
              <thead><tr><th>Workspace</th><th>Team id</th><th>Status</th><th>Installed</th><th>By</th><th>Disabled</th></tr></thead>
              <tbody>{installs.map((i) => (
                <tr><td>{i.teamName ?? ''}</td><td>{i.teamId}</td><td class="status">{i.status === 'active' ? 'active' : i.status === 'uninstalled' ? 'uninstalled: nothing is posted' : 'token revoked: nothing is posted'}</td><td>{fmtDate(i.installedAt)}</td><td><Person id={i.installedBy} platform="slack" names={names} /></td><td>{fmtDate(i.disabledAt)}</td></tr>
              ))}</tbody>
            </table></div>
          )}
        <h2>Workspaces and their settings</h2>
        <div class="table-wrap"><table id="workspaces">
          <thead><tr><th>Workspace</th><th>Platform</th><th>Team id</th><th>Workflows</th><th>Last workflow</th><th></th></tr></thead>
          <tbody>{known.map((w) => (
            <tr data-workspace={`${w.platform}:${w.teamId}`}><td>{(w.platform === 'slack' && teamNames.get(w.teamId)) || (w.platform === 'web' ? 'Playground' : '')}</td><td>{w.platform}</td><td><code>{w.teamId}</code></td><td>{w.workflows}</td><td>{fmtDate(w.last)}</td>
              <td><a href={settingsHref(w.platform, w.teamId)}>Settings</a></td></tr>
          ))}</tbody>
        </table></div>
        <Empty when={known.length === 0} id="workspaces">No workspace yet: a workspace appears here with its first workflow or install. Try one in the <a href="/admin/playground">Playground</a>.</Empty>
        <h2>Console users by workspace</h2>
        <p>A user bound to workspaces sees only their workflows, and no page that covers every workspace. Leave empty for every workspace.</p>
        <div class="table-wrap"><table id="bindings">
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
        </table></div>
      </Page>
    );
  };

  app.get('/admin/workspaces', requireRole('admin'), async (c) => c.html(await page(c.get('user'), c.get('session').csrf, undefined, c.req.query('done') === '1')));

  // One workspace's own settings. Bound users: only their workspaces (others: 404, like an unknown workspace).
  const workspaceOf = (c: Context<ConsoleEnv>) => {
    const p = workspaceParam.safeParse(c.req.param());
    const teams = c.get('workspaces');
    return p.success && (!teams || teams.includes(p.data.teamId)) ? p.data : undefined;
  };
  app.get('/admin/workspaces/:platform{slack|teams|web}/:teamId', async (c) => {
    const w = workspaceOf(c);
    if (!w) return c.html(<Page title="Unknown workspace" user={c.get('user')} csrf={c.get('session').csrf} scoped={!!c.get('workspaces')}><p><a href="/admin/workflows">Workflows</a></p></Page>, 404);
    return c.html(await settingsPage(c, deps, w.platform, w.teamId, c.req.query('done') === '1' ? { kind: 'ok', text: 'Saved.' } : undefined));
  });

  app.post('/admin/workspaces/:platform{slack|teams|web}/:teamId', requireRole('admin'), requireCsrfToken(), async (c) => {
    const w = workspaceOf(c);
    if (!w) return c.text('Unknown workspace', 404);
    const body = settingsSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await settingsPage(c, deps, w.platform, w.teamId, { kind: 'error', text: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') }), 400);
    const scopeKey = scopeOf(w.platform, w.teamId);
    const actor = consoleActor(c.get('user'));
    const f = body.data;
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    const before = await deps.prisma.privacySetting.findUnique({ where: { scopeKey } });
    const wanted = f.privacyOwn ? { redactPii: !!f.redactPii, localModelsOnly: !!f.localModelsOnly } : null;
    const was = before ? { redactPii: before.redactPii, localModelsOnly: before.localModelsOnly } : null;
    if (JSON.stringify(was) !== JSON.stringify(wanted)) {
      if (wanted) await deps.prisma.privacySetting.upsert({ where: { scopeKey }, create: { scopeKey, ...wanted, updatedBy: actor }, update: { ...wanted, updatedBy: actor } });
      else await deps.prisma.privacySetting.deleteMany({ where: { scopeKey } });
      changes.privacy = { from: was ?? 'inherit', to: wanted ?? 'inherit' };
    }
    const own = await deps.prisma.retentionPolicy.findMany({ where: { scopeKey } });
    for (const kind of RETENTION_KINDS) {
      const to = f[`retention_${kind}`];
      const from = own.find((r) => r.kind === kind)?.days;
      if (to === from) continue;
      if (to === undefined) await deps.prisma.retentionPolicy.deleteMany({ where: { kind, scopeKey } });
      else await deps.prisma.retentionPolicy.upsert({ where: { kind_scopeKey: { kind, scopeKey } }, create: { kind, scopeKey, days: to, updatedBy: actor }, update: { days: to, updatedBy: actor } });
      changes[`retention.${kind}`] = { from: from ?? 'inherit', to: to ?? 'inherit' };
    }
    if (Object.keys(changes).length) await audit(deps.prisma, { actor, action: 'workspace.settings', target: `${w.platform}:${w.teamId}`, detail: changes });
    return c.redirect(`${settingsHref(w.platform, w.teamId)}?done=1`, 303);
  });

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

async function settingsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, platform: string, teamId: string, notice?: { kind: 'ok' | 'error'; text: string }) {
  const scopeKey = scopeOf(platform, teamId);
  const csrf = c.get('session').csrf;
  const canEdit = ['owner', 'admin'].includes(c.get('user').role);
  const [install, own, everywhere, rules, workflows] = await Promise.all([
    platform === 'slack' ? deps.prisma.slackInstallation.findUnique({ where: { teamId }, select: { teamName: true, status: true } }) : null,
    deps.prisma.privacySetting.findUnique({ where: { scopeKey } }),
    deps.prisma.privacySetting.findUnique({ where: { scopeKey: '*' } }).then((r) => r ?? OFF), // what applies without a row of its own
    retentionRules(deps.prisma, deps.privacy?.retention ?? []),
    deps.prisma.workflow.count({ where: { platform: platform as (typeof PLATFORMS)[number], teamId } }),
  ]);
  const name = install?.teamName ?? (platform === 'web' ? 'Playground' : teamId);
  const yes = (b: boolean) => (b ? 'on' : 'off');
  return (
    <Page title={`Workspace ${name}`} user={c.get('user')} csrf={csrf} active="workspaces" scoped={!!c.get('workspaces')}>
      {notice && <Notice kind={notice.kind} text={notice.text} />}
      <p>{platform} workspace <code>{teamId}</code>{install ? ` · Slack install ${install.status}` : ''} · {workflows} workflow(s) · <a href="/admin/workflows">Workflows</a></p>
      <p class="hint">These settings apply to this workspace only; what is not set here comes from the settings of every workspace{c.get('workspaces') ? '' : <> (<a href="/admin/privacy">Privacy</a>)</>}. A channel's own privacy setting still wins over the workspace's.</p>
      {!canEdit && <p>You can view these settings; changing them needs the admin role.</p>}
      <form method="post" action={settingsHref(platform, teamId)} id="workspace-settings">
        <CsrfField token={csrf} />
        <h2>Privacy</h2>
        <label><input type="checkbox" name="privacyOwn" checked={!!own} disabled={!canEdit} /> Own privacy settings for this workspace (else: every workspace's — redact PII {yes(everywhere.redactPii)}, local models only {yes(everywhere.localModelsOnly)})</label>
        <label><input type="checkbox" name="redactPii" checked={own?.redactPii ?? everywhere.redactPii} disabled={!canEdit} /> Redact personal data before it reaches a model</label>
        <label><input type="checkbox" name="localModelsOnly" checked={own?.localModelsOnly ?? everywhere.localModelsOnly} disabled={!canEdit} /> Local models only</label>
        <h2>Retention (days)</h2>
        <div class="table-wrap"><table id="workspace-retention">
          <thead><tr><th>Kind</th><th>This workspace</th><th>Every workspace</th></tr></thead>
          <tbody>{RETENTION_KINDS.map((kind) => {
            const mine = rules.find((r) => r.kind === kind && r.scopeKey === scopeKey);
            const all = rules.find((r) => r.kind === kind && r.scopeKey === '*');
            return (
              <tr data-kind={kind}><td>{kind}</td>
                <td><input name={`retention_${kind}`} inputmode="numeric" value={mine ? String(mine.days) : ''} placeholder="inherit" aria-label={`${kind} retention days`} disabled={!canEdit || mine?.source === 'config'} />{mine?.source === 'config' ? ' (config)' : ''}</td>
                <td>{all ? `${all.days} days` : 'kept'}</td></tr>
            );
          })}</tbody>
        </table></div>
        {canEdit && <p><button type="submit">Save settings</button></p>}
      </form>
    </Page>
  );
}
