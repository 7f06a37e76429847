// API keys for MCP clients: `Authorization: Bearer rc_<secret>`. A key is 32 random bytes (base64url); only its sha256
// is stored, looked up by that hash, so a database read never yields a usable key. Each key is scoped: which roles,
// whether it may read workflow artifacts, whether it may run tasks (run_task and the role's external MCP tools, which
// act on other systems). A rotated key keeps working until its expiresAt; a revoked one stops at once.
import { createHash, randomBytes } from 'node:crypto';

const API_KEY_PREFIX = 'rc_';
/** Characters of the key (including "rc_") kept in clear text so people can tell their keys apart. */
const SHOWN_CHARS = API_KEY_PREFIX.length + 8;
/** lastUsedAt is written at most this often per key. */
const TOUCH_EVERY_MS = 60_000;
/** roles = [ALL_ROLES]: every role, including roles added later. */
export const ALL_ROLES = '*';

export interface ApiKeyScope {
  roles: string[];
  readArtifacts: boolean;
  runTasks: boolean;
}

export interface ApiKeyRecord extends ApiKeyScope {
  id: string;
  name: string;
  prefix: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** Where keys live (the McpApiKey table). */
export interface ApiKeyStore {
  findByHash(hash: string): Promise<ApiKeyRecord | null>;
  /** Sets lastUsedAt = at unless it is already later than `unlessAfter`. */
  markUsed(id: string, at: Date, unlessAfter: Date): Promise<void>;
}

const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** A new key: show `key` once; store `hash` and `prefix`. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, SHOWN_CHARS), hash: hashApiKey(key) };
}

const KEY_SHAPE = /^rc_[A-Za-z0-9_-]{43}$/;

export type AuthResult = { ok: true; key: ApiKeyRecord } | { ok: false; reason: 'missing' | 'invalid' };

/** Checks an Authorization header; a usable key has its lastUsedAt refreshed. */
export async function authenticate(store: ApiKeyStore, authorization: string | undefined, now = new Date()): Promise<AuthResult> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return { ok: false, reason: 'missing' };
  const presented = m[1]!;
  if (!KEY_SHAPE.test(presented)) return { ok: false, reason: 'invalid' };
  const key = await store.findByHash(hashApiKey(presented));
  if (!key || key.revokedAt || (key.expiresAt && key.expiresAt <= now)) return { ok: false, reason: 'invalid' };
  await store.markUsed(key.id, now, new Date(now.getTime() - TOUCH_EVERY_MS));
  return { ok: true, key };
}

export const mayUseRole = (scope: ApiKeyScope, roleId: string): boolean => scope.roles.includes(ALL_ROLES) || scope.roles.includes(roleId);

const ARTIFACT_TOOLS = new Set(['list_artifacts', 'get_artifact']);
const PURE_TOOLS = new Set(['validate_output']);

/** Whether a key may see and call a tool: validate_output always, the artifact tools with readArtifacts, anything else
 * (run_task, external MCP tools, tools added later) with runTasks only. */
export function toolInScope(scope: ApiKeyScope, tool: string): boolean {
  if (PURE_TOOLS.has(tool)) return true;
  if (ARTIFACT_TOOLS.has(tool)) return scope.readArtifacts;
  return scope.runTasks;
}

export function describeScope(scope: ApiKeyScope): string {
  const roles = scope.roles.includes(ALL_ROLES) ? 'all roles' : scope.roles.join(', ') || 'no roles';
  const what = [scope.readArtifacts && 'read artifacts', scope.runTasks && 'run tasks'].filter(Boolean).join(', ');
  return `${roles}; ${what || 'validate only'}`;
}
