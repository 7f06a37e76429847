// Diagrams out: Mermaid source from a role's output (the Technical Architect's diagrams), shipped as .mmd and rendered
// offline to SVG with beautiful-mermaid (pure JavaScript, no browser) and to PNG by rasterising that SVG with sharp
// (librsvg). Invariants: nothing is fetched while rendering (the renderer's web-font @import is removed, and its CSS
// variables are resolved to plain colours, which librsvg and every viewer understand); a diagram the renderer
// cannot read still ships as its .mmd source, and the failure is said.
import { renderMermaidSVG } from 'beautiful-mermaid';
import sharp from 'sharp';
import { OutputBuildError } from './errors';

const MAX_SOURCE_CHARS = 20_000;
const MAX_DIAGRAMS = 5;

export interface Diagram {
  title: string;
  source: string;
}

/** The diagrams in an output value: a string, a list of strings, or a list of { title, mermaid | source }. */
export function diagramsOf(name: string, value: unknown): Diagram[] {
  const list = Array.isArray(value) ? value : [value];
  const out: Diagram[] = [];
  for (const [i, item] of list.slice(0, MAX_DIAGRAMS).entries()) {
    const obj = item && typeof item === 'object' ? (item as Record<string, unknown>) : undefined;
    const raw = typeof item === 'string' ? item : obj ? (obj.mermaid ?? obj.source ?? obj.diagram) : undefined;
    if (typeof raw !== 'string' || !raw.trim()) continue;
    const title = typeof obj?.title === 'string' && obj.title.trim() ? obj.title.trim().slice(0, 120) : `Diagram ${i + 1}`;
    out.push({ title, source: stripFence(raw).slice(0, MAX_SOURCE_CHARS) });
  }
  if (!out.length) throw new OutputBuildError(name, 'the output has no Mermaid source');
  return out;
}

/** Models often wrap the source in a ```mermaid fence. */
const stripFence = (s: string) => s.trim().replace(/^```(?:mermaid)?\s*\n/, '').replace(/\n```\s*$/, '').trim();

// The palette the renderer's CSS variables resolve to (its default light theme, mixes computed once).
const PALETTE: Record<string, string> = {
  bg: '#FFFFFF', fg: '#27272A', '_text': '#27272A', '_text-sec': '#7D7D7F', '_text-muted': '#A9A9AA', '_text-faint': '#C9C9CA',
  '_line': '#939395', '_arrow': '#3E3E41', '_node-fill': '#FAFAFA', '_node-stroke': '#D4D4D4', '_group-fill': '#FFFFFF',
  '_group-hdr': '#F4F4F4', '_inner-stroke': '#E5E5E6', '_key-badge': '#E9E9EA',
};

/** SVG with plain colours and no external references. Throws OutputBuildError when the source is not Mermaid the
 *  renderer reads (flowcharts, sequence, state, class, ER and xy charts). */
export function renderSvg(name: string, source: string): string {
  let svg: string;
  try {
    svg = renderMermaidSVG(source, { bg: PALETTE.bg!, fg: PALETTE.fg! });
  } catch (e) {
    throw new OutputBuildError(name, `the Mermaid source could not be rendered (${(e instanceof Error ? e.message : String(e)).slice(0, 200)})`, { cause: e });
  }
  return svg
    .replace(/@import url\([^)]*\);?/g, '')
    .replace(/\n\s*svg\s*\{[^}]*\}/, '') // the variables' definitions (resolved below)
    .replace(/var\(--([a-z_-]+)(?:,[^()]*(?:\([^()]*\)[^()]*)*)?\)/gi, (_m, v: string) => PALETTE[v] ?? PALETTE.fg!);
}

export async function renderPng(name: string, svg: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await sharp(Buffer.from(svg), { density: 192, limitInputPixels: 50_000_000 }).flatten({ background: PALETTE.bg! }).png().toBuffer());
  } catch (e) {
    throw new OutputBuildError(name, 'the diagram could not be drawn as PNG', { cause: e });
  }
}
