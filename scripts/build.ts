// `npm run build [-- --out-dir DIR]`: compiles Rolecall to plain JavaScript in dist/ (or DIR) with esbuild. Each entry
// point (app/*.ts, and the file-parser thread) becomes one ESM bundle holding our own code, the generated Prisma client
// and the console's JSX; npm packages stay external and are loaded from node_modules at run time (production
// dependencies only). Files our code reads at run time (SQL migrations, workflow templates, console assets, rule
// files, …) are found through import.meta.url/dirname: in the bundle, every module keeps the import.meta of the place
// it would have under DIR (agents/checks/secrets.ts → DIR/agents/checks/secrets.ts), and every file of the source
// tree that is not TypeScript is copied to DIR at its own relative path, so lookups relative to a module work
// unchanged. DIR plus node_modules is all a deployment needs (roles are configuration: ROLES_DIR). Type checking is
// `npm run typecheck`, not part of the build.
// Invariant: several builds may run at once (every `npm start` builds first) while other processes run the output,
// so every file is written to a temporary name and renamed into place, and unchanged files are not rewritten.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '..');
/** The process entry points: app/<name>.ts → <outDir>/<name>.js. */
export const ENTRIES = ['all', 'server', 'worker', 'migrate', 'admin-create'] as const;
/** Worker-thread entry points, compiled to the same relative path (.js), where their pool looks for them. */
const THREAD_ENTRIES = ['agents/files/worker.ts'];
/** The source tree: its TypeScript is bundled, everything else in it is copied (see above). */
const SOURCE_DIRS = ['app', 'agents', 'bot', 'orchestrator', 'web-admin', 'prisma/migrations'];
const NOT_SHIPPED = /\.(ts|tsx|mts|cts|md)$/;

/** Gives each of our modules the import.meta.url/dirname/filename it would have at its own path under the output. */
const moduleLocation: Plugin = {
  name: 'module-location',
  setup(b) {
    b.onLoad({ filter: /\.(ts|tsx)$/ }, (args) => {
      const rel = path.relative(ROOT, args.path);
      if (rel.startsWith('..') || rel.split(path.sep).includes('node_modules')) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const loader = args.path.endsWith('x') ? 'tsx' : 'ts';
      if (!source.includes('import.meta')) return { contents: source, loader };
      // The bundle sits at the output's top level, so `./<rel>` from its own import.meta.url is the module's place.
      const url = `new URL(${JSON.stringify('./' + rel.split(path.sep).join('/'))}, import.meta.url)`;
      const prelude = `const __rcMetaUrl = ${url}.href; const __rcMetaFilename = __rcFileURLToPath(__rcMetaUrl); `
        + `const __rcMetaDirname = __rcDirname(__rcMetaFilename); import { fileURLToPath as __rcFileURLToPath } from 'node:url'; import { dirname as __rcDirname } from 'node:path';\n`;
      const contents = prelude + source
        .replace(/import\.meta\.url\b/g, '__rcMetaUrl')
        .replace(/import\.meta\.filename\b/g, '__rcMetaFilename')
        .replace(/import\.meta\.dirname\b/g, '__rcMetaDirname');
      return { contents, loader };
    });
  },
};

export async function buildTo(outDir: string): Promise<{ outDir: string; files: number; ms: number }> {
  const started = Date.now();
  const out = path.resolve(outDir);
  const entryPoints: Record<string, string> = Object.fromEntries(ENTRIES.map((e) => [e, `app/${e}.ts`]));
  for (const t of THREAD_ENTRIES) if (existsSync(path.join(ROOT, t))) entryPoints[t.replace(/\.ts$/, '')] = t;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir: out,
    bundle: true,
    splitting: false, // one file per entry: a running process never sees a half-replaced set of chunks
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Keep `with { type: 'json' }` on imports left external (e.g. emoji-datasource/emoji.json): Node 20.10+ needs it,
    // and esbuild drops it for a plain node20 target.
    supported: { 'import-attributes': true },
    packages: 'external',
    sourcemap: 'linked',
    tsconfig: path.join(ROOT, 'tsconfig.json'), // JSX: react-jsx with hono/jsx
    plugins: [moduleLocation],
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  let files = 0;
  for (const f of result.outputFiles) files += writeIfChanged(f.path, Buffer.from(f.contents)) ? 1 : 0;
  // Node reads .js as ESM only under a package.json with "type": "module".
  files += writeIfChanged(path.join(out, 'package.json'), Buffer.from('{ "type": "module" }\n')) ? 1 : 0;
  for (const dir of SOURCE_DIRS) files += copyTree(path.join(ROOT, dir), path.join(out, dir));
  return { outDir: out, files, ms: Date.now() - started };
}
/** Writes atomically (temporary file + rename) unless the file already has this content. True if written. */
function writeIfChanged(file: string, content: Buffer): boolean {
  if (existsSync(file) && readFileSync(file).equals(content)) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
  return true;
}

/** Copies the files of `from` that are not TypeScript into `to` (same relative paths), writing only what changed,
 *  and removes copies whose source is gone. Returns files written. */
function copyTree(from: string, to: string, keep: (name: string) => boolean = () => false): number {
  let written = 0;
  const names = new Set<string>();
  for (const d of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, d.name);
    if (d.isDirectory()) {
      names.add(d.name);
      written += copyTree(src, path.join(to, d.name), keep);
    } else if (d.isFile() && !NOT_SHIPPED.test(d.name)) {
      names.add(d.name);
      written += writeIfChanged(path.join(to, d.name), readFileSync(src)) ? 1 : 0;
    }
  }
  for (const d of existsSync(to) ? readdirSync(to, { withFileTypes: true }) : []) {
    // Compiled thread entries (*.js + map) live among the copies; so may a concurrent build's temporary files.
    if (names.has(d.name) || d.name.endsWith('.tmp') || /\.js(\.map)?$/.test(d.name) && existsSync(path.join(from, d.name.replace(/\.js(\.map)?$/, '.ts')))) continue;
    if (!keep(d.name)) rmSync(path.join(to, d.name), { recursive: true, force: true });
  }
  return written;
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('scripts/build.ts')) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string', default: path.join(ROOT, 'dist') }, quiet: { type: 'boolean', default: false } } });
  try {
    const r = await buildTo(values['out-dir']!);
    if (!values.quiet) process.stdout.write(`build: ${ENTRIES.length} entry points in ${path.relative(process.cwd(), r.outDir) || '.'}/ (${r.files} files written, ${r.ms} ms)\n`);
  } catch (e) {
    process.stderr.write(`build failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
