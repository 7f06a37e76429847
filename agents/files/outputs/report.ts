// Reports out: a role's structured output (the Project Manager's status report) as a Word document, written with the
// `docx` package. Invariant: the output's text goes into the document as text runs only (no fields, links or HTML),
// and the document is bounded (paragraphs, characters).
import { Document, HeadingLevel, Packer, Paragraph, TextRun } from 'docx';
import { OutputBuildError } from './errors';

const MAX_PARAGRAPHS = 2_000;
const MAX_CHARS = 200_000;

const humanise = (key: string) => key.replace(/[_-]+/g, ' ').replace(/^\w/, (c) => c.toUpperCase());

/** An item of a list as one line: objects as "value (key: value, …)" when they have one main text field. */
function line(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'object') return String(v);
  if (Array.isArray(v)) return v.map(line).join('; ');
  const entries = Object.entries(v);
  const [first, ...rest] = entries;
  if (!first) return '';
  return rest.length ? `${line(first[1])} (${rest.map(([k, x]) => `${humanise(k).toLowerCase()}: ${line(x)}`).join(', ')})` : line(first[1]);
}

export async function toDocx(name: string, title: string, value: unknown): Promise<Uint8Array> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new OutputBuildError(name, 'the output field is not an object with sections');
  const paragraphs: Paragraph[] = [new Paragraph({ text: title, heading: HeadingLevel.TITLE })];
  let chars = 0;
  const add = (p: Paragraph, text: string) => {
    if (paragraphs.length >= MAX_PARAGRAPHS || chars >= MAX_CHARS) return;
    chars += text.length;
    paragraphs.push(p);
  };
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    add(new Paragraph({ text: humanise(key), heading: HeadingLevel.HEADING_1 }), key);
    if (Array.isArray(v)) {
      if (!v.length) add(new Paragraph({ children: [new TextRun({ text: 'None.', italics: true })] }), 'None.');
      for (const item of v) {
        const text = line(item).slice(0, 10_000);
        add(new Paragraph({ children: [new TextRun(text)], bullet: { level: 0 } }), text);
      }
    } else {
      for (const part of line(v).split(/\n{2,}/)) add(new Paragraph({ children: [new TextRun(part.slice(0, 10_000))] }), part);
    }
  }
  const doc = new Document({ creator: 'Rolecall', title, sections: [{ children: paragraphs }] });
  return new Uint8Array(await Packer.toBuffer(doc));
}
