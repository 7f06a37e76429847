// PDF (pdf.js), DOCX (mammoth), DOC (word-extractor) and RTF (rtf-parser). Invariant: pages stop at limits.maxPages,
// a password-protected PDF is an EncryptedFile, a parser's own failure is a CorruptFile with its message.
import mammoth from 'mammoth';
import WordExtractor from 'word-extractor';
import { errorMessage } from '../../errors';
import { CorruptFile, EncryptedFile } from '../errors';
import { openZip } from '../zip';
import type { FileSection } from '../types';
import { type Extractor, limitWarning, sectionsByHeadings } from './context';
import { htmlToMarkedText } from './markup';

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<PdfJs> | undefined;

export const extractPdf: Extractor = async ({ bytes, name }, ctx) => {
  const lib = await (pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs'));
  const task = lib.getDocument({ data: new Uint8Array(bytes), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, verbosity: 0, stopAtErrors: false });
  let doc: Awaited<typeof task.promise>;
  try {
    doc = await task.promise;
  } catch (e) {
    if (e instanceof Error && e.name === 'PasswordException') throw new EncryptedFile(name);
    throw new CorruptFile(name, errorMessage(e));
  }
  try {
    const info = (await doc.getMetadata().catch(() => undefined))?.info as Record<string, unknown> | undefined;
    const sections: FileSection[] = [];
    const empty: number[] = [];
    const room = Math.max(0, ctx.limits.maxPages - ctx.counters.pages);
    const pages = Math.min(doc.numPages, room);
    for (let i = 1; i <= pages; i++) {
      const page = await doc.getPage(i);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : '');
      }
      text = text.replace(/[ \t]+\n/g, '\n').trim();
      if (!text) empty.push(i);
      sections.push({ kind: 'page', title: `Page ${i}`, text });
      page.cleanup();
    }
    ctx.counters.pages += pages;
    if (pages < doc.numPages) limitWarning(ctx, 'pages', pages, doc.numPages);
    if (empty.length) ctx.warnings.push(`${empty.length === pages ? 'no page' : `page${empty.length > 1 ? 's' : ''} ${empty.slice(0, 10).join(', ')}`} ${empty.length === pages ? 'has' : empty.length > 1 ? 'have' : 'has'} a text layer (scanned?)`);
    return {
      sections,
      meta: {
        pages: doc.numPages,
        ...(typeof info?.Title === 'string' && info.Title ? { title: info.Title } : {}),
        ...(typeof info?.Author === 'string' && info.Author ? { author: info.Author } : {}),
      },
      truncated: pages < doc.numPages,
    };
  } finally {
    await doc.destroy();
  }
};

export const extractDocx: Extractor = async ({ bytes, name }, ctx) => {
  (await openZip(bytes, name, ctx.limits)).close(); // bombs, zip-slip and encrypted entries are refused before mammoth inflates
  let html: string;
  try {
    const result = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) }, { ignoreEmptyParagraphs: true });
    html = result.value;
  } catch (e) {
    throw new CorruptFile(name, errorMessage(e));
  }
  const sections = sectionsByHeadings(htmlToMarkedText(html));
  return { sections, meta: { headings: sections.filter((s) => s.kind === 'heading').length } };
};

export const extractDoc: Extractor = async ({ bytes, name }) => {
  let doc: Awaited<ReturnType<WordExtractor['extract']>>;
  try {
    doc = await new WordExtractor().extract(Buffer.from(bytes));
  } catch (e) {
    throw new CorruptFile(name, errorMessage(e));
  }
  const sections: FileSection[] = [{ kind: 'body', title: 'Body', text: doc.getBody().trim() }];
  const extra: [string, string][] = [['Headers', doc.getHeaders({ includeFooters: true })], ['Footnotes', doc.getFootnotes()], ['Endnotes', doc.getEndnotes()], ['Comments', doc.getAnnotations()]];
  for (const [title, text] of extra) if (text.trim()) sections.push({ kind: 'body', title, text: text.trim() });
  return { sections };
};

interface RtfNode { value?: string; content?: RtfNode[] }

export const extractRtf: Extractor = async ({ bytes, name }) => {
  const { default: parseRtf } = await import('rtf-parser');
  const source = new TextDecoder('latin1').decode(bytes);
  const doc = await new Promise<RtfNode>((resolve, reject) => parseRtf.string(source, (err: unknown, d: unknown) => (err ? reject(new CorruptFile(name, errorMessage(err))) : resolve(d as RtfNode))));
  const paragraphs = (doc.content ?? []).map((p) => flattenRtf(p).trim()).filter(Boolean);
  return { sections: [{ kind: 'body', title: 'Body', text: paragraphs.join('\n') }], meta: { paragraphs: paragraphs.length } };
};

function flattenRtf(node: RtfNode): string {
  if (typeof node.value === 'string') return node.value;
  return (node.content ?? []).map(flattenRtf).join('');
}
