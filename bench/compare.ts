// `npm run bench -- --compare`: Rolecall (server and worker processes, as in production) beside a bare floor (a
// signature-checking server that adds one BullMQ job, and worker processes running a chain of 5 jobs per thread with
// one INSERT and one UPDATE per step: bench/ack-floor.ts, bench/floor-worker.ts), in one run, on the same PostgreSQL and
// Redis. Each gets N signed app_mention events at once (one thread each: the 5-step workflow, 2 gates approved by
// signed button clicks as a person would, as soon as the fake Slack has them), then the figures: steps/s, overhead per
// step, hand-off between steps, CPU per step (app processes, PostgreSQL, Redis from /proc), statements per step
// (pg_stat_statements, or transactions from pg_stat_database when it cannot be loaded), ack latency, and the time to
// the first completed workflow of a further burst (--burst, default 1,000 threads at once), which then runs to its end
// (errors at that scale: acks, clicks, workflows not completed), and the issue 12 goals, each met or not. Both systems
// run compiled JavaScript, as in production: Rolecall from `npm run build` (dist/server.js, dist/worker.js), the floor
// bundled by esbuild the same way (dist/bench-floor/). By default the bench starts its own PostgreSQL
// (pg_stat_statements preloaded, fsync on as in production) and Redis, so no other work on the machine is counted;
// `--shared` uses TEST_PG_URL and TEST_REDIS_URL instead (then statements are transactions and PostgreSQL/Redis CPU is
// not measured). `--profile` runs Rolecall's processes under `node --cpu-prof` and prints where their CPU goes in the
// measured phase (bench/profile.ts).
// Invariant: every process, database and server it starts is stopped at the end, also on failure.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';
import { defaultWorkerConcurrency } from '../app/config';
import { buildTo } from '../scripts/build';
import { baseEnv, freePort, killAllApps, REPO_ROOT, startApp, type AppProcess } from '../test/support/app-process';
import { startFakeOpenAI, type FakeOpenAI } from '../test/support/fake-openai';
import { startFakeSlack, type FakeSlack } from '../test/support/fake-slack';
import { buttonsOf, deleteQueueKeys } from '../test/support/harness';
import { startOwnPostgres, type OwnPostgres } from '../test/support/pg-cluster';
import { startOwnRedis, type OwnRedis } from '../test/support/redis-server';
import { buttonClick, mention, SIGNING_SECRET, slackPoster, type SlackPoster } from '../test/support/slack-requests';
import { PG_ADMIN_URL, databaseUrl } from '../test/support/test-database';
import { FLOOR_SCHEMA, FLOOR_STEPS } from './floor-worker';
import { cpuProfArgs, monotonicUs, profileTable, summarizeProfiles, type KindProfile, type ProfileWindow } from './profile';
import { fmt, summarize, type Summary } from './stats';

const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'compare.json');
const PROFILES_DIR = join(dirname(RESULTS_FILE), 'profiles');
const STEPS = 5;
const CHANNEL = 'C_BENCH';
const progress = (s: string) => process.stderr.write(`bench: ${s}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CompareOptions { threads: number; burst: number; concurrency: number; workers: number; timeoutMs: number; shared: boolean; warmup: number; profile: boolean }

export function parseCompareOptions(argv: string[]): CompareOptions {
  const flag = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    const n = raw === undefined ? def : Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number (got ${raw})`);
    return n;
  };
  const concurrency = flag('concurrency', defaultWorkerConcurrency(os.availableParallelism()));
  return {
    threads: Math.max(1, flag('threads', 200)), burst: flag('burst', 1000), concurrency: Math.max(1, concurrency), workers: Math.max(1, flag('workers', 2)),
    timeoutMs: flag('timeout', 900) * 1000, shared: argv.includes('--shared'), warmup: flag('warmup', 3),
    profile: argv.includes('--profile'),
  };
}

// ---------- compiled JavaScript ----------

/** Rolecall runs from `npm run build`'s output, as in production; the floor's two entry points are bundled the same
 *  way (esbuild, npm packages external and loaded from node_modules), so neither side runs through tsx. */
const DIST = join(REPO_ROOT, 'dist');
const FLOOR_DIST = join(DIST, 'bench-floor');

async function compile(): Promise<void> {
  progress('compiling: npm run build (dist/) and the floor (dist/bench-floor/)');
  const rolecall = await buildTo(DIST);
  await build({
    absWorkingDir: REPO_ROOT, entryPoints: ['bench/ack-floor.ts', 'bench/floor-worker.ts'], outdir: FLOOR_DIST,
    bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', sourcemap: true, logLevel: 'warning',
  });
  progress(`compiled (${rolecall.files} files for Rolecall in ${rolecall.ms} ms)`);
}

/** The commit and the number of files changed in the working tree when the bench ran (the figures belong to it). */
function treeState(): { commit: string; changedFiles: number } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return { commit: git('rev-parse', '--short', 'HEAD'), changedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length };
  } catch {
    return { commit: 'unknown', changedFiles: NaN };
  }
}

/** The 1-minute load average every 5 s while the bench runs: what else the cores were doing. */
function sampleLoad(): { stop(): { min: number; mean: number; max: number; samples: number } } {
  const seen: number[] = [os.loadavg()[0]!];
  const timer = setInterval(() => seen.push(os.loadavg()[0]!), 5_000);
  timer.unref();
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    stop: () => {
      clearInterval(timer);
      seen.push(os.loadavg()[0]!);
      return { min: r2(Math.min(...seen)), mean: r2(seen.reduce((a, b) => a + b, 0) / seen.length), max: r2(Math.max(...seen)), samples: seen.length };
    },
  };
}

// ---------- CPU from /proc ----------

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

/** utime+stime of a process (and, with `reaped`, of its children it has waited for), in ms; 0 when gone. */
function cpuMs(pid: number, reaped = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const t = Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
    return t * TICK_MS;
  } catch {
    return 0;
  }
}

function children(ppid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

/** The process listening with `--port <port>` / `-p <port>` in its command line (own redis-server, own postmaster). */
function pidByPortArg(name: string, port: number): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // redis-server rewrites its title to "redis-server 127.0.0.1:<port>"; postgres keeps "-p <port>".
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.startsWith(name) || cmd.includes(`/${name} `)) {
        if (new RegExp(`(?:--port|-p) ${port}\\b|:${port}\\b`).test(cmd)) return Number(d);
      }
    } catch { /* gone */ }
  }
  return undefined;
}

interface CpuSources { app: number[]; postgres?: number; redis?: number }
interface CpuSample { app: number; postgres: number; redis: number }

/** PostgreSQL: the postmaster with the children it reaped (closed backends) plus its live children. */
function sampleCpu(src: CpuSources): CpuSample {
  const app = src.app.reduce((s, pid) => s + cpuMs(pid), 0);
  const postgres = src.postgres ? cpuMs(src.postgres, true) + children(src.postgres).reduce((s, pid) => s + cpuMs(pid), 0) : NaN;
  return { app, postgres, redis: src.redis ? cpuMs(src.redis) : NaN };
}

// ---------- statements ----------

interface StatementCount { total: number; select: number; insert: number; update: number; delete: number; other: number; top?: { calls: number; query: string }[] }
interface StatementCounter { kind: 'statements (pg_stat_statements, top level)' | 'transactions (pg_stat_database.xact_commit)'; reset(): Promise<void>; read(db: string): Promise<StatementCount> }

async function statementCounter(admin: pg.Client): Promise<StatementCounter> {
  const preload = (await admin.query<{ v: string }>("SELECT current_setting('shared_preload_libraries') AS v")).rows[0]!.v;
  if (preload.includes('pg_stat_statements')) {
    await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    return {
      kind: 'statements (pg_stat_statements, top level)',
      reset: async () => void (await admin.query('SELECT pg_stat_statements_reset()')),
      read: async (db) => {
        const { rows } = await admin.query(`SELECT coalesce(sum(calls), 0)::float8 AS total,
            coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*(with\\b.*\\bselect|select)'), 0)::float8 AS select,
            coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*insert'), 0)::float8 AS insert,
            coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*update'), 0)::float8 AS update,
            coalesce(sum(calls) FILTER (WHERE query ~* '^\\s*delete'), 0)::float8 AS delete
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1`, [db]);
        const r = rows[0];
        // every statement kind with its calls (written per step to compare.json: where a step's statements come from)
        const top = (await admin.query<{ calls: number; query: string }>(`SELECT sum(calls)::float8 AS calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 300) AS query
          FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = $1 GROUP BY 2 ORDER BY 1 DESC LIMIT 80`, [db])).rows;
        return { total: r.total, select: r.select, insert: r.insert, update: r.update, delete: r.delete, other: r.total - r.select - r.insert - r.update - r.delete, top };
      },
    };
  }
  const base = new Map<string, number>();
  const xacts = async (db: string) => Number((await admin.query('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1', [db])).rows[0]?.n ?? 0);
  return {
    kind: 'transactions (pg_stat_database.xact_commit)',
    reset: async () => {
      await admin.query('SELECT pg_stat_clear_snapshot()');
      for (const { datname } of (await admin.query<{ datname: string }>('SELECT datname FROM pg_database')).rows) base.set(datname, await xacts(datname));
    },
    read: async (db) => {
      await sleep(1_500); // backends report their counters at most once a second
      await admin.query('SELECT pg_stat_clear_snapshot()');
      const n = (await xacts(db)) - (base.get(db) ?? 0);
      return { total: n, select: NaN, insert: NaN, update: NaN, delete: NaN, other: NaN };
    },
  };
}

// ---------- load ----------

/** Sends one signed app_mention per thread, all at once; each answer's latency in ms, and how many were not 200. */
async function fire(post: SlackPoster, n: number, channel: string, label: string): Promise<{ acks: number[]; failures: number; threads: string[] }> {
  const events = Array.from({ length: n }, (_, i) => mention(`${label} request ${i}: a login page with SSO for our customer portal`, { channel }));
  let failures = 0;
  const acks = await Promise.all(events.map(async (ev) => {
    const started = performance.now();
    const res = await post.event(ev).catch(() => undefined);
    await res?.text();
    if (res?.status !== 200) failures++;
    return performance.now() - started;
  }));
  return { acks, failures, threads: events.map((e) => e.ts) };
}

interface Approver { clicked(): number; failures(): number; stop(): Promise<void> }

/** Presses Approve on every gate message the fake Slack has recorded, like a person would (signed block_actions). */
function startApprover(slack: FakeSlack, post: SlackPoster): Approver {
  let cursor = 0;
  let failures = 0;
  const seen = new Set<string>();
  const inflight: Promise<void>[] = [];
  const scan = () => {
    for (; cursor < slack.calls.length; cursor++) {
      const call = slack.calls[cursor]!;
      if (call.method !== 'chat.postMessage' || !call.response?.ok) continue;
      const approvalId = buttonsOf(call).approve;
      if (!approvalId || seen.has(approvalId)) continue;
      seen.add(approvalId);
      inflight.push(post.interaction(buttonClick('approve', approvalId, { messageTs: call.response.ts, threadTs: call.params.thread_ts, channel: call.params.channel })).then(
        async (res) => { await res.text(); if (res.status !== 200) failures++; },
        () => { failures++; },
      ));
    }
  };
  const timer = setInterval(scan, 20);
  return { clicked: () => seen.size, failures: () => failures, stop: async () => { clearInterval(timer); scan(); await Promise.all(inflight); } };
}

// ---------- results ----------

export interface SystemResult {
  system: string;
  threads: number;
  completed: number;
  notCompleted: Record<string, number>;
  ackFailures: number;
  approvalFailures: number;
  wallMs: number;
  stepsPerSec: number;
  overheadMs: Summary;
  handoffMs: Summary;
  ackMs: Summary;
  firstCompletedMs: number;
  allCompletedMs: number;
  /** The burst phase: `burst` more threads at once, run to their end (or the deadline). */
  burst?: BurstResult;
  cpuMsPerStep: { app: number; postgres: number; redis: number };
  statementsPerStep: StatementCount;
}

async function waitUntil(check: () => Promise<boolean>, deadline: number, every = 500): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(every);
  }
  return false;
}

/** Waits until `count()` reaches `n`, the deadline passes, or nothing completes for `stallMs` (then something is
 *  stuck: the run stops early and reports what did complete). */
async function waitForAll(count: () => Promise<number>, n: number, deadline: number, what: string, stallMs = 180_000, every = 1_000): Promise<boolean> {
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    const c = await count();
    if (c >= n) return true;
    if (c !== last) { last = c; since = Date.now(); } else if (Date.now() - since > stallMs) {
      progress(`${what}: no progress for ${stallMs / 1000} s at ${c}/${n}, stopping`);
      return false;
    }
    await sleep(every);
  }
  return false;
}

const perStep = (c: StatementCount, steps: number): StatementCount =>
  ({ total: c.total / steps, select: c.select / steps, insert: c.insert / steps, update: c.update / steps, delete: c.delete / steps, other: c.other / steps,
    ...(c.top ? { top: c.top.map((t) => ({ calls: Math.round((t.calls / steps) * 100) / 100, query: t.query })) } : {}) });

export interface BurstResult {
  threads: number;
  ackFailures: number;
  /** Gate clicks not answered 200 during the burst (Rolecall only). */
  clickFailures: number;
  ackMs: Summary;
  /** Burst sent → its first workflow completed, and → its last (NaN when not all completed by the deadline). */
  firstCompletedMs: number;
  allCompletedMs: number;
  completed: number;
  stepsPerSec: number;
}

/** What the database says about the burst's threads: how many completed, the first and last completion times (ms). */
type BurstProbe = () => Promise<{ completed: number; first?: number; last?: number }>;

/** `n` more threads at once on the same processes: the time to the first completed, then every thread run to its end
 *  (or the deadline), with the errors at that scale. */
async function runBurst(n: number, name: string, post: SlackPoster, deadline: number, probe: BurstProbe, clickFailures: () => number = () => 0): Promise<BurstResult> {
  progress(`${name}: burst of ${n} threads at once, run to their end`);
  const clicks0 = clickFailures();
  const t0 = Date.now();
  const fired = fire(post, n, 'C_BURST', 'burst');
  let state = await probe();
  await waitUntil(async () => (state = await probe()).first !== undefined, deadline, 250);
  progress(`${name}: first burst workflow completed after ${fmt(((state.first ?? NaN) - t0) / 1000, ' s')}`);
  await waitForAll(async () => (state = await probe()).completed, n, deadline, `${name} burst`);
  const { acks, failures } = await fired;
  const all = state.completed >= n && state.last !== undefined;
  progress(`${name}: ${state.completed}/${n} burst workflows completed${all ? ` after ${fmt(((state.last ?? NaN) - t0) / 1000, ' s')}` : ' (deadline)'}`);
  return {
    threads: n, ackFailures: failures, clickFailures: clickFailures() - clicks0, ackMs: summarize(acks), completed: state.completed,
    firstCompletedMs: state.first !== undefined ? state.first - t0 : NaN, allCompletedMs: all ? state.last! - t0 : NaN,
    stepsPerSec: all ? (n * STEPS) / ((state.last! - t0) / 1000) : NaN,
  };
}

const burstErrors = (b: BurstResult) => b.ackFailures + b.clickFailures + (b.threads - b.completed);

// ---------- Rolecall ----------

/** With --profile: where Rolecall's processes write their CPU profiles (`<dir>/server`, `<dir>/worker`), and what
 *  runRolecall records for reading them: the measured phase's window, the pids and their /proc CPU in that window. */
interface Profiling { dir: string; window?: ProfileWindow; pids?: { server: number[]; worker: number[] }; procCpuMs?: { server: number; worker: number } }

/** The processes write their profile on a normal exit only: SIGTERM (app/entry.ts closes and exits), then wait. */
async function stopForProfiles(apps: AppProcess[]): Promise<void> {
  progress('Rolecall: stopping the processes with SIGTERM so that they write their CPU profiles');
  await Promise.all(apps.map(async (a) => {
    a.signal('SIGTERM');
    const exit = await Promise.race([a.exited, sleep(60_000).then(() => undefined)]);
    if (!exit) progress(`Rolecall: pid ${a.pid} did not exit within 60 s of SIGTERM; its profile is lost`);
  }));
}

async function runRolecall(o: CompareOptions, infra: Infra, slack: FakeSlack, openai: FakeOpenAI, deadline: number, profiling?: Profiling): Promise<SystemResult> {
  const db = `bench_rolecall_${randomBytes(3).toString('hex')}`;
  await infra.admin.query(`CREATE DATABASE "${db}"`);
  const prefix = `bench_rc_${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const env = {
    ...baseEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), DATABASE_URL: infra.dbUrl(db), REDIS_URL: infra.redisUrl, QUEUE_PREFIX: prefix,
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_API_URL: slack.url, OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: openai.baseURL,
    WORKER_CONCURRENCY: String(o.concurrency), DATABASE_POOL_MAX: String(Math.max(20, o.concurrency + 5)), LLM_TIMEOUT_MS: '60000',
    ADMIN_SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
    // Every bench event comes from one person in two channels: the abuse limits on new workflows would refuse all but
    // the first few dozen, so they are off (a real burst comes from many people).
    WORKFLOWS_PER_PERSON: '0', WORKFLOWS_PER_CHANNEL: '0',
  };
  const apps: AppProcess[] = [];
  try {
    progress(`Rolecall: starting the server and ${o.workers} worker process(es), concurrency ${o.concurrency} each`);
    const nodeArgs = (kind: string) => (profiling ? cpuProfArgs(join(profiling.dir, kind)) : []);
    const server = startApp(join(DIST, 'server.js'), { ...env, LOG_LEVEL: 'info' }, { compiled: true, nodeArgs: nodeArgs('server') });
    apps.push(server);
    await server.waitForOutput(/HTTP: listening on/, 240_000);
    for (let i = 0; i < o.workers; i++) apps.push(startApp(join(DIST, 'worker.js'), { ...env, LOG_LEVEL: 'info' }, { compiled: true, nodeArgs: nodeArgs('worker') }));
    await Promise.all(apps.slice(1).map((w) => w.waitForOutput(/Workers: concurrency/, 240_000)));
    const post = slackPoster(`http://127.0.0.1:${port}`);
    const approver = startApprover(slack, post);
    const pgc = new pg.Client({ connectionString: infra.dbUrl(db) });
    await pgc.connect();
    try {
      const completedIn = async (channel: string) => Number((await pgc.query(`SELECT count(*) AS n FROM "Workflow" WHERE "channelId" = $1 AND status = 'completed'`, [channel])).rows[0].n);
      if (o.warmup) {
        progress(`Rolecall: warm-up (${o.warmup} workflows)`);
        await fire(post, o.warmup, 'C_WARMUP', 'warm-up');
        if (!(await waitUntil(async () => (await completedIn('C_WARMUP')) >= o.warmup, deadline))) throw new Error('Rolecall warm-up did not finish');
      }
      await infra.statements.reset();
      const pids = { server: [apps[0]!.pid], worker: apps.slice(1).map((a) => a.pid) };
      const procCpu = () => ({ server: sampleCpu({ app: pids.server }).app, worker: sampleCpu({ app: pids.worker }).app });
      const profile0 = profiling ? { at: monotonicUs(), cpu: procCpu() } : undefined;
      const cpu0 = sampleCpu({ app: apps.map((a) => a.pid), postgres: infra.postgresPid, redis: infra.redisPid });
      progress(`Rolecall: ${o.threads} threads at once`);
      const t0 = Date.now();
      const fired = await fire(post, o.threads, CHANNEL, 'bench');
      const done = await waitForAll(() => completedIn(CHANNEL), o.threads, deadline, 'Rolecall');
      const cpu1 = sampleCpu({ app: apps.map((a) => a.pid), postgres: infra.postgresPid, redis: infra.redisPid });
      if (profiling && profile0) {
        const c = procCpu();
        Object.assign(profiling, { window: { fromUs: profile0.at, toUs: monotonicUs() }, pids, procCpuMs: { server: c.server - profile0.cpu.server, worker: c.worker - profile0.cpu.worker } });
      }
      const statements = await infra.statements.read(db);
      progress(`Rolecall: ${done ? 'all completed' : 'NOT ALL COMPLETED'} after ${fmt((Date.now() - t0) / 1000, ' s')}`);
      const burst = o.burst && done ? await runBurst(o.burst, 'Rolecall', post, deadline, async () => {
        const r = (await pgc.query<{ n: string; first: Date | null; last: Date | null }>(`SELECT count(*) AS n, min("finishedAt") AS first, max("finishedAt") AS last FROM "Workflow" WHERE "channelId" = 'C_BURST' AND status = 'completed'`)).rows[0]!;
        return { completed: Number(r.n), first: r.first?.getTime(), last: r.last?.getTime() };
      }, () => approver.failures()) : undefined;
      await approver.stop();

      const statuses = Object.fromEntries((await pgc.query<{ status: string; n: string }>(`SELECT status::text, count(*) AS n FROM "Workflow" WHERE "channelId" = $1 GROUP BY 1`, [CHANNEL])).rows.map((r) => [r.status, Number(r.n)]));
      const steps = (await pgc.query<{ wf: string; pos: number; started: Date | null; finished: Date | null; llm: number; gate_decided: Date | null }>(`
        SELECT s."workflowId" AS wf, s.position AS pos, s."startedAt" AS started, s."finishedAt" AS finished,
          coalesce((SELECT sum(l."latencyMs") FROM "LlmCall" l WHERE l."stepId" = s.id), 0)::float8 AS llm,
          (SELECT max(a."decidedAt") FROM "Approval" a WHERE a."stepId" = s.id) AS gate_decided
        FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId" WHERE w."channelId" = $1 ORDER BY 1, 2`, [CHANNEL])).rows;
      const overhead: number[] = [];
      const handoff: number[] = [];
      for (let i = 0; i < steps.length; i++) {
        const s = steps[i]!;
        if (s.started && s.finished) overhead.push(s.finished.getTime() - s.started.getTime() - s.llm);
        const prev = steps[i - 1];
        // From the previous step's end (or its gate's decision) to this step's start: queue and hand-off, no person.
        if (prev && prev.wf === s.wf && s.started && prev.finished) handoff.push(s.started.getTime() - Math.max(prev.finished.getTime(), prev.gate_decided?.getTime() ?? 0));
      }
      const times = (await pgc.query<{ first: Date | null; last: Date | null }>(`SELECT min("finishedAt") AS first, max("finishedAt") AS last FROM "Workflow" WHERE "channelId" = $1 AND status = 'completed'`, [CHANNEL])).rows[0]!;
      const completed = statuses.completed ?? 0;
      const wallMs = (done && times.last ? times.last.getTime() : Date.now()) - t0;
      const stepCount = completed * STEPS;
      return {
        system: `Rolecall (1 server + ${o.workers} worker process${o.workers > 1 ? 'es' : ''})`, threads: o.threads, completed,
        notCompleted: Object.fromEntries(Object.entries(statuses).filter(([k]) => k !== 'completed')),
        ackFailures: fired.failures, approvalFailures: approver.failures() - (burst?.clickFailures ?? 0), wallMs, stepsPerSec: stepCount / (wallMs / 1000),
        overheadMs: summarize(overhead), handoffMs: summarize(handoff), ackMs: summarize(fired.acks),
        firstCompletedMs: times.first ? times.first.getTime() - t0 : NaN, allCompletedMs: done && times.last ? times.last.getTime() - t0 : NaN,
        cpuMsPerStep: { app: (cpu1.app - cpu0.app) / stepCount, postgres: (cpu1.postgres - cpu0.postgres) / stepCount, redis: (cpu1.redis - cpu0.redis) / stepCount },
        statementsPerStep: perStep(statements, stepCount), burst,
      };
    } finally {
      await pgc.end();
    }
  } finally {
    if (profiling) await stopForProfiles(apps);
    await Promise.all(apps.map((a) => a.killAll()));
    await infra.admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    if (infra.shared) await deleteQueueKeys(prefix).catch(() => undefined);
  }
}

/** The profiles of Rolecall's server and worker processes, attributed over the measured phase (bench/profile.ts). */
function readProfiles(p: Profiling, steps: number): KindProfile[] {
  return (['server', 'worker'] as const).map((kind) => summarizeProfiles(kind, join(p.dir, kind), {
    window: p.window, steps, pids: p.pids?.[kind] ?? [], procCpuMs: p.procCpuMs?.[kind], repoRoot: REPO_ROOT,
  }));
}

// ---------- floor ----------

async function runFloor(o: CompareOptions, infra: Infra, deadline: number): Promise<SystemResult> {
  const db = `bench_floor_${randomBytes(3).toString('hex')}`;
  await infra.admin.query(`CREATE DATABASE "${db}"`);
  const prefix = `bench_floor_${randomBytes(3).toString('hex')}`;
  const apps: AppProcess[] = [];
  const pgc = new pg.Client({ connectionString: infra.dbUrl(db) });
  await pgc.connect();
  try {
    await pgc.query(FLOOR_SCHEMA);
    progress(`floor: starting the ack server and ${o.workers} worker process(es), concurrency ${o.concurrency} each`);
    const front = startApp(join(FLOOR_DIST, 'ack-floor.js'), { ...baseEnv(), REDIS_URL: infra.redisUrl, QUEUE_PREFIX: prefix, SLACK_SIGNING_SECRET: SIGNING_SECRET }, { compiled: true });
    apps.push(front);
    const port = Number((await front.waitForOutput(/ready (\d+)/, 240_000))[1]);
    for (let i = 0; i < o.workers; i++) {
      apps.push(startApp(join(FLOOR_DIST, 'floor-worker.js'), { ...baseEnv(), DATABASE_URL: infra.dbUrl(db), REDIS_URL: infra.redisUrl, QUEUE_PREFIX: prefix, CONCURRENCY: String(o.concurrency), POOL_MAX: String(Math.max(20, o.concurrency + 5)) }, { compiled: true }));
    }
    await Promise.all(apps.slice(1).map((w) => w.waitForOutput(/ready/, 240_000)));
    const post = slackPoster(`http://127.0.0.1:${port}`);
    const finishedIn = async (prefixTs: string) => Number((await pgc.query(`SELECT count(*) AS n FROM floor_step WHERE n = ${FLOOR_STEPS} AND finished_at IS NOT NULL AND thread LIKE $1`, [`${prefixTs}-%`])).rows[0].n);
    if (o.warmup) {
      await fire(post, o.warmup, 'C_WARMUP', 'warm-up');
      if (!(await waitUntil(async () => (await finishedIn('C_WARMUP')) >= o.warmup, deadline, 100))) throw new Error('floor warm-up did not finish');
    }
    await infra.statements.reset();
    const cpu0 = sampleCpu({ app: apps.map((a) => a.pid), postgres: infra.postgresPid, redis: infra.redisPid });
    progress(`floor: ${o.threads} threads at once`);
    const t0 = Date.now();
    const fired = await fire(post, o.threads, CHANNEL, 'bench');
    const done = await waitUntil(async () => (await finishedIn(CHANNEL)) >= o.threads, deadline, 100);
    const cpu1 = sampleCpu({ app: apps.map((a) => a.pid), postgres: infra.postgresPid, redis: infra.redisPid });
    const statements = await infra.statements.read(db);
    const burst = o.burst && done ? await runBurst(o.burst, 'floor', post, deadline, async () => {
      const r = (await pgc.query<{ n: string; first: Date | null; last: Date | null }>(`SELECT count(*) AS n, min(finished_at) AS first, max(finished_at) AS last FROM floor_step WHERE n = ${FLOOR_STEPS} AND finished_at IS NOT NULL AND thread LIKE 'C_BURST-%'`)).rows[0]!;
      return { completed: Number(r.n), first: r.first?.getTime(), last: r.last?.getTime() };
    }) : undefined;
    const rows = (await pgc.query<{ thread: string; n: number; started_at: Date; finished_at: Date | null }>(
      `SELECT thread, n, started_at, finished_at FROM floor_step WHERE thread LIKE $1 ORDER BY thread, n`, [`${CHANNEL}-%`])).rows;
    const overhead: number[] = [];
    const handoff: number[] = [];
    const lastFinished: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (r.finished_at) overhead.push(r.finished_at.getTime() - r.started_at.getTime());
      const prev = rows[i - 1];
      if (prev && prev.thread === r.thread && prev.finished_at) handoff.push(r.started_at.getTime() - prev.finished_at.getTime());
      if (r.n === FLOOR_STEPS && r.finished_at) lastFinished.push(r.finished_at.getTime());
    }
    const completed = lastFinished.length;
    const wallMs = (done ? Math.max(...lastFinished) : Date.now()) - t0;
    const stepCount = completed * FLOOR_STEPS;
    return {
      system: `floor: BullMQ chain of 5 jobs, 1 INSERT + 1 UPDATE per step (1 ack server + ${o.workers} worker process${o.workers > 1 ? 'es' : ''})`,
      threads: o.threads, completed, notCompleted: completed < o.threads ? { unfinished: o.threads - completed } : {},
      ackFailures: fired.failures, approvalFailures: 0, wallMs, stepsPerSec: stepCount / (wallMs / 1000),
      overheadMs: summarize(overhead), handoffMs: summarize(handoff), ackMs: summarize(fired.acks),
      firstCompletedMs: lastFinished.length ? Math.min(...lastFinished) - t0 : NaN, allCompletedMs: done ? Math.max(...lastFinished) - t0 : NaN,
      cpuMsPerStep: { app: (cpu1.app - cpu0.app) / stepCount, postgres: (cpu1.postgres - cpu0.postgres) / stepCount, redis: (cpu1.redis - cpu0.redis) / stepCount },
      statementsPerStep: perStep(statements, stepCount), burst,
    };
  } finally {
    await pgc.end();
    await Promise.all(apps.map((a) => a.killAll()));
    await infra.admin.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    if (infra.shared) await deleteQueueKeys(prefix).catch(() => undefined);
  }
}

// ---------- infrastructure ----------

interface Infra {
  shared: boolean;
  admin: pg.Client;
  dbUrl(name: string): string;
  redisUrl: string;
  postgresPid?: number;
  redisPid?: number;
  statements: StatementCounter;
  describe: string;
  close(): Promise<void>;
}

async function startInfra(shared: boolean): Promise<Infra> {
  let ownPg: OwnPostgres | undefined;
  let ownRedis: OwnRedis | undefined;
  if (!shared) {
    progress('starting a PostgreSQL (pg_stat_statements, fsync on) and a Redis of the bench\'s own');
    ownPg = await startOwnPostgres(['fsync=on', 'shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=top', 'pg_stat_statements.max=10000']);
    ownRedis = await startOwnRedis();
  }
  const adminUrl = ownPg ? ownPg.adminUrl : PG_ADMIN_URL;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
  const dbUrl = (name: string) => {
    if (!ownPg) return databaseUrl(name);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    shared, admin, dbUrl,
    redisUrl: ownRedis ? ownRedis.url : process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    postgresPid: ownPg ? pidByPortArg('postgres', ownPg.port) : undefined,
    redisPid: ownRedis ? pidByPortArg('redis-server', ownRedis.port) : undefined,
    statements: await statementCounter(admin),
    describe: `PostgreSQL ${version} (${ownPg ? "the bench's own, fsync on" : 'shared, TEST_PG_URL'}), Redis (${ownRedis ? "the bench's own, AOF everysec" : 'shared, TEST_REDIS_URL'})`,
    close: async () => {
      await admin.end().catch(() => undefined);
      ownPg?.close();
      await ownRedis?.close();
    },
  };
}

// ---------- report ----------

function machine() {
  return {
    nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version,
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface Goal { goal: string; measured: string; met: boolean | undefined }

/** Issue 12's goals against this run: each with the measured value, met, not met, or not measured (undefined). */
export function goals(o: CompareOptions, results: SystemResult[]): Goal[] {
  const floor = results.find((r) => r.system.startsWith('floor'));
  const rc = results.find((r) => r.system.startsWith('Rolecall'));
  if (!floor || !rc) return [];
  const ratio = rc.stepsPerSec / floor.stepsPerSec;
  const p95 = rc.overheadMs.p95 / floor.overheadMs.p95;
  const b = rc.burst;
  const atScale = o.burst >= 1000 && o.workers >= 2;
  return [
    { goal: 'steps/s at least 50% of the floor', measured: `${fmt(rc.stepsPerSec)} vs ${fmt(floor.stepsPerSec)} steps/s: ${fmt(100 * ratio)}%`, met: Number.isFinite(ratio) ? ratio >= 0.5 : undefined },
    { goal: "overhead per step p95 within 2× the floor's", measured: `${fmt(rc.overheadMs.p95, ' ms')} vs ${fmt(floor.overheadMs.p95, ' ms')}: ${fmt(p95)}×`, met: Number.isFinite(p95) ? p95 <= 2 : undefined },
    {
      goal: `first workflow of a ${o.burst}-thread burst completed within 10 s`,
      measured: b ? `${fmt(b.firstCompletedMs / 1000, ' s')} (floor: ${floor.burst ? fmt(floor.burst.firstCompletedMs / 1000, ' s') : 'n/a'})` : 'not run',
      met: b && Number.isFinite(b.firstCompletedMs) && o.burst >= 1000 ? b.firstCompletedMs <= 10_000 : undefined,
    },
    {
      goal: `zero errors at ${o.burst} threads with ${o.workers} worker processes`,
      measured: b ? `${burstErrors(b)} (${b.ackFailures} acks and ${b.clickFailures} clicks not answered 200, ${b.threads - b.completed} of ${b.threads} workflows not completed${Number.isFinite(b.allCompletedMs) ? `; all completed after ${fmt(b.allCompletedMs / 1000, ' s')}` : ' by the deadline'})` : 'not run',
      met: b && atScale ? burstErrors(b) === 0 : undefined,
    },
  ];
}

const yesNo = (met: boolean | undefined) => (met === undefined ? 'not measured' : met ? 'met' : '**not met**');

interface RunContext { load: { before: number[]; after: number[]; during: { min: number; mean: number; max: number; samples: number } }; tree: { commit: string; changedFiles: number }; command: string }

function table(o: CompareOptions, infra: Infra, results: SystemResult[], ctx: RunContext): string {
  const m = machine();
  const ms = (n: number) => fmt(n, ' ms');
  const pair = (s: Summary) => `${ms(s.p50)} / ${ms(s.p95)}`;
  const cpu = (r: SystemResult) => `${ms(r.cpuMsPerStep.app)} app + ${ms(r.cpuMsPerStep.postgres)} PostgreSQL + ${ms(r.cpuMsPerStep.redis)} Redis`;
  const stmts = (r: SystemResult) => Number.isFinite(r.statementsPerStep.select)
    ? `${fmt(r.statementsPerStep.total)} (${fmt(r.statementsPerStep.select)} reads, ${fmt(r.statementsPerStep.insert + r.statementsPerStep.update + r.statementsPerStep.delete)} writes, ${fmt(r.statementsPerStep.other)} other)`
    : fmt(r.statementsPerStep.total);
  const errors = (r: SystemResult) => r.ackFailures + r.approvalFailures + (r.threads - r.completed);
  const floor = results.find((r) => r.system.startsWith('floor'));
  const burstCells = (r: SystemResult) => {
    const b = r.burst;
    if (!b) return 'n/a | n/a | n/a | n/a';
    return `${ms(b.ackMs.p50)} / ${ms(b.ackMs.p99)} | ${fmt(b.firstCompletedMs / 1000, ' s')} | ${Number.isFinite(b.allCompletedMs) ? `${fmt(b.allCompletedMs / 1000, ' s')} (${fmt(b.stepsPerSec)} steps/s)` : `${b.completed}/${b.threads} by the deadline`} | ${burstErrors(b)}`;
  };
  const lines = [
    `Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}; load average (1 min) ${ctx.load.before[0]} at the start, ${ctx.load.during.mean} on average during the run (min ${ctx.load.during.min}, max ${ctx.load.during.max}), ${ctx.load.after[0]} at the end.`,
    `Tree: commit ${ctx.tree.commit} with ${ctx.tree.changedFiles} files changed in the working tree; compiled JavaScript (dist/). Command: \`${ctx.command}\`.`,
    `${infra.describe}. ${o.threads} threads at once run to completion, then ${o.burst} more at once, also run to completion; ${STEPS} steps each (Rolecall: *Full feature delivery*, 2 gates approved by signed clicks as soon as posted; zero-latency fake model and fake Slack in the bench process), worker concurrency ${o.concurrency}, ${o.workers} worker process(es) each. DB count: ${infra.statements.kind}.`,
    '',
    `| system | steps/s | overhead per step p50 / p95 | hand-off between steps p50 / p95 | CPU per step | DB per step | ack p50 / p99 | all ${o.threads} completed | errors | ${o.burst} at once: ack p50 / p99 | ${o.burst} at once: first completed | ${o.burst} at once: all completed | ${o.burst} at once: errors |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.system} | ${fmt(r.stepsPerSec)}${floor && r !== floor ? ` (${fmt((100 * r.stepsPerSec) / floor.stepsPerSec)}% of the floor)` : ''} | ${pair(r.overheadMs)} | ${pair(r.handoffMs)} | ${cpu(r)} | ${stmts(r)} | ${ms(r.ackMs.p50)} / ${ms(r.ackMs.p99)} | ${fmt(r.allCompletedMs / 1000, ' s')} | ${errors(r)}${errors(r) ? ` (${r.ackFailures} acks, ${r.approvalFailures} clicks, not completed: ${JSON.stringify(r.notCompleted)})` : ''} | ${burstCells(r)} |`),
    '',
    '| goal (issue 12) | measured | |',
    '|---|---|---|',
    ...goals(o, results).map((g) => `| ${g.goal} | ${g.measured} | ${yesNo(g.met)} |`),
  ];
  return lines.join('\n');
}

export async function runCompare(o: CompareOptions): Promise<number> {
  const deadline = Date.now() + o.timeoutMs;
  setTimeout(() => { progress('hard timeout, exiting'); process.exit(2); }, o.timeoutMs + 120_000).unref();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  const tree = treeState();
  await compile();
  const loadBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const loadDuring = sampleLoad();
  const infra = await startInfra(o.shared);
  const [slack, openai] = await Promise.all([startFakeSlack(), startFakeOpenAI()]);
  const results: SystemResult[] = [];
  const profiling: Profiling | undefined = o.profile ? { dir: join(PROFILES_DIR, new Date().toISOString().replace(/[:.]/g, '-')) } : undefined;
  try {
    results.push(await runFloor(o, infra, deadline));
    results.push(await runRolecall(o, infra, slack, openai, deadline, profiling));
  } finally {
    await killAllApps();
    await Promise.all([slack.close(), openai.close()]);
    await infra.close();
  }
  const ctx: RunContext = { load: { before: loadBefore, after: os.loadavg().map((l) => Math.round(l * 100) / 100), during: loadDuring.stop() }, tree, command };
  const text = table(o, infra, results, ctx);
  process.stdout.write(text + '\n');
  const rolecall = results.find((r) => r.system.startsWith('Rolecall'));
  const profile = profiling && rolecall ? { dir: relative(REPO_ROOT, profiling.dir), window: profiling.window, kinds: readProfiles(profiling, rolecall.completed * STEPS) } : undefined;
  if (profile) {
    process.stdout.write(profileTable(profile.kinds) + '\n');
    for (const k of profile.kinds) if (k.missing.length || !k.files.length) progress(`profile: ${k.kind}: no profile written by pid ${k.missing.join(', ') || '(none started)'}`);
    progress(`profiles in ${profiling!.dir}`);
  }
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify({ at: new Date().toISOString(), command, tree, options: o, machine: machine(), load: ctx.load, infrastructure: infra.describe, dbCount: infra.statements.kind, results, goals: goals(o, results), ...(profile ? { profile } : {}) }, null, 2) + '\n');
  progress(`results written to ${RESULTS_FILE}`);
  const failed = results.filter((r) => r.completed < r.threads || r.ackFailures || r.approvalFailures || (o.burst && (!r.burst || burstErrors(r.burst) > 0)));
  for (const r of failed) progress(`FAILED: ${r.system}: ${r.completed}/${r.threads} completed, ${r.ackFailures} acks and ${r.approvalFailures} clicks not answered 200${r.burst ? `; burst: ${r.burst.completed}/${r.burst.threads} completed, ${burstErrors(r.burst)} errors` : ''}`);
  return failed.length ? 1 : 0;
}
