// Encryption at rest, the part below the database (issue 18): master keys (KeyWrapper, the environment's), the ring
// of unwrapped data keys, the sealed-value form "enc:v1:<dataKeyId>:<base64url(iv|tag|ciphertext)>", and the driver
// adapter that opens sealed values in every query result (orchestrator/db.ts installs it). The writers' side, which
// needs the database, is privacy/at-rest.ts. Invariant: a value that does not open is EncryptionKeyError, never a
// wrong value; a cell without the prefix passes untouched.
import { createHash } from 'node:crypto';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, SqlQuery, SqlQueryable, SqlResultSet, Transaction } from '@prisma/driver-adapter-utils';
import { AEAD_KEY_BYTES, aeadOpen, aeadSeal, pack, unpack } from '../../agents/crypto/aead';
import { RolecallError } from '../../agents/errors';

/** A sealed value that cannot be opened, or a data key that cannot be unwrapped: no master key configured, the wrong
 *  one, a data key that is gone, or a changed row. */
export class EncryptionKeyError extends RolecallError {}

export const CIPHER_PREFIX = 'enc:v1:';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const FULL = new RegExp(`^enc:v1:(${UUID}):([A-Za-z0-9_-]+)$`);
const ANY = new RegExp(`enc:v1:(${UUID}):`, 'g');
export const KIND_TEXT = 0x74; // 't'
export const KIND_JSON = 0x6a; // 'j'

/** Is this stored value sealed (by its form)? */
export const isSealed = (v: unknown): v is string => typeof v === 'string' && FULL.test(v);

// ---- master keys ----

/** Wraps and unwraps data keys under a master key (the environment's, or a KMS's). `masterKeyId` names the key new
 *  data keys are wrapped with; unwrap takes the id a data key was wrapped with and fails (EncryptionKeyError) when
 *  that key is not available. */
export interface KeyWrapper {
  readonly masterKeyId: string;
  /** Every master key id this wrapper can unwrap with (the current one first). */
  readonly masterKeyIds: readonly string[];
  wrap(dataKey: Buffer, scope: string): string;
  unwrap(wrapped: string, masterKeyId: string, scope: string): Buffer;
}

/** A master key's public name: the first 16 hex digits of a SHA-256 of it (it says which key, never the key). */
export const masterKeyIdOf = (key: Uint8Array) => createHash('sha256').update('rolecall-master-key:').update(key).digest('hex').slice(0, 16);

/** Master keys from the environment: the current one (new data keys, rotation target) and previous ones, still able
 *  to unwrap until a rotation has re-wrapped everything under the current key. */
export function envKeyWrapper(current: Uint8Array, previous: readonly Uint8Array[] = []): KeyWrapper {
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) {
    if (k.length !== AEAD_KEY_BYTES) throw new RangeError(`a master key must be ${AEAD_KEY_BYTES} bytes`);
    keys.set(masterKeyIdOf(k), Buffer.from(k));
  }
  const currentId = masterKeyIdOf(current);
  const aad = (scope: string, id: string) => Buffer.from(`rolecall-data-key:${id}:${scope}`, 'utf8');
  return {
    masterKeyId: currentId,
    masterKeyIds: [...keys.keys()],
    wrap: (dataKey, scope) => `wk1.${pack(aeadSeal(keys.get(currentId)!, dataKey, aad(scope, currentId))).toString('base64url')}`,
    unwrap(wrapped, masterKeyId, scope) {
      const key = keys.get(masterKeyId);
      if (!key) throw new EncryptionKeyError(`the data key of ${scope} is wrapped by master key ${masterKeyId}, which is not configured (ENCRYPTION_MASTER_KEY${keys.size > 1 ? ' or ENCRYPTION_MASTER_KEY_PREVIOUS' : ''} is ${[...keys.keys()].join(', ')}): set the right master key; without it this data is unreadable`);
      if (!wrapped.startsWith('wk1.')) throw new EncryptionKeyError(`the data key of ${scope} is not a wrapped key`);
      try {
        const dk = aeadOpen(key, unpack(Buffer.from(wrapped.slice(4), 'base64url')), aad(scope, masterKeyId));
        if (dk.length !== AEAD_KEY_BYTES) throw new EncryptionKeyError(`the data key of ${scope} has a wrong length`);
        return dk;
      } catch (e) {
        if (e instanceof EncryptionKeyError) throw e;
        throw new EncryptionKeyError(`the data key of ${scope} does not unwrap with master key ${masterKeyId} (a wrong ENCRYPTION_MASTER_KEY, or a changed row)`, { cause: e });
      }
    },
  };
}

// ---- the key ring: unwrapped data keys, bounded ----

export interface DataKeyRow {
  id: string;
  scope: string;
  wrappedKey: string;
  masterKeyId: string;
}

/** Unwrapped data keys by id, least recently used dropped beyond `max` (they are unwrapped again on demand). Shared by
 *  the reading adapter and the writers of one process. `wrapper` undefined: encryption is off, and any sealed value
 *  met is an EncryptionKeyError. */
export class KeyRing {
  private readonly byId = new Map<string, Buffer>();
  constructor(readonly wrapper: KeyWrapper | undefined, private readonly max = 1000) {}

  get(id: string): Buffer | undefined {
    const k = this.byId.get(id);
    if (k) {
      this.byId.delete(id);
      this.byId.set(id, k);
    }
    return k;
  }

  add(row: DataKeyRow): Buffer {
    if (!this.wrapper) throw new EncryptionKeyError('encrypted data found, but no master key is configured (ENCRYPTION_MASTER_KEY is unset): without it this data is unreadable');
    const key = this.wrapper.unwrap(row.wrappedKey, row.masterKeyId, row.scope);
    this.byId.set(row.id, key);
    while (this.byId.size > this.max) this.byId.delete(this.byId.keys().next().value!);
    return key;
  }

  /** Drops every cached key (after a rotation in tests; keys are re-read and unwrapped on demand). */
  clear(): void {
    this.byId.clear();
  }

  get size(): number {
    return this.byId.size;
  }
}

// ---- sealing and opening values ----

const aadOf = (keyId: string) => Buffer.from(`${CIPHER_PREFIX}${keyId}`, 'utf8');

export function sealWith(keyId: string, key: Buffer, kind: number, body: string): string {
  const plain = Buffer.concat([Buffer.of(kind), Buffer.from(body, 'utf8')]);
  return `${CIPHER_PREFIX}${keyId}:${pack(aeadSeal(key, plain, aadOf(keyId))).toString('base64url')}`;
}

/** Opens one sealed value whose key is in the ring: its kind and its clear body (text, or JSON text). */
function openWith(ring: KeyRing, sealed: string): { json: boolean; body: string } {
  const m = FULL.exec(sealed);
  if (!m) throw new EncryptionKeyError('not a sealed value');
  const key = ring.get(m[1]!);
  if (!key) throw new EncryptionKeyError(`data key ${m[1]} is not known (deleted, or another database)`);
  let plain: Buffer;
  try {
    plain = aeadOpen(key, unpack(Buffer.from(m[2]!, 'base64url')), aadOf(m[1]!));
  } catch (e) {
    throw new EncryptionKeyError(`a sealed value under data key ${m[1]} does not open (a changed row)`, { cause: e });
  }
  return { json: plain[0] === KIND_JSON, body: plain.subarray(1).toString('utf8') };
}

/** Replaces every sealed string in a parsed JSON value by its clear value. */
function openDeep(ring: KeyRing, v: unknown): unknown {
  if (typeof v === 'string') {
    if (!FULL.test(v)) return v;
    const o = openWith(ring, v);
    return o.json ? JSON.parse(o.body) : o.body;
  }
  if (Array.isArray(v)) return v.map((x) => openDeep(ring, x));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, openDeep(ring, x)]));
  return v;
}

/** One result cell (text, or JSON text) with its sealed values opened: a text column that is one sealed value, a
 *  JSON column holding one (a JSON string), or JSON built by the query (json_agg) with sealed values inside. */
export function openCell(ring: KeyRing, cell: string): string {
  if (FULL.test(cell)) return openWith(ring, cell).body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch {
    return cell; // text that merely mentions the prefix
  }
  if (typeof parsed === 'string' && FULL.test(parsed)) {
    const o = openWith(ring, parsed);
    return o.json ? o.body : JSON.stringify(o.body);
  }
  const opened = openDeep(ring, parsed);
  const out = JSON.stringify(opened);
  return out === JSON.stringify(parsed) ? cell : out; // nothing sealed inside: the cell exactly as stored
}

/** The data key ids a cell's sealed values name. */
function keyIdsIn(cell: string, into: Set<string>): void {
  for (const m of cell.matchAll(ANY)) into.add(m[1]!);
}

// ---- reading: the driver adapter ----

const KEY_SELECT = 'SELECT id, scope, "wrappedKey", "masterKeyId" FROM "DataKey" WHERE id IN';

/** Opens the sealed values of a result set, loading missing data keys through the same connection (or transaction),
 *  so a read never waits for another connection. Cells without the prefix cost one `includes`. */
async function openResult(ring: KeyRing, q: SqlQueryable, rs: SqlResultSet): Promise<SqlResultSet> {
  let sealed: [number, number][] | undefined;
  for (let r = 0; r < rs.rows.length; r++) {
    const row = rs.rows[r]!;
    for (let c = 0; c < row.length; c++) {
      const v = row[c];
      if (typeof v === 'string' && v.includes(CIPHER_PREFIX)) (sealed ??= []).push([r, c]);
    }
  }
  if (!sealed) return rs;
  const ids = new Set<string>();
  for (const [r, c] of sealed) keyIdsIn(rs.rows[r]![c] as string, ids);
  const missing = [...ids].filter((id) => !ring.get(id));
  if (missing.length) {
    const keys = await q.queryRaw({ sql: `${KEY_SELECT} (${missing.map((_, i) => `$${i + 1}`).join(', ')})`, args: missing, argTypes: missing.map(() => ({ scalarType: 'string', arity: 'scalar' })) } as SqlQuery);
    for (const k of keys.rows) ring.add({ id: String(k[0]), scope: String(k[1]), wrappedKey: String(k[2]), masterKeyId: String(k[3]) });
  }
  const rows = rs.rows.map((row) => row.slice());
  for (const [r, c] of sealed) rows[r]![c] = openCell(ring, rows[r]![c] as string);
  return { ...rs, rows };
}

function wrapQueryable<T extends SqlQueryable>(ring: KeyRing, inner: T, extra: (target: T, p: string | symbol) => unknown): T {
  return new Proxy(inner, {
    get(target, p) {
      if (p === 'queryRaw') return async (query: SqlQuery) => openResult(ring, target, await target.queryRaw(query));
      const special = extra(target, p);
      if (special !== undefined) return special;
      const v = Reflect.get(target, p, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** The database driver adapter with sealed values opened on the way out (every query of the process goes through it). */
export function atRestAdapter<F extends SqlDriverAdapterFactory>(factory: F, ring: KeyRing): F {
  const tx = (t: Transaction): Transaction => wrapQueryable(ring, t, () => undefined);
  const adapter = (a: SqlDriverAdapter): SqlDriverAdapter =>
    wrapQueryable(ring, a, (target, p) => (p === 'startTransaction' ? async (...args: Parameters<SqlDriverAdapter['startTransaction']>) => tx(await target.startTransaction(...args)) : undefined));
  return new Proxy(factory, {
    get(target, p) {
      if (p === 'connect') return async () => adapter(await target.connect());
      const v = Reflect.get(target, p, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

