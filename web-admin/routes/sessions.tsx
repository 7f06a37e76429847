// Active console sessions: owners see every signed-in browser and may end any of them (each revocation audited).
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { revokeUserSessions } from '../auth/session';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';

const sessionIdSchema = z.string().regex(/^[0-9a-f]{64}$/);
const revokeUserSchema = z.object({ userId: z.string().uuid() });

export function mountSessions(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const owner = requireRole('owner');
  app.get('/admin/sessions', owner, async (c) => c.html(await sessionsPage(c, deps)));
  app.get('/admin/api/sessions', owner, async (c) => c.json((await activeSessions(deps)).map(({ id, user, createdAt, lastSeenAt, expiresAt, ip, userAgent }) => ({
    id, email: user.email, role: user.role, createdAt, lastSeenAt, expiresAt, ip, userAgent, current: id === c.get('session').id,
  }))));

  app.post('/admin/sessions/:id/revoke', owner, requireCsrfToken(), async (c) => {
    const id = sessionIdSchema.safeParse(c.req.param('id'));
    const row = id.success ? await deps.prisma.consoleSession.findUnique({ where: { id: id.data }, include: { user: true } }) : null;
    if (!row) return c.html(await sessionsPage(c, deps, 'That session has already ended.'), 404);
    await deps.prisma.consoleSession.deleteMany({ where: { id: row.id } });
    await audit(deps.prisma, {
      actor: consoleActor(c.get('user')), action: 'auth.session_revoked', target: row.user.email,
      detail: { session: row.id.slice(0, 12), signedInAt: row.createdAt.toISOString(), ip: row.ip },
    });
    return c.redirect(row.id === c.get('session').id ? '/admin/login' : '/admin/sessions?done=1', 303);
  });

  app.post('/admin/sessions/revoke-user', owner, requireCsrfToken(), async (c) => {
    const body = revokeUserSchema.safeParse(await c.req.parseBody());
    const user = body.success ? await deps.prisma.adminUser.findUnique({ where: { id: body.data.userId } }) : null;
    if (!user) return c.html(await sessionsPage(c, deps, 'Unknown user.'), 400);
    const sessionsRevoked = await revokeUserSessions(deps.prisma, user.id);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'auth.sessions_revoked', target: user.email, detail: { sessionsRevoked } });
    return c.redirect(user.id === c.get('user').id ? '/admin/login' : '/admin/sessions?done=1', 303);
  });
}

async function activeSessions(deps: ConsoleDeps) {
  const now = Date.now();
  const { ttlSeconds, maxAgeSeconds } = deps.session;
  const rows = await deps.prisma.consoleSession.findMany({
    where: { createdAt: { gt: new Date(now - maxAgeSeconds * 1000) }, lastSeenAt: { gt: new Date(now - ttlSeconds * 1000) } },
    include: { user: { select: { id: true, email: true, role: true } } },
    orderBy: { lastSeenAt: 'desc' },
    take: 1000,
  });
  return rows.map((r) => ({ ...r, expiresAt: new Date(Math.min(r.createdAt.getTime() + maxAgeSeconds * 1000, r.lastSeenAt.getTime() + ttlSeconds * 1000)) }));
}

async function sessionsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, error?: string) {
  const sessions = await activeSessions(deps);
  const csrf = c.get('session').csrf;
  const users = [...new Map(sessions.map((s) => [s.user.id, s.user])).values()];
  return (
    <Page title="Active sessions" user={c.get('user')} csrf={csrf} active="sessions">
      <Notice kind="error" text={error} />
      {c.req.query('done') && <Notice kind="ok" text="Session ended." />}
      <p>Every signed-in browser. A session ends at sign-out, after {Math.round(deps.session.ttlSeconds / 60)} minutes unused, {Math.round(deps.session.maxAgeSeconds / 3600 * 10) / 10} hours after sign-in at the latest, and when its user's password or role changes.</p>
      <div class="table-wrap"><table id="sessions">
        <thead><tr><th>User</th><th>Role</th><th>Signed in</th><th>Last seen</th><th>Ends by</th><th>IP</th><th>Browser</th><th></th></tr></thead>
        <tbody>{sessions.map((s) => (
          <tr data-session={s.id}>
            <td>{s.user.email}{s.id === c.get('session').id && ' (this session)'}</td><td>{s.user.role}</td>
            <td>{fmtDate(s.createdAt)}</td><td>{fmtDate(s.lastSeenAt)}</td><td>{fmtDate(s.expiresAt)}</td>
            <td>{s.ip ?? '—'}</td><td>{(s.userAgent ?? '—').slice(0, 80)}</td>
            <td><form method="post" action={`/admin/sessions/${s.id}/revoke`} class="inline"><CsrfField token={csrf} /><button type="submit">End</button></form></td>
          </tr>
        ))}</tbody>
      </table></div>
      <Empty when={sessions.length === 0} id="sessions">No active session.</Empty>
      {users.length > 0 && (
        <form method="post" action="/admin/sessions/revoke-user" class="filters" id="revoke-user">
          <CsrfField token={csrf} />
          <div><label for="ru-user">End every session of</label><select id="ru-user" name="userId">{users.map((u) => <option value={u.id}>{u.email}</option>)}</select></div>
          <button type="submit">End sessions</button>
        </form>
      )}
    </Page>
  );
}
