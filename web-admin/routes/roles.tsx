// Roles: the YAML definitions, their health (last 7 days) and MCP endpoints; admins edit a role's YAML here.
// A valid edit is stored in PostgreSQL for every server and worker (orchestrator/role-sync.ts: each reloads it before
// its next step, no restart), also written to ROLES_DIR (best effort: that directory may be read-only), and audited. An edit is checked
// against the same operator policy as the files at start-up (MCP_STDIO_COMMANDS, MCP_HTTP_ALLOW, with the HTTP hosts
// resolved), and a change to a role's tools or approval needs the owner role: tools reach other systems, approval
// decides who lets its output through.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { networkProblems } from '../../agents/mcp/external';
import { parseRoleFile, policyOf, RoleDefinitionError, type Role } from '../../agents/roles';
import { audit } from '../../orchestrator/audit';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, Empty, Notice, Page } from '../views/layout';
import { modelInUse } from '../views/model-in-use';

const editSchema = z.object({ yaml: z.string().min(1).max(100_000) });

interface RoleHealth { roleId: string; steps: number; failed: number; violations: number; p50: number | null }

/** The model of each role's most recent call in the last 7 days: what actually answered. */
async function lastModels(deps: ConsoleDeps): Promise<Map<string, string>> {
  const since = new Date(Date.now() - 7 * 86_400_000);
  const rows = await deps.prisma.$queryRaw<{ roleId: string; provider: string; model: string }[]>`
    SELECT DISTINCT ON ("roleId") "roleId", provider, model FROM "LlmCall"
    WHERE "roleId" IS NOT NULL AND "createdAt" >= ${since} AND purpose = 'step' ORDER BY "roleId", "createdAt" DESC`;
  return new Map(rows.map((r) => [r.roleId, r.provider === 'demo' ? 'offline demo model' : `${r.provider} / ${r.model}`]));
}

async function roleHealth(deps: ConsoleDeps): Promise<Map<string, RoleHealth>> {
  const since = new Date(Date.now() - 7 * 86_400_000);
  const rows = await deps.prisma.$queryRaw<RoleHealth[]>`
    SELECT s."roleId", count(*)::int AS steps, (count(*) FILTER (WHERE s.status = 'failed'))::int AS failed,
      (SELECT count(*)::int FROM "ConstraintViolation" v WHERE v."roleId" = s."roleId" AND v."createdAt" >= ${since}) AS violations,
      (percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (s."finishedAt" - s."startedAt"))))::float8 AS p50
    FROM "Step" s WHERE s."startedAt" >= ${since} GROUP BY 1`;
  return new Map(rows.map((r) => [r.roleId, r]));
}

const fileOf = (deps: ConsoleDeps, roleId: string) => path.join(deps.rolesDir, `${roleId}.yaml`);

/** The definition in use: the one saved in the console (any server), else the file. */
const currentYaml = async (deps: ConsoleDeps, roleId: string) => (await deps.roleStore?.storedYaml(roleId)) ?? readFileSync(fileOf(deps, roleId), 'utf8');

/** JSON with sorted keys: two parsed definitions compare equal however their YAML was written. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, val) =>
  val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val).sort(([a], [b]) => a.localeCompare(b))) : val);

/** The fields only an owner may change. */
function ownerOnlyChanges(before: Role | undefined, after: Role): string[] {
  return (['tools', 'approval'] as const).filter((f) => canonical(before?.[f]) !== canonical(after[f]));
}

export function mountRoles(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/roles', async (c) => {
    const [health, last] = await Promise.all([roleHealth(deps), lastModels(deps)]);
    const providers = deps.providers ?? [];
    const canEdit = ['owner', 'admin'].includes(c.get('user').role);
    return c.html(
      <Page title="Roles" user={c.get('user')} csrf={c.get('session').csrf} active="roles">
        <div class="table-wrap"><table id="roles">
          <thead><tr><th>Role</th><th>Persona</th><th>Model in use</th><th>Steps (7 d)</th><th>Failed</th><th>Violations</th><th>p50 (s)</th><th>MCP</th><th></th></tr></thead>
          <tbody>{[...deps.roles.values()].map((r) => {
            const h = health.get(r.role_id);
            const info = deps.registry.health(r.role_id);
            const state = info && !info.healthy ? `unhealthy: ${info.problem}` : !h ? 'idle' : h.failed > 0 ? 'failing steps' : 'healthy';
            return (
              <tr data-role={r.role_id}>
                <td>{r.role_id}</td><td>{r.persona.icon_emoji ?? ''} {r.persona.display_name}</td><td class="model">{(() => {
                  const m = modelInUse(r, providers);
                  const lastUsed = last.get(r.role_id);
                  return <>
                    <span class={m.demo ? 'model-demo' : 'model-used'}>{m.label}</span>
                    {m.note && <><br /><small class="hint">{m.note}</small></>}
                    {lastUsed && lastUsed !== m.label && <><br /><small class="hint">last call: {lastUsed}</small></>}
                  </>;
                })()}</td>
                <td>{h?.steps ?? 0} <span class="status">{state}</span></td><td>{h?.failed ?? 0}</td><td>{h?.violations ?? 0}</td><td>{h?.p50 == null ? '—' : h.p50.toFixed(1)}</td>
                <td><a href={`/mcp/${r.role_id}`}>/mcp/{r.role_id}</a></td>
                <td><a href={`/admin/roles/${r.role_id}`}>{canEdit ? 'View / edit' : 'View'}</a></td>
              </tr>
            );
          })}</tbody>
        </table></div>
        <Empty when={deps.roles.size === 0} id="roles">No roles loaded: add a role YAML file to ROLES_DIR (see roles/ in the repository) and restart.</Empty>
      </Page>,
    );
  });

  app.get('/admin/api/roles', (c) => c.json([...deps.roles.values()]));

  app.get('/admin/roles/:id', async (c) => {
    const roleId = c.req.param('id');
    if (!deps.roles.has(roleId)) return c.html(<Page title="Unknown role" user={c.get('user')} csrf={c.get('session').csrf} />, 404);
    return c.html(rolePage(c, deps, roleId, await currentYaml(deps, roleId), c.req.query('saved') ? { kind: 'ok', text: 'Saved.' } : undefined));
  });

  app.post('/admin/roles/:id', requireRole('admin'), requireCsrfToken(), async (c) => {
    const roleId = c.req.param('id');
    if (!deps.roles.has(roleId)) return c.text('Unknown role', 404);
    const body = editSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(rolePage(c, deps, roleId, '', { kind: 'error', text: 'The YAML is empty or too long.' }), 400);
    const yaml = body.data.yaml.replace(/\r\n/g, '\n');
    const file = fileOf(deps, roleId);
    const policy = policyOf(deps.roles);
    let role;
    try {
      role = parseRoleFile(file, yaml, policy);
    } catch (e) {
      if (!(e instanceof RoleDefinitionError)) throw e;
      return c.html(rolePage(c, deps, roleId, yaml, { kind: 'error', text: e.message.replace(`${file}: `, '') }), 422);
    }
    const changed = ownerOnlyChanges(deps.roles.get(roleId), role);
    if (changed.length && c.get('user').role !== 'owner') {
      const text = `Changing ${changed.join(' and ')} needs the owner role; you are ${c.get('user').role}. Nothing was saved.`;
      return c.html(rolePage(c, deps, roleId, yaml, { kind: 'error', text }), 403);
    }
    const unreachable = await networkProblems(role, policy.externalMcp);
    if (unreachable.length) return c.html(rolePage(c, deps, roleId, yaml, { kind: 'error', text: unreachable.join('; ') }), 422);
    const before = await currentYaml(deps, roleId);
    if (deps.roleStore) await deps.roleStore.save(roleId, yaml, consoleActor(c.get('user'))); // every process, from its next step
    try {
      writeFileSync(file, yaml);
    } catch (e) {
      if (!deps.roleStore) throw e;
      deps.log.warn(`role ${roleId}: saved for every process, but ${file} could not be written`, { error: String(e) });
    }
    deps.roles.set(roleId, role);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'config.role', target: roleId, detail: { file, before, after: yaml } });
    return c.redirect(`/admin/roles/${roleId}?saved=1`, 303);
  });
}

function rolePage(c: Context<ConsoleEnv>, deps: ConsoleDeps, roleId: string, yaml: string, notice?: { kind: 'ok' | 'error'; text: string }) {
  const canEdit = ['owner', 'admin'].includes(c.get('user').role);
  return (
    <Page title={`Role ${roleId}`} user={c.get('user')} csrf={c.get('session').csrf} active="roles">
      <p>File <code>{fileOf(deps, roleId)}</code> · MCP endpoint <a href={`/mcp/${roleId}`}>/mcp/{roleId}</a> · A saved edit reaches every server and worker before their next step, without a restart.</p>
      {notice && <Notice kind={notice.kind} text={notice.text} />}
      {canEdit && c.get('user').role !== 'owner' && <p class="hint">Changing <code>tools</code> or <code>approval</code> needs the owner role.</p>}
      <form method="post" action={`/admin/roles/${roleId}`}>
        <CsrfField token={c.get('session').csrf} />
        <textarea name="yaml" id="yaml" readonly={!canEdit} spellcheck={false}>{yaml}</textarea>
        {canEdit && <p><button type="submit">Validate and save</button></p>}
      </form>
    </Page>
  );
}
