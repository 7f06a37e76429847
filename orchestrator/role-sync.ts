// Role edits shared by every process: a role saved in the console is stored in PostgreSQL (RoleDefinition, a new
// version per save) and every server and worker lays the stored definitions over the files of ROLES_DIR — at start,
// when a step a worker runs reads a newer version than the one in use (the step's first statement reads
// max(version): upTo; so a step that starts after a save uses it, whichever process saved it), and every few seconds
// (servers: the console and MCP). No restart, no shared volume.
// Invariants: a stored definition is validated (the role schema and the operator's policy, as the files are) before
// it replaces anything, and one that fails keeps the definition in use (logged once per version); a reload replaces
// every changed role in one synchronous step, so no job ever sees half of a reload; only roles that exist in
// ROLES_DIR can be overridden (the console edits roles, it does not create them).
import { errorMessage } from '../agents/errors';
import { parseRoleFile, policyOf, type Role } from '../agents/roles';
import type { Db } from './db';
import type { Logger } from './log';
import type { JobHandler } from './queue';

/** How often a process looks for edits saved elsewhere, besides before each step. */
export const ROLE_SYNC_INTERVAL_MS = 5_000;

export interface RoleSync {
  /** Reloads the definitions saved since the last look (one small query when nothing changed). */
  refresh(): Promise<void>;
  /** Stores a validated definition for every process, then uses it in this one. */
  save(roleId: string, yaml: string, by: string): Promise<void>;
  /** The stored YAML of a role, when the console saved one. */
  storedYaml(roleId: string): Promise<string | undefined>;
  /** A worker's step read the newest saved version (`max(version)` of RoleDefinition, in the statement that starts
   *  it: orchestrator/workflow/transitions.ts): reloads when that is not the version of the last look. So a step that
   *  starts after a save, in any process, uses it, and a step costs no statement of its own for it. */
  upTo(version: number): Promise<void>;
  /** The newest saved version at the last look (0: none saved). */
  version(): number;
  stop(): void;
}

export function createRoleSync(prisma: Db, roles: Map<string, Role>, log: Logger, opts: { intervalMs?: number } = {}): RoleSync {
  const policy = policyOf(roles);
  const loaded = new Map<string, number>(); // roleId → the version in use (or refused)
  let inFlight: Promise<void> | undefined;
  let again = false;
  let newest = -1; // max(version) of the rows at the last look (0: none); -1 before the first look

  const load = async () => {
    const versions = await prisma.roleDefinition.findMany({ select: { roleId: true, version: true } });
    newest = versions.reduce((m, v) => Math.max(m, v.version), 0);
    const changed = versions.filter((v) => loaded.get(v.roleId) !== v.version && roles.has(v.roleId)).map((v) => v.roleId);
    if (!changed.length) return;
    const rows = await prisma.roleDefinition.findMany({ where: { roleId: { in: changed } } });
    const next: [string, Role][] = [];
    for (const row of rows) {
      try {
        const role = parseRoleFile(`RoleDefinition/${row.roleId}.yaml`, row.yaml, policy);
        if (role.role_id !== row.roleId) throw new Error(`role_id is "${role.role_id}", not "${row.roleId}"`);
        next.push([row.roleId, role]);
      } catch (e) {
        log.error('a role definition saved in the console is not valid here: the one in use is kept', { role: row.roleId, version: row.version, error: errorMessage(e) });
      }
      loaded.set(row.roleId, row.version);
    }
    for (const [id, role] of next) roles.set(id, role); // one synchronous step: every job sees all of it or none
    if (next.length) log.info(`roles reloaded: ${next.map(([id]) => id).join(', ')}`);
  };

  // One look at a time; a call during a look gets one more look after it, so it sees every save made before it.
  const refresh = (): Promise<void> => {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };

  const timer = setInterval(() => void refresh().catch((e) => log.warn('could not look for role edits', { error: errorMessage(e) })), opts.intervalMs ?? ROLE_SYNC_INTERVAL_MS);
  timer.unref();

  return {
    refresh,
    async save(roleId, yaml, by) {
      const role = parseRoleFile(`RoleDefinition/${roleId}.yaml`, yaml, policy); // the caller validated it; never store less
      const [row] = await prisma.$queryRaw<{ version: number }[]>`
        INSERT INTO "RoleDefinition" ("roleId", "yaml", "updatedBy") VALUES (${roleId}, ${yaml}, ${by})
        ON CONFLICT ("roleId") DO UPDATE SET "yaml" = EXCLUDED."yaml", "updatedBy" = EXCLUDED."updatedBy",
          "updatedAt" = CURRENT_TIMESTAMP, "version" = nextval(pg_get_serial_sequence('"RoleDefinition"', 'version'))
        RETURNING "version"`;
      roles.set(roleId, role);
      loaded.set(roleId, row!.version);
    },
    async storedYaml(roleId) {
      return (await prisma.roleDefinition.findUnique({ where: { roleId }, select: { yaml: true } }))?.yaml;
    },
    version: () => newest,
    upTo: async (version) => {
      if (version !== newest) await refresh();
    },
    stop: () => clearInterval(timer),
  };
}

/** A job handler that first picks up role edits saved elsewhere, before each step (the next step uses them). The
 *  worker no longer uses it: its steps read the newest version in their first statement and call `upTo` (steps.ts). */
export function syncedJobHandler(inner: JobHandler, sync: Pick<RoleSync, 'refresh'>): JobHandler {
  return async (data, ctx) => {
    if (data.kind === 'step') await sync.refresh();
    return inner(data, ctx);
  };
}
