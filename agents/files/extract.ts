// Reading a file: size check, hash, type by content (detect.ts), the extractor for that kind, then the text budget.
// Runs inside a parser worker (pool.ts) in production; callable directly where the caller bounds time itself.
// Invariant: the result always carries the content's sha256 and detected kind; every failure is a FileError (a parser's
// own exception becomes CorruptFile); a kind suggested only by the name falls back to plain text when it does not parse.
import { errorMessage } from '../errors';
import { type Detected, detectFile, mimeOf } from './detect';
import { CorruptFile, FileError, FileTooComplex, FileTooLarge } from './errors';
import { sha256Hex } from './store';
import type { Counters, ExtractContext, Extractor } from './extractors/context';
import { DEFAULT_FILE_LIMITS, type Extracted, type FileExtraction, type FileKind, type FileLimits, type FileSection, TextBudget } from './types';

// Parsers load on first use: a parser thread starts fast and holds only the libraries its files need.
const documents = () => import('./extractors/documents');
const data = () => import('./extractors/data');
const markup = () => import('./extractors/markup');
const officeXml = () => import('./extractors/office-xml');
const plain = () => import('./extractors/plain');
const sheets = () => import('./extractors/sheets');
const EXTRACTORS: Record<FileKind, () => Promise<Extractor>> = {
  pdf: async () => (await documents()).extractPdf, docx: async () => (await documents()).extractDocx,
  doc: async () => (await documents()).extractDoc, rtf: async () => (await documents()).extractRtf,
  pptx: async () => (await officeXml()).extractPptx, odt: async () => (await officeXml()).extractOdt,
  odp: async () => (await officeXml()).extractOdp, xlsx: async () => (await sheets()).extractXlsx,
  xls: async () => (await sheets()).extractSheetJs, ods: async () => (await sheets()).extractSheetJs,
  csv: async () => (await import('./extractors/csv')).extractCsv, tsv: async () => (await import('./extractors/csv')).extractCsv,
  json: async () => (await data()).extractJson, ndjson: async () => (await data()).extractNdjson,
  yaml: async () => (await data()).extractYaml, xml: async () => (await data()).extractXml,
  toml: async () => (await data()).extractToml, ini: async () => (await data()).extractIni,
  env: async () => (await data()).extractEnv, notebook: async () => (await data()).extractNotebook,
  html: async () => (await markup()).extractHtml, markdown: async () => (await markup()).extractMarkdown,
  svg: async () => (await markup()).extractSvg, eml: async () => (await import('./extractors/mail')).extractEml,
  msg: async () => (await import('./extractors/mail')).extractMsg, text: async () => (await plain()).extractText,
  log: async () => (await plain()).extractLog, sql: async () => (await plain()).extractSql,
  code: async () => (await plain()).extractCode, diff: async () => (await plain()).extractDiff,
  zip: async () => (await import('./extractors/archive')).extractZip,
  image: async () => (await import('./extractors/image')).extractImage,
};

const overrides = new Map<FileKind, Extractor>();

/** Test hook: replaces the extractor of one kind in this thread (the worker pool loads such overrides from a module). */
export function overrideExtractor(kind: FileKind, extractor: Extractor | undefined): void {
  if (extractor) overrides.set(kind, extractor);
  else overrides.delete(kind);
}


/** Reads one file. Throws a FileError when it cannot be read at all. */
export async function extractFile(bytes: Uint8Array, name: string, limits: Partial<FileLimits> = {}): Promise<FileExtraction> {
  const all: FileLimits = { ...DEFAULT_FILE_LIMITS, ...limits };
  const result = await extractAt(bytes, name, all, 0, { rows: 0, pages: 0, entries: 0 });
  return applyBudget(result, all.maxTextChars);
}

async function extractAt(bytes: Uint8Array, name: string, limits: FileLimits, depth: number, counters: Counters): Promise<FileExtraction> {
  if (bytes.length > limits.maxBytes) throw new FileTooLarge(name, bytes.length, limits.maxBytes);
  const hash = sha256Hex(bytes);
  const detected = await detectFile(bytes, name);
  const warnings: string[] = detected.mismatch ? [detected.mismatch] : [];
  const ctx: ExtractContext = {
    limits,
    depth,
    counters,
    warnings,
    nested: async (b, n) => {
      try {
        return await extractAt(b, n, limits, depth + 1, counters);
      } catch (e) {
        return e instanceof FileError ? e : new CorruptFile(n, errorMessage(e));
      }
    },
  };
  let kind = detected.kind;
  let out: Extracted;
  try {
    out = await run(detected, bytes, name, ctx);
  } catch (e) {
    if (!detected.strong && kind !== 'text' && e instanceof FileError && !(e instanceof FileTooLarge)) {
      warnings.push(`${kind.toUpperCase()} by its name, but it did not parse (${e.reason}); read as plain text`);
      kind = 'text';
      out = await run({ kind: 'text', mime: mimeOf('text'), strong: false }, bytes, name, ctx);
    } else throw e;
  }
  const sections = out.sections;
  return {
    kind,
    mime: kind === 'image' ? detected.mime : mimeOf(kind),
    name,
    bytes: bytes.length,
    sha256: hash,
    text: joinSections(sections),
    structure: { sections },
    meta: { ...(out.meta ?? {}) },
    truncated: out.truncated ?? false,
    warnings: [...warnings, ...(out.warnings ?? [])],
    ...(out.ocr ? { ocr: out.ocr } : {}),
  };
}

async function run(detected: Detected, bytes: Uint8Array, name: string, ctx: ExtractContext): Promise<Extracted> {
  try {
    const extractor = overrides.get(detected.kind) ?? (await EXTRACTORS[detected.kind]());
    return await extractor({ bytes, name, detected }, ctx);
  } catch (e) {
    if (e instanceof FileError) throw e;
    if (e instanceof RangeError) throw new FileTooComplex(name, errorMessage(e).slice(0, 100));
    throw new CorruptFile(name, errorMessage(e), { cause: e });
  }
}

/** The whole text: a single body section as is; otherwise each section under its title (headings carry their own). */
export function joinSections(sections: FileSection[]): string {
  if (sections.length === 1 && sections[0]?.kind === 'body') return sections[0].text;
  return sections.map((s) => (s.kind === 'heading' ? s.text : `[${s.title}]\n${s.text}`)).join('\n\n');
}

function applyBudget(result: FileExtraction, maxChars: number): FileExtraction {
  const budget = new TextBudget(maxChars);
  const kept: FileSection[] = [];
  let dropped = 0;
  for (const s of result.structure.sections) {
    if (budget.left === 0) {
      dropped++;
      continue;
    }
    kept.push({ ...s, text: budget.take(s.text) });
  }
  if (!budget.truncated) return result;
  return {
    ...result,
    text: joinSections(kept),
    structure: { sections: kept },
    truncated: true,
    warnings: [...result.warnings, `the text was cut at ${maxChars} characters${dropped ? ` (${dropped} more section${dropped > 1 ? 's' : ''} left out)` : ''}`],
  };
}
