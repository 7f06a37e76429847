// Files shared in a workflow's thread: the worker fetches each one through the platform's FileDownloader (the edge
// fetches bytes, the orchestrator decides), ingests it (agents/files: stored once, read in a parser thread), and tells
// the thread in one sentence when a file was skipped; the workflow goes on either way. A role's step then sees the
// workflow's readable files (stepFiles). Files given to MCP run_task go through the same ingestion and fitting
// (runTaskFileIntake). Invariants: a download is bounded by the size limit before the bytes are
// held; a sharing is recorded once (platform + message + file id), so a re-run job neither ingests nor tells twice;
// nothing here throws for a bad file — only infrastructure failures (database, store) reach the queue's retries.
import { z } from 'zod';
import { errorMessage } from '../agents/errors';
import { FileError, FileTooLarge } from '../agents/files/errors';
import { ingestFile, type IngestedFile } from '../agents/files/ingest';
import type { FileParserPool } from '../agents/files/pool';
import type { FileStore } from '../agents/files/store';
import { FILE_KINDS, type FileMeta, type FileSection } from '../agents/files/types';
import { fitFile, type CompletionPort, type FittedFile } from '../agents/files/summarise';
import type { PromptFile } from '../agents/prompt';
import type { Role } from '../agents/roles';
import { measuredCall, type LlmCallRecord } from '../agents/llm/measure';
import type { ChatImage } from '../agents/llm/provider';
import type { LlmRouter } from '../agents/llm/router';
import type { RunTaskFileIntake } from '../agents/mcp/ports';
import type { ChatPorts, InboundFile, InboundMessage, PlatformName, ThreadRef } from './chat';
import type { Db } from './db';
import type { Logger } from './log';
import { ROLECALL_PERSONA } from './views';

/** Fetches a shared file's bytes from its platform. Throws FileTooLarge past maxBytes, FileDownloadFailed when the
 *  platform refuses or the file is gone; anything else is passing (the queue retries the job). */
export interface FileDownloader {
  /** `where`: the workspace the file was shared in (a platform with a token per workspace needs it). */
  download(file: InboundFile, maxBytes: number, where?: { teamId: string }): Promise<Uint8Array>;
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
  /** The console's public address (CONSOLE_URL): links to role output files where a platform cannot take uploads. */
  consoleUrl?: string;
  /** Seals a file's extracted text at rest (shared by content hash, so under the "*" data key); absent: clear. */
  sealText?: (text: string) => Promise<string>;
}

/** A download's body, read as a stream and abandoned past maxBytes (so an oversized file is never held whole). */
export async function readBounded(res: Response, file: InboundFile, maxBytes: number): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new FileTooLarge(file.name, Math.max(total, file.bytes ?? 0), maxBytes); // its size as the platform declared it, when larger
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
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
export async function ingestMessageFiles(deps: IngestDeps, msg: InboundMessage, workflowId: string | null): Promise<IngestedFile[]> {
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
      bytes = await downloader.download(file, cfg.maxBytes, { teamId: msg.teamId });
    } catch (e) {
      if (!(e instanceof FileError)) throw e;
      await recordUnfetched(deps.prisma, msg.platform, source, file, workflowId, e);
      skipped.push(e.message);
      continue;
    }
    const ingested = await ingestFile(bytes, { name: file.name, platform: msg.platform, source, workflowId }, { db: deps.prisma, store: cfg.store, pool: cfg.pool, limits: { maxBytes: cfg.maxBytes }, ...(cfg.sealText ? { sealText: cfg.sealText } : {}) });
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
async function recordUnfetched(prisma: Db, platform: PlatformName, source: string, file: InboundFile, workflowId: string | null, e: FileError): Promise<void> {
  await prisma.sharedFile.createMany({
    data: [{ workflowId, platform, source, name: file.name.slice(0, 1000), mime: file.mime ?? 'application/octet-stream', bytes: file.bytes ?? 0, sha256: '', blobId: null, status: 'skipped', error: e.message }],
    skipDuplicates: true,
  });
}

/** Gives a workflow the files of the message it was started from, when they were taken before it existed (the
 *  message got a clarifying question first). `messageKey` is intake's sourceKey (platform:channel:messageTs). */
export async function adoptMessageFiles(prisma: Db, platform: PlatformName, messageKey: string, workflowId: string): Promise<number> {
  const { count } = await prisma.sharedFile.updateMany({ where: { platform, workflowId: null, source: { startsWith: `${messageKey}:` } }, data: { workflowId } });
  return count;
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
  sections: FileSection[];
  /** Why an image has no OCR text. */
  ocrSkipped?: string;
}

/** The workflow's extracted files, in the order they were shared (at most `max`). */
export async function stepFiles(prisma: Db, workflowId: string, max = 20): Promise<StepFile[]> {
  return readStepFiles(prisma, { workflowId }, max);
}

/** The extracted sharings matching `where` (a workflow's, or one run_task call's), as a role's step sees them. */
async function readStepFiles(prisma: Db, where: { workflowId: string } | { id: { in: string[] } }, max: number): Promise<StepFile[]> {
  const rows = await prisma.sharedFile.findMany({ where: { ...where, status: 'extracted' }, include: { blob: true }, orderBy: [{ createdAt: 'asc' }, { source: 'asc' }], take: max });
  const out: StepFile[] = [];
  for (const r of rows) {
    if (!r.blob || r.blob.status !== 'extracted') continue;
    const ex = storedParts.safeParse(r.blob.extraction);
    const meta = ex.success ? ex.data.meta ?? {} : {};
    const text = r.blob.extractedText ?? '';
    const sections = ex.success && ex.data.structure ? ex.data.structure.sections : [{ kind: 'body' as const, title: r.name, text }];
    const ocr = ex.success ? ex.data.ocr : undefined;
    out.push({
      name: r.name, kind: r.blob.kind ?? 'text', mime: r.blob.mime, bytes: r.blob.bytes, text, truncated: ex.success && ex.data.truncated === true, meta, sha256: r.blob.sha256, sections,
      ...(ocr && 'skipped' in ocr ? { ocrSkipped: ocr.skipped } : {}),
    });
  }
  return out;
}

const SECTION_KINDS = ['page', 'sheet', 'slide', 'heading', 'entry', 'attachment', 'message', 'cell', 'file', 'table', 'body'] as const satisfies readonly FileSection['kind'][];
const fileKind = z.enum(FILE_KINDS).catch('text');

const storedParts = z.object({
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
  truncated: z.boolean().optional(),
  structure: z.object({ sections: z.array(z.object({ kind: z.enum(SECTION_KINDS), title: z.string(), level: z.number().optional(), text: z.string() })) }).optional(),
  ocr: z.union([z.object({ text: z.string(), confidence: z.number() }), z.object({ skipped: z.string() })]).optional(),
});

/** Tokens one file may take in a role's prompt before it is partly summarised. */
export const FILE_CONTEXT_TOKENS = 8_000;

export interface PromptFilesDeps {
  prisma: Db;
  llm: LlmRouter;
  log: Logger;
  files?: FilesDeps;
}

/** What a role's step gets from the workflow's files: their text as prompt files (large ones fitted to the context
 *  budget by the role's own model, every such call recorded), and images as image parts when the model can see them
 *  (otherwise their OCR text and a note saying so). */
export async function promptFiles(deps: PromptFilesDeps, role: Role, workflowId: string): Promise<{ files: PromptFile[]; images: ChatImage[]; calls: LlmCallRecord[] }> {
  return fitPromptFiles(deps, role, await stepFiles(deps.prisma, workflowId), { workflowId });
}

/** promptFiles for files already read (a workflow's, or those given to one MCP run_task call). */
async function fitPromptFiles(deps: PromptFilesDeps, role: Role, shared: StepFile[], where: Record<string, string>): Promise<{ files: PromptFile[]; images: ChatImage[]; calls: LlmCallRecord[] }> {
  const route = deps.llm.forRole(role);
  const seesImages = route.provider.capabilities.images;
  const calls: LlmCallRecord[] = [];
  const port: CompletionPort = {
    async complete(prompt) {
      const m = await measuredCall(route.provider, { model: route.model, temperature: 0, system: 'You summarise parts of files that people shared, for a colleague who will read your summary instead of the part. Be faithful and brief.', user: prompt });
      calls.push(m.record);
      if (!m.ok) throw m.error;
      return { text: m.result.text, promptTokens: m.result.promptTokens, completionTokens: m.result.completionTokens };
    },
  };
  const files: PromptFile[] = [];
  const images: ChatImage[] = [];
  for (const f of shared) {
    const notes: string[] = [];
    let text = f.text;
    if (f.kind === 'image') {
      const image = seesImages ? await visionImage(deps, f) : undefined;
      if (image) {
        images.push(image);
        notes.push(`the image itself is attached to this message as image ${images.length}; the text below was read from it by OCR`);
      } else {
        notes.push(seesImages ? 'the image could not be prepared for your model: only the text read from it by OCR is below' : 'your model cannot see images: only the text read from it by OCR is below');
      }
      if (!text.trim()) text = f.ocrSkipped ? `(no text read from the image: ${f.ocrSkipped})` : '(no text found in the image)';
    } else if (text) {
      try {
        const fitted = await cachedFit(deps.prisma, deps.files?.sealText, f, route.model, () => fitFile({ name: f.name, kind: fileKind.parse(f.kind), text, structure: { sections: f.sections } }, port, { contextTokens: FILE_CONTEXT_TOKENS, chunkTokens: FILE_CONTEXT_TOKENS / 4 }));
        if (fitted.summarised) {
          text = fitted.text;
          const summarised = fitted.parts.filter((p) => p.summarised && p.titles.length).map((p) => (p.titles.length > 1 ? `${p.titles[0]} … ${p.titles.at(-1)}` : p.titles[0]!));
          notes.push(`the file is longer than your context allows: ${summarised.length ? `these parts are summaries by a model, not the original text: ${summarised.slice(0, 30).join('; ')}${summarised.length > 30 ? '; …' : ''}` : 'parts of it are summaries'}${fitted.cut ? ' (the summaries were cut to fit)' : ''}`);
        }
      } catch (e) {
        // The model could not summarise: the role still sees the start of the file, and is told.
        deps.log.warn('could not summarise a large file; its start is used', { ...where, name: f.name, error: errorMessage(e) });
        text = text.slice(0, FILE_CONTEXT_TOKENS * 3);
        notes.push('the file is longer than your context allows and could not be summarised: only its start is below');
      }
    }
    if (f.truncated) notes.push('the file was cut at a reading limit (pages, rows, entries or characters): not all of it is below');
    files.push({ name: f.name, kind: f.kind, description: describeFile(f), text, truncated: f.truncated, notes });
  }
  return { files, images, calls };
}

type Fitted = Pick<FittedFile, 'text' | 'parts' | 'summarised' | 'cut'>;
const cachedParts = z.array(z.object({ titles: z.array(z.string()), summarised: z.boolean(), tokens: z.number() }));

/** A large file fitted to the prompt budget once per file (hash), budget and model: the map-reduce summaries are kept
 *  (FileSummary), so the next step — of this workflow or another sharing the same bytes — reuses them and its model
 *  calls (and their cost) are made and recorded once. Two steps fitting the same file at the same moment may both
 *  summarise it; the first row written is kept. The summary's text is sealed at rest with `sealText` (the shared "*"
 *  key, as the file's extracted text; read back in clear through the driver adapter). */
async function cachedFit(prisma: Db, sealText: FilesDeps['sealText'], f: StepFile, model: string, fit: () => Promise<FittedFile>): Promise<Fitted> {
  const variant = `${model}:${FILE_CONTEXT_TOKENS}:${FILE_CONTEXT_TOKENS / 4}`.slice(0, 300);
  const hit = await prisma.fileSummary.findUnique({ where: { sha256_variant: { sha256: f.sha256, variant } } });
  const parts = hit ? cachedParts.safeParse(hit.parts) : undefined;
  if (hit && parts?.success) return { text: hit.text, parts: parts.data, summarised: hit.summarised, cut: hit.cut };
  const fitted = await fit();
  if (fitted.summarised) {
    await prisma.fileSummary.createMany({ data: [{ sha256: f.sha256, variant, text: sealText ? await sealText(fitted.text) : fitted.text, parts: JSON.parse(JSON.stringify(fitted.parts)), summarised: true, cut: fitted.cut }], skipDuplicates: true });
  }
  return fitted;
}

async function visionImage(deps: PromptFilesDeps, f: StepFile): Promise<ChatImage | undefined> {
  if (!deps.files) return undefined;
  try {
    const bytes = await deps.files.store.get(f.sha256);
    if (!bytes) return undefined;
    const img = await deps.files.pool.prepareImage(bytes, f.name);
    return { name: f.name, mime: img.mime, base64: img.data.toString('base64') };
  } catch (e) {
    if (!(e instanceof FileError)) throw e;
    deps.log.warn('could not prepare an image for a vision model', { name: f.name, error: e.message });
    return undefined;
  }
}

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** "pdf, 12 KB, 3 pages": type, size and the shape that matters for the kind. */
export function describeFile(f: Pick<StepFile, 'kind' | 'bytes' | 'meta'>): string {
  const m = f.meta;
  const shape = [
    m.pages !== undefined ? `${m.pages} page${m.pages === 1 ? '' : 's'}` : '',
    m.sheets?.length ? `sheets: ${m.sheets.slice(0, 10).join(', ')}` : '',
    m.rows !== undefined ? `${m.rows} rows` : '',
    m.slides !== undefined ? `${m.slides} slides` : '',
    m.entries !== undefined ? `${m.entries} entries` : '',
    m.width !== undefined && m.height !== undefined ? `${m.width}×${m.height}` : '',
  ].filter(Boolean);
  return [f.kind, size(f.bytes), ...shape].join(', ');
}

/** Files given to MCP run_task are taken exactly like files shared in a thread: stored once by hash in the file store,
 *  read in the parser threads within the same limits, recorded as sharings (platform "mcp", source
 *  mcp:<API key prefix>:<role>:<call id>:<n>; no workflow: run_task runs none), and fitted to the role's context budget
 *  with the same summaries (the model calls are returned for the usage log). A file that cannot be read (over the
 *  size limit included) is recorded as skipped and named; the call goes on. */
export function runTaskFileIntake(deps: PromptFilesDeps & { files: FilesDeps }): RunTaskFileIntake {
  const cfg = deps.files;
  return {
    async take(given, call) {
      const shares: string[] = [];
      const skipped: string[] = [];
      for (const [n, f] of given.entries()) {
        const source = `mcp:${call.caller}:${call.role.role_id}:${call.callId}:${n + 1}`.slice(0, 500);
        const ingested = await ingestFile(f.bytes, { name: f.name, platform: 'mcp', source, workflowId: null }, { db: deps.prisma, store: cfg.store, pool: cfg.pool, limits: { maxBytes: cfg.maxBytes }, ...(cfg.sealText ? { sealText: cfg.sealText } : {}) });
        deps.log.info('file given to run_task', { role: call.role.role_id, caller: call.caller, name: f.name, status: ingested.status, bytes: ingested.bytes, reused: ingested.reused });
        if (ingested.status === 'extracted') shares.push(ingested.shareId);
        else skipped.push(ingested.error ?? `${f.name} was skipped`);
      }
      // read back from the recorded sharings exactly as a workflow's step reads its files (stepFiles)
      const read = shares.length ? await readStepFiles(deps.prisma, { id: { in: shares } }, shares.length) : [];
      const fitted = await fitPromptFiles(deps, call.role, read, { mcpCall: call.callId });
      return { ...fitted, skipped };
    },
  };
}
