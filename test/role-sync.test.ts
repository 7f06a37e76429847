// Role edits reach every process without a restart: two runtimes share PostgreSQL — the engine (a worker with its own
// roles, loaded from ROLES_DIR at start) and another process's role store (orchestrator/role-sync.ts, as the console
// of another server uses it). An edit saved by the other process is used by the engine's next step; a stored
// definition that does not validate here is refused and the one in use is kept; the console's own save path stores
// for every process.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRoles } from '../agents/roles';
import { createLogger } from '../orchestrator/log';
import { createRoleSync, type RoleSync } from '../orchestrator/role-sync';
import { engineSuite, type Engine } from './support/engine';

const suite = engineSuite();
const ROLES_DIR = path.resolve(__dirname, '../roles');
const analystYaml = readFileSync(path.join(ROLES_DIR, 'business_analyst.yaml'), 'utf8');

/** Another process: its own roles from the same files, its own store handle, on the same database. */
function otherProcess(e: Engine, lines: string[] = []): RoleSync {
  return createRoleSync(e.prisma, loadRoles(ROLES_DIR), createLogger('info', (l) => lines.push(l)), { intervalMs: 3_600_000 });
}

let stores: RoleSync[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) s.stop();
});

describe('role edits shared through PostgreSQL', () => {
  it('an edit saved by another process is used by this worker\'s next step, without a restart', async () => {
    const e = await suite.start();
    expect(e.deps.roles.get('business_analyst')!.persona.display_name).toBe('Business Analyst');
    const other = otherProcess(e);
    stores.push(other);
    await other.save('business_analyst', analystYaml.replace(/display_name: .*/, 'display_name: Edited Analyst'), 'console:admin@example.com');

    const t = await e.mention('we need a login page with SSO for our customer portal');
    const output = await e.waitForPost(t.threadTs, (p) => p.persona.displayName === 'Edited Analyst', 'the step posted as the edited persona');
    expect(output.persona.displayName).toBe('Edited Analyst');
    expect(e.deps.roles.get('business_analyst')!.persona.display_name).toBe('Edited Analyst');
    const row = await e.prisma.roleDefinition.findUniqueOrThrow({ where: { roleId: 'business_analyst' } });
    expect(row.updatedBy).toBe('console:admin@example.com');

    // a second save takes a new version
    await other.save('business_analyst', analystYaml.replace(/display_name: .*/, 'display_name: Analyst Two'), 'console:admin@example.com');
    expect((await e.prisma.roleDefinition.findUniqueOrThrow({ where: { roleId: 'business_analyst' } })).version).toBeGreaterThan(row.version);
    await e.prisma.roleDefinition.deleteMany();
  });

  it('a stored definition that does not validate is refused, and the one in use is kept', async () => {
    const e = await suite.start();
    const lines: string[] = [];
    const mine = otherProcess(e, lines);
    stores.push(mine);
    const roles = loadRoles(ROLES_DIR);
    const sync = createRoleSync(e.prisma, roles, createLogger('info', (l) => lines.push(l)), { intervalMs: 3_600_000 });
    stores.push(sync);
    // written around the store's own validation (e.g. by an older version, or by hand)
    await e.prisma.roleDefinition.create({ data: { roleId: 'business_analyst', yaml: analystYaml.replace(/display_name: .*/, 'display_name: ""'), updatedBy: 'sql' } });
    await e.prisma.roleDefinition.create({ data: { roleId: 'developer', yaml: analystYaml, updatedBy: 'sql' } }); // role_id business_analyst
    await e.prisma.roleDefinition.create({ data: { roleId: 'no_such_role', yaml: analystYaml, updatedBy: 'sql' } });
    await sync.refresh();
    expect(roles.get('business_analyst')!.persona.display_name).toBe('Business Analyst');
    expect(roles.get('developer')!.role_id).toBe('developer');
    expect(roles.has('no_such_role')).toBe(false);
    const refused = lines.map((l) => JSON.parse(l)).filter((l) => /not valid here/.test(l.msg));
    expect(refused.map((l) => l.role).sort()).toEqual(['business_analyst', 'developer']);
    expect(refused.find((l) => l.role === 'business_analyst').error).toMatch(/display_name/);
    expect(refused.find((l) => l.role === 'developer').error).toMatch(/role_id/);
    await sync.refresh(); // logged once per version
    expect(lines.map((l) => JSON.parse(l)).filter((l) => /not valid here/.test(l.msg))).toHaveLength(2);
    // the store itself never keeps an invalid definition
    await expect(mine.save('qa_tester', 'role_id: qa_tester\n', 'console:x')).rejects.toThrow();
    expect(await e.prisma.roleDefinition.count({ where: { roleId: 'qa_tester' } })).toBe(0);
    await e.prisma.roleDefinition.deleteMany();
  });
});
