// Indexes and /metrics cost on a migrated database: every foreign key has an index whose leading columns are its
// columns; deleting a workflow with children scans only indexes; the metric counters kept by triggers give the same
// values as the full scans they replace, after a real workflow and after 50,000 seeded rows (plus deletes, updates,
// quorum votes and a TRUNCATE); and the scrape's SQL reads no large table (pg_stat_xact_user_tables and EXPLAIN).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS_SQL, FOLD_SQL, OLDEST_PENDING_GATE_SQL, quantileOfBuckets } from '../orchestrator/metric-counters';
import { runWorkflow } from './support/admin-flow';
import { startHarness, type Harness } from './support/harness';
import { createTestDatabase } from './support/test-database';

const LARGE_TABLES = ['Workflow', 'Step', 'Approval', 'LlmCall', 'ConstraintViolation', 'AgentMessage', 'ThreadReply', 'ApprovalVote'];

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Sequential and index scans per table done by `work` in one transaction (rolled back), from the backend's own counters. */
async function scansOf(c: pg.Client, work: () => Promise<unknown>): Promise<Map<string, { seq: number; idx: number }>> {
  // Since PostgreSQL 15 a backend flushes its table statistics at most once a second, and pg_stat_xact_* reports the
  // pending ones, earlier transactions' included: flush them first (at the end of this statement), so only `work` counts.
  await c.query('SELECT pg_stat_force_next_flush()');
  await c.query('BEGIN');
  try {
    await work();
    const { rows } = await c.query<{ relname: string; seq: string; idx: string | null }>(
      'SELECT relname, seq_scan AS seq, idx_scan AS idx FROM pg_stat_xact_user_tables');
    return new Map(rows.map((r) => [r.relname, { seq: Number(r.seq), idx: Number(r.idx ?? 0) }]));
  } finally {
    await c.query('ROLLBACK');
  }
}

/** Workflows with every kind of child row, by generate_series; ids are deterministic (w<i>, s<i>_<k>, ...). */
async function seed(c: pg.Client, workflows: number): Promise<void> {
  await c.query(`INSERT INTO "Workflow"(id, platform, "teamId", "channelId", "threadTs", "requestText", "requestedBy", "sourceEventId", template, status, "updatedAt", "finishedAt")
    SELECT 'w' || i, 'slack', 'T', 'C_SEED', i::text, 'seeded', 'U', 'seed-' || i, 'feature_delivery',
      (ARRAY['running','awaiting_approval','completed','rejected','cancelled','step_failed'])[1 + i % 6]::"WorkflowStatus", now(), now()
    FROM generate_series(1, $1) i`, [workflows]);
  await c.query(`INSERT INTO "Step"(id, "workflowId", position, "roleId", status, "startedAt", "finishedAt")
    SELECT 's' || i || '_' || k, 'w' || i, k, (ARRAY['business_analyst','developer','qa_tester'])[1 + (i + k) % 3],
      (ARRAY['pending','running','completed','failed','skipped'])[1 + (i * k) % 5]::"StepStatus",
      CASE WHEN k < 3 THEN now() - interval '1 hour' END,
      CASE WHEN k < 2 THEN now() - interval '1 hour' + ((i % 997) * interval '17 ms') + (k * interval '3 s') END
    FROM generate_series(1, $1) i, generate_series(0, 3) k`, [workflows]);
  await c.query(`INSERT INTO "Approval"(id, "workflowId", "stepId", revision, status, "createdAt", "decidedAt")
    SELECT 'a' || i, 'w' || i, 's' || i || '_0', 1, (ARRAY['pending','approved','changes_requested','rejected'])[1 + i % 4]::"ApprovalStatus",
      now() - interval '2 hours' + (i * interval '1 ms'), CASE WHEN i % 4 <> 0 THEN now() - interval '2 hours' + (i * interval '1 ms') + ((i % 301) * interval '1 s') END
    FROM generate_series(1, $1) i`, [workflows]);
  await c.query(`INSERT INTO "ApprovalVote"("approvalId", "userId") SELECT 'a' || i, 'U' || v FROM generate_series(1, $1) i, generate_series(1, 2) v WHERE i % 10 = 0`, [workflows]);
  await c.query(`INSERT INTO "LlmCall"(id, "workflowId", "stepId", "roleId", purpose, provider, model, "promptTokens", "completionTokens", "latencyMs", "costUsd", ok)
    SELECT 'l' || i || '_' || k, 'w' || i, 's' || i || '_' || k, CASE WHEN i % 50 = 0 THEN NULL ELSE (ARRAY['business_analyst','developer','qa_tester'])[1 + (i + k) % 3] END,
      'step', 'openai', (ARRAY['gpt-4o-mini','gpt-4o'])[1 + i % 2], 100 + i % 7, 50 + k, 5, 0.000123 * (1 + i % 3), i % 13 <> 0
    FROM generate_series(1, $1) i, generate_series(0, 1) k`, [workflows]);
  await c.query(`INSERT INTO "LlmCall"(id, purpose, provider, model, "latencyMs", ok) SELECT 'intent' || i, 'intent', 'openai', 'gpt-4o-mini', 3, true FROM generate_series(1, $1) i`, [Math.ceil(workflows / 100)]);
  await c.query(`INSERT INTO "ConstraintViolation"(id, "workflowId", "stepId", "roleId", kind, detail, action)
    SELECT 'v' || i, 'w' || i, 's' || i || '_1', (ARRAY['business_analyst','developer'])[1 + i % 2], (ARRAY['schema','forbidden_topic'])[1 + i % 2], 'd', 'retried'
    FROM generate_series(1, $1) i WHERE i % 3 = 0`, [workflows]);
  await c.query(`INSERT INTO "AgentMessage"(id, "workflowId", "stepId", "roleId", kind, "idempotencyKey", "channelId", text)
    SELECT 'm' || i || '_' || k, 'w' || i, 's' || i || '_' || k, 'developer', 'output', 'k' || i || '_' || k, 'C_SEED', 't'
    FROM generate_series(1, $1) i, generate_series(0, 1) k`, [workflows]);
  await c.query(`INSERT INTO "ThreadReply"(id, "workflowId", "userId", text, "messageTs", "sentAt") SELECT 'r' || i, 'w' || i, 'U', 'hi', i::text, now() FROM generate_series(1, $1) i`, [workflows]);
  await c.query('ANALYZE');
}

type Row = { metric: string; l1: string; l2: string; value: number };

/** What the counters should say, by full scans (the queries /metrics ran before the counters). */
async function exact(c: pg.Client) {
  const q = async <T extends pg.QueryResultRow>(sql: string) => (await c.query<T>(sql)).rows;
  return {
    workflows: await q<{ status: string; n: number }>('SELECT status::text, count(*)::int AS n FROM "Workflow" GROUP BY 1'),
    steps: await q<{ role: string; status: string; n: number }>('SELECT "roleId" AS role, status::text, count(*)::int AS n FROM "Step" GROUP BY 1, 2'),
    approvals: await q<{ status: string; n: number }>('SELECT status::text, count(*)::int AS n FROM "Approval" GROUP BY 1'),
    violations: await q<{ role: string; kind: string; n: number }>('SELECT "roleId" AS role, kind, count(*)::int AS n FROM "ConstraintViolation" GROUP BY 1, 2'),
    llm: await q<{ role: string; model: string; prompt: number; completion: number; cost: number; calls: number; errors: number }>(`
      SELECT COALESCE(l."roleId", s."roleId", '(' || l.purpose || ')') AS role, l.model, sum(l."promptTokens")::float8 AS prompt, sum(l."completionTokens")::float8 AS completion,
        sum(l."costUsd")::float8 AS cost, count(*)::float8 AS calls, (count(*) FILTER (WHERE NOT l.ok))::float8 AS errors
      FROM "LlmCall" l LEFT JOIN "Step" s ON s.id = l."stepId" GROUP BY 1, 2`),
    stepDuration: await q<{ role: string; p50: number; p95: number }>(`
      SELECT "roleId" AS role, percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::float8 AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY d)::float8 AS p95
      FROM (SELECT "roleId", EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")) AS d FROM "Step" WHERE "finishedAt" IS NOT NULL AND "startedAt" IS NOT NULL) s GROUP BY 1`),
    gateWait: await q<{ p50: number | null; p95: number | null }>(`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::float8 AS p50, percentile_cont(0.95) WITHIN GROUP (ORDER BY d)::float8 AS p95
      FROM (SELECT EXTRACT(EPOCH FROM ("decidedAt" - "createdAt")) AS d FROM "Approval" WHERE "decidedAt" IS NOT NULL) a`),
  };
}

/** Checks every counter against the full scans: counts and sums exactly, quantiles within 2.5% (+1 ms for "z"). */
async function expectCountersMatch(c: pg.Client, fold: boolean): Promise<void> {
  if (fold) await c.query(FOLD_SQL);
  const rows = (await c.query<Row>(COUNTERS_SQL)).rows;
  const value = (metric: string, l1: string, l2 = '') => Math.round(rows.find((r) => r.metric === metric && r.l1 === l1 && r.l2 === l2)?.value ?? 0);
  const nonZero = (metric: string) => rows.filter((r) => r.metric === metric && Math.round(r.value) !== 0).length;
  const e = await exact(c);
  for (const w of e.workflows) expect(value('workflows', w.status), `workflows ${w.status}`).toBe(w.n);
  expect(nonZero('workflows')).toBe(e.workflows.length);
  for (const s of e.steps) expect(value('steps', s.role, s.status), `steps ${s.role} ${s.status}`).toBe(s.n);
  expect(nonZero('steps')).toBe(e.steps.length);
  for (const a of e.approvals) expect(value('approvals', a.status)).toBe(a.n);
  expect(nonZero('approvals')).toBe(e.approvals.length);
  for (const v of e.violations) expect(value('violations', v.role, v.kind)).toBe(v.n);
  expect(nonZero('violations')).toBe(e.violations.length);
  for (const l of e.llm) {
    expect(value('llm_calls', l.role, l.model), `llm calls ${l.role} ${l.model}`).toBe(l.calls);
    expect(value('llm_errors', l.role, l.model)).toBe(l.errors);
    expect(value('llm_prompt', l.role, l.model)).toBe(l.prompt);
    expect(value('llm_completion', l.role, l.model)).toBe(l.completion);
    const cost = rows.filter((r) => r.metric === 'llm_cost' && r.l1 === l.role && r.l2 === l.model).reduce((s, r) => s + r.value, 0);
    expect(cost).toBeCloseTo(l.cost, 6);
  }
  expect(nonZero('llm_calls')).toBe(e.llm.length);
  const close = (got: number | undefined, want: number) => {
    expect(got).toBeDefined();
    expect(Math.abs(got! - want)).toBeLessThanOrEqual(want * 0.025 + 0.001);
  };
  for (const s of e.stepDuration) {
    const buckets = new Map(rows.filter((r) => r.metric === 'step_duration' && r.l1 === s.role).map((r) => [r.l2, r.value]));
    close(quantileOfBuckets(buckets, 0.5), s.p50);
    close(quantileOfBuckets(buckets, 0.95), s.p95);
  }
  const gate = e.gateWait[0]!;
  const gateBuckets = new Map(rows.filter((r) => r.metric === 'gate_wait').map((r) => [r.l1, r.value]));
  if (gate.p50 === null) expect(quantileOfBuckets(gateBuckets, 0.5)).toBeUndefined();
  else {
    close(quantileOfBuckets(gateBuckets, 0.5), gate.p50);
    close(quantileOfBuckets(gateBuckets, 0.95), gate.p95!);
  }
}

describe('indexes', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => { db = await createTestDatabase(); });
  afterAll(async () => { await db.drop(); });

  it('every foreign key has an index whose leading columns are the key\'s columns', async () => {
    await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ fk: string; indexed: boolean }>(`
        SELECT con.conrelid::regclass::text || '.' || con.conname AS fk,
          EXISTS (
            SELECT 1 FROM pg_index i
            WHERE i.indrelid = con.conrelid AND i.indpred IS NULL
              AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(con.conkey, 1)] @> con.conkey
              AND (string_to_array(i.indkey::text, ' ')::int2[])[1:array_length(con.conkey, 1)] <@ con.conkey
          ) AS indexed
        FROM pg_constraint con WHERE con.contype = 'f' AND con.connamespace = 'public'::regnamespace`);
      expect(rows.length).toBeGreaterThanOrEqual(10);
      expect(rows.filter((r) => !r.indexed).map((r) => r.fk)).toEqual([]);
    });
  });

  it('deleting a workflow with children uses index scans only (20,000 workflows seeded)', async () => {
    await withClient(db.url, async (c) => {
      await seed(c, 20_000);
      const scans = await scansOf(c, () => c.query(`DELETE FROM "Workflow" WHERE id = 'w10'`));
      for (const t of LARGE_TABLES) expect(scans.get(t)?.seq ?? 0, `sequential scans of ${t}`).toBe(0);
      for (const t of ['Workflow', 'Step', 'AgentMessage', 'Approval', 'LlmCall', 'ThreadReply', 'ApprovalVote']) {
        expect(scans.get(t)?.idx ?? 0, `index scans of ${t}`).toBeGreaterThan(0);
      }
      // The cascade's lookups, as the planner sees them with sequential scans allowed.
      for (const [table, column] of [['AgentMessage', 'workflowId'], ['AgentMessage', 'stepId'], ['LlmCall', 'workflowId'], ['LlmCall', 'stepId'], ['Approval', 'workflowId']]) {
        const plan = JSON.stringify((await c.query(`EXPLAIN (FORMAT JSON) SELECT 1 FROM "${table}" WHERE "${column}" = 'w10'`)).rows);
        expect(plan, `${table}.${column}`).not.toContain('Seq Scan');
        expect(plan).toContain(`${table}_${column}_idx`);
      }
      const artifacts = JSON.stringify((await c.query(`EXPLAIN (FORMAT JSON) SELECT id FROM "Step" WHERE "roleId" = 'developer' AND output IS NOT NULL ORDER BY "finishedAt" DESC LIMIT 20`)).rows);
      expect(artifacts).toContain('Step_roleId_finishedAt_idx');
    });
  });
});

describe('/metrics counters', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.close(); });

  it('after a real workflow, /metrics reports what full scans of the tables say', async () => {
    await runWorkflow(h);
    await withClient(h.env.DATABASE_URL!, (c) => expectCountersMatch(c, false));
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).toMatch(/^rolecall_workflows\{status="completed"\} 1$/m);
    expect(text).not.toMatch(/^rolecall_workflows\{status="running"\}/m); // back to zero: left out, as GROUP BY did
    expect(text).toMatch(/^rolecall_steps\{role="business_analyst",status="completed"\} 1$/m);
    const approved = await h.prisma.approval.count({ where: { status: 'approved' } });
    expect(approved).toBeGreaterThan(0);
    expect(text).toMatch(new RegExp(`^rolecall_approvals\\{status="approved"\\} ${approved}$`, 'm'));
    expect(text).toMatch(/^rolecall_gate_oldest_pending_seconds 0$/m);
    const calls = await h.prisma.llmCall.count({ where: { roleId: 'business_analyst', purpose: 'step' } });
    expect(text).toMatch(new RegExp(`^rolecall_llm_calls\\{role="business_analyst",model="gpt-4o-mini"\\} ${calls}$`, 'm'));
    const step = await h.prisma.step.findFirstOrThrow({ where: { roleId: 'developer' } });
    const seconds = (step.finishedAt!.getTime() - step.startedAt!.getTime()) / 1000;
    const p50 = Number(/^rolecall_step_duration_seconds\{role="developer",quantile="0.5"\} (\S+)$/m.exec(text)?.[1]);
    expect(Math.abs(p50 - seconds)).toBeLessThanOrEqual(seconds * 0.025 + 0.001);
  });

  it('with 50,000 more rows, the counters still match and the scrape reads no large table', async () => {
    await withClient(h.env.DATABASE_URL!, async (c) => {
      await seed(c, 12_500); // 12,500 workflows, 50,000 steps, 25,000+ LLM calls, ...
      await expectCountersMatch(c, false); // deltas not folded yet: counted all the same
      // Changes after the seeding: status moves, re-runs, decisions, deletes (cascades), a count back to zero.
      await c.query(`UPDATE "Workflow" SET status = 'completed' WHERE id IN ('w1', 'w2', 'w3')`);
      await c.query(`UPDATE "Step" SET "startedAt" = now(), "finishedAt" = NULL, status = 'running' WHERE id = 's4_0'`);
      await c.query(`UPDATE "Step" SET "roleId" = 'developer' WHERE id = 's5_0'`);
      await c.query(`UPDATE "Approval" SET status = 'approved', "decidedAt" = "createdAt" + interval '42 s' WHERE id = 'a8'`);
      await c.query(`UPDATE "LlmCall" SET ok = false WHERE id = 'l7_0'`);
      await c.query(`DELETE FROM "Workflow" WHERE id IN ('w11', 'w12', 'w13', 'w50')`);
      await c.query(`DELETE FROM "ConstraintViolation" WHERE "roleId" = 'developer' AND kind = 'forbidden_topic'`);
      await expectCountersMatch(c, true);
      await c.query('ANALYZE');

      const scrape = await scansOf(c, async () => {
        await c.query(FOLD_SQL);
        await c.query(COUNTERS_SQL);
        await c.query(OLDEST_PENDING_GATE_SQL);
      });
      for (const t of LARGE_TABLES) expect(scrape.get(t)?.seq ?? 0, `sequential scans of ${t}`).toBe(0);
      for (const sql of [COUNTERS_SQL, OLDEST_PENDING_GATE_SQL]) {
        const plan = JSON.stringify((await c.query(`EXPLAIN (FORMAT JSON) ${sql}`)).rows);
        for (const t of LARGE_TABLES) expect(plan).not.toMatch(new RegExp(`"Node Type":"Seq Scan"[^}]*"Relation Name":"${t}"`));
      }
      expect(Number((await c.query('SELECT count(*) AS n FROM "MetricCount"')).rows[0].n)).toBeLessThan(2_000);

      // TRUNCATE resets what the truncated tables fed.
      await c.query('TRUNCATE "ConstraintViolation"');
      await expectCountersMatch(c, true);
    });
    const text = await (await fetch(`${h.url}/metrics`)).text();
    const running = (await h.prisma.workflow.count({ where: { status: 'running' } }));
    expect(text).toMatch(new RegExp(`^rolecall_workflows\\{status="running"\\} ${running}$`, 'm'));
    const pending = await h.prisma.approval.findFirstOrThrow({ where: { status: 'pending' }, orderBy: { createdAt: 'asc' } });
    const oldest = Number(/^rolecall_gate_oldest_pending_seconds (\S+)$/m.exec(text)?.[1]);
    expect(oldest).toBeGreaterThanOrEqual((Date.now() - pending.createdAt.getTime()) / 1000 - 60);
    expect(text).not.toMatch(/^rolecall_constraint_violations\{/m);
  });
});
