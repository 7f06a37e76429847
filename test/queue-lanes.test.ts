// Fair scheduling (orchestrator/lanes.ts) on the real queue code and a real Redis: a continuation (next step, gate
// decision, click) runs before any waiting intake, so a burst of new requests never delays a running workflow; one
// workspace's burst of intakes does not hold another workspace's single request; a workspace's own intakes keep their
// order. Assertions are on the order a worker (concurrency 1) takes jobs in, never on timings.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Worker } from 'bullmq';
import type { JobData } from '../orchestrator/jobs';
import { fairPriorities } from '../orchestrator/lanes';
import { createJobQueue, createJobWorker, producerConnection, redisConnection, type JobHandler } from '../orchestrator/queue';
import { deleteQueueKeys, REDIS_URL, waitFor } from './support/harness';

const prefixes: string[] = [];
afterAll(() => Promise.all(prefixes.map(deleteQueueKeys)));

const intake = (team: string, i: number): JobData => ({
  kind: 'intake',
  message: { platform: 'slack', teamId: team, channelId: `C_${team}`, threadTs: `1800000000.${String(i).padStart(6, '0')}`, messageTs: `1800000000.${String(i).padStart(6, '0')}`, userId: 'U1', text: `request ${i}`, mentioned: true },
});
const step = (id: string): JobData => ({ kind: 'step', stepId: id, revision: 1, run: 1 });
const label = (d: JobData) => (d.kind === 'intake' ? `${d.message.teamId}:${Number(d.message.messageTs.split('.')[1])}` : d.kind === 'step' ? `step:${d.stepId}` : d.kind);

/** A queue and (started later) one worker with concurrency 1 on a fresh prefix; `seen` is the order jobs ran in. */
async function lanes(onJob: (d: JobData, q: { enqueue(d: JobData): Promise<void> }) => Promise<void> = async () => undefined) {
  const prefix = `t_lanes_${randomBytes(4).toString('hex')}`;
  prefixes.push(prefix);
  const producer = producerConnection(REDIS_URL);
  const q = createJobQueue(producer, prefix, { attempts: 1, backoffMs: 10 });
  await q.queue.waitUntilReady();
  const seen: string[] = [];
  const errors: unknown[] = [];
  let worker: Worker | undefined;
  let connection: ReturnType<typeof redisConnection> | undefined;
  const handle: JobHandler = async (data) => { seen.push(label(data)); await onJob(data, q); };
  return {
    q, seen, errors,
    start() {
      connection = redisConnection(REDIS_URL);
      worker = createJobWorker(connection, prefix, { concurrency: 1, lockDurationMs: 30_000, stalledIntervalMs: 30_000, infra: { maxHours: 1, maxDelayMs: 1000 } },
        handle, (e) => errors.push(e), () => undefined);
    },
    async close() {
      await worker?.close();
      await connection?.quit();
      await q.close();
      await producer.quit();
    },
  };
}

describe('fair scheduling', () => {
  it('runs each running workflow\'s next step before any waiting intake, however many wait', async () => {
    // Each intake starts a "workflow" whose first step is a continuation; each step but the last adds the next one.
    const l = await lanes(async (d, q) => {
      if (d.kind === 'intake') await q.enqueue(step(`${label(d).replace(':', '_')}-1`)); // job ids may not hold ':'
      else if (d.kind === 'step' && !d.stepId.endsWith('-3')) await q.enqueue(step(d.stepId.replace(/-(\d)$/, (_, n) => `-${Number(n) + 1}`)));
    });
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => l.q.enqueue(intake('TA', i))));
      await l.q.enqueue({ kind: 'decision', approvalId: 'gate-1' }); // a gate decided while 300 intakes wait
      const counts = await l.q.queue.getJobCounts('wait', 'prioritized');
      expect(counts).toEqual({ wait: 1, prioritized: 300 }); // continuations on the wait list, intakes prioritized
      l.start();
      await waitFor(() => (l.seen.length >= 50 ? true : undefined), '50 jobs run');
      // The decision first, though added last; then every workflow runs to its end before the next intake starts.
      expect(l.seen[0]).toBe('decision');
      expect(l.seen.slice(1, 13)).toEqual(['TA:0', 'step:TA_0-1', 'step:TA_0-2', 'step:TA_0-3', 'TA:1', 'step:TA_1-1', 'step:TA_1-2', 'step:TA_1-3', 'TA:2', 'step:TA_2-1', 'step:TA_2-2', 'step:TA_2-3']);
      expect(l.errors).toEqual([]);
    } finally {
      await l.close();
    }
  });

  it('does not let one workspace\'s burst hold another workspace\'s single request', async () => {
    const l = await lanes();
    try {
      await Promise.all(Array.from({ length: 400 }, (_, i) => l.q.enqueue(intake('TA', i))));
      await l.q.enqueue(intake('TB', 0)); // B's one request arrives after A's 400
      await Promise.all(Array.from({ length: 100 }, (_, i) => l.q.enqueue(intake('TA', 400 + i)))); // A goes on
      await l.q.enqueue(intake('TC', 0));
      l.start();
      await waitFor(() => (l.seen.length >= 20 ? true : undefined), '20 jobs run');
      // B and C run right after A's first (the one at the head when they arrived), then A's in order: round robin.
      expect(l.seen.slice(0, 5)).toEqual(['TA:0', 'TB:0', 'TC:0', 'TA:1', 'TA:2']);
      // A's own requests keep their order.
      const a = l.seen.filter((s) => s.startsWith('TA:')).map((s) => Number(s.slice(3)));
      expect(a).toEqual([...a].sort((x, y) => x - y));
      expect(l.errors).toEqual([]);
    } finally {
      await l.close();
    }
  });

  it('starts the tags afresh once no intake waits, and interleaves two bursts', async () => {
    const l = await lanes();
    try {
      const keys = { prioritized: l.q.queue.keys.prioritized!, tags: l.q.queue.toKey('fair') };
      const producer = producerConnection(REDIS_URL);
      await new Promise((resolve) => producer.once('ready', resolve));
      try {
        // Nothing waits: tags start at 1 and grow per workspace.
        expect(await fairPriorities(producer, keys, ['slack:A', 'slack:A', 'slack:B', 'slack:A', 'slack:B'])).toEqual([1, 2, 1, 3, 2]);
        // Nothing in BullMQ's set, but tagged a moment ago (those adds may be on their way): the tags go on.
        expect(await fairPriorities(producer, keys, ['slack:A', 'slack:C'])).toEqual([4, 1]);
        // Nothing waits and nothing was tagged for the quiet time: the table starts afresh.
        await new Promise((r) => setTimeout(r, 50));
        expect(await fairPriorities(producer, keys, ['slack:A'], 20)).toEqual([1]);
      } finally {
        await producer.quit();
      }
      // Two bursts added at the same time end up interleaved.
      await Promise.all(Array.from({ length: 50 }, (_, i) => [l.q.enqueue(intake('TA', i)), l.q.enqueue(intake('TB', i))]).flat());
      l.start();
      await waitFor(() => (l.seen.length >= 100 ? true : undefined), '100 jobs run');
      const teams = l.seen.map((s) => s.split(':')[0]);
      for (let i = 0; i < 100; i += 2) expect(new Set(teams.slice(i, i + 2))).toEqual(new Set(['TA', 'TB']));
    } finally {
      await l.close();
    }
  });
});
