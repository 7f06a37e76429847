// Encryption at rest (issue 18): envelope encryption of sensitive columns. Each workspace (scope "platform:teamId",
// or "*" for data of no workspace such as a file's extracted text, which is shared by content hash) has a random
// 256-bit data key, kept in DataKey wrapped by a master key (KeyWrapper: the environment's ENCRYPTION_MASTER_KEY, or
// a KMS behind the same interface). Values are sealed with AES-256-GCM (agents/crypto/aead.ts) as
// "enc:v1:<dataKeyId>:<base64url(iv|tag|ciphertext)>", the key id bound in as AAD; the plaintext carries a one-byte
// kind (text or JSON), so a JSON column stores the ciphertext as a JSON string and reads back as its value.
// Writes seal explicitly where rows are written (Sealer); reads open in ONE place, the driver adapter
// (atRestAdapter, privacy/sealed.ts), so every query — Prisma's or raw SQL, in or out of a transaction — returns clear values.
// Invariants: a value that does not open is EncryptionKeyError (the one error class: no or wrong master key, unknown
// data key, altered ciphertext), never a wrong value; clear-text rows written before stay readable (no prefix, no
// decryption) until the backfill seals them; rotation re-wraps data keys under the new master key with conditional
// writes (the data itself is not rewritten), so a lost master key makes every sealed value unreadable.
import { randomBytes, randomUUID } from 'node:crypto';
import { AEAD_KEY_BYTES, aeadOpen, aeadSeal, pack, unpack } from '../../agents/crypto/aead';
import type { FileBytesCodec } from '../../agents/files/store';
import type { Db } from '../db';
import { audit } from '../audit';
import { EncryptionKeyError, KIND_JSON, KIND_TEXT, sealWith, type DataKeyRow, KeyRing } from './sealed';

export * from './sealed';

// ---- writing ----

/** Seals values for one scope, synchronously (its data key is ready). */
export interface Sealer {
  text(s: string): string;
  /** A JSON value sealed as one string: store it as the column's JSON (a JSON string), it reads back as the value. */
  json(v: unknown): string;
  /** Nullable text. */
  maybe(s: string | null): string | null;
}

/** No encryption: values as they are. */
export const CLEAR: Sealer = { text: (s) => s, json: (v) => v as string, maybe: (s) => s };

/** The scope of a workspace's data key. */
export const workspaceScope = (platform: string, teamId: string) => `${platform}:${teamId}`;
/** The sealer of a thread's workspace (CLEAR when encryption is off or not wired). */
export const sealerFor = (deps: { atRest?: AtRest }, t: { platform: string; teamId: string }): Promise<Sealer> =>
  deps.atRest ? deps.atRest.sealer(workspaceScope(t.platform, t.teamId)) : Promise.resolve(CLEAR);

/** The scope of data that belongs to no one workspace (file text shared by content hash). */
export const SHARED_SCOPE = '*';

export interface RotationResult {
  rewrapped: number;
  alreadyCurrent: number;
  from: string[];
  to: string;
}

export interface AtRest {
  readonly on: boolean;
  readonly ring: KeyRing;
  /** The sealer of a scope (its data key made on first use: one insert wins, every process uses the winner's). */
  sealer(scope: string): Promise<Sealer>;
  /** Unwraps every data key: a wrong master key fails here, at start, with EncryptionKeyError. */
  check(): Promise<{ keys: number }>;
  /** Re-wraps every data key not under the current master key (conditional writes; audited as encryption.key_rotated). */
  rotate(actor: string): Promise<RotationResult>;
  /** Encrypts the file store's bytes under the shared scope's data key ("RCENC1\n" | key id | iv | tag | ciphertext);
   *  stored bytes without that prefix (written before) are returned as they are. */
  readonly files: FileBytesCodec;
  /** Seals clear rows written before encryption was on, `batch` rows per table and call; returns what it sealed. */
  backfill(batch?: number): Promise<Record<string, number>>;
}

/** Encryption off: nothing sealed; a sealed value met on reading is an EncryptionKeyError (from the adapter). */
export function clearAtRest(ring: KeyRing = new KeyRing(undefined)): AtRest {
  const off = () => {
    throw new EncryptionKeyError('encryption at rest is off (ENCRYPTION_MASTER_KEY is unset)');
  };
  return { on: false, ring, files: clearFiles, sealer: async () => CLEAR, check: async () => ({ keys: 0 }), rotate: async () => off(), backfill: async () => off() };
}

/** The first bytes of an encrypted stored file: the key id (36 characters) follows. */
export const FILE_MAGIC = Buffer.from('RCENC1\n', 'utf8');
const FILE_KEY_ID_BYTES = 36;
const fileAad = (keyId: string) => Buffer.from(`rolecall-file:${keyId}`, 'utf8');
const isSealedFile = (b: Uint8Array) => b.length >= FILE_MAGIC.length + FILE_KEY_ID_BYTES && Buffer.from(b.buffer, b.byteOffset, FILE_MAGIC.length).equals(FILE_MAGIC);

/** Encryption off: clear files pass, an encrypted one cannot be read. */
const clearFiles: FileBytesCodec = {
  seal: async (b) => b,
  open: async (b) => {
    if (isSealedFile(b)) throw new EncryptionKeyError('an encrypted file was found, but no master key is configured (ENCRYPTION_MASTER_KEY is unset): without it this file is unreadable');
    return b;
  },
};

const EXEMPT = ['[redacted by retention]', '[erased]']; // retention's and erasure's markers stay clear (they are compared)

export function atRest(prisma: Db, ring: KeyRing, opts: { maxScopes?: number } = {}): AtRest {
  const wrapper = ring.wrapper;
  if (!wrapper) return clearAtRest(ring);
  const scopes = new Map<string, Sealer>();
  const maxScopes = opts.maxScopes ?? 1000;

  const keyOf = async (scope: string): Promise<{ id: string; key: Buffer }> => {
    const find = async () => (await prisma.$queryRaw<DataKeyRow[]>`SELECT id, scope, "wrappedKey", "masterKeyId" FROM "DataKey" WHERE scope = ${scope}`)[0];
    let row = await find();
    if (!row) {
      const id = randomUUID();
      const dk = randomBytes(AEAD_KEY_BYTES);
      await prisma.$executeRaw`INSERT INTO "DataKey" (id, scope, "wrappedKey", "masterKeyId") VALUES (${id}, ${scope}, ${wrapper.wrap(dk, scope)}, ${wrapper.masterKeyId}) ON CONFLICT (scope) DO NOTHING`;
      row = await find();
      if (!row) throw new EncryptionKeyError(`the data key of ${scope} could not be made`);
    }
    return { id: row.id, key: ring.get(row.id) ?? ring.add(row) };
  };

  const sealerOf = (id: string, key: Buffer): Sealer => {
    const text = (s: string) => sealWith(id, key, KIND_TEXT, s);
    return { text, json: (v) => sealWith(id, key, KIND_JSON, JSON.stringify(v)), maybe: (s) => (s === null ? null : text(s)) };
  };

  const backfillTable = async (name: string, select: () => Promise<{ id: string; value: string; scope: string; json?: boolean }[]>, write: (id: string, sealed: string, old: string) => Promise<number>) => {
    let n = 0;
    for (const r of await select()) {
      const s = await api.sealer(r.scope);
      n += await write(r.id, r.json ? JSON.stringify(s.json(JSON.parse(r.value))) : s.text(r.value), r.value);
    }
    return [name, n] as const;
  };

  const files: FileBytesCodec = {
    async seal(bytes) {
      const { id, key } = await keyOf(SHARED_SCOPE);
      return Buffer.concat([FILE_MAGIC, Buffer.from(id, 'utf8'), pack(aeadSeal(key, bytes, fileAad(id)))]);
    },
    async open(stored) {
      if (!isSealedFile(stored)) return stored; // stored before encryption was on
      const b = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
      const id = b.subarray(FILE_MAGIC.length, FILE_MAGIC.length + FILE_KEY_ID_BYTES).toString('utf8');
      let key = ring.get(id);
      if (!key) {
        const row = (await prisma.$queryRaw<DataKeyRow[]>`SELECT id, scope, "wrappedKey", "masterKeyId" FROM "DataKey" WHERE id = ${id}`)[0];
        if (!row) throw new EncryptionKeyError(`data key ${id} of a stored file is not known (deleted, or another database)`);
        key = ring.add(row);
      }
      try {
        return aeadOpen(key, unpack(b.subarray(FILE_MAGIC.length + FILE_KEY_ID_BYTES)), fileAad(id));
      } catch (e) {
        throw new EncryptionKeyError(`a stored file under data key ${id} does not open (a changed file)`, { cause: e });
      }
    },
  };

  const api: AtRest = {
    on: true,
    ring,
    files,
    async sealer(scope) {
      const hit = scopes.get(scope);
      if (hit) return hit;
      const { id, key } = await keyOf(scope);
      const s = sealerOf(id, key);
      scopes.set(scope, s);
      while (scopes.size > maxScopes) scopes.delete(scopes.keys().next().value!);
      return s;
    },
    async check() {
      const rows = await prisma.$queryRaw<DataKeyRow[]>`SELECT id, scope, "wrappedKey", "masterKeyId" FROM "DataKey" ORDER BY "createdAt" LIMIT 1000`;
      for (const r of rows) ring.add(r);
      return { keys: rows.length };
    },
    async rotate(actor) {
      const rows = await prisma.$queryRaw<DataKeyRow[]>`SELECT id, scope, "wrappedKey", "masterKeyId" FROM "DataKey"`;
      const from = new Set<string>();
      let rewrapped = 0;
      let alreadyCurrent = 0;
      for (const r of rows) {
        if (r.masterKeyId === wrapper.masterKeyId) {
          alreadyCurrent++;
          continue;
        }
        const dk = wrapper.unwrap(r.wrappedKey, r.masterKeyId, r.scope);
        const n = await prisma.$executeRaw`UPDATE "DataKey" SET "wrappedKey" = ${wrapper.wrap(dk, r.scope)}, "masterKeyId" = ${wrapper.masterKeyId}, "rotatedAt" = now()
          WHERE id = ${r.id} AND "masterKeyId" = ${r.masterKeyId} AND "wrappedKey" = ${r.wrappedKey}`;
        if (n === 1) {
          rewrapped++;
          from.add(r.masterKeyId);
        }
      }
      const result = { rewrapped, alreadyCurrent, from: [...from], to: wrapper.masterKeyId };
      await audit(prisma, { actor, action: 'encryption.key_rotated', target: wrapper.masterKeyId, detail: { ...result } });
      return result;
    },
    async backfill(batch = 500) {
      const exempt = EXEMPT;
      const results = await Promise.all([
        backfillTable('AgentMessage.text',
          () => prisma.$queryRaw`SELECT m.id, m.text AS value, w.platform::text || ':' || w."teamId" AS scope FROM "AgentMessage" m JOIN "Workflow" w ON w.id = m."workflowId"
            WHERE m.text NOT LIKE 'enc:v1:%' AND m.text <> ALL(${exempt}::text[]) LIMIT ${batch}`,
          (id, sealed, old) => prisma.$executeRaw`UPDATE "AgentMessage" SET text = ${sealed} WHERE id = ${id} AND text = ${old}`),
        backfillTable('Step.output',
          () => prisma.$queryRaw`SELECT s.id, s.output AS value, w.platform::text || ':' || w."teamId" AS scope FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId"
            WHERE s.output IS NOT NULL AND s.output NOT LIKE 'enc:v1:%' AND s.output <> ALL(${exempt}::text[]) LIMIT ${batch}`,
          (id, sealed, old) => prisma.$executeRaw`UPDATE "Step" SET output = ${sealed} WHERE id = ${id} AND output = ${old}`),
        backfillTable('Step.outputData',
          async () => (await prisma.$queryRaw<{ id: string; value: string; scope: string }[]>`SELECT s.id, s."outputData"::text AS value, w.platform::text || ':' || w."teamId" AS scope FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId"
            WHERE s."outputData" IS NOT NULL AND jsonb_typeof(s."outputData") <> 'string' LIMIT ${batch}`).map((r) => ({ ...r, json: true })),
          (id, sealed, old) => prisma.$executeRaw`UPDATE "Step" SET "outputData" = ${sealed}::jsonb WHERE id = ${id} AND "outputData" = ${old}::jsonb`),
        backfillTable('ChatOutbox.view',
          async () => (await prisma.$queryRaw<{ id: string; value: string; scope: string }[]>`SELECT o.id::text AS id, o.view::text AS value, w.platform::text || ':' || w."teamId" AS scope FROM "ChatOutbox" o JOIN "Workflow" w ON w.id = o."workflowId"
            WHERE jsonb_typeof(o.view) <> 'string' LIMIT ${batch}`).map((r) => ({ ...r, json: true })),
          (id, sealed, old) => prisma.$executeRaw`UPDATE "ChatOutbox" SET view = ${sealed}::jsonb WHERE id = ${BigInt(id)} AND view = ${old}::jsonb`),
        backfillTable('Workflow.requestText',
          () => prisma.$queryRaw`SELECT id, "requestText" AS value, platform::text || ':' || "teamId" AS scope FROM "Workflow"
            WHERE "requestText" NOT LIKE 'enc:v1:%' AND "requestText" <> ALL(${exempt}::text[]) LIMIT ${batch}`,
          (id, sealed, old) => prisma.$executeRaw`UPDATE "Workflow" SET "requestText" = ${sealed} WHERE id = ${id} AND "requestText" = ${old}`),
        backfillTable('ThreadReply.text',
          () => prisma.$queryRaw`SELECT r.id, r.text AS value, w.platform::text || ':' || w."teamId" AS scope FROM "ThreadReply" r JOIN "Workflow" w ON w.id = r."workflowId"
            WHERE r.text NOT LIKE 'enc:v1:%' AND r.text <> ALL(${exempt}::text[]) LIMIT ${batch}`,
          (id, sealed, old) => prisma.$executeRaw`UPDATE "ThreadReply" SET text = ${sealed} WHERE id = ${id} AND text = ${old}`),
        backfillTable('WebMessage.text',
          async () => (await prisma.$queryRaw<{ id: string; value: string }[]>`SELECT id, text AS value FROM "WebMessage" WHERE text NOT LIKE 'enc:v1:%' LIMIT ${batch}`).map((r) => ({ ...r, scope: workspaceScope('web', 'playground') })),
          (id, sealed, old) => prisma.$executeRaw`UPDATE "WebMessage" SET text = ${sealed} WHERE id = ${id} AND text = ${old}`),
        backfillTable('FileSummary.text',
          async () => (await prisma.$queryRaw<{ id: string; value: string }[]>`SELECT id, text AS value FROM "FileSummary" WHERE text NOT LIKE 'enc:v1:%' LIMIT ${batch}`).map((r) => ({ ...r, scope: SHARED_SCOPE })),
          (id, sealed, old) => prisma.$executeRaw`UPDATE "FileSummary" SET text = ${sealed} WHERE id = ${id} AND text = ${old}`),
        backfillTable('FileBlob.extractedText',
          async () => (await prisma.$queryRaw<{ id: string; value: string }[]>`SELECT id, "extractedText" AS value FROM "FileBlob" WHERE "extractedText" IS NOT NULL AND "extractedText" NOT LIKE 'enc:v1:%' LIMIT ${batch}`).map((r) => ({ ...r, scope: SHARED_SCOPE })),
          (id, sealed, old) => prisma.$executeRaw`UPDATE "FileBlob" SET "extractedText" = ${sealed} WHERE id = ${id} AND "extractedText" = ${old}`),
      ]);
      return Object.fromEntries(results);
    },
  };
  return api;
}
