// Ack latency of /slack/events: Rolecall's server and worker as separate processes (as in production), beside the
// "bare floor" (bench/ack-floor.ts: verify the signature, add one BullMQ job, 200), in the same run on the same Redis.
// Each target gets 1,000 signed app_mention events arriving at 50/s, then 1,000 at once; client-side latency from
// sending each POST to its answer. Goals (issue "Reliability"): paced p99 <= 50 ms; burst: every ack < 3 s and
// p99 within 1.5x of the floor's burst p99. Exits non-zero when a goal is missed or an event is not answered 200.
// Run: npm run bench:acks [-- --events N --rate R]   (needs PostgreSQL and Redis as for the tests)
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseEnv, freePort, killAllApps, startApp, type AppProcess } from '../test/support/app-process';
import { startFakeOpenAI } from '../test/support/fake-openai';
import { startFakeSlack } from '../test/support/fake-slack';
import { deleteQueueKeys, REDIS_URL } from '../test/support/harness';
import { mention, SIGNING_SECRET, slackPoster } from '../test/support/slack-requests';
import { createTestDatabase } from '../test/support/test-database';
import { fmt, summarize, type Summary } from './stats';

const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'acks.json');
const GOALS = { pacedP99Ms: 50, burstMaxMs: 3_000, burstP99VsFloor: 1.5 };

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}
const EVENTS = flag('events', 1_000);
const RATE = flag('rate', 50);
const progress = (s: string) => process.stderr.write(`${s}\n`);

interface Run { summary: Summary; failures: number }

/** Sends `n` signed mentions to `base`: `perSecond` apart, or all at once (0). Latency of each answer, in ms. */
async function fire(base: string, channel: string, n: number, perSecond: number): Promise<Run> {
  const post = slackPoster(base);
  const events = Array.from({ length: n }, (_, i) => mention(`give me a status update on the migration project (${channel} ${i})`, { channel }));
  let failures = 0;
  const t0 = performance.now();
  const latencies = await Promise.all(events.map(async (ev, i) => {
    if (perSecond) {
      const due = t0 + (i * 1000) / perSecond;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    const started = performance.now();
    const res = await post.event(ev).catch(() => undefined);
    await res?.text();
    if (res?.status !== 200) failures++;
    return performance.now() - started;
  }));
  return { summary: summarize(latencies), failures };
}

async function main(): Promise<void> {
  const [slack, openai, db] = await Promise.all([startFakeSlack(), startFakeOpenAI(), createTestDatabase()]);
  const prefix = `bench_acks_${randomBytes(4).toString('hex')}`;
  const floorPrefix = `${prefix}_floor`;
  const port = await freePort();
  const env = {
    ...baseEnv(), NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix,
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: openai.baseURL, WORKER_CONCURRENCY: '50', ADMIN_SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
  };
  const results: Record<string, Run> = {};
  try {
    progress('starting Rolecall server, worker and the floor server (separate processes)');
    const server: AppProcess = startApp('app/server.ts', { ...env, LOG_LEVEL: 'info' });
    await server.waitForOutput(/HTTP: listening on/, 180_000);
    const worker = startApp('app/worker.ts', env);
    const floor = startApp('bench/ack-floor.ts', { ...baseEnv(), REDIS_URL, QUEUE_PREFIX: floorPrefix, SLACK_SIGNING_SECRET: SIGNING_SECRET });
    const floorPort = Number((await floor.waitForOutput(/ready (\d+)/, 120_000))[1]);
    await new Promise((r) => setTimeout(r, 5_000)); // let the worker finish starting (it compiles with tsx too)
    const targets = { floor: `http://127.0.0.1:${floorPort}`, rolecall: `http://127.0.0.1:${port}` };
    // warm-up: a few requests each, so that neither pays for first-request work (JIT, Bolt's auth.test) in the figures
    for (const [name, base] of Object.entries(targets)) await fire(base, `C_WARM_${name}`, 20, 0);

    for (const [name, base] of Object.entries(targets)) {
      progress(`${name}: ${EVENTS} events at ${RATE}/s`);
      results[`${name} paced`] = await fire(base, `C_PACED_${name}`, EVENTS, RATE);
      await new Promise((r) => setTimeout(r, 3_000));
      progress(`${name}: ${EVENTS} events at once`);
      results[`${name} burst`] = await fire(base, `C_BURST_${name}`, EVENTS, 0);
      await new Promise((r) => setTimeout(r, 3_000));
    }
    void worker;
  } finally {
    await killAllApps();
    await Promise.all([slack.close(), openai.close(), db.drop(), deleteQueueKeys(prefix), deleteQueueKeys(floorPrefix)]);
  }

  const r = (k: string) => results[k]!;
  const goals = [
    { goal: `Rolecall paced p99 <= ${GOALS.pacedP99Ms} ms`, met: r('rolecall paced').summary.p99 <= GOALS.pacedP99Ms },
    { goal: `Rolecall burst: every ack < ${GOALS.burstMaxMs} ms`, met: r('rolecall burst').summary.max < GOALS.burstMaxMs },
    { goal: `Rolecall burst p99 <= ${GOALS.burstP99VsFloor}x the floor's burst p99 (${fmt(r('floor burst').summary.p99 * GOALS.burstP99VsFloor, ' ms')})`, met: r('rolecall burst').summary.p99 <= GOALS.burstP99VsFloor * r('floor burst').summary.p99 },
    { goal: 'every event answered 200', met: Object.values(results).every((x) => x.failures === 0) },
  ];
  const machine = { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
  const lines = [
    `Machine: ${machine.nproc} cores (${machine.cpu}), ${machine.memoryGiB} GiB, Node ${machine.node}; ${EVENTS} events per run, paced at ${RATE}/s`,
    '',
    '| target | load | ack p50 | ack p99 | max | non-200 |',
    '| --- | --- | --- | --- | --- | --- |',
    ...Object.entries(results).map(([k, v]) => {
      const [target, load] = k.split(' ');
      return `| ${target === 'floor' ? 'bare floor (verify + 1 BullMQ add)' : 'Rolecall server (worker in its own process)'} | ${load === 'paced' ? `${RATE}/s` : 'all at once'} | ${fmt(v.summary.p50, ' ms')} | ${fmt(v.summary.p99, ' ms')} | ${fmt(v.summary.max, ' ms')} | ${v.failures} |`;
    }),
    '',
    ...goals.map((g) => `- ${g.met ? 'met' : 'MISSED'}: ${g.goal}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(RESULTS_FILE, JSON.stringify({ machine, events: EVENTS, rate: RATE, results, goals }, null, 1));
  if (!goals.every((g) => g.met)) process.exitCode = 1;
}

await main();
