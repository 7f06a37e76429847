// Builds the files a role declares in its YAML (outputs.files) from a step's structured output. Invariants: a spec
// whose field is absent gives no file and no complaint (the model left an optional part out); a spec that cannot be
// built gives an OutputBuildError sentence, never a throw, so one bad diagram costs only that file; every file is
// bounded (maxBytes) and its name comes from the role file, never from the model.
import type { OutputFileSpec } from '../../role-schema';
import { OutputBuildError } from './errors';
import { diagramsOf, renderPng, renderSvg } from './mermaid';
import { toPatch } from './patch';
import { toDocx } from './report';
import { rowsOf, toCsv, toXlsx } from './tables';

export interface BuiltFile {
  /** File name with extension, e.g. test-cases.csv. */
  name: string;
  mime: string;
  bytes: Uint8Array;
  title: string;
}

export interface OutputBuild {
  files: BuiltFile[];
  /** Sentences for the thread: "architecture.png could not be made: ...". */
  failures: string[];
}

export const OUTPUT_MIME = {
  csv: 'text/csv',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  patch: 'text/x-diff',
  mmd: 'text/vnd.mermaid',
  svg: 'image/svg+xml',
  png: 'image/png',
} as const;

/** The value at a dotted path of the output (undefined when any part is missing). */
export function valueAt(data: Record<string, unknown>, path: string): unknown {
  let v: unknown = data;
  for (const k of path.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const absent = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && !v.trim()) || (Array.isArray(v) && v.length === 0);

export async function buildOutputFiles(specs: OutputFileSpec[], data: Record<string, unknown>, opts: { roleName: string; maxBytes: number }): Promise<OutputBuild> {
  const files: BuiltFile[] = [];
  const failures: string[] = [];
  for (const spec of specs) {
    const value = valueAt(data, spec.from);
    if (absent(value)) continue;
    const title = spec.title ?? `${opts.roleName}: ${spec.name}`;
    const add = (name: string, mime: string, bytes: Uint8Array) => {
      if (bytes.length > opts.maxBytes) failures.push(new OutputBuildError(name, `it would be ${Math.ceil(bytes.length / 1024 / 1024)} MB, above the file size limit`).message);
      else files.push({ name, mime, bytes, title });
    };
    try {
      switch (spec.format) {
        case 'csv':
          add(`${spec.name}.csv`, OUTPUT_MIME.csv, toCsv(rowsOf(`${spec.name}.csv`, value)));
          break;
        case 'xlsx':
          add(`${spec.name}.xlsx`, OUTPUT_MIME.xlsx, toXlsx(rowsOf(`${spec.name}.xlsx`, value), spec.title ?? spec.name));
          break;
        case 'docx':
          add(`${spec.name}.docx`, OUTPUT_MIME.docx, await toDocx(`${spec.name}.docx`, title, value));
          break;
        case 'patch': {
          const patch = toPatch(`${spec.name}.patch`, value);
          if (patch) add(`${spec.name}.patch`, OUTPUT_MIME.patch, patch);
          break;
        }
        case 'mermaid': {
          const diagrams = diagramsOf(`${spec.name}.mmd`, value);
          for (const [i, d] of diagrams.entries()) {
            const base = diagrams.length > 1 ? `${spec.name}-${i + 1}` : spec.name;
            add(`${base}.mmd`, OUTPUT_MIME.mmd, new TextEncoder().encode(`%% ${d.title.replace(/\n/g, ' ')}\n${d.source}\n`));
            if (!spec.render.length) continue;
            try {
              const svg = renderSvg(`${base}.svg`, d.source);
              if (spec.render.includes('svg')) add(`${base}.svg`, OUTPUT_MIME.svg, new TextEncoder().encode(svg));
              if (spec.render.includes('png')) add(`${base}.png`, OUTPUT_MIME.png, await renderPng(`${base}.png`, svg));
            } catch (e) {
              if (!(e instanceof OutputBuildError)) throw e;
              failures.push(`${e.message} (the Mermaid source ${base}.mmd is attached)`);
            }
          }
          break;
        }
      }
    } catch (e) {
      if (!(e instanceof OutputBuildError)) throw e;
      failures.push(e.message);
    }
  }
  return { files, failures };
}
