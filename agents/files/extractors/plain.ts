// Plain text, logs, SQL (node-sql-parser for the outline), source code (language from detect.ts) and diffs/patches
// (jsdiff's parsePatch). Invariant: the text is the file's own text, decoded once (textOf); outlines are extras whose
// failure is a warning, never a lost file.
import { parsePatch } from 'diff';
import { errorMessage } from '../../errors';
import { decodeText } from '../detect';
import { UnsupportedFileType } from '../errors';
import type { FileSection } from '../types';
import type { ExtractInput, Extractor } from './context';

/** The input's text (decoded once per input). */
export function textOf(input: ExtractInput): { text: string; encoding: string } {
  const decoded = decodeText(input.bytes);
  if (!decoded) throw new UnsupportedFileType(input.name, 'binary data');
  return { text: decoded.text.replace(/\r\n?/g, '\n'), encoding: decoded.encoding };
}

const lineCount = (s: string) => (s ? s.split('\n').length : 0);

export const extractText: Extractor = async (input) => {
  const { text, encoding } = textOf(input);
  return { sections: [{ kind: 'body', title: 'Text', text }], meta: { lines: lineCount(text), encoding } };
};

export const extractLog: Extractor = async (input) => {
  const { text, encoding } = textOf(input);
  const count = (re: RegExp) => text.match(re)?.length ?? 0;
  return {
    sections: [{ kind: 'body', title: 'Log', text }],
    meta: { lines: lineCount(text), encoding, errors: count(/\b(ERROR|FATAL|CRITICAL)\b/g), warnings: count(/\bWARN(ING)?\b/g) },
  };
};

export const extractCode: Extractor = async (input) => {
  const { text, encoding } = textOf(input);
  return { sections: [{ kind: 'body', title: input.detected.language ?? 'Code', text }], meta: { lines: lineCount(text), encoding, ...(input.detected.language ? { language: input.detected.language } : {}) } };
};

export const extractSql: Extractor = async (input, ctx) => {
  const { text, encoding } = textOf(input);
  const meta: Record<string, number | string | string[]> = { lines: lineCount(text), encoding, language: 'SQL' };
  const sample = text.slice(0, 200_000);
  const mod: { Parser?: typeof import('node-sql-parser').Parser; default?: { Parser: typeof import('node-sql-parser').Parser } } = await import('node-sql-parser/build/postgresql');
  const Parser = mod.Parser ?? mod.default?.Parser;
  if (!Parser) throw new Error('node-sql-parser has no Parser export');
  const parser = new Parser();
  let outline: string[] | undefined;
  let lastError = '';
  for (const database of ['PostgreSQL', 'MySQL']) {
    try {
      const ast = parser.astify(sample, { database });
      const list = Array.isArray(ast) ? ast : [ast];
      meta.statements = list.length;
      meta.tables = [...new Set(parser.tableList(sample, { database }).map((t) => t.split('::').slice(1).filter((p) => p !== 'null').join('.')))];
      outline = list.map((s) => s.type);
      break;
    } catch (e) {
      lastError = errorMessage(e);
    }
  }
  if (outline) meta.statementKinds = [...new Set(outline)];
  else ctx.warnings.push(`the SQL was read as text; its statements could not be parsed (${lastError.slice(0, 120)})`);
  return { sections: [{ kind: 'body', title: 'SQL', text }], meta };
};

export const extractDiff: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  let patches: ReturnType<typeof parsePatch>;
  try {
    patches = parsePatch(text);
  } catch (e) {
    ctx.warnings.push(`the patch was read as text; it could not be parsed (${errorMessage(e).slice(0, 120)})`);
    return { sections: [{ kind: 'body', title: 'Patch', text }] };
  }
  let additions = 0;
  let deletions = 0;
  const sections: FileSection[] = [];
  for (const p of patches) {
    const lines: string[] = [];
    for (const h of p.hunks) {
      lines.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
      for (const l of h.lines) {
        if (l.startsWith('+')) additions++;
        else if (l.startsWith('-')) deletions++;
        lines.push(l);
      }
    }
    const from = (p.oldFileName ?? '').replace(/^a\//, '');
    const to = (p.newFileName ?? '').replace(/^b\//, '');
    const title = from === to || to === '' ? from : from === '/dev/null' ? `${to} (new)` : to === '/dev/null' ? `${from} (deleted)` : `${from} → ${to}`;
    sections.push({ kind: 'file', title: title || 'patch', text: `--- ${p.oldFileName ?? ''}\n+++ ${p.newFileName ?? ''}\n${lines.join('\n')}` });
  }
  if (sections.length === 0) sections.push({ kind: 'body', title: 'Patch', text });
  return { sections, meta: { files: patches.length, additions, deletions } };
};
