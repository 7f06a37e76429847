// Where file bytes live: the FileStore port and its embedded default, a local directory. Storage is content-addressed
// by sha256, so the same file shared twice is stored once. Invariants: a key is derived only from a hash (never from a
// file name, so no path from outside reaches the file system); a write is atomic (temporary file, then rename); a read
// verifies the hash, so a damaged or altered object is never handed out as the file.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RolecallError } from '../errors';

export interface StoredObject {
  sha256: string;
  bytes: number;
  /** False when the store already held these bytes. */
  created: boolean;
}

export interface FileStore {
  /** Names this store in metadata ("local", "s3:bucket"): a sha256 is unique per store. */
  readonly id: string;
  put(bytes: Uint8Array, mime: string): Promise<StoredObject>;
  /** The bytes, or undefined when the store does not hold them. */
  get(sha256: string): Promise<Uint8Array | undefined>;
  has(sha256: string): Promise<boolean>;
  /** Removes the bytes (subject erasure, retention; issue 18). Optional: a store without it keeps them (reported). */
  delete?(sha256: string): Promise<void>;
}

/** Stored bytes that no longer match their hash. */
export class StoredFileCorrupt extends RolecallError {
  constructor(readonly sha256: string) {
    super(`stored file ${sha256} does not match its hash`);
  }
}

export const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Encrypts stored bytes (encryption at rest, issue 18; orchestrator/privacy/at-rest.ts makes one). The key stays the
 *  hash of the clear bytes (dedup keeps working); `open` returns bytes without the sealed form's magic prefix as they
 *  are (files stored before encryption stay readable), and the read then checks the hash of the clear bytes. */
export interface FileBytesCodec {
  seal(bytes: Uint8Array): Promise<Uint8Array>;
  open(stored: Uint8Array): Promise<Uint8Array>;
}

const HASH = /^[0-9a-f]{64}$/;

/** The object key of a hash: sha256/ab/cd/abcd… (two levels keep directories small). */
export function objectKey(sha256: string): string {
  if (!HASH.test(sha256)) throw new RangeError('not a sha256 hex digest');
  return `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

export interface LocalFileStoreOptions {
  /** Directory that holds the objects (e.g. DATA_DIR/files). */
  dir: string;
  /** Encrypts the bytes at rest; absent: stored as they are. */
  codec?: FileBytesCodec;
}

export class LocalFileStore implements FileStore {
  readonly id = 'local';
  constructor(private readonly options: LocalFileStoreOptions) {}

  private pathOf(sha256: string): string {
    return path.join(this.options.dir, ...objectKey(sha256).split('/'));
  }

  async put(bytes: Uint8Array, _mime?: string): Promise<StoredObject> {
    const sha256 = sha256Hex(bytes);
    const file = this.pathOf(sha256);
    if (await this.has(sha256)) return { sha256, bytes: bytes.length, created: false };
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomUUID()}.tmp`;
    try {
      await writeFile(tmp, this.options.codec ? await this.options.codec.seal(bytes) : bytes, { flag: 'wx', mode: 0o600 });
      await rename(tmp, file); // two writers of the same bytes: the last rename wins with identical content
    } finally {
      await rm(tmp, { force: true });
    }
    return { sha256, bytes: bytes.length, created: true };
  }

  async get(sha256: string): Promise<Uint8Array | undefined> {
    let data: Buffer;
    try {
      data = await readFile(this.pathOf(sha256));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const clear = this.options.codec ? await this.options.codec.open(data) : data;
    if (sha256Hex(clear) !== sha256) throw new StoredFileCorrupt(sha256);
    return new Uint8Array(clear);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}
