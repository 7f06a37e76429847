// `npm run bench -- --compare --profile`: where Rolecall's app CPU goes. The server and worker processes run with
// `node --cpu-prof --cpu-prof-dir=<dir>/<kind>` and are stopped with SIGTERM (app/entry.ts shuts down and exits, and
// Node writes the profile on exit; SIGKILL would write nothing). This module reads the .cpuprofile files (V8's JSON:
// `nodes` with `callFrame.url`, `samples` with `timeDeltas`) and attributes each sample's self time (the time to the
// next sample, as DevTools does), within the measured phase only, to a category: the npm package for node_modules
// code (scoped names keep the scope), the repository's top-level source directory for our own compiled code (dist/*.js
// is mapped back through its source map, so the bundle's code counts as orchestrator/, agents/, bot/, app/,
// generated/ …), `node (internals)` for `node:` URLs (also split by the nearest caller outside Node), WebAssembly by the
// package that calls it, V8's `(garbage collector)` and `(program)` (native code outside JS: the event loop, C++
// bindings, compilation), and `(idle)`, which is reported apart and left out of every percentage. A native function
// with no URL (a V8 builtin or a C++ binding called from JS) counts for its caller's category.
// Invariant: reading never throws for a missing, partial or unreadable profile; a process whose profile was not
// written is reported by pid (`missing`) instead of silently counting as zero.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { fmt } from './stats';

/** A time window on CLOCK_MONOTONIC in µs: the clock of `process.hrtime` and of V8's profile timestamps (Linux). */
export interface ProfileWindow { fromUs: number; toUs: number }

/** The monotonic clock in µs, comparable with the timestamps in a .cpuprofile written on this machine. */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** The node arguments that make a process write its CPU profile to `dir` when it exits. */
export const cpuProfArgs = (dir: string): string[] => ['--cpu-prof', `--cpu-prof-dir=${dir}`];

/** `ms`: sampled time in the measured phase; `pct`: of the busy (not idle) time; `msPerStep`: ms ÷ steps;
 *  `cpuMsPerStep`: pct × the /proc CPU per step of the same processes (the share applied to the measured CPU). */
export interface CategoryRow { category: string; ms: number; pct: number; msPerStep: number; cpuMsPerStep?: number }
export interface FunctionRow { fn: string; where: string; category: string; ms: number; pct: number; msPerStep: number }

export interface KindProfile {
  kind: string;
  /** Profiles read (one per process, plus one per worker thread that ran). */
  files: string[];
  /** Pids expected to have written a profile but that did not. */
  missing: number[];
  steps: number;
  /** Sampled time in the window that was not `(idle)`: the base of every percentage. */
  busyMs: number;
  idleMs: number;
  /** utime + stime of the same processes over the same window from /proc (all threads), for scale. */
  procCpuMs?: number;
  /** Every category, largest first. */
  categories: CategoryRow[];
  /** `node (internals)` split by the nearest caller outside Node (the package or directory whose call led there;
   *  `(event loop)` when no JS outside Node is on the stack: timers, socket reads, stream callbacks), largest first. */
  nodeInternalsByCaller: CategoryRow[];
  /** Our own code by source file (dist mapped back), largest first, top 20. */
  ownFiles: CategoryRow[];
  /** Functions by self time, largest first, top 25. */
  functions: FunctionRow[];
}

const CallFrame = z.object({ functionName: z.string(), url: z.string(), lineNumber: z.number(), columnNumber: z.number() });
const CpuProfile = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: CallFrame, children: z.array(z.number()).optional() })),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
type CpuProfile = z.infer<typeof CpuProfile>;
type CallFrame = z.infer<typeof CallFrame>;

const NODE = 'node (internals)';
const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);
export const IDLE = '(idle)';

/** The npm package of a path inside node_modules (the innermost node_modules; a scoped name keeps its scope). */
function packageOf(path: string): string | undefined {
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const parts = path.slice(i + '/node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Maps a position in a compiled file back to its source file (absolute), through `<file>.map`; cached per file. */
class SourceMaps {
  private readonly maps = new Map<string, { map: SourceMap; dir: string } | null>();
  original(file: string, line: number, column: number): { path: string; line: number } | undefined {
    let m = this.maps.get(file);
    if (m === undefined) {
      m = null;
      try {
        if (existsSync(`${file}.map`)) m = { map: new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8'))), dir: dirname(file) };
      } catch { /* unreadable map: the compiled path is used */ }
      this.maps.set(file, m);
    }
    if (!m) return undefined;
    const e = m.map.findEntry(line, column) as { originalSource?: string; originalLine?: number };
    if (!e.originalSource) return undefined;
    return { path: e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : resolve(m.dir, e.originalSource), line: (e.originalLine ?? 0) + 1 };
  }
}

/** Where a call frame's code lives: its category and a readable place (source file, package file or URL). */
function locate(frame: CallFrame, repoRoot: string, maps: SourceMaps): { category: string; where: string } | undefined {
  const url = frame.url;
  if (!url) return undefined; // native: counts for its caller
  if (url.startsWith('node:')) return { category: 'node (internals)', where: url };
  if (url.startsWith('wasm://')) return { category: 'wasm', where: url };
  if (!url.startsWith('file://') && !url.startsWith('/')) return { category: `other (${url.split(':')[0]})`, where: url };
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = packageOf(path);
  if (pkg) return { category: pkg, where: `${pkg}/${path.slice(path.lastIndexOf(`/node_modules/${pkg}/`) + `/node_modules/${pkg}/`.length)}` };
  const original = maps.original(path, frame.lineNumber, frame.columnNumber);
  if (original) {
    const p = packageOf(original.path); // a package bundled into dist (not external)
    if (p) return { category: p, where: `${p} (bundled)` };
    path = original.path;
  }
  const rel = relative(repoRoot, path);
  if (rel.startsWith('..')) return { category: path, where: path };
  const top = rel.split(sep)[0]!;
  // Our compiled code without a source map entry still names its place under dist/.
  return { category: `${top}/`, where: `${rel}:${original ? original.line : frame.lineNumber + 1}` };
}

interface Tally { byCategory: Map<string, number>; byCaller: Map<string, number>; byOwnFile: Map<string, number>; byFunction: Map<string, { fn: string; where: string; category: string; ms: number }> }

/** Adds one profile's self time inside `window` to `t`. */
function tally(profile: CpuProfile, window: ProfileWindow | undefined, repoRoot: string, maps: SourceMaps, t: Tally): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each node's category (native frames take their nearest caller's; WebAssembly names the package calling it).
  type Place = { category: string; where: string; fn: string; via?: string };
  const place = new Map<number, Place>();
  const placeOf = (id: number): Place => {
    const known = place.get(id);
    if (known) return known;
    const node = byId.get(id)!;
    const f = node.callFrame;
    let p: Place;
    if (!f.url && SPECIAL.has(f.functionName)) p = { category: f.functionName, where: '', fn: f.functionName };
    else {
      const own = locate(f, repoRoot, maps);
      const up = parent.get(id);
      const caller = up === undefined ? undefined : placeOf(up);
      const callerCategory = caller && !SPECIAL.has(caller.category) ? caller.category : undefined;
      if (!own) p = { category: callerCategory ?? '(native, no JS caller)', where: `native, called from ${caller?.fn || '?'}`, fn: f.functionName || '(native)' };
      // WebAssembly counts for the package that calls it (Prisma's query compiler: `wasm (@prisma/client)`); called
      // from Node's own code (undici's HTTP parser under fetch) it is Node's.
      else if (own.category === 'wasm') p = { category: caller?.category.startsWith('wasm (') ? caller.category : callerCategory === NODE ? NODE : `wasm (${callerCategory ?? '?'})`, where: own.where, fn: f.functionName };
      else p = { ...own, fn: f.functionName || '(anonymous)' };
      // Node's own code is charged to the nearest caller outside Node as well (who asked for the write, the timer …).
      if (p.category === NODE) p.via = caller?.category === NODE ? caller.via : callerCategory ?? '(event loop)';
    }
    place.set(id, p);
    return p;
  };
  // Sample i lasts until sample i+1 (the last one until endTime); it counts when it starts inside the window.
  let ts = profile.startTime;
  const stamps = profile.timeDeltas.map((d) => (ts += d));
  for (let i = 0; i < profile.samples.length; i++) {
    const start = stamps[i]!;
    if (window && (start < window.fromUs || start >= window.toUs)) continue;
    const ms = ((i + 1 < stamps.length ? stamps[i + 1]! : profile.endTime) - start) / 1000;
    if (!(ms > 0)) continue;
    const p = placeOf(profile.samples[i]!);
    t.byCategory.set(p.category, (t.byCategory.get(p.category) ?? 0) + ms);
    if (p.via) t.byCaller.set(p.via, (t.byCaller.get(p.via) ?? 0) + ms);
    if (p.category.endsWith('/') && p.where) {
      const file = p.where.replace(/:\d+$/, '');
      t.byOwnFile.set(file, (t.byOwnFile.get(file) ?? 0) + ms);
    }
    if (p.category !== IDLE) {
      const key = `${p.fn}\u0000${p.where}`;
      const f = t.byFunction.get(key) ?? { fn: p.fn, where: p.where, category: p.category, ms: 0 };
      f.ms += ms;
      t.byFunction.set(key, f);
    }
  }
}

/** The pid in a file name Node gives a CPU profile: CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile. */
export const profilePid = (file: string): number | undefined => {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(file);
  return m ? Number(m[1]) : undefined;
};

/** Reads every .cpuprofile in `dir` (the processes of one kind) and attributes their self time in `window`. */
export function summarizeProfiles(kind: string, dir: string, opts: { window?: ProfileWindow; steps: number; pids: number[]; procCpuMs?: number; repoRoot: string }): KindProfile {
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
  const files: string[] = [];
  const maps = new SourceMaps();
  const t: Tally = { byCategory: new Map(), byCaller: new Map(), byOwnFile: new Map(), byFunction: new Map() };
  for (const f of found) {
    let raw: unknown;
    try { raw = JSON.parse(readFileSync(join(dir, f), 'utf8')); } catch { continue; } // cut short: skipped
    const parsed = CpuProfile.safeParse(raw);
    if (!parsed.success) continue;
    tally(parsed.data, opts.window, opts.repoRoot, maps, t);
    files.push(f);
  }
  const written = new Set(files.map(profilePid));
  const idleMs = t.byCategory.get(IDLE) ?? 0;
  t.byCategory.delete(IDLE);
  t.byCategory.delete('(root)');
  const busyMs = [...t.byCategory.values()].reduce((s, v) => s + v, 0);
  const row = (category: string, ms: number): CategoryRow => ({
    category, ms: round(ms), pct: round((100 * ms) / busyMs), msPerStep: round(ms / opts.steps, 3),
    ...(opts.procCpuMs === undefined ? {} : { cpuMsPerStep: round(((ms / busyMs) * opts.procCpuMs) / opts.steps, 3) }),
  });
  const sorted = <T>(m: Map<string, T>, ms: (v: T) => number) => [...m.entries()].sort((a, b) => ms(b[1]) - ms(a[1]));
  return {
    kind, files, missing: opts.pids.filter((p) => !written.has(p)), steps: opts.steps, busyMs: round(busyMs), idleMs: round(idleMs), procCpuMs: opts.procCpuMs,
    categories: sorted(t.byCategory, (v) => v).map(([c, ms]) => row(c, ms)),
    nodeInternalsByCaller: sorted(t.byCaller, (v) => v).map(([c, ms]) => row(c, ms)),
    ownFiles: sorted(t.byOwnFile, (v) => v).slice(0, 20).map(([c, ms]) => row(c, ms)),
    functions: sorted(t.byFunction, (v) => v.ms).slice(0, 25).map(([, f]) => ({ ...f, ...row(f.category, f.ms), fn: f.fn })),
  };
}

const round = (n: number, digits = 1) => (Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n);

/** Markdown: per process kind, the top categories, Node's internals by caller and the top functions by self time. */
export function profileTable(kinds: KindProfile[], top = 15, topCallers = 8, topFunctions = 10): string {
  const lines: string[] = [];
  const cells = (c: CategoryRow) => `${fmt(c.ms)} | ${fmt(c.pct)}% | ${c.msPerStep.toFixed(2)} | ${c.cpuMsPerStep === undefined ? 'n/a' : c.cpuMsPerStep.toFixed(2)}`;
  const rest = (rows: CategoryRow[], k: KindProfile) => {
    if (!rows.length) return [];
    const ms = rows.reduce((s, c) => s + c.ms, 0);
    const cpu = rows.every((c) => c.cpuMsPerStep !== undefined) ? rows.reduce((s, c) => s + c.cpuMsPerStep!, 0) : undefined;
    return [`| (${rows.length} more) | ${cells({ category: '', ms, pct: (100 * ms) / k.busyMs, msPerStep: ms / k.steps, cpuMsPerStep: cpu })} |`];
  };
  for (const k of kinds) {
    const cpu = k.procCpuMs === undefined ? '' : `; /proc CPU of the same processes over the same window: ${fmt(k.procCpuMs, ' ms')} (${fmt(k.procCpuMs / k.steps, ' ms')} per step)`;
    const head = '| ms | % of busy | ms per step | ≈ CPU ms per step |';
    lines.push(
      '',
      `CPU profile, ${k.kind} (${k.files.length} profile${k.files.length === 1 ? '' : 's'}${k.missing.length ? `; NOT WRITTEN by pid ${k.missing.join(', ')}` : ''}), measured phase, ${k.steps} steps: busy ${fmt(k.busyMs, ' ms')} (${fmt(k.busyMs / k.steps, ' ms')} per step), idle ${fmt(k.idleMs, ' ms')} (not counted)${cpu}.`,
      '',
      `| ${k.kind}: category ${head}`,
      '|---|---|---|---|---|',
      ...k.categories.slice(0, top).map((c) => `| ${c.category} | ${cells(c)} |`),
      ...rest(k.categories.slice(top), k),
    );
    if (topCallers && k.nodeInternalsByCaller.length) {
      lines.push('', `| ${k.kind}: node (internals) by nearest caller outside Node ${head}`, '|---|---|---|---|---|',
        ...k.nodeInternalsByCaller.slice(0, topCallers).map((c) => `| ${c.category} | ${cells(c)} |`),
        ...rest(k.nodeInternalsByCaller.slice(topCallers), k));
    }
    if (topFunctions) {
      lines.push('', `| ${k.kind}: function (self time) | where | category | ms | % of busy |`, '|---|---|---|---|---|',
        ...k.functions.slice(0, topFunctions).map((f) => `| ${f.fn.replaceAll('|', '\\|')} | ${f.where.replaceAll('|', '\\|')} | ${f.category} | ${fmt(f.ms)} | ${fmt(f.pct)}% |`));
    }
  }
  return lines.join('\n');
}
