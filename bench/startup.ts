// `npm run bench:startup [-- --runs N]`: start-up to ready (spawn → GET /ready answers 200) of `all` (server and
// workers in one process), compiled (`npm run build`, then node dist/all.js) against tsx running the sources, on the
// machine's PostgreSQL (a fresh database per run, so each start applies every migration) with the local Redis; and the
// compiled start on embedded defaults (PGlite + an embedded redis-server, as `npm start` with nothing configured): its
// first start in an empty DATA_DIR, then a second start on the same data. Prints a Markdown table with the machine.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Starts `args` with `env`, returns ms until /ready answers 200, then stops the process (SIGTERM) and waits for it. */
async function startToReady(args: string[], env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: String(port), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    while (performance.now() - started < TIMEOUT_MS) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${stderr}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.status === 200, () => false);
      if (ok) return performance.now() - started;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`not ready within ${TIMEOUT_MS / 1000} s`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

async function onPostgres(args: string[]): Promise<number> {
  const db = await createTestDatabase();
  const prefix = `bench_${randomBytes(4).toString('hex')}`;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-bench-'));
  try {
    return await startToReady(args, { DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, ADMIN_SESSION_SECRET: 'bench-session-secret-0123456789abcdefgh' });
  } finally {
    await db.drop();
    await deleteQueueKeys(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rows: [string, string][] = [];
const measure = async (label: string, run: () => Promise<number>) => {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    times.push(await run());
    process.stderr.write(`${label}: ${seconds(times.at(-1)!)}\n`);
  }
  rows.push([label, `${seconds(median(times))} (${times.map(seconds).join(', ')})`]);
};

const build = await buildTo(path.join(ROOT, 'dist'));
rows.push(['`npm run build` (esbuild; nothing changed → writes nothing)', seconds(build.ms)]);
await measure('compiled `node dist/all.js`, PostgreSQL (fresh database: all migrations)', () => onPostgres(['--enable-source-maps', 'dist/all.js']));
await measure('tsx `app/all.ts`, PostgreSQL (fresh database: all migrations)', () => onPostgres(['--import', 'tsx', 'app/all.ts']));
const pgliteFirst: number[] = [];
const pgliteSecond: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-bench-pglite-'));
  try {
    pgliteFirst.push(await startToReady(['--enable-source-maps', 'dist/all.js'], { DATA_DIR: dataDir }));
    pgliteSecond.push(await startToReady(['--enable-source-maps', 'dist/all.js'], { DATA_DIR: dataDir }));
    process.stderr.write(`PGlite first/second: ${seconds(pgliteFirst.at(-1)!)} / ${seconds(pgliteSecond.at(-1)!)}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
rows.push(['compiled, embedded PGlite + redis-server: **first start** (empty DATA_DIR: creates and migrates PGlite)', `${seconds(median(pgliteFirst))} (${pgliteFirst.map(seconds).join(', ')})`]);
rows.push(['compiled, embedded PGlite + redis-server: second start (same DATA_DIR)', `${seconds(median(pgliteSecond))} (${pgliteSecond.map(seconds).join(', ')})`]);

const cpu = os.cpus();
process.stdout.write(`Start-up to ready (median of ${RUNS}; each run)\n\n| start | time |\n| --- | --- |\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n\n`
  + `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, Node ${process.version}; `
  + `load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min): start-up is CPU-bound, so compare runs on an idle machine.\n`);
