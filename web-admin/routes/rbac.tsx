// Access: console users and their roles, Slack/Teams user -> RBAC role mappings, and which role may decide each gate.
// Everyone signed in may look; admins and owners may change; only owners may grant or change the owner role.
// Changing a console user's role or password, or removing the user, ends all of that user's sessions at once.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { RbacRole } from '../../generated/prisma/client';
import { audit } from '../../orchestrator/audit';
import { RBAC_ROLES } from '../../orchestrator/permissions';
import { consoleEmail, newPassword } from '../auth/email';
import { hashPassword } from '../auth/password';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { revokeUserSessions } from '../auth/session';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';
import { mountSessions } from './sessions';

const role = z.enum(RBAC_ROLES);
const newUserSchema = z.object({ email: consoleEmail, password: newPassword, role });
const userRoleSchema = z.object({ role });
const userPasswordSchema = z.object({ password: newPassword });
const userIdSchema = z.string().uuid();
const chatUserSchema = z.object({ platform: z.enum(['slack', 'teams']), userId: z.string().trim().regex(/^[A-Za-z0-9_:.@-]{2,200}$/, 'must be a Slack or Teams user id'), role });
const chatUserKeySchema = chatUserSchema.pick({ platform: true, userId: true });
const gateSchema = z.object({ roleId: z.string().regex(/^[a-z][a-z0-9_]*$/), minRole: z.union([role, z.literal('')]) });

export function mountRbac(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  mountSessions(app, deps);
  app.get('/admin/rbac', async (c) => c.html(await rbacPage(c, deps)));
  app.get('/admin/api/rbac', async (c) => c.json(await loadRbac(deps)));

  const change = [requireRole('admin'), requireCsrfToken()] as const;
  app.post('/admin/rbac/users', ...change, async (c) => {
    const body = newUserSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await rbacPage(c, deps, issues(body.error)), 400);
    if (body.data.role === 'owner' && c.get('user').role !== 'owner') return c.html(await rbacPage(c, deps, 'Only an owner may create another owner.'), 403);
    if (await deps.prisma.adminUser.findUnique({ where: { email: body.data.email } })) return c.html(await rbacPage(c, deps, `${body.data.email} already has an account.`), 409);
    await deps.prisma.adminUser.create({ data: { email: body.data.email, role: body.data.role, passwordHash: await hashPassword(body.data.password) } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.user_created', target: body.data.email, detail: { role: body.data.role } });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  app.post('/admin/rbac/users/:id/role', ...change, async (c) => {
    const body = userRoleSchema.safeParse(await c.req.parseBody());
    const target = await findUser(deps, c.req.param('id'));
    if (!body.success || !target) return c.html(await rbacPage(c, deps, 'Unknown user or role.'), 400);
    const refusal = await ownerRuleRefusal(deps, c.get('user').role, target.role, body.data.role);
    if (refusal) return c.html(await rbacPage(c, deps, refusal), 403);
    await deps.prisma.adminUser.update({ where: { id: target.id }, data: { role: body.data.role } });
    const sessionsRevoked = body.data.role === target.role ? 0 : await revokeUserSessions(deps.prisma, target.id);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.user_role', target: target.email, detail: { from: target.role, to: body.data.role, sessionsRevoked } });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  // Sets another user's password (they must choose their own at their next sign-in) and ends their sessions.
  app.post('/admin/rbac/users/:id/password', ...change, async (c) => {
    const body = userPasswordSchema.safeParse(await c.req.parseBody());
    const target = await findUser(deps, c.req.param('id'));
    if (!target) return c.html(await rbacPage(c, deps, 'Unknown user.'), 400);
    if (!body.success) return c.html(await rbacPage(c, deps, issues(body.error)), 400);
    if (target.id === c.get('user').id) return c.html(await rbacPage(c, deps, 'Change your own password with “Change your password”.'), 400);
    if (target.role === 'owner' && c.get('user').role !== 'owner') return c.html(await rbacPage(c, deps, 'Only an owner may set an owner’s password.'), 403);
    await deps.prisma.adminUser.update({ where: { id: target.id }, data: { passwordHash: await hashPassword(body.data.password), mustChangePassword: true } });
    const sessionsRevoked = await revokeUserSessions(deps.prisma, target.id);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.user_password', target: target.email, detail: { sessionsRevoked } });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  // Removes a console user; their sessions go with the account.
  app.post('/admin/rbac/users/:id/delete', ...change, async (c) => {
    const target = await findUser(deps, c.req.param('id'));
    if (!target) return c.html(await rbacPage(c, deps, 'Unknown user.'), 400);
    if (target.id === c.get('user').id) return c.html(await rbacPage(c, deps, 'You cannot remove your own account.'), 400);
    if (target.role === 'owner' && c.get('user').role !== 'owner') return c.html(await rbacPage(c, deps, 'Only an owner may remove an owner.'), 403);
    const sessionsRevoked = await revokeUserSessions(deps.prisma, target.id);
    await deps.prisma.adminUser.deleteMany({ where: { id: target.id } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.user_removed', target: target.email, detail: { role: target.role, sessionsRevoked } });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  app.post('/admin/rbac/chat-users', ...change, async (c) => {
    const body = chatUserSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await rbacPage(c, deps, issues(body.error)), 400);
    const { platform, userId, role: r } = body.data;
    const before = await deps.prisma.chatUserRole.findUnique({ where: { platform_userId: { platform, userId } } });
    await deps.prisma.chatUserRole.upsert({ where: { platform_userId: { platform, userId } }, create: { platform, userId, role: r }, update: { role: r } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.chat_user', target: `${platform}:${userId}`, detail: { from: before?.role ?? null, to: r } });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  app.post('/admin/rbac/chat-users/delete', ...change, async (c) => {
    const body = chatUserKeySchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await rbacPage(c, deps, issues(body.error)), 400);
    const { count } = await deps.prisma.chatUserRole.deleteMany({ where: body.data });
    if (count) await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.chat_user_removed', target: `${body.data.platform}:${body.data.userId}` });
    return c.redirect('/admin/rbac?done=1', 303);
  });

  app.post('/admin/rbac/gates', ...change, async (c) => {
    const body = gateSchema.safeParse(await c.req.parseBody());
    if (!body.success || !deps.roles.has(body.data.roleId)) return c.html(await rbacPage(c, deps, 'Unknown role or RBAC role.'), 400);
    const { roleId, minRole } = body.data;
    const before = await deps.prisma.gatePolicy.findUnique({ where: { roleId } });
    if (minRole === '') await deps.prisma.gatePolicy.deleteMany({ where: { roleId } });
    else await deps.prisma.gatePolicy.upsert({ where: { roleId }, create: { roleId, minRole }, update: { minRole } });
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'rbac.gate_policy', target: roleId, detail: { from: before?.minRole ?? 'anyone', to: minRole || 'anyone' } });
    return c.redirect('/admin/rbac?done=1', 303);
  });
}

const findUser = (deps: ConsoleDeps, id: string) => (userIdSchema.safeParse(id).success ? deps.prisma.adminUser.findUnique({ where: { id } }) : null);

const issues = (e: z.ZodError) => e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');

/** Owners alone may grant or take away the owner role, and the last owner stays an owner. */
async function ownerRuleRefusal(deps: ConsoleDeps, actorRole: RbacRole, from: RbacRole, to: RbacRole): Promise<string | null> {
  if ((from === 'owner' || to === 'owner') && actorRole !== 'owner') return 'Only an owner may grant or change the owner role.';
  if (from === 'owner' && to !== 'owner' && (await deps.prisma.adminUser.count({ where: { role: 'owner' } })) <= 1) return 'The last owner cannot be demoted.';
  return null;
}

async function loadRbac(deps: ConsoleDeps) {
  const [users, chatUsers, policies] = await Promise.all([
    deps.prisma.adminUser.findMany({ orderBy: { email: 'asc' }, select: { id: true, email: true, role: true, createdAt: true, lastSignInAt: true } }),
    deps.prisma.chatUserRole.findMany({ orderBy: [{ platform: 'asc' }, { userId: 'asc' }] }),
    deps.prisma.gatePolicy.findMany(),
  ]);
  const gates = [...deps.roles.keys()].map((roleId) => ({ roleId, minRole: policies.find((p) => p.roleId === roleId)?.minRole ?? null }));
  return { users, chatUsers, gates };
}

async function rbacPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, error?: string) {
  const { users, chatUsers, gates } = await loadRbac(deps);
  const names = await loadNames(deps.prisma, chatUsers.map((u) => `${u.platform}:${u.userId}`));
  const csrf = c.get('session').csrf;
  const canEdit = ['owner', 'admin'].includes(c.get('user').role);
  const roleSelect = (name: string, current?: string, extra?: string, id?: string) => (
    <select name={name} id={id} aria-label={name} disabled={!canEdit}>
      {extra !== undefined && <option value="" selected={!current}>{extra}</option>}
      {RBAC_ROLES.map((r) => <option value={r} selected={r === current}>{r}</option>)}
    </select>
  );
  return (
    <Page title="Access" user={c.get('user')} csrf={csrf} active="rbac">
      <Notice kind="error" text={error} />
      {c.req.query('done') && <Notice kind="ok" text="Saved." />}
      {!canEdit && <p>You can view access settings; changing them needs the admin role.</p>}
      <p id="account-links"><a href="/admin/password">Change your password</a>{c.get('user').role === 'owner' && <> · <a href="/admin/sessions">Active sessions</a></>}</p>
      <h2>Gate policies</h2>
      <p>Who may approve, request changes on or reject the gate after each role's output (by the chat user's role below).</p>
      <div class="table-wrap"><table id="gate-policies">
        <thead><tr><th>Gate after role</th><th>Minimum role</th></tr></thead>
        <tbody>{gates.map((g) => (
          <tr><td>{g.roleId}</td><td>
            <form method="post" action="/admin/rbac/gates" class="inline" data-gate={g.roleId}>
              <CsrfField token={csrf} /><input type="hidden" name="roleId" value={g.roleId} />
              {roleSelect('minRole', g.minRole ?? undefined, 'anyone')} {canEdit && <button type="submit">Save</button>}
            </form>
          </td></tr>
        ))}</tbody>
      </table></div>
      <h2>Slack and Teams users</h2>
      <div class="table-wrap"><table id="chat-users">
        <thead><tr><th>Platform</th><th>Person</th><th>User id</th><th>Role</th><th></th></tr></thead>
        <tbody>{chatUsers.map((u) => (
          <tr><td>{u.platform}</td><td><Person id={u.userId} platform={u.platform} names={names} /></td><td><code>{u.userId}</code></td><td>{u.role}</td><td>{canEdit && (
            <form method="post" action="/admin/rbac/chat-users/delete" class="inline"><CsrfField token={csrf} /><input type="hidden" name="platform" value={u.platform} /><input type="hidden" name="userId" value={u.userId} /><button type="submit">Remove</button></form>
          )}</td></tr>
        ))}</tbody>
      </table></div>
      <Empty when={chatUsers.length === 0} id="chat-users">No Slack or Teams user has a role yet: gates without a policy may be decided by anyone in the thread. {canEdit ? 'Add a user id below (in Slack: profile → ⋮ → Copy member ID).' : ''}</Empty>
      {canEdit && (
        <form method="post" action="/admin/rbac/chat-users" class="filters" id="add-chat-user">
          <CsrfField token={csrf} />
          <div><label for="cu-platform">Platform</label><select id="cu-platform" name="platform"><option value="slack">slack</option><option value="teams">teams</option></select></div>
          <div><label for="cu-user">User id</label><input id="cu-user" name="userId" placeholder="U0123ABCD" required /></div>
          <div><label for="cu-role">Role</label>{roleSelect('role', 'approver', undefined, 'cu-role')}</div>
          <button type="submit">Add or change</button>
        </form>
      )}
      <h2>Console users</h2>
      <div class="table-wrap"><table id="console-users">
        <thead><tr><th>Email</th><th>Role</th><th>Created</th><th>Last sign-in</th>{canEdit && <th>Set password</th>}{canEdit && <th></th>}</tr></thead>
        <tbody>{users.map((u) => (
          <tr><td>{u.email}</td><td>
            <form method="post" action={`/admin/rbac/users/${u.id}/role`} class="inline"><CsrfField token={csrf} />{roleSelect('role', u.role)} {canEdit && <button type="submit">Save</button>}</form>
          </td><td>{fmtDate(u.createdAt)}</td><td>{fmtDate(u.lastSignInAt)}</td>
          {canEdit && <td>{u.id !== c.get('user').id && (
            <form method="post" action={`/admin/rbac/users/${u.id}/password`} class="inline"><CsrfField token={csrf} /><input name="password" type="password" autocomplete="new-password" minlength={12} aria-label={`new password for ${u.email}`} required /> <button type="submit">Set</button></form>
          )}</td>}
          {canEdit && <td>{u.id !== c.get('user').id && (
            <form method="post" action={`/admin/rbac/users/${u.id}/delete`} class="inline"><CsrfField token={csrf} /><button type="submit">Remove</button></form>
          )}</td>}</tr>
        ))}</tbody>
      </table></div>
      {canEdit && (
        <form method="post" action="/admin/rbac/users" class="filters" id="add-user">
          <CsrfField token={csrf} />
          <div><label for="nu-email">Email</label><input id="nu-email" name="email" type="email" required /></div>
          <div><label for="nu-password">Password (12+ characters)</label><input id="nu-password" name="password" type="password" minlength={12} required /></div>
          <div><label for="nu-role">Role</label>{roleSelect('role', 'viewer', undefined, 'nu-role')}</div>
          <button type="submit">Create user</button>
        </form>
      )}
    </Page>
  );
}
