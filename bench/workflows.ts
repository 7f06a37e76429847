// Load benchmark: N concurrent Slack threads run the 5-step workflow end to end against real Postgres and Redis
// (fake Slack, zero-latency fake model), gates approved automatically; then the raw BullMQ ceiling on the same Redis.
// Run: npx tsx bench/workflows.ts [--threads N] [--concurrency C] [--timeout SECONDS]
// With --compare: Rolecall in server and worker processes beside a bare BullMQ floor, in one run (bench/compare.ts):
//   npm run bench -- --compare [--threads N] [--concurrency C] [--workers M] [--warmup W] [--timeout SECONDS] [--shared]
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { buttonsOf, deleteQueueKeys, REDIS_URL, startHarness, type Harness } from '../test/support/harness';
import { buttonClick, mention } from '../test/support/slack-requests';
import { parseCompareOptions, runCompare } from './compare';
import { fmt, summarize, type Summary } from './stats';

const STEPS_PER_WORKFLOW = 5;
const GATES_PER_WORKFLOW = 2;
const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results', 'latest.json');

interface Options { threads: number; concurrency: number; timeoutMs: number }

function parseOptions(argv: string[]): Options {
  const flag = (name: string, def: number): number => {
    const i = argv.indexOf(`--${name}`);
    const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
    const n = raw === undefined ? def : Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer (got ${raw})`);
    return n;
  };
  return { threads: flag('threads', 200), concurrency: flag('concurrency', 50), timeoutMs: flag('timeout', 300) * 1000 };
}

// ---------- process sampling ----------

function startRssSampler(): { peak(): number; stop(): void } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 100);
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

// ---------- workflow phase ----------

/** Fires one app_mention per thread, all at once; returns each request's HTTP ack latency in ms. */
async function fireMentions(h: Harness, n: number): Promise<number[]> {
  const events = Array.from({ length: n }, (_, i) => mention(`bench request ${i}: a login page with SSO`, { channel: 'C_BENCH' }));
  return Promise.all(events.map(async (ev) => {
    const started = performance.now();
    const res = await h.post.event(ev);
    await res.text();
    if (res.status !== 200) throw new Error(`app_mention ${ev.ts} acked with HTTP ${res.status}`);
    return performance.now() - started;
  }));
}

interface AutoApprover { approvals(): number; failures(): number; stop(): Promise<void> }

/** Clicks Approve on every gate message as soon as the fake Slack has recorded it. */
function startAutoApprover(h: Harness): AutoApprover {
  let cursor = 0;
  let failures = 0;
  const seen = new Set<string>();
  const inflight: Promise<void>[] = [];
  const click = (approvalId: string, messageTs: string, threadTs: string, channel: string) =>
    h.post.interaction(buttonClick('approve', approvalId, { messageTs, threadTs, channel })).then(
      async (res) => { await res.text(); if (res.status !== 200) failures++; },
      () => { failures++; },
    );
  const scan = () => {
    const calls = h.slack.calls;
    for (; cursor < calls.length; cursor++) {
      const call = calls[cursor]!;
      if (call.method !== 'chat.postMessage' || !call.response?.ok) continue;
      const approvalId = buttonsOf(call).approve;
      if (!approvalId || seen.has(approvalId)) continue;
      seen.add(approvalId);
      inflight.push(click(approvalId, call.response.ts, call.params.thread_ts, call.params.channel));
    }
  };
  const timer = setInterval(scan, 20);
  return {
    approvals: () => seen.size,
    failures: () => failures,
    stop: async () => { clearInterval(timer); scan(); await Promise.all(inflight); },
  };
}

async function waitForCompleted(h: Harness, n: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    if ((await h.prisma.workflow.count({ where: { status: 'completed' } })) >= n) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function statusCounts(h: Harness): Promise<Record<string, number>> {
  const rows = await h.prisma.workflow.groupBy({ by: ['status'], _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}

interface DbFigures { stepOverheadMs: Summary; llmLatencyMs: Summary; workflowMs: Summary; gateWaitMs: Summary; lastFinishedAt: number }

/** Figures derived from DB rows: per-step overhead (step duration minus its LLM time), end-to-end and gate waits. */
async function dbFigures(h: Harness): Promise<DbFigures> {
  const [steps, workflows, approvals] = await Promise.all([
    h.prisma.step.findMany({ select: { startedAt: true, finishedAt: true, llmCalls: { select: { latencyMs: true } } } }),
    h.prisma.workflow.findMany({ select: { createdAt: true, finishedAt: true } }),
    h.prisma.approval.findMany({ select: { createdAt: true, decidedAt: true } }),
  ]);
  const overhead: number[] = [];
  const llm: number[] = [];
  for (const s of steps) {
    if (!s.startedAt || !s.finishedAt) continue;
    const llmMs = s.llmCalls.reduce((a, c) => a + c.latencyMs, 0);
    llm.push(llmMs);
    overhead.push(s.finishedAt.getTime() - s.startedAt.getTime() - llmMs);
  }
  const done = workflows.filter((w) => w.finishedAt);
  return {
    stepOverheadMs: summarize(overhead),
    llmLatencyMs: summarize(llm),
    workflowMs: summarize(done.map((w) => w.finishedAt!.getTime() - w.createdAt.getTime())),
    gateWaitMs: summarize(approvals.filter((a) => a.decidedAt).map((a) => a.decidedAt!.getTime() - a.createdAt.getTime())),
    lastFinishedAt: Math.max(...done.map((w) => w.finishedAt!.getTime())),
  };
}

interface WorkflowResult {
  completed: boolean;
  statuses: Record<string, number>;
  ackMs: Summary;
  approvalsClicked: number;
  approvalFailures: number;
  wallMs: number;
  workflowsPerSec: number;
  stepsPerSec: number;
  peakRssMb: number;
  db: Omit<DbFigures, 'lastFinishedAt'>;
}

async function runWorkflows(opts: Options, deadline: number): Promise<WorkflowResult> {
  const rss = startRssSampler();
  const h = await startHarness({ env: { LOG_LEVEL: 'error', WORKER_CONCURRENCY: String(opts.concurrency) } });
  try {
    const approver = startAutoApprover(h);
    const firstEventAt = Date.now();
    const acks = await fireMentions(h, opts.threads);
    const completed = await waitForCompleted(h, opts.threads, deadline);
    await approver.stop();
    const statuses = await statusCounts(h);
    const { lastFinishedAt, ...db } = await dbFigures(h);
    const wallMs = (completed ? lastFinishedAt : Date.now()) - firstEventAt;
    const done = statuses.completed ?? 0;
    return {
      completed, statuses, ackMs: summarize(acks), approvalsClicked: approver.approvals(), approvalFailures: approver.failures(),
      wallMs, workflowsPerSec: done / (wallMs / 1000), stepsPerSec: (done * STEPS_PER_WORKFLOW) / (wallMs / 1000),
      peakRssMb: rss.peak() / 2 ** 20, db,
    };
  } finally {
    rss.stop();
    await h.close();
  }
}

// ---------- BullMQ ceiling ----------

interface CeilingResult { jobs: number; concurrency: number; completed: number; wallMs: number; jobsPerSec: number; addToCompletedMs: Summary }

/** No-op jobs through a bare Queue + Worker on the same Redis: the most this queue setup can move. */
async function runBullmqCeiling(jobs: number, concurrency: number, deadline: number): Promise<CeilingResult> {
  const prefix = `bench_${randomBytes(5).toString('hex')}`;
  const producer = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const consumer = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('noop', { connection: producer, prefix, defaultJobOptions: { removeOnComplete: { count: 1000 } } });
  const worker = new Worker('noop', async () => undefined, { connection: consumer, prefix, concurrency });
  const latencies: number[] = [];
  let lastFinished = 0;
  let allDone!: () => void;
  const done = new Promise<void>((r) => (allDone = r));
  worker.on('completed', (job) => {
    latencies.push(job.finishedOn! - job.timestamp);
    lastFinished = Math.max(lastFinished, job.finishedOn!);
    if (latencies.length === jobs) allDone();
  });
  try {
    await worker.waitUntilReady();
    const started = Date.now();
    await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { i } })));
    const finished = await Promise.race([done.then(() => true), sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
    const wallMs = (finished ? lastFinished : Date.now()) - started;
    return { jobs, concurrency, completed: latencies.length, wallMs, jobsPerSec: latencies.length / (wallMs / 1000), addToCompletedMs: summarize(latencies) };
  } finally {
    await worker.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await Promise.all([producer.quit(), consumer.quit()]);
    await deleteQueueKeys(prefix);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

// ---------- reporting ----------

const pair = (s: Summary, a: 'p50' | 'p95' | 'p99', b: 'p50' | 'p95' | 'p99', unit = ' ms') => `${fmt(s[a], unit)} / ${fmt(s[b], unit)}`;

function markdownTable(opts: Options, w: WorkflowResult, c: CeilingResult | undefined): string {
  const rows: [string, string][] = [
    ['Concurrent Slack threads (workflows)', `${opts.threads} × ${STEPS_PER_WORKFLOW} steps, ${GATES_PER_WORKFLOW} gates each`],
    ['Worker concurrency', String(opts.concurrency)],
    ['Machine', `${os.cpus().length} cores, Node ${process.versions.node}`],
    ['Slack event ack latency p50 / p99', pair(w.ackMs, 'p50', 'p99')],
    ['Orchestration overhead per step p50 / p95', pair(w.db.stepOverheadMs, 'p50', 'p95')],
    ['(model time per step p50, fake model)', fmt(w.db.llmLatencyMs.p50, ' ms')],
    ['Workflow row created → completed p50 / p95', pair(w.db.workflowMs, 'p50', 'p95')],
    ['Gate opened → approved p50 / p95 (auto-click)', pair(w.db.gateWaitMs, 'p50', 'p95')],
    ['Throughput (incl. gate approval round trips)', `${fmt(w.workflowsPerSec)} workflows/s (${fmt(w.stepsPerSec)} steps/s; ${fmt(w.wallMs / 1000, ' s')} wall)`],
    ['Peak RSS (whole process)', fmt(w.peakRssMb, ' MB')],
  ];
  if (c) {
    rows.push(
      [`BullMQ no-op ceiling (${c.jobs} jobs, concurrency ${c.concurrency})`, `${fmt(c.jobsPerSec)} jobs/s`],
      ['BullMQ add → completed p50 / p95', pair(c.addToCompletedMs, 'p50', 'p95')],
    );
  }
  return ['| Metric | Value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
}

function writeJson(opts: Options, w: WorkflowResult, c: CeilingResult | undefined): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemMb: Math.round(os.totalmem() / 2 ** 20), node: process.versions.node };
  writeFileSync(RESULTS_FILE, JSON.stringify({ at: new Date().toISOString(), options: opts, machine, workflows: w, bullmqCeiling: c ?? null }, null, 2) + '\n');
}

// ---------- main ----------

async function main(): Promise<number> {
  if (process.argv.includes('--compare')) return runCompare(parseCompareOptions(process.argv.slice(2)));
  const opts = parseOptions(process.argv.slice(2));
  const deadline = Date.now() + opts.timeoutMs;
  // A last resort if shutdown itself hangs after the deadline.
  setTimeout(() => { console.error('bench: hard timeout, exiting'); process.exit(2); }, opts.timeoutMs + 60_000).unref();
  console.error(`bench: ${opts.threads} workflows, worker concurrency ${opts.concurrency}, time limit ${opts.timeoutMs / 1000}s`);

  const w = await runWorkflows(opts, deadline);
  console.error(`bench: workflows ${w.completed ? 'done' : 'DID NOT FINISH'} in ${fmt(w.wallMs / 1000, ' s')}: ${JSON.stringify(w.statuses)}`);
  const c = w.completed ? await runBullmqCeiling(opts.threads * STEPS_PER_WORKFLOW, opts.concurrency, deadline) : undefined;

  console.log(markdownTable(opts, w, c));
  writeJson(opts, w, c);
  console.error(`bench: results written to ${RESULTS_FILE}`);

  if (!w.completed) return fail(`only ${w.statuses.completed ?? 0}/${opts.threads} workflows completed within ${opts.timeoutMs / 1000}s`);
  if (w.approvalFailures) return fail(`${w.approvalFailures} approval clicks failed`);
  if (c && c.completed < c.jobs) return fail(`BullMQ ceiling: only ${c.completed}/${c.jobs} jobs completed before the deadline`);
  return 0;
}

function fail(message: string): number {
  console.error(`bench: FAILED: ${message}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (e) => { console.error('bench: error:', e); process.exit(1); },
);
