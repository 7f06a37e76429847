// Budgets (issue 16): limits on model spend per workspace (a chat team), channel and workflow, per day, month or in
// total, in USD and tokens. Limits come from config (defaults for every workspace/channel/workflow) and from the
// console (Budget rows, which override config); spend is kept in one counter row per window (BudgetWindow), shared by
// every worker and kept across restarts. Every model call counts: a step's own calls, its shadow run, the file
// summaries it needs, the intent classifier's calls (workspace and channel) and MCP run_task calls (the API key is a
// workspace of its own, `mcp:<key prefix>`).
// Invariants:
// - spend is added by one INSERT .. ON CONFLICT DO UPDATE for every window the call falls in, whether or not a limit
//   is set on it (so a limit set later starts from the window's real spend); never by scanning LlmCall. Where a limit
//   applies to the step, per model call, as soon as it returned (budgetedRouter); where none does, the step's calls
//   are added together in the statement that records its result (SpendLater; whatever that did not take, e.g. a step
//   that failed, is added when the run ends), whether or not the run's result is kept;
// - before each call of a step, its estimate (prompt counted with gpt-tokenizer, an answer of the role's
//   max_output_chars, priced like a real call) is reserved on every limited window by a conditional UPDATE that admits
//   it only while spend + reservations are below the limit; the reservation is taken off in the transaction that adds
//   the call's real spend (or by the sweep after RESERVATION_TTL_MS when a worker died mid-call). So steps running at
//   the same time pass a limit by at most one call's estimate (when each call costs at most its estimate);
// - the 80% notice, the "limit reached" audit row, the raise and the wake of each held step are each decided by a
//   conditional write (warnedAt / reachedAt / raisedAt / BudgetHold.resumedAt IS NULL): whoever's write counts acts, once;
// - a step over a limit whose action is `wait` is not run: its job is delayed (RetryLaterError, not an attempt), its
//   status line says it waits for budget and who can raise it, and it looks again every recheckMs; a raise wakes the
//   held jobs at once. With action `local` it runs on the local model instead: the role's own local tier (a tier named
//   `local` or on a local provider), else the budgets' local model (BUDGET_LOCAL_*); local calls are not stopped by
//   `local` budgets.
// - a step reads the rules in force once, when it starts (checkBudgets: with the windows, in the look that also makes
//   the 80% notice), and its model calls and its closing notice use that reading: a limit changed on the console
//   applies from the next step (the console's rows are read by the statement that starts the step). With no limit on a
//   step's scopes its calls cost no statement of their own (the spend goes with the result), no reservation;
//   reservations that expired (a worker died mid-call) are swept at most every RESERVATION_SWEEP_MS per process
//   (issue 12: fewer statements per step).
import { randomUUID } from 'node:crypto';
import { RetryLaterError } from '../agents/errors';
import { estimateCall, withTokens, type LlmCallRecord } from '../agents/llm/measure';
import { isLocalProvider, priceCall } from '../agents/llm/pricing';
import type { LlmProvider } from '../agents/llm/provider';
import { tiersOf } from '../agents/llm/routing';
import type { Role } from '../agents/roles';
import { BUDGET_PERIODS, BUDGET_SCOPES, type BudgetOptions, type BudgetPeriod, type BudgetRule, type BudgetScope } from './cost-controls';
import type { LlmRouter } from '../agents/llm/router';
import { Prisma, type BudgetWindow, type RbacRole } from '../generated/prisma/client';
import { audit } from './audit';
import type { MessageView, ThreadRef } from './chat';
import { buttonValue, type PlatformName } from './contract';
import type { Db } from './db';
import type { BudgetRow } from './workflow/transitions';
import type { EngineDeps } from './deps';
import { postOnce } from './posts';
import { threadOf } from './threads';
import { ROLECALL_PERSONA } from './views';

/** A step held by a spent budget: its job is delayed, not failed, and it looks again after `delayMs`. `action`:
 *  the spent budget's (`local`: the step runs on the local model at its next look, nobody is asked to raise it). */
export class BudgetHeldError extends RetryLaterError {
  constructor(readonly windowId: string, delayMs: number, readonly action: BudgetRule['action'] = 'wait') {
    super('a budget is spent: the step waits', delayMs, 'budget');
  }
}

/** Where model spend is counted: a conversation's workspace and channel and a workflow in it; an MCP client is a
 *  workspace of its own (`mcp:<key prefix>`) with no channel or workflow. */
export type SpendScope = { workspace: string; channel?: string; workflow?: string };

const keysOf = (scope: SpendScope): Partial<Record<BudgetScope, string>> =>
  Object.fromEntries(BUDGET_SCOPES.filter((k) => scope[k] !== undefined).map((k) => [k, scope[k]!]));

/** How long a call's reservation holds when its worker never takes it off (died mid-call). */
export const RESERVATION_TTL_MS = 15 * 60_000;
/** Characters per token when a role's max_output_chars is turned into an answer estimate (on the high side). */
const CHARS_PER_TOKEN = 3;

interface WorkflowScope {
  id: string;
  platform: PlatformName;
  teamId: string;
  channelId: string;
}

/** The key of each scope for a workflow. */
export const scopeKeysOf = (wf: WorkflowScope): Record<BudgetScope, string> => ({
  workspace: `${wf.platform}:${wf.teamId}`,
  channel: `${wf.platform}:${wf.channelId}`,
  workflow: wf.id,
});

/** The window of a period that `at` falls in (UTC): 2026-12-03, 2026-12, all. */
export const windowOf = (period: BudgetPeriod, at: Date): string =>
  period === 'day' ? at.toISOString().slice(0, 10) : period === 'month' ? at.toISOString().slice(0, 7) : 'all';

const num = (v: Prisma.Decimal | bigint | number | null | undefined): number => (v === null || v === undefined ? 0 : Number(v));

/** A Budget row as a rule. */
const ruleOfRow = (r: { scope: string; scopeKey: string; period: string; limitUsd: Prisma.Decimal | number | null; limitTokens: bigint | number | null; action: string }): BudgetRule => ({
  scope: r.scope as BudgetScope, scopeKey: r.scopeKey, period: r.period as BudgetPeriod,
  ...(r.limitUsd !== null ? { limitUsd: num(r.limitUsd) } : {}), ...(r.limitTokens !== null ? { limitTokens: num(r.limitTokens) } : {}),
  action: r.action === 'local' ? 'local' : 'wait', source: 'console',
});

/** The rules in force on a scope, as read once (by checkBudgets, for a step). */
export type BudgetRules = (BudgetRule & { scopeKey: string })[];

/** The rule in force for (scope, key, period): the console's row for that key, else its "*" row, else config's. */
async function rulesIn(prisma: Db, opts: BudgetOptions, keys: Partial<Record<BudgetScope, string>>, read?: BudgetRow[]): Promise<(BudgetRule & { scopeKey: string })[]> {
  const scopes = Object.entries(keys) as [BudgetScope, string][];
  const rows = read ?? (await prisma.budget.findMany({ where: { OR: scopes.map(([scope, key]) => ({ scope, scopeKey: { in: [key, '*'] } })) } }));
  const out: BudgetRule[] = [];
  for (const [scope, key] of scopes) {
    for (const period of BUDGET_PERIODS) {
      const own = rows.find((r) => r.scope === scope && r.period === period && r.scopeKey === key);
      const any = rows.find((r) => r.scope === scope && r.period === period && r.scopeKey === '*');
      const def = opts.defaults.find((d) => d.scope === scope && d.period === period);
      const rule: BudgetRule | undefined = own ? ruleOfRow(own) : any ? ruleOfRow(any)
        : def ? { scope, scopeKey: '*', period, limitUsd: def.usd, limitTokens: def.tokens, action: def.action ?? opts.action, source: 'config' } : undefined;
      if (rule && (rule.limitUsd !== undefined || rule.limitTokens !== undefined)) out.push({ ...rule, scopeKey: key });
    }
  }
  return out;
}

/** The rule in force for one window (the raise needs its limit). */
export async function ruleForWindow(prisma: Db, opts: BudgetOptions, w: Pick<BudgetWindow, 'scope' | 'scopeKey' | 'period'>): Promise<BudgetRule | undefined> {
  const rules = await rulesIn(prisma, opts, { [w.scope as BudgetScope]: w.scopeKey });
  return rules.find((r) => r.period === w.period);
}

interface Standing {
  rule: BudgetRule;
  window: string;
  row?: BudgetWindow;
  spentUsd: number;
  spentTokens: number;
  /** The limit with what an approver added. */
  capUsd?: number;
  capTokens?: number;
}

const share = (s: Standing): number => Math.max(
  s.capUsd ? s.spentUsd / s.capUsd : 0,
  s.capTokens ? s.spentTokens / s.capTokens : 0,
);

/** Where every limit on this scope stands now (under `read`, the rules as read before). */
async function standings(prisma: Db, opts: BudgetOptions, scope: SpendScope, at: Date, read?: BudgetRules): Promise<Standing[]> {
  const rules = read ?? (await rulesIn(prisma, opts, keysOf(scope)));
  if (!rules.length) return [];
  const rows = await prisma.budgetWindow.findMany({ where: { OR: rules.map((r) => ({ scope: r.scope, scopeKey: r.scopeKey, period: r.period, window: windowOf(r.period, at) })) } });
  return rules.map((rule) => {
    const window = windowOf(rule.period, at);
    const row = rows.find((w) => w.scope === rule.scope && w.scopeKey === rule.scopeKey && w.period === rule.period && w.window === window);
    return {
      rule, window, row, spentUsd: num(row?.spentUsd), spentTokens: num(row?.spentTokens),
      capUsd: rule.limitUsd !== undefined ? rule.limitUsd + num(row?.extraUsd) : undefined,
      capTokens: rule.limitTokens !== undefined ? rule.limitTokens + num(row?.extraTokens) : undefined,
    };
  });
}

const exceeded = (s: Standing) => (s.capUsd !== undefined && s.spentUsd >= s.capUsd) || (s.capTokens !== undefined && s.spentTokens >= s.capTokens);

/** A step run and its thread (steps.ts's StepRef). */
export interface StepScope {
  id: string;
  workflowId: string;
  roleId: string;
  thread: ThreadRef;
}

const workflowOf = (step: StepScope): WorkflowScope => ({ id: step.workflowId, platform: step.thread.platform, teamId: step.thread.teamId, channelId: step.thread.channelId });

/** The spend scope of a workflow step. */
export const spendScopeOf = (step: StepScope): SpendScope => scopeKeysOf(workflowOf(step));

/** What checkBudgets found for a step: the rules in force (for its calls and its closing notice) and, when a spent
 *  budget says `local`, the router on the local model. */
export interface BudgetCheck {
  rules: BudgetRules;
  local?: LlmRouter;
}

/**
 * Before a step's model calls: the rules in force on its scopes (read once: its calls use them), makes the 80% notice,
 * and a router on the local model when a spent budget says `local` (the role's own local tier first); over a `wait`
 * budget the step is held (BudgetHeldError: steps.ts tells the thread through holdStep). Without budgets: no rules.
 */
export async function checkBudgets(deps: EngineDeps, step: StepScope, role?: Role, at = new Date(), read?: BudgetRow[]): Promise<BudgetCheck> {
  const opts = deps.budgets;
  if (!opts) return { rules: [] };
  const rules = await rulesIn(deps.prisma, opts, keysOf(spendScopeOf(step)), read); // read: the console's rows, read by the step's start
  if (!rules.length) return { rules };
  const now = await standings(deps.prisma, opts, spendScopeOf(step), at, rules);
  await warnFrom(deps, step, now, at);
  const spent = now.filter(exceeded);
  if (!spent.length) return { rules };
  const local = localModelFor(deps.llm, opts, role);
  const waiting = spent.find((s) => s.rule.action === 'wait' || !local);
  if (!waiting) return { rules, local: localRouter(deps.llm, local!) };
  const row = waiting.row ?? (await windowRow(deps.prisma, waiting.rule, waiting.window));
  throw new BudgetHeldError(row.id, opts.recheckMs, 'wait');
}

/**
 * A step held by a spent window (from checkBudgets or a refused reservation): records the hold (so a raise wakes it),
 * audits and posts "Budget reached" with the raise button once per window, and returns the step's status line: it
 * waits for budget, and who can raise it. Undefined for a `local` budget (the step goes on locally at its next look).
 */
export async function holdStep(deps: EngineDeps, step: StepScope & { revision: number; runCount: number }, e: BudgetHeldError, roleName: string, at = new Date()): Promise<MessageView | undefined> {
  const opts = deps.budgets;
  if (!opts || e.action === 'local') return undefined;
  const row = await deps.prisma.budgetWindow.findUnique({ where: { id: e.windowId } });
  const rule = row && (await ruleForWindow(deps.prisma, opts, row));
  if (!row || !rule) return undefined;
  const s = standingOf(rule, row);
  await deps.prisma.budgetHold.createMany({ data: [{ windowId: row.id, workflowId: step.workflowId, stepId: step.id, revision: step.revision, run: step.runCount, roleId: step.roleId }], skipDuplicates: true });
  const first = (await deps.prisma.budgetWindow.updateMany({ where: { id: row.id, reachedAt: null }, data: { reachedAt: at } })).count === 1;
  if (first) await audit(deps.prisma, { actor: 'system', action: 'budget.reached', target: row.id, detail: { ...describeWindow(s), workflowId: step.workflowId } });
  await postOnce(deps, {
    key: { kind: 'budget', stage: 'reached', workflowId: step.workflowId, windowId: row.id }, workflowId: step.workflowId, roleId: step.roleId,
    thread: step.thread, persona: ROLECALL_PERSONA, view: reachedView(s, step.workflowId, row.id, !!opts.local),
  });
  return heldView(roleName, s, await approversOf(deps, step.thread.platform));
}

/** A window's standing under its rule. */
const standingOf = (rule: BudgetRule, row: BudgetWindow): Standing => ({
  rule, window: row.window, row, spentUsd: num(row.spentUsd), spentTokens: num(row.spentTokens),
  capUsd: rule.limitUsd !== undefined ? rule.limitUsd + num(row.extraUsd) : undefined,
  capTokens: rule.limitTokens !== undefined ? rule.limitTokens + num(row.extraTokens) : undefined,
});

/** The role's own local tier (a tier named `local`, or one on a local provider, whose provider is configured). */
function ownLocalTier(llm: Pick<LlmRouter, 'providers'>, role: Role | undefined): { provider: LlmProvider; model: string } | undefined {
  const tier = role?.models && tiersOf(role).find((t) => (t.name === 'local' || isLocalProvider(t.provider)) && llm.providers.has(t.provider));
  return tier ? { provider: llm.providers.get(tier.provider)!, model: tier.model } : undefined;
}

/** The local model a step drops to under a `local` budget: the role's own local tier, else BUDGET_LOCAL_*. */
export function localModelFor(llm: Pick<LlmRouter, 'providers'>, opts: Pick<BudgetOptions, 'local'>, role: Role | undefined): { provider: LlmProvider; model: string } | undefined {
  return ownLocalTier(llm, role) ?? opts.local;
}

/** Whether a call runs locally: a local provider, the budgets' local model, or the role's own local tier. */
function isLocalCall(llm: Pick<LlmRouter, 'providers'>, opts: Pick<BudgetOptions, 'local'>, role: Role | undefined, provider: string, model: string): boolean {
  if (isLocalProvider(provider)) return true;
  if (opts.local && opts.local.provider.name === provider && opts.local.model === model) return true;
  const own = ownLocalTier(llm, role);
  return !!own && own.provider.name === provider && own.model === model;
}

/** The window's row, created empty if no call has been counted in it yet. */
async function windowRow(prisma: Db, rule: BudgetRule, window: string): Promise<BudgetWindow> {
  const key = { scope: rule.scope, scopeKey: rule.scopeKey, period: rule.period, window };
  await prisma.budgetWindow.createMany({ data: [key], skipDuplicates: true });
  return prisma.budgetWindow.findUniqueOrThrow({ where: { scope_scopeKey_period_window: key } });
}

/** The role's calls go to the local model (the budget's `local` action), with the role's own retry policy. */
function localRouter(llm: LlmRouter, local: { provider: LlmProvider; model: string }): LlmRouter {
  return {
    ...llm,
    describe: `${local.provider.name} ${local.model} (budget: local tier)`,
    forRole: (role) => ({ provider: local.provider, model: local.model, temperature: role.llm_config.temperature, retry: llm.forRole(role).retry }),
  };
}

/** Adds the cost and tokens of model calls to every window of `scope` they fall in, in one statement. */
export async function countSpend(db: Pick<Db, '$executeRaw'>, scope: SpendScope, calls: Pick<LlmCallRecord, 'costUsd' | 'promptTokens' | 'completionTokens'>[], at = new Date()): Promise<void> {
  const upsert = spendUpsert(scope, calls, at);
  if (upsert) await db.$executeRaw`${upsert}`;
}

/** The statement countSpend sends (also a CTE body of the statement that finishes a step: steps.ts), or undefined
 *  when the calls spent nothing. */
export function spendUpsert(scope: SpendScope, calls: Pick<LlmCallRecord, 'costUsd' | 'promptTokens' | 'completionTokens'>[], at = new Date()): Prisma.Sql | undefined {
  const usd = calls.reduce((s, c) => s + c.costUsd, 0);
  const tokens = calls.reduce((s, c) => s + c.promptTokens + c.completionTokens, 0);
  if (usd <= 0 && tokens <= 0) return undefined;
  const keys = keysOf(scope);
  const values = (Object.entries(keys) as [BudgetScope, string][]).flatMap(([kind, key]) => BUDGET_PERIODS.map((period) =>
    Prisma.sql`(${randomUUID()}, ${kind}, ${key}, ${period}, ${windowOf(period, at)}, ${usd.toFixed(6)}::numeric, ${BigInt(tokens)}::bigint, ${at})`));
  return Prisma.sql`
    INSERT INTO "BudgetWindow" ("id", "scope", "scopeKey", "period", "window", "spentUsd", "spentTokens", "updatedAt")
    VALUES ${Prisma.join(values)}
    ON CONFLICT ("scope", "scopeKey", "period", "window") DO UPDATE
      SET "spentUsd" = "BudgetWindow"."spentUsd" + EXCLUDED."spentUsd", "spentTokens" = "BudgetWindow"."spentTokens" + EXCLUDED."spentTokens", "updatedAt" = EXCLUDED."updatedAt"`;
}

/** The spend of a step's calls where no limit is set on its scopes: nobody admits a call against it, so it is added
 *  with the step's result, in the statement that records it (steps.ts), instead of one statement per call; whatever
 *  that statement did not take (the step failed, or was held, before it) is added by `flush`. */
export class SpendLater {
  private calls: Pick<LlmCallRecord, 'costUsd' | 'promptTokens' | 'completionTokens'>[] = [];
  constructor(readonly scope: SpendScope) {}
  add(call: Pick<LlmCallRecord, 'costUsd' | 'promptTokens' | 'completionTokens'>): void {
    this.calls.push(call);
  }
  /** The upsert of what is held (a CTE body of the step's finishing statement, built once its model calls are all
   *  done): call `taken` once that statement committed. */
  upsert(at = new Date()): Prisma.Sql | undefined {
    return spendUpsert(this.scope, this.calls, at);
  }
  taken(): void {
    this.calls = [];
  }
  /** Adds what no statement took (one statement; nothing when nothing is held). */
  async flush(db: Pick<Db, '$executeRaw'>, at = new Date()): Promise<void> {
    const calls = this.calls;
    this.calls = [];
    if (calls.length) await countSpend(db, this.scope, calls, at);
  }
}

// ---- reservations: every call of a step is admitted against the limits before it is sent ----

export interface CallEstimate {
  usd: number;
  tokens: number;
}

/** How often a process takes expired reservations off their windows (before a call it admits). */
const RESERVATION_SWEEP_MS = 30_000;
let lastReservationSweep = 0;

/**
 * Admits one model call: reserves its estimate on every limited window of `scope` by a conditional UPDATE each
 * (spend + reservations must be below the limit plus any raise), all or none, in one transaction; throws
 * BudgetHeldError for the first window that refused. A local call is not stopped by `local` budgets. `read`: the rules
 * as the step read them (checkBudgets); read now without. True when something was reserved (to be taken off).
 */
export async function reserveCall(prisma: Db, opts: BudgetOptions, scope: SpendScope, estimate: CallEstimate | (() => CallEstimate), holder: string, local: boolean, at = new Date(), read?: BudgetRules): Promise<boolean> {
  const rules = (read ?? (await rulesIn(prisma, opts, keysOf(scope)))).filter((r) => !(local && r.action === 'local'));
  if (!rules.length) return false;
  const est = typeof estimate === 'function' ? estimate() : estimate; // counting the prompt's tokens costs CPU: only here
  if (!read || at.getTime() - lastReservationSweep >= RESERVATION_SWEEP_MS) {
    lastReservationSweep = at.getTime();
    await releaseReservations(prisma, { expiredAt: at });
  }
  const keys = rules.map((r) => ({ scope: r.scope, scopeKey: r.scopeKey, period: r.period, window: windowOf(r.period, at) }));
  await prisma.budgetWindow.createMany({ data: keys, skipDuplicates: true });
  const rows = await prisma.budgetWindow.findMany({ where: { OR: keys } });
  const pairs = rules.map((rule, i) => ({ rule, row: rows.find((w) => w.scope === keys[i]!.scope && w.scopeKey === keys[i]!.scopeKey && w.period === keys[i]!.period && w.window === keys[i]!.window)! }))
    .sort((a, b) => (a.row.id < b.row.id ? -1 : 1)); // one lock order for every worker: no deadlock
  const usd = Math.max(0, est.usd).toFixed(6);
  const tokens = BigInt(Math.max(0, Math.ceil(est.tokens)));
  const expiresAt = new Date(at.getTime() + RESERVATION_TTL_MS);
  await prisma.$transaction(async (tx) => {
    for (const { rule, row } of pairs) {
      const limitUsd = rule.limitUsd !== undefined ? rule.limitUsd.toFixed(6) : null;
      const limitTokens = rule.limitTokens !== undefined ? BigInt(rule.limitTokens) : null;
      const admitted = await tx.$executeRaw`
        UPDATE "BudgetWindow" SET "reservedUsd" = "reservedUsd" + ${usd}::numeric, "reservedTokens" = "reservedTokens" + ${tokens}::bigint
        WHERE "id" = ${row.id}
          AND (${limitUsd}::numeric IS NULL OR "spentUsd" + "reservedUsd" < ${limitUsd}::numeric + "extraUsd")
          AND (${limitTokens}::bigint IS NULL OR "spentTokens" + "reservedTokens" < ${limitTokens}::bigint + "extraTokens")`;
      if (admitted === 0) throw new BudgetHeldError(row.id, opts.recheckMs, rule.action);
    }
    await tx.budgetReservation.createMany({ data: pairs.map(({ row }) => ({ windowId: row.id, holder, usd, tokens, expiresAt })) });
  });
  return true;
}

/** Takes reservations off their windows, in one statement: one holder's, or every one that expired. */
export async function releaseReservations(db: Pick<Db, '$executeRaw'>, which: { holder: string } | { expiredAt: Date }): Promise<void> {
  const where = 'holder' in which ? Prisma.sql`"holder" = ${which.holder}` : Prisma.sql`"expiresAt" < ${which.expiredAt}`;
  await db.$executeRaw`
    WITH gone AS (DELETE FROM "BudgetReservation" WHERE ${where} RETURNING "windowId", "usd", "tokens"),
         sums AS (SELECT "windowId", SUM("usd") AS usd, SUM("tokens") AS tokens FROM gone GROUP BY "windowId")
    UPDATE "BudgetWindow" w SET "reservedUsd" = GREATEST(0, w."reservedUsd" - sums.usd), "reservedTokens" = GREATEST(0, w."reservedTokens" - sums.tokens)
    FROM sums WHERE w."id" = sums."windowId"`;
}

/**
 * The router a step's model calls go through: each call is admitted first (reserveCall, when budgets are set) and
 * its real cost and tokens are added to every window of `scope` as soon as it returns, in the transaction that takes
 * its reservation off. Shadow runs, file summaries and the judge use the same router, so they count too.
 */
export function budgetedRouter(deps: Pick<EngineDeps, 'prisma' | 'budgets' | 'llm'>, scope: SpendScope, llm: LlmRouter, rules?: BudgetRules, later?: SpendLater): LlmRouter {
  // `later`: where no limit is set (the rules were read and none applies), the spend waits for the step's result
  const deferred = rules && !rules.length ? later : undefined;
  return {
    ...llm,
    forRole: (role) => {
      const route = llm.forRole(role);
      return { ...route, provider: budgetedProvider(deps, scope, route.provider, role, rules, deferred) };
    },
  };
}

function budgetedProvider(deps: Pick<EngineDeps, 'prisma' | 'budgets' | 'llm'>, scope: SpendScope, inner: LlmProvider, role: Role, rules?: BudgetRules, later?: SpendLater): LlmProvider {
  const maxAnswerTokens = Math.ceil(role.constraints.max_output_chars / CHARS_PER_TOKEN);
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    async complete(req) {
      const opts = deps.budgets;
      const holder = randomUUID();
      const reserved = !!opts && (await reserveCall(deps.prisma, opts, scope, () => estimateCall(inner.name, req, maxAnswerTokens), holder, isLocalCall(deps.llm, opts, role, inner.name, req.model), new Date(), rules));
      const started = performance.now();
      let r;
      try {
        r = await inner.complete(req);
      } catch (e) {
        if (reserved) await releaseReservations(deps.prisma, { holder });
        throw e;
      }
      const counted = withTokens(req, r);
      const costUsd = priceCall(inner.name, counted.model, counted.promptTokens, counted.completionTokens, performance.now() - started).costUsd;
      const spend = [{ costUsd, promptTokens: counted.promptTokens, completionTokens: counted.completionTokens }];
      if (!reserved && later) later.add(spend[0]!);
      else if (!reserved) await countSpend(deps.prisma, scope, spend);
      else await deps.prisma.$transaction(async (tx) => { await countSpend(tx, scope, spend); await releaseReservations(tx, { holder }); });
      return r;
    },
  };
}

/** For model calls that are not steps (intent classification, MCP run_task): undefined when a call may be made, else
 *  what is spent ("workspace daily budget (…): $5.00 of $5.00"). These calls are not held: their callers answer
 *  without the model, or refuse. */
export async function spentIn(prisma: Db, opts: BudgetOptions | undefined, scope: SpendScope, at = new Date()): Promise<string | undefined> {
  if (!opts) return undefined;
  const spent = (await standings(prisma, opts, scope, at)).find(exceeded);
  return spent && describeStanding(spent);
}

/** Wakes the step runs held by a window (a raise): each once, by a conditional write on its hold; its delayed job
 *  runs now instead of at its next look. */
export async function wakeHeld(deps: Pick<EngineDeps, 'prisma' | 'queue' | 'log'>, windowId: string, at = new Date()): Promise<number> {
  const holds = await deps.prisma.budgetHold.findMany({ where: { windowId, resumedAt: null }, orderBy: { createdAt: 'asc' }, take: 1_000 });
  let woken = 0;
  for (const h of holds) {
    if ((await deps.prisma.budgetHold.updateMany({ where: { id: h.id, resumedAt: null }, data: { resumedAt: at } })).count !== 1) continue;
    const job = { kind: 'step' as const, stepId: h.stepId, revision: h.revision, run: h.run, roleId: h.roleId };
    try {
      await (deps.queue.wake ? deps.queue.wake(job) : deps.queue.enqueue(job));
      woken++;
    } catch (e) {
      deps.log.warn('could not wake a step held by a budget: it looks again by itself', { stepId: h.stepId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return woken;
}

/** Tells the thread and the admins, once per window, that a limit on this step's workflow passed `warnAt`. Called
 *  after a step's spend was committed (with the rules the step read), and before each step (checkBudgets). */
export async function warnBudgets(deps: EngineDeps, step: StepScope, at = new Date(), rules?: BudgetRules): Promise<void> {
  const opts = deps.budgets;
  if (!opts || rules?.length === 0) return;
  await warnFrom(deps, step, await standings(deps.prisma, opts, spendScopeOf(step), at, rules), at);
}

async function warnFrom(deps: EngineDeps, step: StepScope, now: Standing[], at: Date): Promise<void> {
  const opts = deps.budgets!;
  for (const s of now) {
    if (!s.row || s.row.warnedAt || share(s) < opts.warnAt) continue;
    const won = (await deps.prisma.budgetWindow.updateMany({ where: { id: s.row.id, warnedAt: null }, data: { warnedAt: at } })).count === 1;
    if (!won) continue;
    await audit(deps.prisma, { actor: 'system', action: 'budget.warned', target: s.row.id, detail: { ...describeWindow(s), workflowId: step.workflowId } });
    const admins = await adminsOf(deps, step.thread.platform);
    await postOnce(deps, {
      key: { kind: 'budget', stage: 'warned', workflowId: step.workflowId, windowId: s.row.id }, workflowId: step.workflowId, roleId: step.roleId,
      thread: step.thread, persona: ROLECALL_PERSONA, view: warnedView(s, opts.warnAt, admins),
    });
  }
}

/** Mentions of the chat users with the admin role or above on this platform (ChatUserRole), at most 10. */
const adminsOf = (deps: EngineDeps, platform: PlatformName): Promise<string[]> => mentionsOf(deps, platform, ['admin', 'owner']);

/** Mentions of the chat users who may raise a budget (approver or above), at most 10. */
const approversOf = (deps: EngineDeps, platform: PlatformName): Promise<string[]> => mentionsOf(deps, platform, ['approver', 'admin', 'owner']);

async function mentionsOf(deps: EngineDeps, platform: PlatformName, roles: RbacRole[]): Promise<string[]> {
  const port = deps.chat[platform];
  if (!port) return [];
  const rows = await deps.prisma.chatUserRole.findMany({ where: { platform, role: { in: roles } }, orderBy: { userId: 'asc' }, take: 10 });
  return rows.map((r) => port.mention(r.userId));
}

export type RaiseResult = { ok: true; detail: Record<string, unknown> } | { ok: false; text: string };

/**
 * An approver raises a spent window's limit once: the window gets the limit again on top (a conditional write, so
 * only the first raise counts). The window must be one of this workflow's (a button cannot raise another
 * conversation's budget). The steps it held are woken at once (wakeHeld), each once.
 */
export async function raiseBudget(deps: EngineDeps, workflowId: string, windowId: string, by: string, at = new Date()): Promise<RaiseResult> {
  const opts = deps.budgets;
  const [row, wf] = await Promise.all([
    deps.prisma.budgetWindow.findUnique({ where: { id: windowId } }),
    deps.prisma.workflow.findUnique({ where: { id: workflowId }, select: { id: true, platform: true, teamId: true, channelId: true } }),
  ]);
  if (!opts || !row || !wf || scopeKeysOf(wf)[row.scope as BudgetScope] !== row.scopeKey) return { ok: false, text: 'This budget no longer exists.' };
  const rule = await ruleForWindow(deps.prisma, opts, row);
  if (!rule) return { ok: false, text: 'This budget has no limit any more: the steps go on by themselves.' };
  const { count } = await deps.prisma.budgetWindow.updateMany({
    where: { id: windowId, raisedAt: null },
    data: { raisedAt: at, raisedBy: by, extraUsd: rule.limitUsd ?? 0, extraTokens: BigInt(rule.limitTokens ?? 0) },
  });
  if (count === 0) return { ok: false, text: 'This limit was already raised once; a further change is made in the admin console.' };
  const woken = await wakeHeld(deps, windowId, at); // the held steps go on now, not at their next look
  return { ok: true, detail: { woken, scope: row.scope, scopeKey: row.scopeKey, period: row.period, window: row.window, addedUsd: rule.limitUsd ?? null, addedTokens: rule.limitTokens ?? null } };
}

/** Says in the workflow's thread who raised the limit (a console user is not named in the thread). */
export async function announceRaise(deps: EngineDeps, workflowId: string, windowId: string, chatUser?: { platform: PlatformName; userId: string }): Promise<void> {
  const wf = await deps.prisma.workflow.findUnique({ where: { id: workflowId }, include: { steps: { select: { roleId: true }, take: 1, orderBy: { position: 'asc' } } } });
  if (!wf) return;
  const port = deps.chat[wf.platform];
  const by = chatUser && port && chatUser.platform === wf.platform ? port.mention(chatUser.userId) : 'an operator in the admin console';
  await postOnce(deps, {
    key: { kind: 'budget', stage: 'raised', workflowId, windowId }, workflowId, roleId: wf.steps[0]?.roleId ?? 'rolecall',
    thread: threadOf(wf), persona: ROLECALL_PERSONA, view: { text: `:arrow_up: The budget limit was raised once by ${by}: waiting steps go on.` },
  });
}

// ---- words ----

const money = (n: number) => `$${n.toFixed(n < 1 ? 4 : 2)}`;
const count = (n: number) => n.toLocaleString('en-US');
const SCOPE_WORDS: Record<BudgetScope, string> = { workspace: 'workspace', channel: 'channel', workflow: 'workflow' };
const PERIOD_WORDS: Record<BudgetPeriod, string> = { day: 'daily', month: 'monthly', total: 'total' };

/** "channel daily budget (2026-12-03): $4.10 of $5.00, 1,200 of 10,000 tokens" */
export function describeStanding(s: Pick<Standing, 'rule' | 'window' | 'spentUsd' | 'spentTokens' | 'capUsd' | 'capTokens'>): string {
  const parts = [
    s.capUsd !== undefined ? `${money(s.spentUsd)} of ${money(s.capUsd)}` : '',
    s.capTokens !== undefined ? `${count(s.spentTokens)} of ${count(s.capTokens)} tokens` : '',
  ].filter(Boolean);
  return `${SCOPE_WORDS[s.rule.scope]} ${PERIOD_WORDS[s.rule.period]} budget${s.rule.period === 'total' ? '' : ` (${s.window})`}: ${parts.join(', ')}`;
}

const describeWindow = (s: Standing) => ({ scope: s.rule.scope, scopeKey: s.rule.scopeKey, period: s.rule.period, window: s.window, spentUsd: s.spentUsd, spentTokens: s.spentTokens, capUsd: s.capUsd ?? null, capTokens: s.capTokens ?? null });

function warnedView(s: Standing, warnAt: number, admins: string[]) {
  return {
    text: `:warning: *Budget at ${Math.floor(share(s) * 100)}%* (notice at ${Math.round(warnAt * 100)}%): ${describeStanding(s)}.${admins.length ? ` Admins: ${admins.join(' ')}` : ''}`,
    context: 'At 100% new steps wait for an approver to raise the limit, or use the local model, as the budget says.',
  };
}

/** The held step's status line: it waits for budget (not "working…"), and who can raise the limit. */
function heldView(roleName: string, s: Standing, approvers: string[]): MessageView {
  const who = approvers.length ? `An approver (${approvers.join(' ')})` : 'Someone with the approver role or above';
  return {
    text: `:double_vertical_bar: *${roleName}* is waiting for budget: ${describeStanding(s)}. ${who} can raise the limit once with the button in this thread, or an admin can change it in the admin console.`,
    context: `the step starts as soon as the limit is raised${s.rule.period === 'total' ? '' : ` or the ${s.rule.period} ends`}`,
  };
}

function reachedView(s: Standing, workflowId: string, windowId: string, hasLocal: boolean) {
  return {
    text: `:no_entry: *Budget reached*: ${describeStanding(s)}. New steps wait until an approver raises the limit (once, by the same amount again), or until the ${s.rule.period === 'total' ? 'limit is changed in the admin console' : `${s.rule.period} ends`}.`,
    context: hasLocal ? 'Budgets set to "local" would move steps to the local model instead.' : undefined,
    actions: [{ id: 'budget_raise' as const, label: 'Raise the limit once', value: buttonValue({ kind: 'budget', workflowId, windowId }), style: 'primary' as const }],
  };
}


// ---- the console ----

export interface BudgetOverview {
  rules: BudgetRule[];
  /** This period's windows with spend, most spent first. */
  windows: (BudgetWindow & { limitUsd?: number; limitTokens?: number })[];
}

/** What the console's budgets page shows: config defaults, console rows, and the current windows' spend. */
export async function budgetOverview(prisma: Db, opts: BudgetOptions, at = new Date()): Promise<BudgetOverview> {
  const rows = await prisma.budget.findMany({ orderBy: [{ scope: 'asc' }, { scopeKey: 'asc' }, { period: 'asc' }], take: 500 });
  const rules: BudgetRule[] = [
    ...opts.defaults.map((d): BudgetRule => ({ scope: d.scope, scopeKey: '*', period: d.period, limitUsd: d.usd, limitTokens: d.tokens, action: d.action ?? opts.action, source: 'config' })),
    ...rows.map(ruleOfRow),
  ];
  const current = BUDGET_PERIODS.map((period) => ({ period, window: windowOf(period, at) }));
  const windows = await prisma.budgetWindow.findMany({ where: { OR: current, scope: { not: 'workflow' } }, orderBy: { spentUsd: 'desc' }, take: 100 });
  const withLimits = await Promise.all(windows.map(async (w) => {
    const rule = await ruleForWindow(prisma, opts, w);
    return { ...w, ...(rule?.limitUsd !== undefined ? { limitUsd: rule.limitUsd } : {}), ...(rule?.limitTokens !== undefined ? { limitTokens: rule.limitTokens } : {}) };
  }));
  return { rules, windows: withLimits };
}
