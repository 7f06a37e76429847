// Cost: per role × template × model tier, acceptance (passed the role's checks; approved without changes) and cost
// from recorded tier runs; shadow-run recommendations with their sample size; recent escalations between tiers; the
// models whose price is unknown (flagged, never shown as free); each role's tiers. Every signed-in user may read it.
import type { Hono } from 'hono';
import { pct, recommend, tierStats } from '../../agents/llm/evidence';
import { hasPrice } from '../../agents/llm/pricing';
import { tiersOf } from '../../agents/llm/routing';
import * as q from '../analytics/tiers';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { fmtDate, Empty, Notice, Page } from '../views/layout';
import { RANGES, rangeSchema, sinceOf, type Range } from './range';
import { RangeFilter } from './range-filter';

const DEFAULT_MIN_SAMPLES = 20;
const usd = (x: number) => `$${x < 0.01 && x > 0 ? x.toFixed(6) : x.toFixed(4)}`;
const share = (x: number | null) => (x === null ? '—' : pct(x));

async function costData(deps: ConsoleDeps, since: Date) {
  const [runs, pairs, unknown, escalations] = await Promise.all([
    q.routedRuns(deps.prisma, since), q.shadowPairs(deps.prisma, since), q.unknownPrices(deps.prisma, since, deps.roles.values()), q.recentEscalations(deps.prisma, since),
  ]);
  const templates = new Map((deps.intents?.labels ?? []).map((l) => [l.id, l.name]));
  const recommendations = recommend(pairs, {
    minSamples: deps.tiers?.minSamples ?? DEFAULT_MIN_SAMPLES,
    roleName: (id) => deps.roles.get(id)?.persona.display_name ?? id,
    templateName: (id) => templates.get(id) ?? id,
  });
  return { stats: tierStats(runs), recommendations, unknownPrices: unknown, escalations, shadowPairs: pairs.length };
}

export function mountCost(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/cost', async (c) => {
    const days = rangeSchema.catch('30').parse(c.req.query('days'));
    const d = await costData(deps, sinceOf(days));
    const roles = [...deps.roles.values()].sort((a, b) => a.role_id.localeCompare(b.role_id));
    return c.html(
      <Page title="Cost and model tiers" user={c.get('user')} csrf={c.get('session').csrf} active="cost">
        <RangeFilter days={days} action="/admin/cost" />
        {d.unknownPrices.length > 0 && (
          <Notice kind="error" text={`${d.unknownPrices.length} model(s) have no known price: their calls are recorded at $0 and flagged, not free. Set LLM_PRICES (model=input/output USD per million tokens).`} />
        )}
        <NoSpend d={d} days={days} />
        <h2>Unknown prices</h2>
        <div class="table-wrap"><table id="unknown-prices">
          <thead><tr><th>Provider / model</th><th>Calls without a price</th><th>On the tiers of</th></tr></thead>
          <tbody>{d.unknownPrices.map((u) => <tr class="unknown-price"><td>{u.provider} / {u.model}</td><td>{u.calls}</td><td>{u.roles.join(', ')}</td></tr>)}</tbody>
        </table></div>
        <Empty when={d.unknownPrices.length === 0} id="unknown-prices">Every model called in this range has a known price.</Empty>
        <h2>Acceptance and cost per role, template and tier</h2>
        <p>Routed runs only. Passed: the output passed the role's checks and the model judge. Approved: of the gated runs that passed, approved without changes. Acceptance: passed and (no gate or approved without changes).</p>
        <div class="table-wrap"><table id="tier-stats">
          <thead><tr><th>Role</th><th>Template</th><th>Tier</th><th>Runs</th><th>Passed</th><th>Approved (decided)</th><th>Acceptance</th><th>Cost</th><th>Avg per run</th></tr></thead>
          <tbody>{d.stats.map((s) => (
            <tr><td>{s.roleId}</td><td>{s.template}</td><td>{s.tier}</td><td>{s.runs}</td><td>{share(s.passed)}</td><td>{share(s.approved)} ({s.decided})</td><td>{share(s.acceptance)}</td>
              <td>{usd(s.costUsd)}{s.priceUnknown ? ' ⚠ price unknown' : ''}</td><td>{usd(s.avgCostUsd)}</td></tr>
          ))}</tbody>
        </table></div>
        <Empty when={d.stats.length === 0} id="tier-stats">No routed runs in this range — run a workflow in the <a href="/admin/playground">Playground</a> or widen the time range.</Empty>
        <h2>Recommendations from shadow runs</h2>
        <p>{d.shadowPairs} shadow run(s) paired with the routed run they shadowed; acceptance here is the role's checks and judge on both.</p>
        <ul id="recommendations">{d.recommendations.map((r) => <li class={`verdict-${r.verdict}`}>{r.text}</li>)}</ul>
        <Empty when={d.recommendations.length === 0} id="recommendations">No recommendation yet: shadow runs on a cheaper tier (MODEL_SHADOW_SAMPLE) of roles with several <code>models.tiers</code> are what recommendations come from.</Empty>
        <h2>Recent escalations</h2>
        <div class="table-wrap"><table id="escalations">
          <thead><tr><th>At</th><th>Role</th><th>From</th><th>To</th><th>Reason</th><th>Workflow</th><th>Detail</th></tr></thead>
          <tbody>{d.escalations.map((e) => (
            <tr><td>{fmtDate(e.createdAt)}</td><td>{e.roleId}</td><td>{e.fromTier}</td><td>{e.toTier}</td><td>{e.reason}</td><td><a href={`/admin/workflows/${e.workflowId}`}>{e.workflowId.slice(0, 8)}</a></td><td>{e.detail}</td></tr>
          ))}</tbody>
        </table></div>
        <Empty when={d.escalations.length === 0} id="escalations">No escalation between tiers in this range.</Empty>
        <h2>Role tiers</h2>
        <div class="table-wrap"><table id="role-tiers">
          <thead><tr><th>Role</th><th>Tiers (cheapest first)</th><th>Starts on</th><th>Ceiling</th></tr></thead>
          <tbody>{roles.map((r) => (
            <tr><td>{r.role_id}</td>
              <td>{tiersOf(r).map((t) => `${t.name}: ${t.provider}/${t.model}${hasPrice(t.provider, t.model) ? '' : ' (price unknown)'}`).join(' · ')}</td>
              <td>{[r.models?.start ?? tiersOf(r)[0]!.name, ...Object.entries(r.models?.start_by_template ?? {}).map(([t, n]) => `${t}: ${n}`)].join(', ')}</td>
              <td>{r.models?.ceiling ?? tiersOf(r).at(-1)!.name}</td></tr>
          ))}</tbody>
        </table></div>
      </Page>,
    );
  });

  app.get('/admin/api/cost', async (c) => {
    const days = rangeSchema.safeParse(c.req.query('days'));
    if (!days.success) return c.json({ error: 'bad_request', message: `days must be one of ${Object.keys(RANGES).join(', ')}` }, 400);
    const since = sinceOf(days.data);
    return c.json({ since, ...(await costData(deps, since)) });
  });
}

/** At $0 the page says why (nothing ran, or only free models ran) instead of a column of $0.0000. */
function NoSpend({ d, days }: { d: Awaited<ReturnType<typeof costData>>; days: Range }) {
  const total = d.stats.reduce((s, x) => s + x.costUsd, 0);
  if (total > 0 || d.unknownPrices.length > 0) return <div class="kpis"><div class="kpi" data-kpi="spend">Spend ({RANGES[days]})<b>{usd(total)}</b></div></div>;
  const runs = d.stats.reduce((s, x) => s + x.runs, 0);
  return (
    <p class="empty" data-empty="spend" id="no-spend">
      {runs === 0
        ? <>No spend yet: no workflow ran in this range. Try one in the <a href="/admin/playground">Playground</a>.</>
        : <>No spend yet: the {runs} run(s) in this range used free models (the offline demo model or local models), so they cost $0.</>}
    </p>
  );
}
