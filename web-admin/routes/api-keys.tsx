// MCP API keys (admins and owners): create (the key is shown once), list (prefix only), rotate with an overlap during
// which the old key keeps working, and revoke. Only the key's sha256 is stored. Every change is audited.
import { randomUUID } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { ALL_ROLES, describeScope, newApiKey } from '../../agents/mcp/api-keys';
import type { McpApiKey } from '../../generated/prisma/client';
import { audit } from '../../orchestrator/audit';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';

const MAX_OVERLAP_HOURS = 720;
const checkbox = z.preprocess((v) => v === 'on' || v === 'true' || v === '1', z.boolean());
const createSchema = z.object({
  name: z.string().trim().min(1, 'is required').max(100),
  roles: z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]), z.array(z.string().regex(/^(\*|[a-z][a-z0-9_]*)$/)).max(200)),
  readArtifacts: checkbox,
  runTasks: checkbox,
});
const rotateSchema = z.object({ overlapHours: z.coerce.number().int().min(0).max(MAX_OVERLAP_HOURS).default(24) });

type KeyView = Omit<McpApiKey, 'hash'> & { status: string };

const statusOf = (k: McpApiKey, now: Date): string => {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && k.expiresAt <= now) return 'expired';
  if (k.expiresAt) return `rotated: works until ${fmtDate(k.expiresAt)}`;
  return 'active';
};

async function listKeys(deps: ConsoleDeps): Promise<KeyView[]> {
  const now = new Date();
  const rows = await deps.prisma.mcpApiKey.findMany({ orderBy: { createdAt: 'desc' } });
  return rows.map(({ hash: _hash, ...k }) => ({ ...k, status: statusOf({ hash: '', ...k }, now) }));
}

export function mountApiKeys(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  for (const p of ['/admin/api-keys', '/admin/api-keys/*', '/admin/api/api-keys']) app.use(p, requireRole('admin'));
  app.get('/admin/api-keys', async (c) => c.html(await keysPage(c, deps)));
  app.get('/admin/api/api-keys', async (c) => c.json(await listKeys(deps)));

  app.post('/admin/api-keys', requireCsrfToken(), async (c) => {
    const body = createSchema.safeParse(await c.req.parseBody({ all: true }));
    if (!body.success) return c.html(await keysPage(c, deps, { error: body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n') }), 400);
    const roles = body.data.roles.includes(ALL_ROLES) ? [ALL_ROLES] : [...new Set(body.data.roles)];
    const unknown = roles.filter((r) => r !== ALL_ROLES && !deps.roles.has(r));
    if (!roles.length || unknown.length) return c.html(await keysPage(c, deps, { error: unknown.length ? `Unknown roles: ${unknown.join(', ')}` : 'Choose at least one role.' }), 400);
    const { key, prefix, hash } = newApiKey();
    const actor = consoleActor(c.get('user'));
    const row = await deps.prisma.mcpApiKey.create({ data: { name: body.data.name, prefix, hash, roles, readArtifacts: body.data.readArtifacts, runTasks: body.data.runTasks, createdBy: actor } });
    await audit(deps.prisma, { actor, action: 'mcp_key.created', target: prefix, detail: { id: row.id, name: row.name, roles, readArtifacts: row.readArtifacts, runTasks: row.runTasks } });
    return shownOnce(c, await keysPage(c, deps, { created: { key, name: row.name } }));
  });

  app.post('/admin/api-keys/:id/rotate', requireCsrfToken(), async (c) => {
    const body = rotateSchema.safeParse(await c.req.parseBody());
    const old = await deps.prisma.mcpApiKey.findUnique({ where: { id: c.req.param('id') } });
    if (!body.success || !old) return c.html(await keysPage(c, deps, { error: `Unknown key, or the overlap is not 0–${MAX_OVERLAP_HOURS} hours.` }), 400);
    const now = new Date();
    if (statusOf(old, now) !== 'active' || old.replacedById) return c.html(await keysPage(c, deps, { error: `${old.prefix}… is ${statusOf(old, now)}: only an active key can be rotated.` }), 409);
    const { key, prefix, hash } = newApiKey();
    const until = new Date(now.getTime() + body.data.overlapHours * 3_600_000);
    const actor = consoleActor(c.get('user'));
    const newId = randomUUID();
    // One rotation per key, even when two admins press Rotate at once.
    const rotated = await deps.prisma.$transaction(async (tx) => {
      const { count } = await tx.mcpApiKey.updateMany({ where: { id: old.id, replacedById: null, revokedAt: null, expiresAt: null }, data: { expiresAt: until, replacedById: newId } });
      if (count) await tx.mcpApiKey.create({ data: { id: newId, name: old.name, prefix, hash, roles: old.roles, readArtifacts: old.readArtifacts, runTasks: old.runTasks, createdBy: actor } });
      return count > 0;
    });
    if (!rotated) return c.html(await keysPage(c, deps, { error: `${old.prefix}… was rotated or revoked meanwhile.` }), 409);
    await audit(deps.prisma, { actor, action: 'mcp_key.rotated', target: old.prefix, detail: { id: old.id, name: old.name, newId, newPrefix: prefix, overlapHours: body.data.overlapHours, oldKeyWorksUntil: until.toISOString() } });
    return shownOnce(c, await keysPage(c, deps, { created: { key, name: old.name, replaces: old.prefix, until } }));
  });

  app.post('/admin/api-keys/:id/revoke', requireCsrfToken(), async (c) => {
    const key = await deps.prisma.mcpApiKey.findUnique({ where: { id: c.req.param('id') } });
    if (!key) return c.html(await keysPage(c, deps, { error: 'Unknown key.' }), 404);
    if (!key.revokedAt) {
      await deps.prisma.mcpApiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
      await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'mcp_key.revoked', target: key.prefix, detail: { id: key.id, name: key.name } });
    }
    return c.redirect('/admin/api-keys?done=revoked', 303);
  });
}

/** The page that shows a new key: never cached, never stored. */
function shownOnce(c: Context<ConsoleEnv>, html: Awaited<ReturnType<typeof keysPage>>) {
  c.header('Cache-Control', 'no-store');
  return c.html(html, 201);
}

interface PageState {
  error?: string;
  created?: { key: string; name: string; replaces?: string; until?: Date };
}

async function keysPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, state: PageState = {}) {
  const keys = await listKeys(deps);
  const csrf = c.get('session').csrf;
  const { created } = state;
  return (
    <Page title="MCP API keys" user={c.get('user')} csrf={csrf} active="api-keys">
      <Notice kind="error" text={state.error} />
      {c.req.query('done') === 'revoked' && <Notice kind="ok" text="Key revoked: it no longer works." />}
      {created && (
        <section id="new-key-notice" class="notice ok" role="status">
          <p>New key for <strong>{created.name}</strong>. Copy it now: it is shown only this once.</p>
          <p><code id="new-key">{created.key}</code></p>
          {created.replaces && <p>{created.replaces}… keeps working until {fmtDate(created.until)} (UTC), then stops.</p>}
          <p>MCP clients send it as <code>Authorization: Bearer {created.key.slice(0, 11)}…</code>.</p>
        </section>
      )}
      <p>MCP clients of <code>/mcp</code> and <code>/mcp/&lt;role&gt;</code> authenticate with one of these keys. Only a key's first
        characters are kept in clear text. A key reaches the roles it names; <em>read artifacts</em> lets it list and read
        workflow outputs (<code>list_artifacts</code>, <code>get_artifact</code>, resources); <em>run tasks</em> lets it call
        <code>run_task</code> (a model call) and the role's external MCP tools.</p>
      <div class="table-wrap"><table id="api-keys">
        <thead><tr><th>Name</th><th>Key</th><th>Scope</th><th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead>
        <tbody>{keys.map((k) => (
          <tr data-key={k.prefix}>
            <td>{k.name}</td><td><code>{k.prefix}…</code></td><td>{describeScope(k)}</td>
            <td>{fmtDate(k.createdAt)}<br /><small>{k.createdBy.replace(/^console:/, '')}</small></td><td>{fmtDate(k.lastUsedAt)}</td><td>{k.status}</td>
            <td>{k.status === 'active' && !k.replacedById && (
              <form method="post" action={`/admin/api-keys/${k.id}/rotate`} class="inline">
                <CsrfField token={csrf} />
                <label>old key works for <input name="overlapHours" type="number" min={0} max={MAX_OVERLAP_HOURS} value="24" aria-label="overlap hours" /> h</label>{' '}
                <button type="submit">Rotate</button>
              </form>
            )}{!k.revokedAt && (
              <form method="post" action={`/admin/api-keys/${k.id}/revoke`} class="inline">
                <CsrfField token={csrf} /><button type="submit">Revoke</button>
              </form>
            )}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <Empty when={keys.length === 0} id="api-keys">No API keys yet: MCP clients (Claude Desktop, an IDE) cannot reach <code>/mcp</code> until you create one below and give it to them.</Empty>
      <h2>New key</h2>
      <form method="post" action="/admin/api-keys" id="new-api-key">
        <CsrfField token={csrf} />
        <div><label for="key-name">Name</label><input id="key-name" name="name" maxlength={100} required placeholder="e.g. Claude Desktop, alice" /></div>
        <fieldset><legend>Roles</legend>
          <label><input type="checkbox" name="roles" value={ALL_ROLES} /> all roles (also roles added later)</label>
          {[...deps.roles.keys()].sort().map((r) => <label><input type="checkbox" name="roles" value={r} /> {r}</label>)}
        </fieldset>
        <fieldset><legend>May</legend>
          <label><input type="checkbox" name="readArtifacts" /> read artifacts (workflow requests and outputs)</label>
          <label><input type="checkbox" name="runTasks" /> run tasks (model calls, external tools)</label>
        </fieldset>
        <button type="submit">Create key</button>
      </form>
    </Page>
  );
}
