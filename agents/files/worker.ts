// The parser thread: runs extractFile and the vision-image preparation off the main event loop, one task at a time
// (piscina). Invariant: it answers with plain data only — a result, or a FileError as FileErrorData — so the pool can
// rebuild the typed error; anything else thrown becomes a CorruptFile here. The pool terminates this thread on timeout.
import { workerData } from 'node:worker_threads';
import { errorMessage } from '../errors';
import { CorruptFile, FileError, type FileErrorData, fileErrorData } from './errors';
import { extractFile } from './extract';
import { prepareImageForVision, type VisionOptions } from './images';
import type { FileExtraction, FileLimits } from './types';

export type WorkerTask =
  | { op: 'extract'; bytes: Uint8Array; name: string; limits: FileLimits; started: SharedArrayBuffer }
  | { op: 'vision'; bytes: Uint8Array; name: string; options: VisionOptions; started: SharedArrayBuffer };

export type WorkerAnswer =
  | { ok: true; extraction: FileExtraction }
  | { ok: true; image: { mime: 'image/jpeg' | 'image/png'; data: Uint8Array; width: number; height: number } }
  | { ok: false; error: FileErrorData };

// Test hook: a module that replaces extractors in this thread (see FileParserPoolOptions.testHookModule).
const hook = (workerData as { hookModule?: string } | undefined)?.hookModule;
if (hook) await import(hook);

export default async function handle(task: WorkerTask): Promise<WorkerAnswer> {
  Atomics.store(new Int32Array(task.started), 0, 1); // the pool's time limit starts now
  try {
    if (task.op === 'extract') return { ok: true, extraction: await extractFile(task.bytes, task.name, task.limits) };
    const img = await prepareImageForVision(task.bytes, task.name, task.options);
    return { ok: true, image: { mime: img.mime, data: new Uint8Array(img.data), width: img.width, height: img.height } };
  } catch (e) {
    const err = e instanceof FileError ? e : new CorruptFile(task.name, errorMessage(e));
    return { ok: false, error: fileErrorData(err) };
  }
}
