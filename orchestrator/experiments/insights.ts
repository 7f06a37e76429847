// Insights and recommendations from history (Step, Approval, LlmCall, Satisfaction, Workflow): where people request
// changes (and the words their feedback repeats), gates always approved unchanged, steps that cost most for least
// acceptance, where workflows drop off, and the busiest hours. Each recommendation carries its evidence (counts and
// example workflow ids) and, where it can be tested, a ready experiment definition (YAML) the console starts a draft from.
// Invariants: read-only; bounded (a window of days, at most 5,000 feedback texts, top lists capped); no
// recommendation without at least MIN_EVIDENCE decisions behind it.
import { createRequire } from 'node:module';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Db } from '../db';

export const MIN_EVIDENCE = 5;
const stopwords = z.record(z.string(), z.array(z.string())).parse(createRequire(import.meta.url)('stopwords-iso'));
const STOP = new Set([...(stopwords.en ?? []), 'please', 'pls', 'thanks', 'also', 'add', 'need', 'make']);

export interface Recommendation {
  kind: 'changes_requested' | 'gate_unchanged' | 'cost_acceptance' | 'drop_off';
  title: string;
  template: string;
  roleId: string;
  stepKey?: string;
  evidence: { count: number; of: number; workflows: string[]; themes?: { word: string; count: number }[] };
  /** An experiment to test the change (YAML), when one applies. */
  experiment?: string;
}
export interface Insights { since: Date; recommendations: Recommendation[]; busiestHours: { hour: number; workflows: number }[] }

/** The most repeated words in feedback texts (stop words left out), most frequent first. */
export function themes(texts: string[], top = 8): { word: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const t of texts.slice(0, 5000)) {
    const seen = new Set(t.toLowerCase().slice(0, 5000).split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 2 && !STOP.has(w) && !/^\d+$/.test(w)));
    for (const w of seen) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, top).map(([word, count]) => ({ word, count }));
}

const slugOf = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 50);

export function experimentYaml(id: string, name: string, template: string, arm: Record<string, unknown>, primary: string, guardrails: string[]): string {
  return stringify({ id: slugOf(id), name, eligibility: { templates: [template] }, arms: [{ id: 'control', weight: 50 }, { weight: 50, ...arm }], primary_metric: primary, guardrails });
}

export async function insights(prisma: Db, days = 90): Promise<Insights> {
  const since = new Date(Date.now() - days * 86_400_000);
  const gates = await prisma.$queryRaw<{ template: string; roleId: string; key: string; decided: number; changes: number; rejected: number; workflows: string[] }[]>`
    SELECT w.template, s."roleId", s.key, count(*)::int AS decided,
      (count(*) FILTER (WHERE p.status = 'changes_requested'))::int AS changes, (count(*) FILTER (WHERE p.status = 'rejected'))::int AS rejected,
      (array_agg(DISTINCT w.id::text))[1:5] AS workflows
    FROM "Approval" p JOIN "Step" s ON s.id = p."stepId" JOIN "Workflow" w ON w.id = p."workflowId"
    WHERE p.status <> 'pending' AND p."createdAt" >= ${since}
    GROUP BY 1, 2, 3 HAVING count(*) >= ${MIN_EVIDENCE}`;
  const recs: Recommendation[] = [];
  for (const g of [...gates].sort((a, b) => b.changes / b.decided - a.changes / a.decided)) {
    if (g.changes > 0) {
      const feedback = await prisma.approval.findMany({
        where: { status: 'changes_requested', createdAt: { gte: since }, feedback: { not: null }, step: { roleId: g.roleId, key: g.key }, workflow: { template: g.template } },
        select: { feedback: true, workflowId: true }, take: 5000, orderBy: { createdAt: 'desc' },
      });
      recs.push({
        kind: 'changes_requested', template: g.template, roleId: g.roleId, stepKey: g.key,
        title: `${g.roleId} in ${g.template}: changes requested on ${g.changes} of ${g.decided} decisions (${pct(g.changes, g.decided)})`,
        evidence: { count: g.changes, of: g.decided, workflows: [...new Set(feedback.map((f) => f.workflowId))].slice(0, 5), themes: themes(feedback.map((f) => f.feedback!)) },
        experiment: experimentYaml(`${g.template}-${g.roleId}-instructions`, `Clearer ${g.roleId} instructions in ${g.template}`, g.template,
          { id: 'revised', role: { id: g.roleId, instructions: 'Write the revised instructions here: address the feedback themes shown in the console.' } }, 'approval_unchanged', ['completion', 'satisfaction']),
      });
    } else if (g.rejected === 0) {
      recs.push({
        kind: 'gate_unchanged', template: g.template, roleId: g.roleId, stepKey: g.key,
        title: `The gate after ${g.key} (${g.roleId}) in ${g.template} was approved unchanged all ${g.decided} times: a candidate to remove`,
        evidence: { count: g.decided, of: g.decided, workflows: g.workflows },
        experiment: experimentYaml(`${g.template}-${g.key}-no-gate`, `${g.template} without the gate after ${g.key}`, g.template, { id: 'no_gate', template: { gates: { [g.key]: false } } }, 'completion', ['satisfaction', 'time_to_completion']),
      });
    }
  }

  const costs = await prisma.$queryRaw<{ template: string; roleId: string; steps: number; accepted: number; cost: number; workflows: string[] }[]>`
    SELECT w.template, s."roleId", count(*)::int AS steps,
      (count(*) FILTER (WHERE s.status = 'completed' AND s.revision = 1))::int AS accepted,
      coalesce(sum((SELECT sum(l."costUsd") FROM "LlmCall" l WHERE l."stepId" = s.id)), 0)::float8 AS cost,
      (array_agg(DISTINCT w.id::text))[1:5] AS workflows
    FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId"
    WHERE w."createdAt" >= ${since} AND s.status IN ('completed', 'failed')
    GROUP BY 1, 2 HAVING count(*) >= ${MIN_EVIDENCE}`;
  const ranked = costs.filter((c) => c.cost > 0).map((c) => ({ ...c, perAccepted: c.cost / Math.max(1, c.accepted) })).sort((a, b) => b.perAccepted - a.perAccepted).slice(0, 3);
  for (const c of ranked) {
    recs.push({
      kind: 'cost_acceptance', template: c.template, roleId: c.roleId,
      title: `${c.roleId} in ${c.template}: $${c.perAccepted.toFixed(4)} per step accepted first time (${c.accepted} of ${c.steps})`,
      evidence: { count: c.accepted, of: c.steps, workflows: c.workflows },
      experiment: experimentYaml(`${c.template}-${c.roleId}-cheaper`, `A cheaper model for ${c.roleId} in ${c.template}`, c.template, { id: 'cheaper', role: { id: c.roleId, model: 'gpt-4o-mini' } }, 'cost_per_completed', ['approval_unchanged', 'completion']),
    });
  }

  const drops = await prisma.$queryRaw<{ template: string; roleId: string; key: string; stopped: number; total: number; workflows: string[] }[]>`
    SELECT w.template, s."roleId", s.key, count(*)::int AS stopped,
      (SELECT count(*)::int FROM "Workflow" x WHERE x.template = w.template AND x."createdAt" >= ${since}) AS total,
      (array_agg(DISTINCT w.id::text))[1:5] AS workflows
    FROM "Workflow" w JOIN "Step" s ON s."workflowId" = w.id
    WHERE w."createdAt" >= ${since} AND w.status IN ('rejected', 'cancelled', 'step_failed') AND s.status NOT IN ('completed', 'skipped')
      AND s.position = (SELECT min(t.position) FROM "Step" t WHERE t."workflowId" = w.id AND t.status NOT IN ('completed', 'skipped'))
    GROUP BY 1, 2, 3 HAVING count(*) >= ${MIN_EVIDENCE} ORDER BY 4 DESC LIMIT 5`;
  for (const d of drops) {
    recs.push({
      kind: 'drop_off', template: d.template, roleId: d.roleId, stepKey: d.key,
      title: `${d.template}: ${d.stopped} of ${d.total} workflows stopped at ${d.key} (${d.roleId})`,
      evidence: { count: d.stopped, of: d.total, workflows: d.workflows },
    });
  }

  const hours = await prisma.$queryRaw<{ hour: number; workflows: number }[]>`
    SELECT EXTRACT(HOUR FROM w."createdAt")::int AS hour, count(*)::int AS workflows FROM "Workflow" w WHERE w."createdAt" >= ${since} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5`;
  return { since, recommendations: recs.slice(0, 30), busiestHours: hours };
}

const pct = (a: number, b: number) => `${Math.round((100 * a) / Math.max(1, b))} %`;
