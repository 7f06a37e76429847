// HTML (html-to-text), Markdown (marked's lexer) and SVG (fast-xml-parser). Invariant: scripts, styles and event
// handlers never reach the text; headings become sections; HTML parsing is bounded in input length, depth and children.
import { XMLParser } from 'fast-xml-parser';
import { convert } from 'html-to-text';
import { marked } from 'marked';
import { CorruptFile } from '../errors';
import { type Extractor, headingMarker, sectionsByHeadings } from './context';
import { textOf } from './plain';

/** HTML as plain text, with heading markers for sectionsByHeadings. */
export function htmlToMarkedText(html: string, maxInputLength = 30_000_000): string {
  const heading = (level: number) => ({ selector: `h${level}`, format: 'markedHeading', options: { level } });
  return convert(html, {
    wordwrap: false,
    limits: { maxInputLength, maxDepth: 200, maxChildNodes: 50_000, ellipsis: ' …' },
    formatters: {
      markedHeading: (elem, walk, builder, options) => {
        builder.openBlock({ leadingLineBreaks: 2 });
        builder.addLiteral(headingMarker(Number(options.level ?? 1), '').trimEnd());
        walk(elem.children, builder);
        builder.closeBlock({ trailingLineBreaks: 1 });
      },
    },
    selectors: [
      heading(1), heading(2), heading(3), heading(4), heading(5), heading(6),
      { selector: 'script', format: 'skip' },
      { selector: 'style', format: 'skip' },
      { selector: 'noscript', format: 'skip' },
      { selector: 'template', format: 'skip' },
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'table', format: 'dataTable' },
    ],
  });
}

export const extractHtml: Extractor = async (input, ctx) => {
  const { text: html } = textOf(input);
  const title = /<title[^>]*>([^<]{1,300})<\/title>/i.exec(html)?.[1]?.trim();
  const sections = sectionsByHeadings(htmlToMarkedText(html, ctx.limits.maxBytes + 1));
  if (/<script[\s>]/i.test(html)) ctx.warnings.push('scripts in the page were ignored');
  return { sections, meta: { ...(title ? { title } : {}), headings: sections.filter((s) => s.kind === 'heading').length } };
};

export const extractMarkdown: Extractor = async (input) => {
  const { text } = textOf(input);
  const tokens = marked.lexer(text, { gfm: true });
  let marked_ = '';
  for (const t of tokens) marked_ += t.type === 'heading' ? `${headingMarker(t.depth, t.text)}\n` : t.raw;
  const sections = sectionsByHeadings(marked_);
  return { sections, meta: { headings: sections.filter((s) => s.kind === 'heading').length } };
};

type XmlNode = Record<string, unknown> & { ':@'?: Record<string, string> };
const SVG_TEXT = new Set(['text', 'tspan', 'textPath', 'title', 'desc']);
const SVG_SKIP = new Set(['script', 'style', 'foreignObject']);

export const extractSvg: Extractor = async (input, ctx) => {
  const { text: source } = textOf(input);
  let tree: XmlNode[];
  try {
    tree = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', processEntities: false, htmlEntities: false, ignoreDeclaration: true }).parse(source) as XmlNode[];
  } catch (e) {
    throw new CorruptFile(input.name, e instanceof Error ? e.message : 'invalid SVG');
  }
  const parts: string[] = [];
  let scripts = false;
  let handlers = false;
  let root: Record<string, string> | undefined;
  const walk = (nodes: XmlNode[], inText: boolean) => {
    for (const node of nodes) {
      for (const [tag, children] of Object.entries(node)) {
        if (tag === ':@') continue;
        const local = tag.replace(/^.*:/, '');
        const attrs = node[':@'] ?? {};
        if (Object.keys(attrs).some((a) => /^on/i.test(a))) handlers = true;
        if (local === 'svg' && !root) root = attrs;
        if (SVG_SKIP.has(local)) {
          if (local === 'script' || local === 'foreignObject') scripts = true;
          continue;
        }
        if (tag === '#text') {
          if (inText) parts.push(String(children).trim());
          continue;
        }
        if (Array.isArray(children)) {
          const before = parts.length;
          walk(children as XmlNode[], inText || SVG_TEXT.has(local));
          if (SVG_TEXT.has(local) && !inText && parts.length > before) parts.push('\n');
        }
      }
    }
  };
  walk(tree, false);
  if (scripts || handlers) ctx.warnings.push('scripts, event handlers and embedded HTML in the SVG were removed');
  const text = parts.join(' ').replace(/ *\n */g, '\n').replace(/ {2,}/g, ' ').trim();
  const num = (v: string | undefined) => (v && /^\d+(\.\d+)?(px)?$/.test(v) ? Math.round(parseFloat(v)) : undefined);
  const width = num(root?.width);
  const height = num(root?.height);
  return { sections: [{ kind: 'body', title: 'Text in the drawing', text }], meta: { ...(width ? { width } : {}), ...(height ? { height } : {}), ...(root?.viewBox ? { viewBox: root.viewBox } : {}) } };
};
