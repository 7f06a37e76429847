// The shapes of file ingestion: what a file is (kind), what reading it gives (FileExtraction), the limits that bound
// reading, and the budget shared by a file and everything nested in it. Invariant: a FileExtraction is plain data
// (it crosses a worker-thread boundary and is stored as JSON), and `text` is always the sections' text joined.

export const FILE_KINDS = [
  'pdf', 'docx', 'doc', 'pptx', 'xlsx', 'xls', 'odt', 'ods', 'odp', 'csv', 'tsv', 'json', 'ndjson', 'yaml', 'xml',
  'toml', 'ini', 'env', 'html', 'markdown', 'rtf', 'eml', 'msg', 'text', 'log', 'notebook', 'sql', 'code', 'diff',
  'zip', 'image', 'svg',
] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** One part of a file, in reading order: a page, a sheet, a slide, a heading's section, an archive entry, ... */
export interface FileSection {
  kind: 'page' | 'sheet' | 'slide' | 'heading' | 'entry' | 'attachment' | 'message' | 'cell' | 'file' | 'table' | 'body';
  /** "Page 3", "Sheet Budget", "Introduction", "docs/a.md", ... */
  title: string;
  /** Heading level (1..6) for headings; nesting depth for entries and attachments. */
  level?: number;
  text: string;
}

export interface FileMeta {
  pages?: number;
  sheets?: string[];
  rows?: number;
  columns?: number;
  slides?: number;
  entries?: number;
  width?: number;
  height?: number;
  /** Frames of an animated image. */
  frames?: number;
  language?: string;
  encoding?: string;
  title?: string;
  author?: string;
  [key: string]: string | number | boolean | string[] | undefined;
}

export interface FileExtraction {
  kind: FileKind;
  mime: string;
  name: string;
  bytes: number;
  sha256: string;
  text: string;
  structure: { sections: FileSection[] };
  meta: FileMeta;
  /** Something was left out because of a limit (pages, rows, entries, characters); `warnings` says what. */
  truncated: boolean;
  warnings: string[];
  /** Set for images: text read from the image by OCR (also in `text`), or why there is none. */
  ocr?: { text: string; confidence: number } | { skipped: string };
}

/** Bounds on reading one file (and everything nested in it). */
export interface FileLimits {
  /** Largest file accepted (default 25 MB). */
  maxBytes: number;
  /** Pages of a PDF, slides of a presentation. */
  maxPages: number;
  /** Rows across all sheets / CSV / NDJSON lines. */
  maxRows: number;
  /** Archive entries, mail attachments, notebook cells, JSON top-level entries listed. */
  maxEntries: number;
  /** Characters of extracted text kept in all. */
  maxTextChars: number;
  /** Bytes an archive (or zip-based document) may expand to in all. */
  maxUncompressedBytes: number;
  /** Largest expansion ratio of one compressed entry above 1 MB. */
  maxCompressionRatio: number;
  /** Archives in archives, attachments in mails. */
  maxDepth: number;
  /** Pixels of an image (width × height). */
  maxImagePixels: number;
  /** Read text in images with OCR. */
  ocr: boolean;
}

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxBytes: 25 * 1024 * 1024,
  maxPages: 500,
  maxRows: 20_000,
  maxEntries: 1_000,
  maxTextChars: 2_000_000,
  maxUncompressedBytes: 200 * 1024 * 1024,
  maxCompressionRatio: 200,
  maxDepth: 3,
  maxImagePixels: 100_000_000,
  ocr: true,
};

/** What a file's text may still take; shared by a file and everything nested in it. */
export class TextBudget {
  private used = 0;
  truncated = false;
  constructor(readonly maxChars: number) {}
  get left(): number {
    return Math.max(0, this.maxChars - this.used);
  }
  /** The part of `text` that fits; marks the budget truncated when something was cut. */
  take(text: string): string {
    const left = this.left;
    if (text.length <= left) {
      this.used += text.length;
      return text;
    }
    this.truncated = true;
    this.used = this.maxChars;
    return text.slice(0, left);
  }
}

/** What an extractor returns; extract.ts adds name, sizes, hash and joins the text. */
export interface Extracted {
  sections: FileSection[];
  meta?: FileMeta;
  truncated?: boolean;
  warnings?: string[];
  ocr?: FileExtraction['ocr'];
}
