// What every extractor receives: the bytes, the detected kind, the limits, and counters shared by a file and all that
// is nested in it (pages, rows, entries), plus a way to read a nested file (archive entry, mail attachment) through the
// same dispatcher. Invariant: an extractor never exceeds a limit silently — it stops and says so in `warnings`.
import type { Detected } from '../detect';
import type { FileError } from '../errors';
import type { Extracted, FileExtraction, FileLimits, FileSection } from '../types';

export interface ExtractInput {
  bytes: Uint8Array;
  name: string;
  detected: Detected;
}

export interface Counters {
  rows: number;
  pages: number;
  entries: number;
}

export interface ExtractContext {
  limits: FileLimits;
  depth: number;
  counters: Counters;
  warnings: string[];
  /** Reads a nested file with the same limits and counters; a failure comes back as the error, not thrown. */
  nested(bytes: Uint8Array, name: string): Promise<FileExtraction | FileError>;
}

export type Extractor = (input: ExtractInput, ctx: ExtractContext) => Promise<Extracted>;

const HEADING = /^\u001eH([1-6])\u001f(.*)$/;

/** Marks a heading line in generated text (HTML, DOCX, ODT) so that sectionsByHeadings can split on it. */
export const headingMarker = (level: number, title: string) => `\u001eH${level}\u001f${title.replace(/\s+/g, ' ').trim()}`;

/** Splits text with heading markers into one section per heading (text before the first heading: a body section). */
export function sectionsByHeadings(text: string): FileSection[] {
  const sections: FileSection[] = [];
  let current: FileSection = { kind: 'body', title: 'Start', text: '' };
  const lines: string[] = [];
  const flush = () => {
    current.text = lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
    if (current.text || current.kind === 'heading') sections.push(current);
    lines.length = 0;
  };
  for (const line of text.split('\n')) {
    const m = HEADING.exec(line);
    if (m) {
      flush();
      const level = Number(m[1]);
      current = { kind: 'heading', title: m[2] ?? '', level, text: '' };
      lines.push(`${'#'.repeat(level)} ${m[2] ?? ''}`);
    } else lines.push(line);
  }
  flush();
  return sections;
}

/** Stops a loop at a limit, with one warning. */
export function limitWarning(ctx: ExtractContext, what: string, limit: number, total?: number) {
  ctx.warnings.push(`only the first ${limit} ${what}${total !== undefined ? ` of ${total}` : ''} were read (limit)`);
}

/** The sections of a nested file (attachment, archive entry) under its label, or one note saying why it was skipped. */
export function nestedSections(label: string, kind: 'attachment' | 'entry', result: FileExtraction | FileError, depth: number): FileSection[] {
  if (!('kind' in result && 'structure' in result)) return [{ kind, title: label, level: depth, text: `[${result.message}]` }];
  const summary = `[${result.kind}${result.meta.pages ? `, ${result.meta.pages} pages` : ''}${result.meta.width ? `, ${result.meta.width}×${result.meta.height}` : ''}, ${result.bytes} bytes]`;
  const head: FileSection = { kind, title: label, level: depth, text: summary };
  const body = result.structure.sections.filter((s) => s.text.trim()).map((s) => ({ ...s, title: `${label} › ${s.title}`, level: depth }));
  return [head, ...body];
}
