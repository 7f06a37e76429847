// Taking in one shared file: validate the input, store the bytes once (content-addressed), read them once per store
// and hash (the parser pool), and record the sharing and the blob in PostgreSQL. Invariants: the same sharing
// (platform + source) is recorded once, however often it is delivered; the same bytes are stored and parsed once per
// store; a file that cannot be read is recorded as skipped with the sentence the thread shows, never thrown.
import { z } from 'zod';
import type { PrismaClient } from '../../generated/prisma/client';
import { Prisma } from '../../generated/prisma/client';
import { FileError, FileTooLarge } from './errors';
import type { FileParserPool } from './pool';
import { type FileStore, sha256Hex } from './store';
import { DEFAULT_FILE_LIMITS, FILE_KINDS, type FileExtraction, type FileLimits } from './types';

export const shareInput = z.object({
  name: z.string().min(1).max(1000),
  platform: z.enum(['slack', 'teams', 'web', 'mcp', 'console']),
  /** The caller's unique reference of this sharing, e.g. slack:<channel>:<message ts>:<file id>. */
  source: z.string().min(1).max(500),
  workflowId: z.string().min(1).max(100).nullable().optional(),
});
export type ShareInput = z.infer<typeof shareInput>;

export interface IngestDeps {
  db: PrismaClient;
  store: FileStore;
  pool: FileParserPool;
  limits?: Partial<FileLimits>;
  /** Seals the extracted text for the database (encryption at rest, orchestrator/privacy/at-rest.ts); absent: clear. */
  sealText?: (text: string) => Promise<string>;
}

export interface IngestedFile {
  shareId: string;
  name: string;
  sha256: string;
  bytes: number;
  status: 'extracted' | 'skipped';
  /** Set when status is extracted. */
  extraction?: FileExtraction;
  /** Set when status is skipped: the sentence for the thread. */
  error?: string;
  /** The bytes were already stored and read (another sharing of the same file). */
  reused: boolean;
}

const section = z.object({ kind: z.enum(['page', 'sheet', 'slide', 'heading', 'entry', 'attachment', 'message', 'cell', 'file', 'table', 'body']), title: z.string(), level: z.number().optional(), text: z.string() });
const storedExtraction = z.object({
  kind: z.enum(FILE_KINDS),
  structure: z.object({ sections: z.array(section) }),
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
  truncated: z.boolean(),
  warnings: z.array(z.string()),
  ocr: z.union([z.object({ text: z.string(), confidence: z.number() }), z.object({ skipped: z.string() })]).optional(),
});

export async function ingestFile(bytes: Uint8Array, input: ShareInput, deps: IngestDeps): Promise<IngestedFile> {
  const share = shareInput.parse(input);
  const limits = { ...DEFAULT_FILE_LIMITS, ...deps.limits };
  const sha256 = sha256Hex(bytes);
  const existing = await deps.db.sharedFile.findUnique({ where: { platform_source: { platform: share.platform, source: share.source } }, include: { blob: true } });
  if (existing) return toIngested(existing.id, share.name, sha256, existing.blob, existing.error, true);

  if (bytes.length > limits.maxBytes) {
    const error = new FileTooLarge(share.name, bytes.length, limits.maxBytes).message;
    const row = await createShare(deps.db, { ...share, mime: 'application/octet-stream', bytes: bytes.length, sha256, blobId: null, status: 'skipped', error });
    return { shareId: row.id, name: share.name, sha256, bytes: bytes.length, status: 'skipped', error, reused: false };
  }

  let blob = await deps.db.fileBlob.findUnique({ where: { store_sha256: { store: deps.store.id, sha256 } } });
  const reused = Boolean(blob);
  if (!blob) {
    let extraction: FileExtraction | undefined;
    let error: string | undefined;
    try {
      extraction = await deps.pool.extract(bytes, share.name, limits);
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      error = e.message;
    }
    const mime = extraction?.mime ?? 'application/octet-stream';
    await deps.store.put(bytes, mime);
    const data = {
      store: deps.store.id,
      sha256,
      bytes: bytes.length,
      mime,
      kind: extraction?.kind ?? null,
      status: extraction ? ('extracted' as const) : ('skipped' as const),
      error: error ?? null,
      extractedText: extraction?.text != null ? (deps.sealText ? await deps.sealText(extraction.text) : extraction.text) : null,
      extraction: extraction ? toJson({ kind: extraction.kind, structure: extraction.structure, meta: extraction.meta, truncated: extraction.truncated, warnings: extraction.warnings, ...(extraction.ocr ? { ocr: extraction.ocr } : {}) }) : Prisma.DbNull,
    };
    // Two sharings of the same new file at once: one insert wins, the other reads its row.
    blob = await deps.db.fileBlob.upsert({ where: { store_sha256: { store: deps.store.id, sha256 } }, create: data, update: {} });
  }
  const row = await createShare(deps.db, { ...share, mime: blob.mime, bytes: bytes.length, sha256, blobId: blob.id, status: blob.status, error: blob.error });
  return toIngested(row.id, share.name, sha256, blob, blob.error, reused);
}

/** Plain JSON data for a Json column (the extraction is plain data by construction: types.ts). */
const toJson = (value: object): Prisma.InputJsonObject => JSON.parse(JSON.stringify(value));

async function createShare(db: PrismaClient, data: ShareInput & { mime: string; bytes: number; sha256: string; blobId: string | null; status: 'stored' | 'extracted' | 'skipped'; error: string | null }) {
  try {
    return await db.sharedFile.create({ data: { ...data, workflowId: data.workflowId ?? null } });
  } catch (e) {
    // The same sharing delivered twice at once: the first insert wins.
    if (e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002') return db.sharedFile.findUniqueOrThrow({ where: { platform_source: { platform: data.platform, source: data.source } } });
    throw e;
  }
}

type BlobRow = { mime: string; bytes: number; sha256: string; status: 'stored' | 'extracted' | 'skipped'; extractedText: string | null; extraction: Prisma.JsonValue | null } | null;

function toIngested(shareId: string, name: string, sha256: string, blob: BlobRow, error: string | null, reused: boolean): IngestedFile {
  if (!blob || blob.status !== 'extracted' || blob.extraction === null) {
    return { shareId, name, sha256: blob?.sha256 ?? sha256, bytes: blob?.bytes ?? 0, status: 'skipped', error: error ?? 'the file was not read', reused };
  }
  const stored = storedExtraction.parse(blob.extraction);
  const extraction: FileExtraction = {
    ...stored,
    mime: blob.mime,
    name,
    bytes: blob.bytes,
    sha256: blob.sha256,
    text: blob.extractedText ?? '',
  };
  return { shareId, name, sha256: blob.sha256, bytes: blob.bytes, status: 'extracted', extraction, reused };
}
