// Ack latency of /slack/events: Rolecall's server process (no workers in it) beside the "bare floor"
// (bench/ack-floor.ts: verify the signature, add one BullMQ job, 200), on the same Redis, in the same run.
// Each target gets N signed app_mention events arriving at R/s ("paced"), and N at once ("burst"); the latency of one
// event is client-side, from writing its POST to reading its answer. Made for a small, shared machine: both targets are
// warmed up first; then rounds alternate the targets (floor, Rolecall, then Rolecall, floor, ...) so that both meet the
// same background load; the figures are medians over the rounds, printed with the machine's load average and the CPU
// time each server process spent per event (read from /proc). "Workers elsewhere" is simulated by starting Rolecall's
// worker process only after the ack measurements (the jobs wait in Redis meanwhile), so no step runs on these cores
// while acks are measured; the run then checks that every acknowledged event is a job in the queue and that the worker
// takes them. Goals (issue 11): paced p99 <= 50 ms; burst: every ack < 3 s and p99 within 1.5x of the floor's burst p99
// (each round's ratio; the median is judged). Exit code 1 when a goal is missed or an event is not answered 200.
// Run: npm run bench:acks [-- --events N --rate R --rounds K --quick --cpu-prof DIR]  (PostgreSQL and Redis as for tests;
// --cpu-prof writes V8 CPU profiles of both server processes to DIR)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobId } from '../orchestrator/jobs';
import { QUEUE_NAME } from '../orchestrator/queue';
import { baseEnv, freePort, killAllApps, startApp, type AppProcess } from '../test/support/app-process';
import { startFakeOpenAI } from '../test/support/fake-openai';
import { startFakeSlack } from '../test/support/fake-slack';
import { deleteQueueKeys, REDIS_URL } from '../test/support/harness';
import { mention, sign, SIGNING_SECRET } from '../test/support/slack-requests';
import { createTestDatabase } from '../test/support/test-database';
import { fmt, summarize, type Summary } from './stats';

const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'acks.json');
const GOALS = { pacedP99Ms: 50, burstMaxMs: 3_000, burstP99VsFloor: 1.5 };

const argv = process.argv.slice(2);
function flag(name: string, def: number): number {
  const i = argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(argv[i + 1]) : def;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}
const QUICK = argv.includes('--quick');
const EVENTS = flag('events', 1_000);
const RATE = flag('rate', 50);
const ROUNDS = flag('rounds', QUICK ? 1 : 3);
const PROFILE_DIR = argv.includes('--cpu-prof') ? resolve(argv[argv.indexOf('--cpu-prof') + 1] ?? 'bench/results/profiles') : undefined;
const progress = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Target = 'floor' | 'rolecall';
type Load = 'paced' | 'burst';
interface Measurement {
  round: number;
  target: Target;
  load: Load;
  summary: Summary;
  /** Events not answered 200 (or not answered at all). */
  failures: number;
  /** 1-minute load average when the measurement started and when it ended. */
  loadAvg: [number, number];
  /** CPU time (user + system) the target's server process spent, per event, in ms; NaN where /proc is not readable. */
  serverCpuMsPerEvent: number;
  /** When it ran, in µs of the monotonic clock (the clock of V8's .cpuprofile timestamps, to cut a --cpu-prof profile). */
  monotonicUs: [number, number];
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, all threads) of process `pid` so far, in ms; NaN where /proc is not readable. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd (state) on
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime, stime: the 14th and 15th fields
  } catch {
    return NaN;
  }
}

interface SignedEvent { channel: string; ts: string; body: string; headers: Record<string, string> }

/** One signed Events API request, as Slack sends it. */
function signedMention(channel: string, i: number): SignedEvent {
  const event = mention(`give me a status update on the migration project (${channel} ${i})`, { channel });
  const body = JSON.stringify({ type: 'event_callback', team_id: 'T1', api_app_id: 'A1', event_id: `Ev${randomBytes(8).toString('hex')}`, event_time: Math.floor(Date.now() / 1000), event });
  return { channel, ts: event.ts, body, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...sign(body) } };
}

/** The Redis key of the job each target makes of an event (Rolecall: orchestrator/jobs.ts; the floor: its own id). */
function jobKey(target: Target, prefix: string, e: { channel: string; ts: string }): string {
  if (target === 'floor') return `${prefix}:floor:intake-${e.channel}-${e.ts}`;
  const id = jobId({ kind: 'intake', message: { platform: 'slack', teamId: 'T1', channelId: e.channel, threadTs: e.ts, messageTs: e.ts, userId: 'U_ALICE', text: '', mentioned: true } });
  return `${prefix}:${QUEUE_NAME}:${id}`;
}

/** POSTs `body` to /slack/events; resolves with the status (0: no answer). */
function post(agent: http.Agent, port: number, req: { body: string; headers: Record<string, string> }): Promise<number> {
  return new Promise((resolve) => {
    const r = http.request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', agent, headers: req.headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
      res.once('error', () => resolve(0));
    });
    r.once('error', () => resolve(0));
    r.end(req.body);
  });
}

/** Sends `n` signed mentions to `port`: `perSecond` apart, or all at once (0). Requests are signed before the clock
 *  starts; each run has its own connection pool, closed afterwards, so no run inherits another's sockets. */
async function fire(port: number, pid: number, channel: string, n: number, perSecond: number, acked: SignedEvent[]): Promise<Omit<Measurement, 'round' | 'target' | 'load'>> {
  const requests = Array.from({ length: n }, (_, i) => signedMention(channel, i));
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  let failures = 0;
  const load0 = os.loadavg()[0]!;
  const cpu0 = cpuMs(pid);
  const mono0 = Number(process.hrtime.bigint() / 1000n);
  const t0 = performance.now();
  const latencies = await Promise.all(requests.map(async (req, i) => {
    if (perSecond) await sleep(Math.max(0, t0 + (i * 1000) / perSecond - performance.now()));
    const started = performance.now();
    const status = await post(agent, port, req);
    const latency = performance.now() - started;
    if (status === 200) acked.push(req);
    else failures++;
    return latency;
  }));
  const cpu = cpuMs(pid) - cpu0;
  const monotonicUs: [number, number] = [mono0, Number(process.hrtime.bigint() / 1000n)];
  agent.destroy();
  return { summary: summarize(latencies), failures, loadAvg: [load0, os.loadavg()[0]!], serverCpuMsPerEvent: cpu / n, monotonicUs };
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** How many of `events` have no job in Redis (every event answered 200 must have one). */
async function missingJobs(target: Target, prefix: string, events: SignedEvent[]): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    const pipeline = redis.pipeline();
    for (const e of events) pipeline.exists(jobKey(target, prefix, e));
    const results = (await pipeline.exec()) ?? [];
    return results.filter(([err, n]) => err || n !== 1).length;
  } finally {
    await redis.quit();
  }
}

async function main(): Promise<void> {
  const [slack, openai, db] = await Promise.all([startFakeSlack(), startFakeOpenAI(), createTestDatabase()]);
  const prefix = `bench_acks_${randomBytes(4).toString('hex')}`;
  const floorPrefix = `${prefix}_floor`;
  const port = await freePort();
  const env = {
    ...baseEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix,
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: openai.baseURL, WORKER_CONCURRENCY: '50', DATABASE_POOL_MAX: '60', ADMIN_SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
  };
  const measurements: Measurement[] = [];
  const acked: Record<Target, SignedEvent[]> = { floor: [], rolecall: [] };
  let missing: Record<Target, number> = { floor: NaN, rolecall: NaN };
  let workerTookJobs = false;
  let serverLog = '';
  try {
    progress('starting Rolecall\'s server and the floor server (separate processes; the worker starts after the measurements)');
    if (PROFILE_DIR) mkdirSync(PROFILE_DIR, { recursive: true });
    const server: AppProcess = startApp('app/server.ts', { ...env, LOG_LEVEL: 'info' }, PROFILE_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {});
    const floor = startApp('bench/ack-floor.ts', { ...baseEnv(), REDIS_URL, QUEUE_PREFIX: floorPrefix, SLACK_SIGNING_SECRET: SIGNING_SECRET }, PROFILE_DIR ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, 'floor')}`] } : {});
    await server.waitForOutput(/HTTP: listening on/, 180_000);
    const floorPort = Number((await floor.waitForOutput(/ready (\d+)/, 120_000))[1]);
    const targets: Record<Target, { port: number; pid: number }> = { floor: { port: floorPort, pid: floor.pid }, rolecall: { port, pid: server.pid } };

    progress('warm-up (not measured)');
    for (const target of ['floor', 'rolecall'] as const) {
      const { port: p, pid } = targets[target];
      await fire(p, pid, `C_WARM1_${target}`, QUICK ? 100 : 300, 200, acked[target]);
      await fire(p, pid, `C_WARM2_${target}`, QUICK ? 300 : EVENTS, 0, acked[target]);
      await sleep(2_000);
    }

    for (let round = 1; round <= ROUNDS; round++) {
      const order: Target[] = round % 2 ? ['floor', 'rolecall'] : ['rolecall', 'floor'];
      for (const load of ['paced', 'burst'] as const) {
        for (const target of order) {
          progress(`round ${round}/${ROUNDS}: ${target}, ${EVENTS} events ${load === 'paced' ? `at ${RATE}/s` : 'at once'} (load average ${os.loadavg()[0]!.toFixed(1)})`);
          const { port: p, pid } = targets[target];
          const m = await fire(p, pid, `C_${load.toUpperCase()}${round}_${target}`, EVENTS, load === 'paced' ? RATE : 0, acked[target]);
          measurements.push({ round, target, load, ...m });
          await sleep(load === 'burst' ? 3_000 : 1_000);
        }
      }
    }

    serverLog = server.stdout() + server.stderr();
    // Every acknowledged event must be a job (none was kept only in memory), then a separate worker takes them.
    missing = { floor: await missingJobs('floor', floorPrefix, acked.floor), rolecall: await missingJobs('rolecall', prefix, acked.rolecall) };
    if (PROFILE_DIR) {
      server.signal('SIGTERM'); // a profile is written when its process exits
      floor.signal('SIGTERM');
      await Promise.all([server.exited, floor.exited]);
      progress(`CPU profiles in ${PROFILE_DIR} (the floor's in ${join(PROFILE_DIR, 'floor')}); each measurement's monotonicUs in ${RESULTS_FILE} cuts them`);
    }
    progress('starting Rolecall\'s worker (its own process) to check that it takes the queued jobs');
    const worker = startApp('app/worker.ts', env);
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection, prefix });
    const deadline = Date.now() + 180_000;
    while (!workerTookJobs && Date.now() < deadline && worker.proc.exitCode === null) {
      const c = await queue.getJobCounts('active', 'completed');
      workerTookJobs = (c.active ?? 0) + (c.completed ?? 0) > 0;
      if (!workerTookJobs) await sleep(1_000);
    }
    await queue.close();
    await connection.quit();
  } finally {
    await killAllApps();
    await Promise.all([slack.close(), openai.close(), db.drop(), deleteQueueKeys(prefix), deleteQueueKeys(floorPrefix)]);
  }
  const fallbacks = { inbox: occurrences(serverLog, 'job kept in the PostgreSQL inbox'), late: occurrences(serverLog, 'not acknowledged in time'), unkept: occurrences(serverLog, 'could not be kept') };
  report(measurements, { floor: acked.floor.length, rolecall: acked.rolecall.length }, missing, workerTookJobs, fallbacks);
}

const occurrences = (text: string, what: string) => text.split(what).length - 1;

function report(measurements: Measurement[], acked: Record<Target, number>, missing: Record<Target, number>, workerTookJobs: boolean, fallbacks: { inbox: number; late: number; unkept: number }): void {
  const of = (target: Target, load: Load) => measurements.filter((m) => m.target === target && m.load === load);
  const med = (target: Target, load: Load, f: (m: Measurement) => number) => median(of(target, load).map(f));
  const ratios = of('rolecall', 'burst').map((m) => m.summary.p99 / of('floor', 'burst').find((f) => f.round === m.round)!.summary.p99);
  const ratio = median(ratios);
  const floorBurstP99 = med('floor', 'burst', (m) => m.summary.p99);
  const worstBurstMax = Math.max(...of('rolecall', 'burst').map((m) => m.summary.max));
  const loads = measurements.flatMap((m) => m.loadAvg);
  const goals = [
    { goal: `Rolecall paced p99 <= ${GOALS.pacedP99Ms} ms (median of rounds: ${fmt(med('rolecall', 'paced', (m) => m.summary.p99), ' ms')})`, met: med('rolecall', 'paced', (m) => m.summary.p99) <= GOALS.pacedP99Ms },
    { goal: `Rolecall burst: every ack < ${GOALS.burstMaxMs} ms (slowest ack of all rounds: ${fmt(worstBurstMax, ' ms')})`, met: worstBurstMax < GOALS.burstMaxMs },
    { goal: `Rolecall burst p99 <= ${GOALS.burstP99VsFloor}x the floor's burst p99 in the same round (median ratio ${ratio.toFixed(2)}x; rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')})`, met: ratio <= GOALS.burstP99VsFloor },
    { goal: 'every event answered 200', met: measurements.every((m) => m.failures === 0) },
    { goal: `every event answered 200 is a job in Redis (missing: Rolecall ${missing.rolecall} of ${acked.rolecall}, floor ${missing.floor} of ${acked.floor})`, met: missing.rolecall === 0 && missing.floor === 0 },
    { goal: 'Rolecall\'s worker, started afterwards in its own process, takes the queued jobs', met: workerTookJobs },
  ];
  const machine = { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const name = (t: Target) => (t === 'floor' ? 'bare floor (verify + 1 BullMQ add)' : 'Rolecall server (no workers in it)');
  const row = (target: Target, load: Load) => `| ${name(target)} | ${load === 'paced' ? `${RATE}/s` : 'all at once'} | ${fmt(med(target, load, (m) => m.summary.p50), ' ms')} | ${fmt(med(target, load, (m) => m.summary.p99), ' ms')} | ${fmt(med(target, load, (m) => m.summary.max), ' ms')} | ${fmt(med(target, load, (m) => m.serverCpuMsPerEvent * 1000), ' µs')} | ${of(target, load).reduce((a, m) => a + m.failures, 0)} |`;
  const lines = [
    `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}. ${ROUNDS} round(s)${QUICK ? ' (--quick: not figures of record)' : ''}, ${EVENTS} events per run, paced at ${RATE}/s.`,
    `Load average (1 min) during the measurements: min ${fmt(Math.min(...loads))}, median ${fmt(median(loads))}, max ${fmt(Math.max(...loads))}.`,
    '',
    `Medians over ${ROUNDS} round(s):`,
    '',
    '| target | load | ack p50 | ack p99 | max | server CPU per event | non-200 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('floor', 'paced'), row('rolecall', 'paced'), row('floor', 'burst'), row('rolecall', 'burst'),
    '',
    'Per round (p99 / max in ms; load average at the start of the round):',
    '',
    '| round | load | floor paced | Rolecall paced | floor burst | Rolecall burst | burst p99 ratio |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...Array.from({ length: ROUNDS }, (_, i) => i + 1).map((round) => {
      const m = (target: Target, load: Load) => measurements.find((x) => x.round === round && x.target === target && x.load === load)!;
      const cell = (x: Measurement) => `${fmt(x.summary.p99)} / ${fmt(x.summary.max)}`;
      return `| ${round} | ${fmt(measurements.find((x) => x.round === round)!.loadAvg[0])} | ${cell(m('floor', 'paced'))} | ${cell(m('rolecall', 'paced'))} | ${cell(m('floor', 'burst'))} | ${cell(m('rolecall', 'burst'))} | ${(m('rolecall', 'burst').summary.p99 / m('floor', 'burst').summary.p99).toFixed(2)}x |`;
    }),
    '',
    `Rolecall's server log: ${fallbacks.inbox} job(s) kept in the PostgreSQL inbox because Redis did not answer in time, ${fallbacks.late} request(s) answered 503 for want of an answer within 2.8 s, ${fallbacks.unkept} answered 503 because neither store answered.`,
    '',
    ...goals.map((g) => `- ${g.met ? 'met' : 'MISSED'}: ${g.goal}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify({ machine, quick: QUICK, rounds: ROUNDS, events: EVENTS, rate: RATE, floorBurstP99, measurements, acked, missing, workerTookJobs, fallbacks, goals }, null, 1));
  if (!goals.every((g) => g.met)) process.exitCode = 1;
}

await main();
