// Structured text: JSON, NDJSON, Jupyter notebooks (zod), YAML (yaml), XML (fast-xml-parser), TOML (smol-toml),
// INI (ini) and .env (dotenv). Invariant: a value under a secret-looking key, or shaped like a known credential, is
// masked in INI and .env files before the text leaves the parser; XML entities are never expanded; YAML aliases are
// bounded (billion laughs).
import { parse as parseEnv } from 'dotenv';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parse as parseIni } from 'ini';
import { parse as parseToml } from 'smol-toml';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { errorMessage } from '../../errors';
import { CorruptFile } from '../errors';
import type { FileSection } from '../types';
import { type Extractor, limitWarning } from './context';
import { textOf } from './plain';

const SECRET_KEY = /(pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth|session|cookie|signature|salt|dsn|connection[_-]?string|webhook|client[_-]?id)/i;
const SECRET_VALUE = /^(sk-|sk_live_|rk_live_|xox[abposr]-|xapp-|ghp_|gho_|ghs_|github_pat_|glpat-|AKIA|ASIA|AIza|eyJ[\w-]{10,}\.|-----BEGIN)/;

/** A value as it may be shown: masked when its key or its shape says it is a secret; credentials in URLs masked. */
export function maskValue(key: string, value: string): string {
  const v = value.trim();
  if (!v) return value;
  if (SECRET_KEY.test(key) || SECRET_VALUE.test(v.replace(/^["']/, ''))) return '****(masked)';
  return v.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/@\s]+:)[^@\s]+@/gi, '$1****@');
}

function maskLines(text: string): { text: string; masked: number } {
  let masked = 0;
  const out = text.split('\n').map((line) => {
    const m = /^(\s*(?:export\s+)?)([^=:#;\s[][^=:]*?)(\s*[=:]\s*)(.*)$/.exec(line);
    if (!m) return line;
    const [, lead = '', key = '', sep = '', value = ''] = m;
    const shown = maskValue(key, value);
    if (shown !== value.trim() && shown !== value) masked++;
    return `${lead}${key}${sep}${shown}`;
  });
  return { text: out.join('\n'), masked };
}

export const extractEnv: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  const keys = Object.keys(parseEnv(Buffer.from(text)));
  const { text: shown, masked } = maskLines(text);
  if (masked) ctx.warnings.push(`${masked} secret value${masked > 1 ? 's were' : ' was'} masked`);
  return { sections: [{ kind: 'body', title: 'Variables', text: shown }], meta: { keys: keys.length, masked } };
};

export const extractIni: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  const parsed = parseIni(text) as Record<string, unknown>;
  const { text: shown, masked } = maskLines(text);
  if (masked) ctx.warnings.push(`${masked} secret value${masked > 1 ? 's were' : ' was'} masked`);
  const sections = splitAt(shown, /^\s*\[([^\]]+)\]\s*$/, 'table');
  return { sections, meta: { sections: Object.values(parsed).filter((v) => v && typeof v === 'object').length, masked } };
};

/** Sections of a text split before each line matching `re` (its first group is the title). */
function splitAt(text: string, re: RegExp, kind: FileSection['kind'], firstTitle = 'Start'): FileSection[] {
  const sections: FileSection[] = [];
  let title = firstTitle;
  let lines: string[] = [];
  const flush = () => {
    const t = lines.join('\n').trim();
    if (t) sections.push({ kind: sections.length === 0 && title === firstTitle ? 'body' : kind, title, text: t });
    lines = [];
  };
  for (const line of text.split('\n')) {
    const m = re.exec(line);
    if (m) {
      flush();
      title = m[1] ?? line;
    }
    lines.push(line);
  }
  flush();
  return sections;
}

export const extractToml: Extractor = async (input) => {
  const { text } = textOf(input);
  let value: Record<string, unknown>;
  try {
    value = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new CorruptFile(input.name, errorMessage(e).split('\n')[0] ?? 'invalid TOML');
  }
  return { sections: splitAt(text, /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*$/, 'table'), meta: { keys: Object.keys(value).length } };
};

export const extractYaml: Extractor = async (input) => {
  const { text } = textOf(input);
  const docs = parseAllDocuments(text, { prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const d of list) {
    const err = d.errors[0];
    if (err) throw new CorruptFile(input.name, err.message.split('\n')[0] ?? 'invalid YAML');
    d.toJS({ maxAliasCount: 100 }); // throws on alias bombs
  }
  const sections = list.length === 1 ? splitAt(text, /^([A-Za-z_"'][^:#\n]*):(\s|$)/, 'entry') : splitAt(text, /^(---.*)$/, 'entry');
  return { sections, meta: { documents: list.length } };
};

export const extractXml: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new CorruptFile(input.name, `${valid.err.msg} (line ${valid.err.line})`);
  const root = Object.keys(new XMLParser({ processEntities: false, htmlEntities: false, ignoreDeclaration: true, ignorePiTags: true, ignoreAttributes: true, stopNodes: ['*.*'] }).parse(text) as Record<string, unknown>).find((k) => !k.startsWith('?') && k !== '#text');
  if (/<!ENTITY/i.test(text)) ctx.warnings.push('entity declarations were left unexpanded');
  return { sections: [{ kind: 'body', title: root ? `<${root}>` : 'XML', text }], meta: { ...(root ? { root } : {}), elements: text.match(/<[A-Za-z_]/g)?.length ?? 0 } };
};

export const extractJson: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CorruptFile(input.name, errorMessage(e));
  }
  const pretty = text.split('\n').length > 1 ? text : JSON.stringify(value, null, 2);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const shown = keys.slice(0, ctx.limits.maxEntries);
    if (keys.length > shown.length) limitWarning(ctx, 'top-level keys', shown.length, keys.length);
    const sections: FileSection[] = shown.map((k) => ({ kind: 'entry', title: k, text: `${JSON.stringify(k)}: ${JSON.stringify((value as Record<string, unknown>)[k], null, 2)}` }));
    return { sections: keys.length > 1 ? sections : [{ kind: 'body', title: 'JSON', text: pretty }], meta: { keys: keys.length }, truncated: keys.length > shown.length };
  }
  return { sections: [{ kind: 'body', title: 'JSON', text: pretty }], meta: Array.isArray(value) ? { rows: value.length } : {} };
};

export const extractNdjson: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  const lines = text.split('\n').filter((l) => l.trim());
  const room = Math.max(0, ctx.limits.maxRows - ctx.counters.rows);
  const kept = lines.slice(0, room);
  let bad = 0;
  for (const l of kept) {
    try {
      JSON.parse(l);
    } catch {
      bad++;
    }
  }
  if (bad === kept.length && kept.length > 0) throw new CorruptFile(input.name, 'no line is JSON');
  if (bad) ctx.warnings.push(`${bad} line${bad > 1 ? 's are' : ' is'} not valid JSON`);
  ctx.counters.rows += kept.length;
  if (kept.length < lines.length) limitWarning(ctx, 'lines', kept.length, lines.length);
  return { sections: [{ kind: 'table', title: 'Records', text: kept.join('\n') }], meta: { rows: lines.length }, truncated: kept.length < lines.length };
};

const source = z.union([z.string(), z.array(z.string())]).transform((s) => (Array.isArray(s) ? s.join('') : s));
const notebookSchema = z.object({
  nbformat: z.number(),
  metadata: z.object({ kernelspec: z.object({ language: z.string().optional(), display_name: z.string().optional() }).partial().optional(), language_info: z.object({ name: z.string().optional() }).optional() }).passthrough().optional(),
  cells: z.array(
    z.object({
      cell_type: z.string(),
      source: source.optional(),
      outputs: z.array(z.object({ output_type: z.string(), text: source.optional(), data: z.record(z.string(), z.unknown()).optional(), ename: z.string().optional(), evalue: z.string().optional() }).passthrough()).optional(),
    }).passthrough(),
  ),
});

export const extractNotebook: Extractor = async (input, ctx) => {
  const { text } = textOf(input);
  let parsed: z.infer<typeof notebookSchema>;
  try {
    parsed = notebookSchema.parse(JSON.parse(text));
  } catch (e) {
    throw new CorruptFile(input.name, e instanceof z.ZodError ? 'not a Jupyter notebook' : errorMessage(e));
  }
  const language = parsed.metadata?.kernelspec?.language ?? parsed.metadata?.language_info?.name;
  const cells = parsed.cells.slice(0, ctx.limits.maxEntries);
  if (cells.length < parsed.cells.length) limitWarning(ctx, 'cells', cells.length, parsed.cells.length);
  const sections: FileSection[] = cells.map((c, i) => {
    const outputs = (c.outputs ?? []).map((o) => {
      if (o.text) return o.text;
      if (o.ename) return `${o.ename}: ${o.evalue ?? ''}`;
      const plain = o.data?.['text/plain'];
      const shown = typeof plain === 'string' ? plain : Array.isArray(plain) ? plain.join('') : '';
      return shown || (o.data && Object.keys(o.data).some((k) => k.startsWith('image/')) ? '[image output]' : '');
    }).filter(Boolean);
    return { kind: 'cell', title: `Cell ${i + 1} (${c.cell_type})`, text: `${c.source ?? ''}${outputs.length ? `\n\nOutput:\n${outputs.join('\n')}` : ''}`.trim() };
  });
  return { sections, meta: { cells: parsed.cells.length, ...(language ? { language } : {}) }, truncated: cells.length < parsed.cells.length };
};
