// Analytics over the stored workflows, steps, approvals, LLM calls, votes and violations, since a point in time.
import { Prisma } from '../../generated/prisma/client';
import type { Db } from '../../orchestrator/db';

export interface RoleLatency { roleId: string; count: number; p50: number; p95: number }
export interface Labeled { label: string; value: number }

export async function completion(prisma: Db, since: Date): Promise<{ byStatus: Labeled[]; total: number; completed: number; rate: number | null }> {
  const rows = await prisma.$queryRaw<{ status: string; n: number }[]>`
    SELECT status::text AS status, count(*)::int AS n FROM "Workflow" WHERE "createdAt" >= ${since} GROUP BY 1 ORDER BY 1`;
  const total = rows.reduce((s, r) => s + r.n, 0);
  const completed = rows.find((r) => r.status === 'completed')?.n ?? 0;
  return { byStatus: rows.map((r) => ({ label: r.status, value: r.n })), total, completed, rate: total ? completed / total : null };
}

export function stepLatency(prisma: Db, since: Date): Promise<RoleLatency[]> {
  return prisma.$queryRaw<RoleLatency[]>`
    SELECT "roleId", count(*)::int AS count,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")))::float8 AS p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM ("finishedAt" - "startedAt")))::float8 AS p95
    FROM "Step" WHERE "startedAt" >= ${since} AND "finishedAt" IS NOT NULL AND status IN ('completed', 'awaiting_approval')
    GROUP BY 1 ORDER BY 1`;
}

export function approvalWait(prisma: Db, since: Date): Promise<RoleLatency[]> {
  return prisma.$queryRaw<RoleLatency[]>`
    SELECT s."roleId", count(*)::int AS count,
      percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (a."decidedAt" - a."createdAt")))::float8 AS p50,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM (a."decidedAt" - a."createdAt")))::float8 AS p95
    FROM "Approval" a JOIN "Step" s ON s.id = a."stepId"
    WHERE a."createdAt" >= ${since} AND a."decidedAt" IS NOT NULL GROUP BY 1 ORDER BY 1`;
}

export async function costBy(prisma: Db, since: Date, by: 'role' | 'workflow' | 'day'): Promise<Labeled[]> {
  if (by === 'workflow') return costByWorkflow(prisma, since);
  const key = {
    role: Prisma.sql`COALESCE(l."roleId", s."roleId", '(' || l.purpose || ')')`,
    day: Prisma.sql`to_char(date_trunc('day', l."createdAt"), 'YYYY-MM-DD')`,
  }[by];
  const order = by === 'day' ? Prisma.sql`ORDER BY 1` : Prisma.sql`ORDER BY 2 DESC LIMIT 20`;
  const rows = await prisma.$queryRaw<{ label: string; value: number }[]>`
    SELECT ${key} AS label, sum(l."costUsd")::float8 AS value
    FROM "LlmCall" l LEFT JOIN "Step" s ON s.id = l."stepId" LEFT JOIN "Workflow" w ON w.id = l."workflowId"
    WHERE l."createdAt" >= ${since} GROUP BY 1 ${order}`;
  return rows;
}

/** Cost per workflow (calls of no workflow per purpose), the 20 dearest. The label is made here, after the read: the
 *  request text may be sealed at rest (issue 18), and only the read (the driver adapter) opens it, so SQL cannot cut it. */
async function costByWorkflow(prisma: Db, since: Date): Promise<Labeled[]> {
  const rows = await prisma.$queryRaw<{ id: string | null; request: string | null; purpose: string | null; value: number }[]>`
    SELECT w.id, w."requestText" AS request, CASE WHEN w.id IS NULL THEN l.purpose::text END AS purpose, sum(l."costUsd")::float8 AS value
    FROM "LlmCall" l LEFT JOIN "Workflow" w ON w.id = l."workflowId"
    WHERE l."createdAt" >= ${since} GROUP BY w.id, 3 ORDER BY 4 DESC LIMIT 20`;
  const cut = (s: string, n: number) => [...s].slice(0, n).join(''); // characters, as SQL's left() counted them
  return rows.map((r) => ({ label: r.id !== null ? `${cut(r.request ?? '', 40)} (${r.id.slice(0, 8)})` : `(${r.purpose}, no workflow)`, value: r.value }));
}

/** Share of steps that needed a person: changes were requested, or a role constraint escalated. */
export async function intervention(prisma: Db, since: Date): Promise<{ roleId: string; steps: number; intervened: number }[]> {
  return prisma.$queryRaw`
    SELECT s."roleId", count(*)::int AS steps,
      (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM "Approval" a WHERE a."stepId" = s.id AND a.status = 'changes_requested')
        OR EXISTS (SELECT 1 FROM "ConstraintViolation" v WHERE v."stepId" = s.id AND v.action = 'escalated')))::int AS intervened
    FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId"
    WHERE w."createdAt" >= ${since} AND s.status <> 'pending' GROUP BY 1 ORDER BY 1`;
}

export async function satisfaction(prisma: Db, since: Date): Promise<{ up: number; down: number }> {
  const [row] = await prisma.$queryRaw<{ up: number; down: number }[]>`
    SELECT (count(*) FILTER (WHERE score > 0))::int AS up, (count(*) FILTER (WHERE score < 0))::int AS down
    FROM "Satisfaction" WHERE "updatedAt" >= ${since}`;
  return row ?? { up: 0, down: 0 };
}

export function violations(prisma: Db, since: Date): Promise<{ roleId: string; kind: string; n: number }[]> {
  return prisma.$queryRaw`
    SELECT "roleId", kind, count(*)::int AS n FROM "ConstraintViolation" WHERE "createdAt" >= ${since} GROUP BY 1, 2 ORDER BY 1, 2`;
}
