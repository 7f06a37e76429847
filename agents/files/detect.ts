// What a file is, decided by its content: magic bytes (file-type; OLE containers opened with cfb to tell DOC, XLS and
// MSG apart), then, for text, sniffing of the text itself. The name's extension is a hint that only chooses between
// readings the content allows (a .csv that is CSV, a .ts that is TypeScript); it never makes a binary file text or a PNG
// a PDF. Invariant: detectFile never parses more than a bounded sample, and throws only file errors.
import CFB from 'cfb';
import { fileTypeFromBuffer } from 'file-type';
import hljs from 'highlight.js/lib/common';
import * as languages from 'linguist-languages';
import { EmptyFile, EncryptedFile, UnsupportedFileType } from './errors';
import type { FileKind } from './types';

export interface Detected {
  kind: FileKind;
  mime: string;
  /** Only for kind 'code' (and 'notebook' when known): the programming language. */
  language?: string;
  /** The content decided the kind (a failed parse is then a corrupt file); otherwise the name suggested it. */
  strong: boolean;
  /** Set when the name suggests another type than the content. */
  mismatch?: string;
}

const MIME: Record<FileKind, string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  doc: 'application/msword',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xls: 'application/vnd.ms-excel',
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  ndjson: 'application/x-ndjson',
  yaml: 'application/yaml',
  xml: 'application/xml',
  toml: 'application/toml',
  ini: 'text/plain',
  env: 'text/plain',
  html: 'text/html',
  markdown: 'text/markdown',
  rtf: 'application/rtf',
  eml: 'message/rfc822',
  msg: 'application/vnd.ms-outlook',
  text: 'text/plain',
  log: 'text/plain',
  notebook: 'application/x-ipynb+json',
  sql: 'application/sql',
  code: 'text/plain',
  diff: 'text/x-diff',
  zip: 'application/zip',
  image: 'application/octet-stream',
  svg: 'image/svg+xml',
};

export const mimeOf = (kind: FileKind) => MIME[kind];

/** Extensions whose name alone suggests a kind (text formats; binary ones are decided by content). */
const EXT_KIND: Record<string, FileKind> = {
  csv: 'csv', tsv: 'tsv', tab: 'tsv', json: 'json', geojson: 'json', ndjson: 'ndjson', jsonl: 'ndjson', yaml: 'yaml',
  yml: 'yaml', xml: 'xml', xsd: 'xml', xsl: 'xml', xslt: 'xml', plist: 'xml', csproj: 'xml', toml: 'toml', ini: 'ini',
  cfg: 'ini', conf: 'ini', properties: 'ini', env: 'env', html: 'html', htm: 'html', xhtml: 'html', md: 'markdown',
  markdown: 'markdown', mdx: 'markdown', rtf: 'rtf', eml: 'eml', txt: 'text', text: 'text', log: 'log', out: 'log',
  ipynb: 'notebook', sql: 'sql', diff: 'diff', patch: 'diff', svg: 'svg',
  pdf: 'pdf', docx: 'docx', doc: 'doc', pptx: 'pptx', xlsx: 'xlsx', xls: 'xls', odt: 'odt', ods: 'ods', odp: 'odp',
  msg: 'msg', zip: 'zip', png: 'image', jpg: 'image', jpeg: 'image', gif: 'image', webp: 'image', heic: 'image',
  heif: 'image', avif: 'image', bmp: 'image', tif: 'image', tiff: 'image',
};

/** Programming languages by extension and by file name (GitHub Linguist's list). */
const CODE_EXT = new Map<string, string>();
const CODE_NAMES = new Map<string, string>();
for (const lang of Object.values(languages) as { name: string; type: string; extensions?: readonly string[]; filenames?: readonly string[] }[]) {
  if (lang.type !== 'programming' || lang.name === 'SQL' || lang.name === 'PLpgSQL') continue;
  for (const ext of lang.extensions ?? []) if (!CODE_EXT.has(ext.slice(1).toLowerCase())) CODE_EXT.set(ext.slice(1).toLowerCase(), lang.name);
  for (const f of lang.filenames ?? []) CODE_NAMES.set(f, lang.name);
}
// Ambiguous extensions Linguist gives to rarer languages first.
for (const [ext, name] of [['ts', 'TypeScript'], ['h', 'C'], ['m', 'Objective-C'], ['pl', 'Perl'], ['r', 'R'], ['v', 'Verilog'], ['cs', 'C#'], ['rs', 'Rust'], ['fs', 'F#'], ['sh', 'Shell']] as const) CODE_EXT.set(ext, name);
const HLJS_NAME: Record<string, string> = {
  javascript: 'JavaScript', typescript: 'TypeScript', python: 'Python', java: 'Java', go: 'Go', rust: 'Rust', c: 'C',
  cpp: 'C++', csharp: 'C#', ruby: 'Ruby', php: 'PHP', kotlin: 'Kotlin', swift: 'Swift', bash: 'Shell', shell: 'Shell',
  scala: 'Scala', perl: 'Perl', lua: 'Lua', r: 'R', 'objectivec': 'Objective-C', makefile: 'Makefile', vbnet: 'Visual Basic .NET',
};
const AUTO_LANGUAGES = ['javascript', 'typescript', 'python', 'java', 'go', 'rust', 'c', 'cpp', 'csharp', 'ruby', 'php', 'kotlin', 'swift', 'bash', 'scala', 'perl', 'lua'];

export function extensionOf(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 || (dot === 0 && base.length > 1 && base !== '.env') ? base.slice(dot + 1).toLowerCase() : '';
}

function isEnvName(name: string): boolean {
  const base = (name.split(/[\\/]/).pop() ?? '').toLowerCase();
  return base === '.env' || base.startsWith('.env.') || base.endsWith('.env');
}

/** Text from bytes: BOMs honoured, strict UTF-8, else Windows-1252; null when the bytes are not text. */
export function decodeText(bytes: Uint8Array): { text: string; encoding: string } | null {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  const sample = bytes.subarray(0, 64 * 1024);
  let control = 0;
  for (const b of sample) {
    if (b === 0) return null;
    if (b < 32 && b !== 9 && b !== 10 && b !== 13 && b !== 12 && b !== 27) control++;
  }
  if (control > sample.length / 100 + 1) return null;
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start)), encoding: 'utf-8' };
  } catch {
    return { text: new TextDecoder('windows-1252').decode(bytes), encoding: 'windows-1252' };
  }
}

const IMAGE_EXTS = new Set(['png', 'apng', 'jpg', 'gif', 'webp', 'heic', 'avif', 'bmp', 'tif']);
const ZIP_KINDS: Record<string, FileKind> = { docx: 'docx', docm: 'docx', dotx: 'docx', dotm: 'docx', xlsx: 'xlsx', xlsm: 'xlsx', xltx: 'xlsx', xltm: 'xlsx', pptx: 'pptx', pptm: 'pptx', potx: 'pptx', potm: 'pptx', ppsx: 'pptx', ppsm: 'pptx', odt: 'odt', ott: 'odt', ods: 'ods', ots: 'ods', odp: 'odp', otp: 'odp', zip: 'zip', epub: 'zip', jar: 'zip', xpi: 'zip', apk: 'zip', '3mf': 'zip', vsdx: 'zip' };

/** The kind of an OLE compound file (DOC, XLS, MSG, or an encrypted Office Open XML file). */
function classifyCfb(bytes: Uint8Array, name: string): Detected {
  let paths: string[];
  try {
    paths = CFB.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { type: 'buffer' }).FullPaths;
  } catch {
    throw new UnsupportedFileType(name, 'a damaged OLE compound file');
  }
  const has = (n: string) => paths.some((p) => p.split('/').filter(Boolean).pop() === n);
  if (has('EncryptedPackage') || has('EncryptionInfo')) throw new EncryptedFile(name);
  if (has('WordDocument')) return { kind: 'doc', mime: MIME.doc, strong: true };
  if (has('Workbook') || has('Book')) return { kind: 'xls', mime: MIME.xls, strong: true };
  if (paths.some((p) => p.includes('__substg1.0_'))) return { kind: 'msg', mime: MIME.msg, strong: true };
  if (has('PowerPoint Document')) throw new UnsupportedFileType(name, 'a legacy PowerPoint .ppt file; save it as .pptx');
  throw new UnsupportedFileType(name, 'an OLE compound file of an unknown kind');
}

/** Decides a file's kind from its bytes, with its name as a hint. */
export async function detectFile(bytes: Uint8Array, name: string): Promise<Detected> {
  if (bytes.length === 0) throw new EmptyFile(name);
  const ext = extensionOf(name);
  const hinted: FileKind | undefined = isEnvName(name) ? 'env' : EXT_KIND[ext] ?? (CODE_EXT.has(ext) ? 'code' : undefined);
  const withMismatch = (d: Detected): Detected => {
    if (hinted && hinted !== d.kind && hinted !== 'text' && hinted !== 'log' && !(hinted === 'xml' && d.kind === 'svg')) {
      return { ...d, mismatch: `${name.split(/[\\/]/).pop()} is named .${ext || '(none)'} but its content is ${d.kind === 'image' ? d.mime : d.kind.toUpperCase()}` };
    }
    return d;
  };

  const ft = await fileTypeFromBuffer(bytes);
  if (ft && ft.ext !== 'xml') {
    if (ft.ext === 'pdf') return withMismatch({ kind: 'pdf', mime: MIME.pdf, strong: true });
    if (ft.ext === 'rtf') return withMismatch({ kind: 'rtf', mime: MIME.rtf, strong: true });
    if (ft.ext === 'cfb') return withMismatch(classifyCfb(bytes, name));
    const zipKind = ZIP_KINDS[ft.ext];
    if (zipKind) return withMismatch({ kind: zipKind, mime: zipKind === 'zip' ? ft.mime : MIME[zipKind], strong: true });
    if (IMAGE_EXTS.has(ft.ext)) return withMismatch({ kind: 'image', mime: ft.mime, strong: true });
    throw new UnsupportedFileType(name, ft.mime);
  }

  const decoded = decodeText(bytes);
  if (!decoded) throw new UnsupportedFileType(name, hinted && hinted !== 'text' ? `binary data named .${ext}` : 'binary data');
  return withMismatch(classifyText(decoded.text, name, ext, hinted));
}

/** The kind of a text, from its content first and its name second. */
export function classifyText(text: string, name: string, ext: string, hinted: FileKind | undefined): Detected {
  const d = (kind: FileKind, strong: boolean, language?: string): Detected => ({ kind, mime: MIME[kind], strong, ...(language ? { language } : {}) });
  const head = text.slice(0, 4096);
  const trimmed = head.trimStart();

  if (trimmed.startsWith('{\\rtf')) return d('rtf', true);
  if (trimmed.startsWith('<')) {
    if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(trimmed)) return d('svg', true);
    if (/<!doctype html|<html[\s>]|<head[\s>]|<body[\s>]/i.test(head) || hinted === 'html') return d('html', true);
    if (/^<\?xml|^<[A-Za-z_][\w:.-]*[\s>/]/.test(trimmed)) return d(hinted === 'svg' ? 'svg' : 'xml', true);
  }
  if (/^diff --git |^--- \S[^\n]*\n\+\+\+ \S[^\n]*\n@@ /m.test(head) || (hinted === 'diff' && /^@@ -\d/m.test(head))) return d('diff', true);
  if (/^[[{]/.test(trimmed)) {
    const json = tryJson(text);
    if (json.ok) {
      const v = json.value;
      if (v && typeof v === 'object' && !Array.isArray(v) && 'cells' in v && 'nbformat' in v) return d('notebook', true);
      return d('json', true);
    }
    const lines = text.split('\n').filter((l) => l.trim()).slice(0, 20);
    if (lines.length >= 2 && lines.every((l) => tryJson(l).ok)) return d('ndjson', true);
    if (hinted === 'json' || hinted === 'notebook') return d(hinted, true); // named JSON and shaped like it: corrupt JSON
  }
  if (looksLikeMail(head)) return d('eml', true);

  // The name chooses between readings the content allows.
  if (hinted && hinted !== 'text') {
    if (hinted === 'code') {
      const base = name.split(/[\\/]/).pop() ?? '';
      return d('code', false, CODE_EXT.get(ext) ?? CODE_NAMES.get(base));
    }
    if (!['pdf', 'docx', 'doc', 'pptx', 'xlsx', 'xls', 'odt', 'ods', 'odp', 'msg', 'zip', 'image', 'rtf', 'svg', 'html', 'json', 'notebook', 'xml', 'eml'].includes(hinted)) return d(hinted, false);
  }
  const base = name.split(/[\\/]/).pop() ?? '';
  if (CODE_NAMES.has(base)) return d('code', false, CODE_NAMES.get(base));

  // Content alone.
  if (head.startsWith('#!')) {
    const parts = (head.split('\n')[0] ?? '').slice(2).trim().split(/\s+/);
    let prog = parts[0]?.split('/').pop() ?? '';
    if (prog === 'env') prog = parts.find((p, i) => i > 0 && !p.startsWith('-')) ?? '';
    prog = prog.replace(/[\d.]+$/, '');
    const byProgram: Record<string, string> = { python: 'Python', node: 'JavaScript', deno: 'TypeScript', bun: 'TypeScript', bash: 'Shell', sh: 'Shell', zsh: 'Shell', ruby: 'Ruby', perl: 'Perl', php: 'PHP' };
    return d('code', true, byProgram[prog] ?? 'Shell');
  }
  const lines = head.split(/\r?\n/).filter((l) => l.trim()).slice(0, 40);
  const share = (re: RegExp) => (lines.length ? lines.filter((l) => re.test(l)).length / lines.length : 0);
  if (share(/^\s*(\d{4}-\d\d-\d\d[T ]\d\d:\d\d|\[?\d{4}-\d\d-\d\d|\w{3} [ \d]\d \d\d:\d\d:\d\d|\[(INFO|WARN|ERROR|DEBUG)\]|(INFO|WARN|WARNING|ERROR|DEBUG|TRACE)\b)/) >= 0.5) return d('log', true);
  if (share(/^\s*(CREATE|SELECT|INSERT|UPDATE|DELETE|ALTER|DROP|WITH|BEGIN|COMMIT|GRANT)\b/i) >= 0.3 && /;\s*$/m.test(head)) return d('sql', true);
  if (/^#{1,6} \S/m.test(head) && (/\[[^\]]+\]\([^)]+\)|^\s*[-*] \S|^```/m.test(head) || share(/^#{1,6} /) >= 0.1)) return d('markdown', true);
  const delim = delimiterOf(lines);
  if (delim === '\t') return d('tsv', true);
  if (delim) return d('csv', true);
  if (lines.length >= 2 && share(/^[A-Z][A-Z0-9_]*=/) === 1) return d('env', true);
  if (share(/^\s*\[[\w.\s"-]+\]\s*$/) > 0 && share(/^\s*(\[[^\]]+\]|[\w.-]+\s*=\s*\S.*|[#;].*)$/) === 1) return d(/=\s*["[{]|=\s*(true|false|\d)/.test(head) ? 'toml' : 'ini', true);
  if ((/^---\s*$/m.test(head) || share(/^\s*[\w-]+:(\s|$)/) >= 0.6) && share(/^\s*([\w-]+:(\s|$)|- |#|---)/) >= 0.8) return d('yaml', true);
  const sample = text.slice(0, 20_000);
  const auto = hljs.highlightAuto(sample, AUTO_LANGUAGES);
  if (auto.language && auto.relevance >= 12 && share(/[;{}()=]|^\s*(def|import|from|class|fn|func|package|use)\b/) >= 0.4) return d('code', true, HLJS_NAME[auto.language] ?? auto.language);
  return d('text', false);
}

function tryJson(s: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(s) };
  } catch {
    return { ok: false };
  }
}

function looksLikeMail(head: string): boolean {
  const block = head.split(/\r?\n\r?\n/)[0] ?? '';
  if (!/^[A-Za-z][\w-]*: /.test(block)) return false;
  const found = ['from', 'to', 'subject', 'date', 'mime-version', 'received', 'message-id', 'return-path'].filter((h) => new RegExp(`^${h}:`, 'im').test(block));
  return found.length >= 3 && /^from:/im.test(block);
}

/** The delimiter of delimiter-separated lines (same count, at least one, on every sampled line), if any. */
function delimiterOf(lines: string[]): string | undefined {
  if (lines.length < 2) return undefined;
  for (const delim of ['\t', ',', ';', '|']) {
    const counts = lines.slice(0, 10).map((l) => countOutsideQuotes(l, delim));
    if (counts[0] && counts[0] > 0 && counts.every((c) => c === counts[0])) return delim;
  }
  return undefined;
}

function countOutsideQuotes(line: string, delim: string): number {
  let n = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === delim && !quoted) n++;
  }
  return n;
}
