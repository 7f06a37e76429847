// `npm run bench:startup [-- --runs N]`: start-up to ready (spawn → GET /ready answers 200) of `all` (server and
// workers in one process), compiled (`npm run build`, then node dist/all.js) against tsx running the sources, on the
// machine's PostgreSQL (a fresh database per run, so each start applies every migration) with the local Redis; and the
// compiled start on embedded defaults (PGlite + an embedded redis-server, as `npm start` with nothing configured): its
// first start in an empty DATA_DIR, then a second start on the same data. Once a process answers /ready, and again after
// SETTLE_MS (the figure kept), it also measures memory: the resident set (VmRSS, Linux /proc) summed over the started
// process and all its descendants (`npx tsx`, as the image ran before the build, is npm → sh → the tsx CLI → node),
// with the embedded redis-server (or a postgres) summed apart and never counted in the app figure. Prints a Markdown
// table with the machine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildTo } from '../scripts/build';
import { freePort } from '../orchestrator/embedded-redis';
import { createTestDatabase } from '../test/support/test-database';
import { deleteQueueKeys, REDIS_URL } from '../test/support/harness';
import { percentile } from './stats';

const median = (xs: number[]) => percentile(xs, 50);

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const TIMEOUT_MS = 180_000;
const SETTLE_MS = 2_000;

const EMBEDDED = new Set(['redis-server', 'postgres']);
type Rss = { app: number; embedded: number; embeddedNames: string[] };
type Start = { ms: number; rssAtReady: Rss; rss: Rss };

/** `pid` and its descendants (ppid links read from /proc/<pid>/stat, whose comm field may hold spaces and parens). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  for (const queue = [pid]; queue.length > 0;) {
    const p = queue.shift()!;
    tree.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** Resident set in bytes of `pid`'s tree: redis-server and postgres processes in `embedded`, everything else in `app`. */
function treeRss(pid: number): Rss {
  const rss: Rss = { app: 0, embedded: 0, embeddedNames: [] };
  for (const p of processTree(pid)) {
    let status: string;
    try { status = readFileSync(`/proc/${p}/status`, 'utf8'); } catch { continue; }
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
    if (!EMBEDDED.has(name)) rss.app += kb * 1024;
    else { rss.embedded += kb * 1024; rss.embeddedNames.push(name); }
  }
  return rss;
}

/** Starts `args` with `env`, measures ms until /ready answers 200 and the tree's RSS then and SETTLE_MS later, then
 * stops the process (SIGTERM) and waits for it. */
async function startToReady(args: string[], env: Record<string, string>, command = process.execPath): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    while (performance.now() - started < TIMEOUT_MS) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) {
        const ms = performance.now() - started;
        const rssAtReady = treeRss(child.pid!);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} after ready: ${stderr}`);
        return { ms, rssAtReady, rss: treeRss(child.pid!) };
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`not ready within ${TIMEOUT_MS / 1000} s`);
  } finally {
    // A wrapper (npx) may exit before what it started: SIGTERM whatever of the tree outlives it, and wait for it to go.
    const tree = child.pid === undefined ? [] : processTree(child.pid).slice(1);
    child.kill('SIGTERM');
    await exited;
    const alive = (p: number) => { try { process.kill(p, 0); return true; } catch { return false; } };
    for (const deadline = performance.now() + 10_000; tree.some(alive) && performance.now() < deadline;) {
      for (const p of tree.filter(alive)) try { process.kill(p, 'SIGTERM'); } catch { /* gone meanwhile */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function onPostgres(args: string[], command?: string): Promise<Start> {
  const db = await createTestDatabase();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-bench-'));
  try {
    return await startToReady(args, { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, ADMIN_SESSION_SECRET: 'bench-session-secret-0123456789abcdefgh' }, command);
  } finally {
    await db.drop();
    await deleteQueueKeys(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)}`;
const describe = (s: Start) => `${seconds(s.ms)}, RSS ${mib(s.rss.app)} MiB after ${SETTLE_MS / 1000} s (${mib(s.rssAtReady.app)} MiB at ready)`
  + (s.rss.embedded > 0 ? `, ${s.rss.embeddedNames.join(' + ')} ${mib(s.rss.embedded)} MiB apart` : '');
const rows: [string, string, string][] = [];
const addRow = (label: string, starts: Start[]) => {
  const rss = starts.map((s) => s.rss.app);
  const embedded = starts.map((s) => s.rss.embedded);
  rows.push([label, `${seconds(median(starts.map((s) => s.ms)))} (${starts.map((s) => seconds(s.ms)).join(', ')})`,
    `${mib(median(rss))} MiB (${rss.map(mib).join(', ')})` + (embedded.some((e) => e > 0) ? `; + redis-server ${mib(median(embedded))} MiB` : '')]);
};
const measure = async (label: string, run: () => Promise<Start>) => {
  const starts: Start[] = [];
  for (let i = 0; i < RUNS; i++) {
    starts.push(await run());
    process.stderr.write(`${label}: ${describe(starts.at(-1)!)}\n`);
  }
  addRow(label, starts);
};

const build = await buildTo(path.join(ROOT, 'dist'));
rows.push(['`npm run build` (esbuild; nothing changed → writes nothing)', seconds(build.ms), '']);
await measure('compiled `node dist/all.js`, PostgreSQL (fresh database: all migrations)', () => onPostgres(['--enable-source-maps', 'dist/all.js']));
await measure('`node --import tsx app/all.ts`, PostgreSQL (fresh database: all migrations)', () => onPostgres(['--import', 'tsx', 'app/all.ts']));
await measure('`npx tsx app/all.ts` (as the image ran before the build), PostgreSQL (fresh database: all migrations)',
  () => onPostgres(['tsx', 'app/all.ts'], 'npx'));
const pgliteFirst: Start[] = [];
const pgliteSecond: Start[] = [];
for (let i = 0; i < RUNS; i++) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-bench-pglite-'));
  try {
    pgliteFirst.push(await startToReady(['--enable-source-maps', 'dist/all.js'], { DATA_DIR: dataDir }));
    pgliteSecond.push(await startToReady(['--enable-source-maps', 'dist/all.js'], { DATA_DIR: dataDir }));
    process.stderr.write(`PGlite first: ${describe(pgliteFirst.at(-1)!)}; second: ${describe(pgliteSecond.at(-1)!)}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
addRow('compiled, embedded PGlite + redis-server: **first start** (empty DATA_DIR: creates and migrates PGlite)', pgliteFirst);
addRow('compiled, embedded PGlite + redis-server: second start (same DATA_DIR)', pgliteSecond);

const cpu = os.cpus();
process.stdout.write(`Start-up to ready (median of ${RUNS}; each run); RSS of the started node process tree ${SETTLE_MS / 1000} s after ready `
  + `(the embedded redis-server apart, not in the figure)\n\n| start | time | RSS |\n| --- | --- | --- |\n${rows.map(([a, b, c]) => `| ${a} | ${b} | ${c} |`).join('\n')}\n\n`
  + `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; `
  + `load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min): start-up is CPU-bound, so compare runs on an idle machine.\n`);
