// The /metrics counters kept at write time: triggers on Workflow, Step, Approval, LlmCall and ConstraintViolation
// append each change to MetricDelta, rolecall_metrics_fold() moves the deltas into MetricCount (migration
// 20261202090000_fk_indexes_metric_counters). A scrape reads the two small tables instead of scanning the large ones.
// Invariant: a counter's value is its MetricCount value plus its pending MetricDelta rows, read in one statement (so a
// fold running at the same time never shows a value twice or not at all); what a scrape reads is bounded by the
// number of roles, statuses, models and duration buckets, and by the deltas since the last fold (folded at each scrape
// and every minute by startMetricCounterFold).
import { z } from 'zod';
import { errorMessage } from '../agents/errors';
import type { Db } from './db';
import type { Logger } from './log';

/** Every counter with its pending deltas: one row per (metric, l1, l2). */
export const COUNTERS_SQL = `SELECT metric, l1, l2, sum(v)::float8 AS value
  FROM (SELECT metric, l1, l2, value AS v FROM "MetricCount" UNION ALL SELECT metric, l1, l2, delta FROM "MetricDelta") c
  GROUP BY 1, 2, 3`;
/** The oldest undecided gate, from the Approval(status, createdAt) index. */
export const OLDEST_PENDING_GATE_SQL = `SELECT "createdAt" FROM "Approval" WHERE status = 'pending' ORDER BY "createdAt" LIMIT 1`;
export const FOLD_SQL = 'SELECT rolecall_metrics_fold() AS moved';

const CounterRow = z.object({ metric: z.string(), l1: z.string(), l2: z.string(), value: z.number() });
export type CounterRow = z.infer<typeof CounterRow>;

/** Moves pending deltas into the counts; 0 when another process is folding right now. */
export async function foldMetricCounters(prisma: Db): Promise<number> {
  const rows = z.array(z.object({ moved: z.number() })).parse(await prisma.$queryRawUnsafe(FOLD_SQL));
  return rows[0]?.moved ?? 0;
}

export async function readCounters(prisma: Db): Promise<CounterRow[]> {
  return z.array(CounterRow).parse(await prisma.$queryRawUnsafe(COUNTERS_SQL));
}

export async function oldestPendingGate(prisma: Db): Promise<Date | undefined> {
  const rows = z.array(z.object({ createdAt: z.date() })).parse(await prisma.$queryRawUnsafe(OLDEST_PENDING_GATE_SQL));
  return rows[0]?.createdAt;
}

/** Duration buckets (see rolecall_duration_bucket): "z" holds <= 1 ms, bucket b holds [1 ms * 1.05^b, 1 ms * 1.05^(b+1)). */
const BUCKET_BASE_S = 0.001;
const BUCKET_RATIO = 1.05;

/** The value a bucket stands for: 0 for "z", else the geometric middle of its range (within 2.5% of any value in it). */
export function bucketValue(bucket: string): number | undefined {
  if (bucket === 'z') return 0;
  const b = Number(bucket);
  return Number.isInteger(b) ? BUCKET_BASE_S * BUCKET_RATIO ** (b + 0.5) : undefined;
}

/** The q-quantile (0..1) of the values counted in `buckets` (bucket -> count), interpolated between closest ranks like
 *  PostgreSQL's percentile_cont; within 2.5% of percentile_cont over the exact values. Undefined when nothing counted. */
export function quantileOfBuckets(buckets: ReadonlyMap<string, number>, q: number): number | undefined {
  const sorted = [...buckets]
    .map(([bucket, count]) => ({ value: bucketValue(bucket), count: Math.round(count) }))
    .filter((b): b is { value: number; count: number } => b.value !== undefined && b.count > 0)
    .sort((a, b) => a.value - b.value);
  const n = sorted.reduce((s, b) => s + b.count, 0);
  if (n === 0) return undefined;
  const at = (index: number): number => {
    let seen = 0;
    for (const b of sorted) {
      seen += b.count;
      if (index < seen) return b.value;
    }
    return sorted[sorted.length - 1]!.value;
  };
  const rank = q * (n - 1);
  const lo = Math.floor(rank);
  const low = at(lo);
  return low + (rank - lo) * (at(Math.ceil(rank)) - low);
}

export interface CounterFold {
  stop(): Promise<void>;
}

/** Folds the deltas every `intervalMs` (in every process with a database; one at a time), so the delta table stays
 *  small even when nothing scrapes /metrics. */
export function startMetricCounterFold(prisma: Db, log: Logger, intervalMs = 60_000): CounterFold {
  let running: Promise<unknown> | undefined;
  let failing = false;
  const timer = setInterval(() => {
    if (running) return;
    running = foldMetricCounters(prisma).then(
      () => { failing = false; },
      (e) => {
        if (!failing) log.warn('metric counters: fold failed (retried in a minute)', { error: errorMessage(e).split('\n').at(-1) });
        failing = true;
      },
    ).finally(() => { running = undefined; });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
