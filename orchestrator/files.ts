// Files shared in a workflow's thread: the worker fetches each one through the platform's FileDownloader (the edge
// fetches bytes, the orchestrator decides), ingests it (agents/files: stored once, read in a parser thread), and tells
// the thread in one sentence when a file was skipped; the workflow goes on either way. A role's step then sees the
// workflow's readable files (stepFiles). Invariants: a download is bounded by the size limit before the bytes are
// held; a sharing is recorded once (platform + message + file id), so a re-run job neither ingests nor tells twice;
// nothing here throws for a bad file — only infrastructure failures (database, store) reach the queue's retries.
import { z } from 'zod';
import { errorMessage } from '../agents/errors';
import { FileError, FileTooLarge } from '../agents/files/errors';
import { ingestFile, type IngestedFile } from '../agents/files/ingest';
import type { FileParserPool } from '../agents/files/pool';
import type { FileStore } from '../agents/files/store';
import type { FileMeta } from '../agents/files/types';
import type { ChatPorts, InboundFile, InboundMessage, PlatformName, ThreadRef } from './chat';
import type { Db } from './db';
import type { Logger } from './log';
import { ROLECALL_PERSONA } from './views';

/** Fetches a shared file's bytes from its platform. Throws FileTooLarge past maxBytes, FileDownloadFailed when the
 *  platform refuses or the file is gone; anything else is passing (the queue retries the job). */
export interface FileDownloader {
  download(file: InboundFile, maxBytes: number): Promise<Uint8Array>;
}

/** The platform would not hand out the file (deleted, no access, not a file URL Rolecall may fetch). */
export class FileDownloadFailed extends FileError {
  constructor(fileName: string, readonly detail: string) {
    super(fileName, `it could not be downloaded (${detail.slice(0, 200)})`);
  }
}

export interface FilesDeps {
  store: FileStore;
  pool: FileParserPool;
  /** Largest file taken (FILES_MAX_MB). */
  maxBytes: number;
  downloads: Partial<Record<PlatformName, FileDownloader>>;
}

/** The source reference of one sharing: the same file in the same message is one sharing, however often delivered. */
export const shareSource = (msg: InboundMessage, file: InboundFile) => `${msg.platform}:${msg.channelId}:${msg.messageTs}:${file.id}`;

export interface IngestDeps {
  prisma: Db;
  chat: ChatPorts;
  log: Logger;
  files?: FilesDeps;
}

/** Takes in the message's files for a workflow and tells the thread which were skipped, once per sharing. */
export async function ingestMessageFiles(deps: IngestDeps, msg: InboundMessage, workflowId: string): Promise<IngestedFile[]> {
  const files = msg.files ?? [];
  if (files.length === 0) return [];
  const thread: ThreadRef = { platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs };
  if (!deps.files) {
    deps.log.warn('files were shared but no file store is configured', { workflowId, count: files.length });
    return [];
  }
  const cfg = deps.files;
  const done: IngestedFile[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const source = shareSource(msg, file);
    const known = await deps.prisma.sharedFile.findUnique({ where: { platform_source: { platform: msg.platform, source } } });
    if (known) continue; // a re-run: this sharing was taken (and told) already
    const downloader = cfg.downloads[msg.platform];
    let bytes: Uint8Array;
    try {
      if (!downloader) throw new FileDownloadFailed(file.name, `files from ${msg.platform} are not supported`);
      if (file.bytes !== undefined && file.bytes > cfg.maxBytes) throw new FileTooLarge(file.name, file.bytes, cfg.maxBytes);
      bytes = await downloader.download(file, cfg.maxBytes);
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      await recordUnfetched(deps.prisma, msg.platform, source, file, workflowId, e);
      skipped.push(e.message);
      continue;
    }
    const ingested = await ingestFile(bytes, { name: file.name, platform: msg.platform, source, workflowId }, { db: deps.prisma, store: cfg.store, pool: cfg.pool, limits: { maxBytes: cfg.maxBytes } });
    deps.log.info('file shared', { workflowId, name: file.name, status: ingested.status, bytes: ingested.bytes, reused: ingested.reused });
    if (ingested.status === 'skipped') skipped.push(ingested.error ?? `${file.name} was skipped`);
    done.push(ingested);
  }
  if (skipped.length) {
    const chat = deps.chat[msg.platform];
    try {
      await chat?.post(thread, ROLECALL_PERSONA, { text: skipped.map((s) => `:warning: ${s}`).join('\n') });
    } catch (e) {
      // The note is a courtesy: the workflow goes on without it (the files are recorded as skipped).
      deps.log.warn('could not tell the thread about skipped files', { workflowId, error: errorMessage(e) });
    }
  }
  return done;
}

/** A file that never reached the ingester (too large, refused) is still recorded as a skipped sharing. */
async function recordUnfetched(prisma: Db, platform: PlatformName, source: string, file: InboundFile, workflowId: string, e: FileError): Promise<void> {
  await prisma.sharedFile.createMany({
    data: [{ workflowId, platform, source, name: file.name.slice(0, 1000), mime: file.mime ?? 'application/octet-stream', bytes: file.bytes ?? 0, sha256: '', blobId: null, status: 'skipped', error: e.message }],
    skipDuplicates: true,
  });
}

/** A workflow's readable file, as a role's step sees it. */
export interface StepFile {
  name: string;
  kind: string;
  mime: string;
  bytes: number;
  text: string;
  truncated: boolean;
  meta: FileMeta;
  sha256: string;
}

/** The workflow's extracted files, in the order they were shared (at most `max`). */
export async function stepFiles(prisma: Db, workflowId: string, max = 20): Promise<StepFile[]> {
  const rows = await prisma.sharedFile.findMany({ where: { workflowId, status: 'extracted' }, include: { blob: true }, orderBy: { createdAt: 'asc' }, take: max });
  const out: StepFile[] = [];
  for (const r of rows) {
    if (!r.blob || r.blob.status !== 'extracted') continue;
    const ex = storedParts.safeParse(r.blob.extraction);
    const meta = ex.success ? ex.data.meta ?? {} : {};
    out.push({ name: r.name, kind: r.blob.kind ?? 'text', mime: r.blob.mime, bytes: r.blob.bytes, text: r.blob.extractedText ?? '', truncated: ex.success && ex.data.truncated === true, meta, sha256: r.blob.sha256 });
  }
  return out;
}

const storedParts = z.object({
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
  truncated: z.boolean().optional(),
});
