// Splitting an extracted file into parts that fit a token budget, along its structure: sections (pages, sheets,
// slides, headings, entries) are packed whole while they fit; a larger section is split at paragraph or line
// boundaries (sheet and table parts repeat the header row), a single overlong line by tokens. Tokens are counted
// with gpt-tokenizer (o200k_base, the encoding of current OpenAI models; a close estimate for others).
// Invariant: every chunk is within the budget and, read in order, the chunks hold all of the sections' text.
import { countTokens, decode, encode } from 'gpt-tokenizer';
import type { FileSection } from './types';

export const tokensOf = (text: string): number => countTokens(text);

export interface Chunk {
  index: number;
  /** Titles of the sections (or section parts) in this chunk, in order: "Page 3", "Budget (part 2)". */
  titles: string[];
  text: string;
  tokens: number;
}

interface Piece {
  title: string;
  text: string;
  tokens: number;
}

const render = (title: string, text: string) => `[${title}]\n${text}`;

/** Pieces of one section, each within `budget` tokens with its title line. */
function piecesOf(section: FileSection, budget: number): Piece[] {
  const whole = render(section.title, section.text);
  const wholeTokens = tokensOf(whole);
  if (wholeTokens <= budget) return [{ title: section.title, text: whole, tokens: wholeTokens }];
  const tabular = section.kind === 'sheet' || section.kind === 'table';
  const lines = section.text.split('\n');
  const header = tabular ? lines.shift() ?? '' : '';
  const units = tabular ? lines : section.text.split(/\n{2,}/).flatMap((p) => (tokensOf(p) > budget / 2 ? p.split('\n') : [p]));
  const sep = tabular ? '\n' : '\n\n';
  const pieces: Piece[] = [];
  let current: string[] = [];
  const titleOf = (n: number) => `${section.title} (part ${n})`;
  const overhead = tokensOf(render(titleOf(99), header ? `${header}\n` : '')) + 2;
  let used = overhead;
  const flush = () => {
    if (!current.length) return;
    const body = (header ? [header, ...current] : current).join(sep);
    const text = render(titleOf(pieces.length + 1), body);
    pieces.push({ title: titleOf(pieces.length + 1), text, tokens: tokensOf(text) });
    current = [];
    used = overhead;
  };
  for (const unit of units) {
    const t = tokensOf(unit) + 1;
    if (t + overhead > budget) {
      // One line longer than the budget: cut it by tokens.
      flush();
      const ids = encode(unit);
      const room = Math.max(1, budget - overhead - 1);
      for (let i = 0; i < ids.length; i += room) {
        current = [decode(ids.slice(i, i + room))];
        flush();
      }
      continue;
    }
    if (used + t > budget) flush();
    current.push(unit);
    used += t;
  }
  flush();
  return pieces;
}

/** The sections in chunks of at most `budget` tokens each. */
export function chunkSections(sections: FileSection[], budget: number): Chunk[] {
  if (budget < 50) throw new RangeError('a chunk budget below 50 tokens cannot hold a section title and its text');
  const chunks: Chunk[] = [];
  let titles: string[] = [];
  let parts: string[] = [];
  let used = 0;
  const flush = () => {
    if (!parts.length) return;
    const text = parts.join('\n\n');
    chunks.push({ index: chunks.length, titles, text, tokens: tokensOf(text) });
    titles = [];
    parts = [];
    used = 0;
  };
  for (const section of sections) {
    for (const piece of piecesOf(section, budget)) {
      if (used + piece.tokens + 1 > budget) flush();
      titles.push(piece.title);
      parts.push(piece.text);
      used += piece.tokens + 1;
    }
  }
  flush();
  return chunks;
}
