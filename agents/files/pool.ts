// The parser pool: file parsing and image preparation run in worker threads (piscina), never on the caller's event
// loop. Invariants: a task gets a hard time limit that starts when a thread has taken it (the thread flags the start in
// shared memory; waiting in a queue or for a thread to boot does not count, within startupMs); on timeout the thread is terminated (piscina ends a thread whose
// task is aborted) and the caller gets ParseTimeout; a thread that runs out of its heap limit gives FileTooComplex;
// the size limit is checked before any bytes are copied to a thread.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { errorMessage } from '../errors';
import { CorruptFile, FileError, FileTooComplex, FileTooLarge, ParseTimeout, fileErrorFromData } from './errors';
import type { VisionImage, VisionOptions } from './images';
import { DEFAULT_FILE_LIMITS, type FileExtraction, type FileLimits } from './types';
import type { WorkerAnswer, WorkerTask } from './worker';

export interface FileParserPoolOptions {
  /** Hard time limit of one task (default 30 s). */
  timeoutMs?: number;
  /** How long a task may wait for a thread to take it (default 120 s): the thread boots, or others are busy. */
  startupMs?: number;
  /** Parser threads (default 2). */
  threads?: number;
  /** JavaScript heap of one parser thread, MB (default 512). */
  heapMb?: number;
  /** Default limits of extract(). */
  limits?: Partial<FileLimits>;
  /** Tests only: a module URL each thread imports at start (it may call overrideExtractor). */
  testHookModule?: string;
}

export class FileParserPool {
  private readonly piscina: Piscina;
  private readonly timeoutMs: number;
  private readonly startupMs: number;
  private readonly threads: number;
  private readonly limits: FileLimits;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(options: FileParserPoolOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.startupMs = options.startupMs ?? 120_000;
    this.threads = Math.max(1, options.threads ?? 2);
    this.limits = { ...DEFAULT_FILE_LIMITS, ...options.limits };
    const heapMb = options.heapMb ?? 512;
    // Built (scripts/build.ts compiles worker.ts to worker.js beside this module): the JavaScript thread entry; from
    // the TypeScript sources: worker-boot.mjs, which registers tsx in the thread first.
    const built = new URL('./worker.js', import.meta.url);
    const filename = (existsSync(fileURLToPath(built)) ? built : new URL('./worker-boot.mjs', import.meta.url)).href;
    this.piscina = new Piscina({
      filename,
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      resourceLimits: { maxOldGenerationSizeMb: heapMb, maxYoungGenerationSizeMb: Math.min(64, Math.max(16, heapMb / 8)) },
      execArgv: process.execArgv.filter((a) => !a.startsWith('--inspect')),
      workerData: { hookModule: options.testHookModule },
    });
    // A thread that dies outside a task (e.g. while starting) must not take the process down; its task, if any, fails.
    this.piscina.on('error', () => {});
  }

  /** Reads a file in a parser thread. Throws a FileError. */
  async extract(bytes: Uint8Array, name: string, limits: Partial<FileLimits> = {}): Promise<FileExtraction> {
    const all = { ...this.limits, ...limits };
    if (bytes.length > all.maxBytes) throw new FileTooLarge(name, bytes.length, all.maxBytes);
    const answer = await this.run({ op: 'extract', bytes, name, limits: all, started: new SharedArrayBuffer(4) }, name);
    if ('extraction' in answer) return answer.extraction;
    throw new CorruptFile(name, 'unexpected answer from the parser thread');
  }

  /** Resizes and re-encodes an image for a vision model in a parser thread. Throws a FileError. */
  async prepareImage(bytes: Uint8Array, name: string, options: VisionOptions = {}): Promise<VisionImage> {
    if (bytes.length > this.limits.maxBytes) throw new FileTooLarge(name, bytes.length, this.limits.maxBytes);
    const answer = await this.run({ op: 'vision', bytes, name, options: { maxPixels: this.limits.maxImagePixels, ...options }, started: new SharedArrayBuffer(4) }, name);
    if ('image' in answer) return { ...answer.image, data: Buffer.from(answer.image.data) };
    throw new CorruptFile(name, 'unexpected answer from the parser thread');
  }

  private async run(task: WorkerTask, name: string): Promise<WorkerAnswer> {
    await this.slot();
    const controller = new AbortController();
    const started = new Int32Array(task.started);
    const queuedAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const watch = () => {
      if (Atomics.load(started, 0) === 1) timer = setTimeout(() => controller.abort(), this.timeoutMs);
      else if (Date.now() - queuedAt > this.startupMs) controller.abort();
      else timer = setTimeout(watch, 20);
    };
    watch();
    try {
      // Aborting a task that a thread has taken terminates that thread (piscina), which stops even a busy loop.
      const answer = (await this.piscina.run(task, { signal: controller.signal })) as WorkerAnswer;
      if (!answer.ok) throw fileErrorFromData(answer.error);
      return answer;
    } catch (e) {
      throw this.failure(e, name);
    } finally {
      clearTimeout(timer);
      this.release();
    }
  }

  private failure(e: unknown, name: string): FileError {
    if (e instanceof FileError) return e;
    const code = e && typeof e === 'object' && 'code' in e ? String((e as { code: unknown }).code) : '';
    if (e instanceof Error && e.name === 'AbortError') return new ParseTimeout(name, this.timeoutMs);
    if (code === 'ERR_WORKER_OUT_OF_MEMORY') return new FileTooComplex(name, 'it needed more memory than a parser may use');
    return new CorruptFile(name, `the parser thread failed: ${errorMessage(e)}`);
  }

  private async slot(): Promise<void> {
    if (this.running < this.threads) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** Ids of the threads now alive (tests check that a timed-out task's thread is gone). */
  get threadIds(): number[] {
    return this.piscina.threads.map((t) => t.threadId);
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
