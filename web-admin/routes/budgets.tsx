// Budgets and provider health (issue 16). Budgets: the limits in force (config defaults and console rows) and this
// period's spend per window; everyone signed in may look, admins and owners may set or remove a limit (audited).
// Providers: each configured model provider's recent calls from LlmCall rows: error rate, latency, last error.
// Invariant: every value shown is escaped by JSX; every change is checked by zod, needs the admin role and the
// session's CSRF token, and is audited with the old and the new limit.
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { budgetOverview } from '../../orchestrator/budgets';
import { BUDGET_ACTIONS, BUDGET_PERIODS, BUDGET_SCOPES, type BudgetOptions } from '../../orchestrator/cost-controls';
import { requireCsrfToken, requireRole } from '../auth/guard';
import { consoleActor, type ConsoleDeps, type ConsoleEnv } from '../context';
import { CsrfField, fmtDate, Empty, Notice, Page } from '../views/layout';
import { loadNames, Person } from '../views/people';

const optionalNumber = (schema: z.ZodNumber) => z.preprocess((v) => (v === '' || v === undefined ? undefined : v), z.coerce.number().pipe(schema).optional());
const budgetSchema = z.object({
  scope: z.enum(BUDGET_SCOPES),
  // "*" (every one), slack:T0123 / slack:C0123 (platform:id), or a workflow id
  scopeKey: z.string().trim().regex(/^(\*|[a-z]+:[A-Za-z0-9_.:%-]{1,200}|[A-Za-z0-9-]{1,64})$/, 'must be *, platform:id (e.g. slack:C0123) or a workflow id'),
  period: z.enum(BUDGET_PERIODS),
  limitUsd: optionalNumber(z.number().positive().max(1e9)),
  limitTokens: optionalNumber(z.number().int().positive().max(1e15)),
  action: z.enum(BUDGET_ACTIONS),
}).refine((b) => b.limitUsd !== undefined || b.limitTokens !== undefined, { message: 'set a limit in USD or tokens (or both)', path: ['limitUsd'] });
const keySchema = z.object({ scope: z.enum(BUDGET_SCOPES), scopeKey: z.string().max(300), period: z.enum(BUDGET_PERIODS) });

/** How far back provider health looks. */
const HEALTH_HOURS = 24;

export function mountBudgets(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  const opts: BudgetOptions = deps.budgets ?? { defaults: [], action: 'wait', warnAt: 0.8, recheckMs: 30_000 };
  app.get('/admin/budgets', async (c) => c.html(await budgetsPage(c, deps, opts)));
  app.get('/admin/api/budgets', async (c) => c.json(jsonSafe(await budgetOverview(deps.prisma, opts))));
  const change = [requireRole('admin'), requireCsrfToken()] as const;
  app.post('/admin/budgets', ...change, async (c) => {
    const body = budgetSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await budgetsPage(c, deps, opts, body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')), 400);
    const { scope, scopeKey, period, limitUsd, limitTokens, action } = body.data;
    const where = { scope_scopeKey_period: { scope, scopeKey, period } };
    const before = await deps.prisma.budget.findUnique({ where });
    const data = { limitUsd: limitUsd ?? null, limitTokens: limitTokens !== undefined ? BigInt(limitTokens) : null, action, updatedBy: consoleActor(c.get('user')) };
    await deps.prisma.budget.upsert({ where, create: { scope, scopeKey, period, ...data }, update: data });
    await audit(deps.prisma, {
      actor: consoleActor(c.get('user')), action: 'budget.set', target: `${scope}:${scopeKey}:${period}`,
      detail: { from: before ? { usd: before.limitUsd?.toString() ?? null, tokens: before.limitTokens?.toString() ?? null, action: before.action } : null, to: { usd: limitUsd ?? null, tokens: limitTokens ?? null, action } },
    });
    return c.redirect('/admin/budgets?done=1', 303);
  });
  app.post('/admin/budgets/delete', ...change, async (c) => {
    const body = keySchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(await budgetsPage(c, deps, opts, 'Unknown budget.'), 400);
    const { count } = await deps.prisma.budget.deleteMany({ where: body.data });
    if (count) await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'budget.removed', target: `${body.data.scope}:${body.data.scopeKey}:${body.data.period}` });
    return c.redirect('/admin/budgets?done=1', 303);
  });

  app.get('/admin/providers', async (c) => c.html(await providersPage(c, deps)));
  app.get('/admin/api/providers', async (c) => c.json(await providerHealth(deps)));
}

/** BigInt and Decimal as strings, for JSON. */
const jsonSafe = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));

const usd = (n: number | string | { toString(): string } | null | undefined) => (n === null || n === undefined ? '—' : `$${Number(n.toString()).toFixed(4)}`);
const tokens = (n: bigint | number | null | undefined) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US'));

async function budgetsPage(c: Context<ConsoleEnv>, deps: ConsoleDeps, opts: BudgetOptions, error?: string) {
  const { rules, windows } = await budgetOverview(deps.prisma, opts);
  const names = await loadNames(deps.prisma, windows.map((w) => w.raisedBy));
  const csrf = c.get('session').csrf;
  const canEdit = ['owner', 'admin'].includes(c.get('user').role);
  return (
    <Page title="Budgets" user={c.get('user')} csrf={csrf} active="budgets">
      <Notice kind="error" text={error} />
      {c.req.query('done') && <Notice kind="ok" text="Saved." />}
      {!canEdit && <p>You can view budgets; changing them needs the admin role.</p>}
      <p>
        Spend is counted from every recorded model call of a step, per workspace, channel and workflow. At {Math.round(opts.warnAt * 100)}% the
        thread and the admins are told (once per window); at 100% new steps wait for an approver's one-time raise, or use the local model
        ({opts.local ? `${opts.local.provider.name} ${opts.local.model}` : 'none configured: such steps wait'}), as the budget says.
        Held steps look again every {Math.round(opts.recheckMs / 1000)} s.
      </p>
      <h2>Limits</h2>
      <div class="table-wrap"><table id="budget-rules">
        <thead><tr><th>Scope</th><th>Key</th><th>Period</th><th>USD</th><th>Tokens</th><th>At 100%</th><th>Source</th><th></th></tr></thead>
        <tbody>{rules.map((r) => (
          <tr data-budget={`${r.scope}:${r.scopeKey}:${r.period}`}>
            <td>{r.scope}</td><td>{r.scopeKey === '*' ? 'every one' : r.scopeKey}</td><td>{r.period}</td><td>{usd(r.limitUsd)}</td><td>{tokens(r.limitTokens)}</td><td>{r.action}</td>
            <td>{r.source === 'config' ? 'config (BUDGETS)' : 'console'}</td>
            <td>{canEdit && r.source === 'console' && (
              <form method="post" action="/admin/budgets/delete" class="inline"><CsrfField token={csrf} />
                <input type="hidden" name="scope" value={r.scope} /><input type="hidden" name="scopeKey" value={r.scopeKey} /><input type="hidden" name="period" value={r.period} />
                <button type="submit">Remove</button></form>
            )}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <Empty when={rules.length === 0} id="budget-rules">No budget limits yet: spend is recorded but nothing is capped. {canEdit ? 'Set one below (for example scope workspace, key *, period month)' : 'An admin can set one here'}, or in config with BUDGETS.</Empty>
      {canEdit && (
        <form method="post" action="/admin/budgets" class="filters" id="set-budget">
          <CsrfField token={csrf} />
          <div><label for="b-scope">Scope</label><select id="b-scope" name="scope">{BUDGET_SCOPES.map((s) => <option value={s}>{s}</option>)}</select></div>
          <div><label for="b-key">Key</label><input id="b-key" name="scopeKey" value="*" placeholder="* or slack:C0123" required /></div>
          <div><label for="b-period">Period</label><select id="b-period" name="period">{BUDGET_PERIODS.map((p) => <option value={p}>{p}</option>)}</select></div>
          <div><label for="b-usd">USD</label><input id="b-usd" name="limitUsd" inputmode="decimal" /></div>
          <div><label for="b-tokens">Tokens</label><input id="b-tokens" name="limitTokens" inputmode="numeric" /></div>
          <div><label for="b-action">At 100%</label><select id="b-action" name="action">{BUDGET_ACTIONS.map((a) => <option value={a}>{a}</option>)}</select></div>
          <button type="submit">Set limit</button>
        </form>
      )}
      <h2>This period's spend</h2>
      <div class="table-wrap"><table id="budget-windows">
        <thead><tr><th>Scope</th><th>Key</th><th>Window</th><th>Spent</th><th>Tokens</th><th>Limit</th><th>Raised</th><th>Notified</th></tr></thead>
        <tbody>{windows.map((w) => (
          <tr>
            <td>{w.scope}</td><td>{w.scopeKey}</td><td>{w.period} {w.window}</td><td>{usd(w.spentUsd)}</td><td>{tokens(w.spentTokens)}</td>
            <td>{[w.limitUsd !== undefined ? usd(w.limitUsd) : '', w.limitTokens !== undefined ? `${tokens(w.limitTokens)} tokens` : ''].filter(Boolean).join(', ') || 'none'}</td>
            <td>{w.raisedAt ? <>{fmtDate(w.raisedAt)} by <Person id={w.raisedBy} names={names} /></> : '—'}</td>
            <td>{[w.warnedAt ? `${Math.round(opts.warnAt * 100)}% ${fmtDate(w.warnedAt)}` : '', w.reachedAt ? `100% ${fmtDate(w.reachedAt)}` : ''].filter(Boolean).join('; ') || '—'}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <Empty when={windows.length === 0} id="budget-windows">No spend this period yet — run a workflow in the <a href="/admin/playground">Playground</a>; the offline demo model and local models cost $0.</Empty>
    </Page>
  );
}

export interface ProviderHealth {
  provider: string;
  configured: boolean;
  calls: number;
  errors: number;
  errorRate: number;
  avgLatencyMs: number | null;
  p95LatencyMs: number | null;
  lastError: { at: string; model: string; error: string } | null;
}

/** Per provider over the last HEALTH_HOURS: calls, errors, latency (average and p95 of successful calls), last error. */
export async function providerHealth(deps: ConsoleDeps): Promise<ProviderHealth[]> {
  const since = new Date(Date.now() - HEALTH_HOURS * 3_600_000);
  const rows = await deps.prisma.$queryRaw<{ provider: string; calls: bigint; errors: bigint; avg: number | null; p95: number | null }[]>`
    SELECT "provider", count(*) AS calls, count(*) FILTER (WHERE NOT "ok") AS errors,
      avg("latencyMs") FILTER (WHERE "ok")::float8 AS avg,
      percentile_cont(0.95) WITHIN GROUP (ORDER BY "latencyMs") FILTER (WHERE "ok") AS p95
    FROM "LlmCall" WHERE "createdAt" >= ${since} GROUP BY "provider"`;
  const names = new Set([...(deps.providers ?? []), ...rows.map((r) => r.provider)]);
  return Promise.all([...names].sort().map(async (provider): Promise<ProviderHealth> => {
    const r = rows.find((x) => x.provider === provider);
    const last = await deps.prisma.llmCall.findFirst({ where: { provider, ok: false }, orderBy: { createdAt: 'desc' }, select: { createdAt: true, model: true, error: true } });
    const calls = Number(r?.calls ?? 0);
    const errors = Number(r?.errors ?? 0);
    return {
      provider, configured: (deps.providers ?? []).includes(provider), calls, errors, errorRate: calls ? errors / calls : 0,
      avgLatencyMs: r?.avg !== null && r?.avg !== undefined ? Math.round(Number(r.avg)) : null,
      p95LatencyMs: r?.p95 !== null && r?.p95 !== undefined ? Math.round(Number(r.p95)) : null,
      lastError: last ? { at: last.createdAt.toISOString(), model: last.model, error: (last.error ?? '').slice(0, 500) } : null,
    };
  }));
}

async function providersPage(c: Context<ConsoleEnv>, deps: ConsoleDeps) {
  const health = await providerHealth(deps);
  return (
    <Page title="Model providers" user={c.get('user')} csrf={c.get('session').csrf} active="providers">
      <p>Every configured provider (OpenAI, Azure OpenAI, OpenAI-compatible endpoints, Ollama) and its model calls of the last {HEALTH_HOURS} hours, from the recorded calls.</p>
      <div class="table-wrap"><table id="provider-health">
        <thead><tr><th>Provider</th><th>Configured</th><th>Calls</th><th>Errors</th><th>Error rate</th><th>Latency (avg / p95)</th><th>Last error</th></tr></thead>
        <tbody>{health.map((h) => (
          <tr data-provider={h.provider}>
            <td>{h.provider}</td><td>{h.configured ? 'yes' : 'no (older calls)'}</td><td>{h.calls}</td><td>{h.errors}</td>
            <td class={h.errorRate > 0.2 ? 'bad' : ''}>{h.calls ? `${(h.errorRate * 100).toFixed(1)}%` : '—'}</td>
            <td>{h.avgLatencyMs !== null ? `${h.avgLatencyMs} / ${h.p95LatencyMs ?? '—'} ms` : '—'}</td>
            <td>{h.lastError ? `${h.lastError.at.replace('T', ' ').slice(0, 19)} ${h.lastError.model}: ${h.lastError.error}` : '—'}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <Empty when={health.length === 0} id="provider-health">No model provider is configured: every role answers with the offline demo model. Set OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT, LLM_ENDPOINTS or OLLAMA_HOST and restart (see README “Model providers”).</Empty>
    </Page>
  );
}
