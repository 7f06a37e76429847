// Safe reading of ZIP containers (archives, and the zip inside DOCX/XLSX/PPTX/ODF files) with yauzl. Invariant: before
// any entry is inflated the whole central directory is checked — no absolute or climbing paths (zip-slip), no
// encrypted entries, declared sizes within maxUncompressedBytes and ratios within maxCompressionRatio — and while an
// entry is inflated its real size is counted, so an archive that lies about its sizes is stopped at the same limits.
// Nothing is ever written to disk: entries are read into memory, within the limits.
import yauzl from 'yauzl';
import { CorruptFile, DecompressionBomb, EncryptedFile, UnsafeArchivePath } from './errors';
import type { FileLimits } from './types';

export interface ZipEntryInfo {
  path: string;
  size: number;
  compressedSize: number;
  directory: boolean;
}

export interface OpenZip {
  entries: ZipEntryInfo[];
  /** More entries than limits.maxEntries: `entries` holds the first ones. */
  truncated: boolean;
  totalEntries: number;
  /** The bytes of one entry (throws DecompressionBomb when it expands past the limits). */
  read(path: string): Promise<Buffer>;
  close(): void;
}

/** An entry path that is absolute or leaves the archive's root. */
export function unsafeEntryPath(p: string): boolean {
  const s = p.replace(/\\/g, '/');
  if (s.startsWith('/') || /^[a-zA-Z]:/.test(s) || s.includes('\0')) return true;
  let depth = 0;
  for (const part of s.split('/')) {
    if (part === '..') depth--;
    else if (part !== '.' && part !== '') depth++;
    if (depth < 0) return true;
  }
  return false;
}

const HARD_ENTRY_CAP = 100_000;

export async function openZip(bytes: Uint8Array, name: string, limits: FileLimits): Promise<OpenZip> {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buffer, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err || !z ? reject(mapZipError(name, err)) : resolve(z))),
  );
  if (zip.entryCount > HARD_ENTRY_CAP) {
    zip.close();
    throw new DecompressionBomb(name, `${zip.entryCount} entries`);
  }
  const raw: yauzl.Entry[] = [];
  let declared = 0;
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      try {
        if (unsafeEntryPath(entry.fileName)) throw new UnsafeArchivePath(name, entry.fileName);
        if (entry.isEncrypted()) throw new EncryptedFile(name);
        declared += entry.uncompressedSize;
        if (declared > limits.maxUncompressedBytes) throw new DecompressionBomb(name, `declares more than ${Math.round(limits.maxUncompressedBytes / 1024 / 1024)} MB uncompressed`);
        if (entry.uncompressedSize > 1024 * 1024 && entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxCompressionRatio) {
          throw new DecompressionBomb(name, `${entry.fileName} compresses ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1`);
        }
        raw.push(entry);
        zip.readEntry();
      } catch (e) {
        zip.close();
        reject(e);
      }
    });
    zip.on('end', () => resolve());
    zip.on('error', (e: Error) => reject(mapZipError(name, e)));
    zip.readEntry();
  });

  let inflated = 0;
  const byPath = new Map(raw.map((e) => [e.fileName, e]));
  const read = (path: string) =>
    new Promise<Buffer>((resolve, reject) => {
      const entry = byPath.get(path);
      if (!entry) return reject(new CorruptFile(name, `no entry ${path}`));
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return reject(mapZipError(name, err));
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => {
          inflated += c.length;
          if (inflated > limits.maxUncompressedBytes) {
            stream.destroy(new DecompressionBomb(name, `expands past ${Math.round(limits.maxUncompressedBytes / 1024 / 1024)} MB`));
            return;
          }
          chunks.push(c);
        });
        stream.on('error', (e) => reject(e instanceof DecompressionBomb ? e : mapZipError(name, e)));
        stream.on('end', () => resolve(Buffer.concat(chunks)));
      });
    });

  const entries = raw.map((e) => ({ path: e.fileName, size: e.uncompressedSize, compressedSize: e.compressedSize, directory: e.fileName.endsWith('/') }));
  return {
    entries: entries.slice(0, limits.maxEntries),
    truncated: entries.length > limits.maxEntries,
    totalEntries: entries.length,
    read,
    close: () => zip.close(),
  };
}

function mapZipError(name: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message : String(e);
  const path = /(?:invalid relative path|absolute path): (.*)$/.exec(msg);
  if (path?.[1] !== undefined) return new UnsafeArchivePath(name, path[1]);
  if (/too many length or distance symbols|actual uncompressed size|too many bytes/i.test(msg)) return new DecompressionBomb(name, msg);
  return new CorruptFile(name, msg);
}
