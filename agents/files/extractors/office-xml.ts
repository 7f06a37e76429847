// Zip-and-XML office formats read straight from their parts: PPTX (slides and speaker notes), ODT (headings and
// paragraphs) and ODP (pages), with yauzl (zip.ts, bounded) and fast-xml-parser. Invariant: a part with a DOCTYPE is
// refused (these formats never need one, and it is how entity bombs come in); an ODF manifest that declares
// encryption is an EncryptedFile.
import { XMLParser } from 'fast-xml-parser';
import { errorMessage } from '../../errors';
import { CorruptFile, EncryptedFile } from '../errors';
import { type OpenZip, openZip } from '../zip';
import type { FileSection } from '../types';
import { type Extractor, headingMarker, limitWarning, sectionsByHeadings } from './context';

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', processEntities: true, htmlEntities: false, trimValues: false, ignoreDeclaration: true, ignorePiTags: true });

async function part(zip: OpenZip, path: string, name: string): Promise<Node[] | undefined> {
  if (!zip.entries.some((e) => e.path === path)) return undefined;
  const xml = (await zip.read(path)).toString('utf8');
  if (/<!DOCTYPE/i.test(xml)) throw new CorruptFile(name, `${path} has a DOCTYPE`);
  try {
    return parser.parse(xml) as Node[];
  } catch (e) {
    throw new CorruptFile(name, `${path}: ${errorMessage(e)}`);
  }
}

function tagOf(node: Node): string | undefined {
  return Object.keys(node).find((k) => k !== ':@');
}

/** Text of a subtree: `textTag` contents, a newline after each `paragraphTag`, tabs/spaces/breaks as ODF writes them. */
function textIn(nodes: Node[], paragraphTags: Set<string>, onNode?: (tag: string, node: Node) => string | undefined): string {
  let out = '';
  for (const node of nodes) {
    const tag = tagOf(node);
    if (!tag) continue;
    if (tag === '#text') {
      out += String(node[tag]);
      continue;
    }
    const custom = onNode?.(tag, node);
    if (custom !== undefined) {
      out += custom;
      continue;
    }
    if (tag === 'text:s') out += ' '.repeat(Number(node[':@']?.['text:c'] ?? 1) || 1);
    else if (tag === 'text:tab' || tag === 'a:tab') out += '\t';
    else if (tag === 'text:line-break' || tag === 'a:br') out += '\n';
    const children = node[tag];
    if (Array.isArray(children)) out += textIn(children as Node[], paragraphTags, onNode);
    if (paragraphTags.has(tag)) out += '\n';
  }
  return out;
}

const clean = (s: string) => s.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();

async function coreTitle(zip: OpenZip): Promise<string | undefined> {
  if (!zip.entries.some((e) => e.path === 'docProps/core.xml')) return undefined;
  const m = /<dc:title>([^<]{1,300})<\/dc:title>/.exec((await zip.read('docProps/core.xml')).toString('utf8'));
  const entities: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };
  return m?.[1]?.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => entities[e] ?? '').trim() || undefined;
}

export const extractPptx: Extractor = async ({ bytes, name }, ctx) => {
  const zip = await openZip(bytes, name, ctx.limits);
  try {
    const num = (p: string) => Number(/(\d+)\.xml$/.exec(p)?.[1] ?? 0);
    const slides = zip.entries.map((e) => e.path).filter((p) => /^ppt\/slides\/slide\d+\.xml$/.test(p)).sort((a, b) => num(a) - num(b));
    if (slides.length === 0) throw new CorruptFile(name, 'no slides');
    const room = Math.max(0, ctx.limits.maxPages - ctx.counters.pages);
    const kept = slides.slice(0, room);
    const sections: FileSection[] = [];
    const paragraphs = new Set(['a:p']);
    for (const [i, path] of kept.entries()) {
      const tree = (await part(zip, path, name)) ?? [];
      let text = clean(textIn(tree, paragraphs));
      const rels = zip.entries.some((e) => e.path === `ppt/slides/_rels/slide${num(path)}.xml.rels`) ? (await zip.read(`ppt/slides/_rels/slide${num(path)}.xml.rels`)).toString('utf8') : '';
      const notesPath = /Target="\.\.\/notesSlides\/(notesSlide\d+\.xml)"/.exec(rels)?.[1];
      if (notesPath) {
        const notes = clean(textIn((await part(zip, `ppt/notesSlides/${notesPath}`, name)) ?? [], paragraphs).replace(/^\d+$/m, ''));
        if (notes) text += `\n\nSpeaker notes:\n${notes}`;
      }
      sections.push({ kind: 'slide', title: `Slide ${i + 1}`, text });
    }
    ctx.counters.pages += kept.length;
    if (kept.length < slides.length) limitWarning(ctx, 'slides', kept.length, slides.length);
    const title = await coreTitle(zip);
    return { sections, meta: { slides: slides.length, ...(title ? { title } : {}) }, truncated: kept.length < slides.length };
  } finally {
    zip.close();
  }
};

async function odfContent(bytes: Uint8Array, name: string, ctx: Parameters<Extractor>[1]): Promise<{ zip: OpenZip; content: Node[] }> {
  const zip = await openZip(bytes, name, ctx.limits);
  const manifest = zip.entries.some((e) => e.path === 'META-INF/manifest.xml') ? (await zip.read('META-INF/manifest.xml')).toString('utf8') : '';
  if (/encryption-data/.test(manifest)) {
    zip.close();
    throw new EncryptedFile(name);
  }
  const content = await part(zip, 'content.xml', name);
  if (!content) {
    zip.close();
    throw new CorruptFile(name, 'no content.xml');
  }
  return { zip, content };
}

const ODF_PARAGRAPHS = new Set(['text:p', 'text:h', 'text:list-item', 'table:table-row']);

export const extractOdt: Extractor = async ({ bytes, name }, ctx) => {
  const { zip, content } = await odfContent(bytes, name, ctx);
  zip.close();
  const text = textIn(content, ODF_PARAGRAPHS, (tag, node) => {
    if (tag === 'text:h') {
      const level = Math.min(6, Math.max(1, Number(node[':@']?.['text:outline-level'] ?? 1) || 1));
      return `\n${headingMarker(level, textIn(node[tag] as Node[], new Set()))}\n`;
    }
    if (tag === 'table:table-cell') return `${textIn(node[tag] as Node[], new Set()).trim()}\t`;
    if (tag === 'office:annotation') return '';
    return undefined;
  });
  const sections = sectionsByHeadings(text);
  return { sections, meta: { headings: sections.filter((s) => s.kind === 'heading').length } };
};

export const extractOdp: Extractor = async ({ bytes, name }, ctx) => {
  const { zip, content } = await odfContent(bytes, name, ctx);
  zip.close();
  const pages: FileSection[] = [];
  const visit = (nodes: Node[]) => {
    for (const node of nodes) {
      const tag = tagOf(node);
      if (!tag || tag === '#text') continue;
      if (tag === 'draw:page') {
        const title = node[':@']?.['draw:name'];
        pages.push({ kind: 'slide', title: `Slide ${pages.length + 1}${title && !/^page\d+$/i.test(title) ? `: ${title}` : ''}`, text: clean(textIn(node[tag] as Node[], ODF_PARAGRAPHS)) });
      } else if (Array.isArray(node[tag])) visit(node[tag] as Node[]);
    }
  };
  visit(content);
  const room = Math.max(0, ctx.limits.maxPages - ctx.counters.pages);
  const kept = pages.slice(0, room);
  ctx.counters.pages += kept.length;
  if (kept.length < pages.length) limitWarning(ctx, 'slides', kept.length, pages.length);
  return { sections: kept, meta: { slides: pages.length }, truncated: kept.length < pages.length };
};
