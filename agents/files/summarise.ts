// Fitting a large file into a role's context budget by map-reduce over its structure. The first chunks (up to half the
// budget) are kept word for word; every later chunk is summarised by the model (map), and when the summaries still do
// not fit they are summarised together in adjacent groups (reduce), a bounded number of rounds. The model is a port
// (`complete(prompt)`), so any router or fake can stand behind it. Invariant: every part of the file is reported as
// kept or summarised, in file order, and every prompt carries the file text only as quoted data (quote.ts).
import { type Chunk, chunkSections, tokensOf } from './chunk';
import { quoteFile } from './quote';
import type { FileExtraction } from './types';

/** What the summariser needs from a model. */
export interface CompletionPort {
  complete(prompt: string): Promise<{ text: string; promptTokens?: number; completionTokens?: number }>;
}

export interface SummariseOptions {
  /** Tokens the file may take in the role's prompt. */
  contextTokens: number;
  /** Tokens of one chunk sent to the model (default: min(contextTokens, 6000)). */
  chunkTokens?: number;
  /** Model calls at once (default 3). */
  parallel?: number;
  /** Reduce rounds at most (default 4); after that the summaries are cut to fit and the result says so. */
  maxRounds?: number;
}

export interface SummarisedPart {
  /** Section titles this part covers ("Page 3", "Budget (part 2)"). */
  titles: string[];
  summarised: boolean;
  /** Tokens of the original text of this part. */
  tokens: number;
}

export interface FittedFile {
  /** What goes into the prompt (still to be quoted with quoteFile). */
  text: string;
  parts: SummarisedPart[];
  /** True when anything was summarised. */
  summarised: boolean;
  tokens: number;
  calls: number;
  promptTokens: number;
  completionTokens: number;
  /** The summaries had to be cut after maxRounds. */
  cut: boolean;
}

const span = (titles: string[]) => (titles.length <= 1 ? titles[0] ?? '' : `${titles[0]} … ${titles[titles.length - 1]}`);

/** The file as it fits `contextTokens`: unchanged when it fits, otherwise part kept and part summarised. */
export async function fitFile(file: Pick<FileExtraction, 'name' | 'kind' | 'text' | 'structure'>, port: CompletionPort, options: SummariseOptions): Promise<FittedFile> {
  const total = tokensOf(file.text);
  const usage = { calls: 0, promptTokens: 0, completionTokens: 0 };
  if (total <= options.contextTokens) {
    return { text: file.text, parts: [{ titles: file.structure.sections.map((s) => s.title), summarised: false, tokens: total }], summarised: false, tokens: total, cut: false, ...usage };
  }
  const chunkTokens = Math.max(50, Math.min(options.chunkTokens ?? 6000, options.contextTokens));
  const chunks = chunkSections(file.structure.sections, chunkTokens);
  const keepBudget = Math.floor(options.contextTokens / 2);
  const kept: Chunk[] = [];
  let keptTokens = 0;
  for (const c of chunks) {
    if (keptTokens + c.tokens > keepBudget) break;
    kept.push(c);
    keptTokens += c.tokens;
  }
  const rest = chunks.slice(kept.length);
  const call = async (prompt: string) => {
    const r = await port.complete(prompt);
    usage.calls++;
    usage.promptTokens += r.promptTokens ?? tokensOf(prompt);
    usage.completionTokens += r.completionTokens ?? tokensOf(r.text);
    return r.text.trim();
  };
  const room = options.contextTokens - keptTokens;
  const perSummary = Math.max(40, Math.floor(room / Math.max(1, rest.length)));
  // Map: one summary per chunk, keeping its structure markers.
  let summaries = await mapLimited(rest, options.parallel ?? 3, async (c) => ({
    titles: c.titles,
    tokens: c.tokens,
    text: await call(`Summarise this part (${span(c.titles)}) of the file ${JSON.stringify(file.name)} in at most ${perSummary} tokens. Keep names, numbers, decisions and requirements; keep the section titles in [brackets].\n\n${quoteFile({ name: file.name, kind: file.kind, text: c.text }, 'PART')}`),
  }));
  // Reduce: merge adjacent summaries until they fit.
  let rounds = 0;
  const size = () => summaries.reduce((n, s) => n + tokensOf(s.text) + 8, 0);
  while (size() > room && summaries.length > 1 && rounds < (options.maxRounds ?? 4)) {
    rounds++;
    const groups: (typeof summaries)[] = [];
    let group: typeof summaries = [];
    let used = 0;
    for (const s of summaries) {
      const t = tokensOf(s.text);
      if (group.length && used + t > chunkTokens) {
        groups.push(group);
        group = [];
        used = 0;
      }
      group.push(s);
      used += t;
    }
    if (group.length) groups.push(group);
    if (groups.length === summaries.length) {
      // No two neighbours fit one call: pair them anyway, each cut to half a chunk.
      groups.length = 0;
      for (let i = 0; i < summaries.length; i += 2) groups.push(summaries.slice(i, i + 2));
    }
    const target = Math.max(40, Math.floor(room / groups.length));
    summaries = await mapLimited(groups, options.parallel ?? 3, async (g) => ({
      titles: g.flatMap((s) => s.titles),
      tokens: g.reduce((n, s) => n + s.tokens, 0),
      text: await call(`Combine these summaries of consecutive parts of the file ${JSON.stringify(file.name)} into one summary of at most ${target} tokens. Keep names, numbers, decisions and the section titles in [brackets].\n\n${quoteFile({ name: file.name, kind: file.kind, text: g.map((s) => `[Summary of ${span(s.titles)}]\n${s.text}`).join('\n\n') }, 'SUMMARIES')}`),
    }));
  }
  let cut = false;
  if (size() > room) {
    cut = true;
    const each = Math.max(20, Math.floor(room / summaries.length) - 8);
    summaries = summaries.map((s) => ({ ...s, text: decodeFirst(s.text, each) }));
  }
  const text = [...kept.map((c) => c.text), ...summaries.map((s) => `[Summary of ${span(s.titles)} — summarised by the model, not the original text]\n${s.text}`)].join('\n\n');
  const parts: SummarisedPart[] = [...kept.map((c) => ({ titles: c.titles, summarised: false, tokens: c.tokens })), ...summaries.map((s) => ({ titles: s.titles, summarised: true, tokens: s.tokens }))];
  return { text, parts, summarised: true, tokens: tokensOf(text), cut, ...usage };
}

function decodeFirst(text: string, tokens: number): string {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (tokensOf(text.slice(0, mid)) <= tokens) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)} …`;
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}
