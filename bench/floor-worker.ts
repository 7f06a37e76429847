// The floor's worker for `npm run bench -- --compare`: the least a 5-step workflow can cost on the same PostgreSQL
// and Redis. bench/ack-floor.ts adds one "intake" job per signed Slack event; each job here is one step: one INSERT
// (the step row, with its start time) and one UPDATE (its finish time), then it adds the thread's next step as a job
// with a deterministic id, up to step 5. A separate process, like Rolecall's workers; prints "ready" when it listens.
// Env: DATABASE_URL (its tables are created by the bench), REDIS_URL, QUEUE_PREFIX, CONCURRENCY, POOL_MAX.
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { z } from 'zod';

export const FLOOR_STEPS = 5;
export const FLOOR_SCHEMA = `CREATE TABLE IF NOT EXISTS floor_step (id BIGSERIAL PRIMARY KEY, thread TEXT NOT NULL, n INT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ, UNIQUE (thread, n))`;

const IntakeData = z.object({ event: z.object({ channel: z.string(), ts: z.string() }) });
const StepData = z.object({ thread: z.string(), n: z.number().int().min(1).max(FLOOR_STEPS) });

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = process.env.QUEUE_PREFIX ?? 'floor';
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_MAX ?? 20) });
  const queue = new Queue('floor', { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix });
  const worker = new Worker('floor', async (job) => {
    const { thread, n } = job.name === 'intake'
      ? (() => { const { event } = IntakeData.parse(job.data); return { thread: `${event.channel}-${event.ts}`, n: 1 }; })()
      : StepData.parse(job.data);
    const { rows } = await pool.query<{ id: string }>(
      'INSERT INTO floor_step (thread, n, started_at) VALUES ($1, $2, $3) ON CONFLICT (thread, n) DO UPDATE SET started_at = EXCLUDED.started_at RETURNING id',
      [thread, n, new Date()]);
    await pool.query('UPDATE floor_step SET finished_at = $2 WHERE id = $1', [rows[0]!.id, new Date()]);
    if (n < FLOOR_STEPS) await queue.add('step', { thread, n: n + 1 }, { jobId: `step-${thread}-${n + 1}`, removeOnComplete: true });
  }, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix, concurrency: Number(process.env.CONCURRENCY ?? 10) });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
}

if (/floor-worker\.[jt]s$/.test(process.argv[1] ?? '')) await main(); // tsx, or compiled by bench/compare.ts
