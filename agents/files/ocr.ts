// OCR with tesseract.js and the English traineddata shipped on npm as @tesseract.js-data/eng, read from node_modules:
// nothing is downloaded and nothing is cached to disk (cacheMethod 'none'). One tesseract worker per thread, created
// on first use and reused. Invariant: callers get text and a confidence, or an error; they treat OCR as optional.
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Worker } from 'tesseract.js';

let worker: Promise<Worker> | undefined;

/** The folder holding eng.traineddata.gz. */
export function englishDataDir(): string {
  const pkg = createRequire(import.meta.url).resolve('@tesseract.js-data/eng/package.json');
  return path.join(path.dirname(pkg), '4.0.0_best_int');
}

async function getWorker(): Promise<Worker> {
  worker ??= (async () => {
    const { createWorker, OEM } = await import('tesseract.js');
    return createWorker('eng', OEM.LSTM_ONLY, { langPath: englishDataDir(), gzip: true, cacheMethod: 'none', logger: () => {}, errorHandler: () => {} });
  })();
  try {
    return await worker;
  } catch (e) {
    worker = undefined;
    throw e;
  }
}

/** Text in an image (PNG/JPEG bytes), with tesseract's mean confidence (0..100). */
export async function recognise(image: Buffer): Promise<{ text: string; confidence: number }> {
  const w = await getWorker();
  const { data } = await w.recognize(image);
  return { text: data.text.trim(), confidence: Math.round(data.confidence) };
}

export async function stopOcr(): Promise<void> {
  const w = worker;
  worker = undefined;
  if (w) await (await w).terminate();
}
