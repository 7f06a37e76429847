// Model tiers on the console: acceptance and cost per role × template × tier from recorded tier runs (TierRun, with
// the Approval of each run's revision), shadow runs paired with the routed run they shadowed, and the models whose
// calls had no known price (LlmCall.priceUnknown, and configured tier models the price list does not know).
// Invariant: every query is bounded by time (since) and the number of rows it returns.
import { hasPrice } from '../../agents/llm/pricing';
import type { RoutedRun, ShadowPair } from '../../agents/llm/evidence';
import { tiersOf } from '../../agents/llm/routing';
import type { Role } from '../../agents/roles';
import type { Db } from '../../orchestrator/db';

const MAX_ROWS = 50_000;

export async function routedRuns(prisma: Db, since: Date): Promise<RoutedRun[]> {
  const rows = await prisma.$queryRaw<(Omit<RoutedRun, 'approval'> & { approval: string | null })[]>`
    SELECT r."roleId", r.template, r.tier, r.outcome, a.status::text AS approval, r."costUsd"::float8 AS "costUsd", r."priceUnknown"
    FROM "TierRun" r LEFT JOIN "Approval" a ON a."stepId" = r."stepId" AND a.revision = r.revision
    WHERE r.mode = 'routed' AND r."createdAt" >= ${since}
    ORDER BY r."createdAt" DESC LIMIT ${MAX_ROWS}`;
  return rows.map((r) => ({ ...r, approval: (r.approval as RoutedRun['approval']) ?? null }));
}

/** Each shadow run with the routed run of the same step revision and run on the tier it started on. */
export async function shadowPairs(prisma: Db, since: Date): Promise<ShadowPair[]> {
  const rows = await prisma.$queryRaw<{ roleId: string; template: string; candidate: string; base: string; cand: string; baseOutcome: string; candCost: number; baseCost: number }[]>`
    SELECT s."roleId", s.template, s.tier AS candidate, s."baseTier" AS base, s.outcome AS cand, b.outcome AS "baseOutcome",
      s."costUsd"::float8 AS "candCost", b."costUsd"::float8 AS "baseCost"
    FROM "TierRun" s
    JOIN "TierRun" b ON b."stepId" = s."stepId" AND b.revision = s.revision AND b.run = s.run AND b.mode = 'routed' AND b.tier = s."baseTier"
    WHERE s.mode = 'shadow' AND s."createdAt" >= ${since} AND s.outcome IN ('passed', 'failed') AND b.outcome IN ('passed', 'failed')
    ORDER BY s."createdAt" DESC LIMIT ${MAX_ROWS}`;
  return rows.map((r) => ({
    roleId: r.roleId, template: r.template, candidate: r.candidate, base: r.base,
    candidatePassed: r.cand === 'passed', basePassed: r.baseOutcome === 'passed', candidateCostUsd: r.candCost, baseCostUsd: r.baseCost,
  }));
}

export interface UnknownPrice {
  provider: string;
  model: string;
  /** Calls since `since` priced $0 for want of a price (0: a configured tier model not yet called). */
  calls: number;
  /** The roles whose tiers name it. */
  roles: string[];
}

/** Models without a known price: those called (LlmCall.priceUnknown) and those configured on a role's tiers. */
export async function unknownPrices(prisma: Db, since: Date, roles: Iterable<Role>): Promise<UnknownPrice[]> {
  const called = await prisma.$queryRaw<{ provider: string; model: string; calls: number }[]>`
    SELECT provider, model, count(*)::int AS calls FROM "LlmCall"
    WHERE "priceUnknown" AND "createdAt" >= ${since} GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 200`;
  const by = new Map<string, UnknownPrice>(called.map((c) => [`${c.provider}/${c.model}`, { ...c, roles: [] }]));
  for (const role of roles) {
    for (const t of tiersOf(role)) {
      if (hasPrice(t.provider, t.model)) continue;
      const key = `${t.provider}/${t.model}`;
      const entry = by.get(key) ?? { provider: t.provider, model: t.model, calls: 0, roles: [] };
      if (!entry.roles.includes(role.role_id)) entry.roles.push(role.role_id);
      by.set(key, entry);
    }
  }
  return [...by.values()];
}

/** Recent escalations between tiers, newest first. */
export function recentEscalations(prisma: Db, since: Date, take = 50) {
  return prisma.tierEscalation.findMany({ where: { createdAt: { gte: since } }, orderBy: { createdAt: 'desc' }, take });
}
