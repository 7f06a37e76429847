// Budgets (issue 16): limits on model spend per workspace (a chat team), channel and workflow, per day, month or in
// total, in USD and tokens. Limits come from config (defaults for every workspace/channel/workflow) and from the
// console (Budget rows, which override config); spend is kept in one counter row per window (BudgetWindow), shared by
// every worker and kept across restarts.
// Invariants:
// - spend is added by one INSERT .. ON CONFLICT DO UPDATE per recorded batch of model calls (never by scanning
//   LlmCall), for every window the calls fall in, whether or not a limit is set on it (so a limit set later starts
//   from the window's real spend);
// - the 80% notice, the "limit reached" audit row and the raise are each decided by a conditional write on the
//   window (warnedAt / reachedAt / raisedAt IS NULL): whoever's write counts tells people, so they are told once;
// - a step over a limit whose action is `wait` is not run: its job is delayed (RetryLaterError, not an attempt) and
//   looks again every recheckMs, so it goes on when the window ends or an approver raised the limit (once per window);
//   with action `local` it runs on the local model instead.
// The check is made before a step's model calls and the spend counted after them, so steps running at the same time
// may together pass a limit by what they spend at once.
import { randomUUID } from 'node:crypto';
import { RetryLaterError } from '../agents/errors';
import type { LlmCallRecord } from '../agents/llm/measure';
import type { LlmProvider } from '../agents/llm/provider';
import { BUDGET_PERIODS, BUDGET_SCOPES, type BudgetOptions, type BudgetPeriod, type BudgetRule, type BudgetScope } from './cost-controls';
import type { LlmRouter } from '../agents/llm/router';
import { Prisma, type BudgetWindow } from '../generated/prisma/client';
import { audit } from './audit';
import type { ThreadRef } from './chat';
import { buttonValue, type PlatformName } from './contract';
import type { Db } from './db';
import type { EngineDeps } from './deps';
import { postOnce } from './posts';
import { threadOf } from './threads';
import { ROLECALL_PERSONA } from './views';

/** A step held by a spent budget: its job is delayed, not failed, and it looks again after `delayMs`. */
export class BudgetHeldError extends RetryLaterError {
  constructor(readonly windowId: string, delayMs: number) {
    super('a budget is spent: the step waits', delayMs, 'budget');
  }
}

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
const ruleOfRow = (r: { scope: string; scopeKey: string; period: string; limitUsd: Prisma.Decimal | null; limitTokens: bigint | null; action: string }): BudgetRule => ({
  scope: r.scope as BudgetScope, scopeKey: r.scopeKey, period: r.period as BudgetPeriod,
  ...(r.limitUsd !== null ? { limitUsd: num(r.limitUsd) } : {}), ...(r.limitTokens !== null ? { limitTokens: num(r.limitTokens) } : {}),
  action: r.action === 'local' ? 'local' : 'wait', source: 'console',
});

/** The rule in force for (scope, key, period): the console's row for that key, else its "*" row, else config's. */
async function rulesIn(prisma: Db, opts: BudgetOptions, keys: Partial<Record<BudgetScope, string>>): Promise<(BudgetRule & { scopeKey: string })[]> {
  const scopes = Object.entries(keys) as [BudgetScope, string][];
  const rows = await prisma.budget.findMany({ where: { OR: scopes.map(([scope, key]) => ({ scope, scopeKey: { in: [key, '*'] } })) } });
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

/** Where every limit on this workflow stands now. */
async function standings(prisma: Db, opts: BudgetOptions, wf: WorkflowScope, at: Date): Promise<Standing[]> {
  const rules = await rulesIn(prisma, opts, scopeKeysOf(wf));
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

/**
 * Before a step's model calls: undefined when it may run as usual; a router on the local model when a spent budget
 * says `local`; otherwise the step is held (BudgetHeldError), after the thread was told and given the raise button.
 */
export async function checkBudgets(deps: EngineDeps, step: StepScope, at = new Date()): Promise<LlmRouter | undefined> {
  const opts = deps.budgets;
  if (!opts) return undefined;
  await warnBudgets(deps, step, at);
  const spent = (await standings(deps.prisma, opts, workflowOf(step), at)).filter(exceeded);
  if (!spent.length) return undefined;
  const waiting = spent.find((s) => s.rule.action === 'wait' || !opts.local);
  if (!waiting) return localRouter(deps.llm, opts.local!);
  const row = waiting.row ?? (await windowRow(deps.prisma, waiting.rule, waiting.window));
  const first = (await deps.prisma.budgetWindow.updateMany({ where: { id: row.id, reachedAt: null }, data: { reachedAt: at } })).count === 1;
  if (first) await audit(deps.prisma, { actor: 'system', action: 'budget.reached', target: row.id, detail: { ...describeWindow(waiting), workflowId: step.workflowId } });
  await postOnce(deps, {
    key: { kind: 'budget', stage: 'reached', workflowId: step.workflowId, windowId: row.id }, workflowId: step.workflowId, roleId: step.roleId,
    thread: step.thread, persona: ROLECALL_PERSONA, view: reachedView(waiting, step.workflowId, row.id, !!opts.local),
  });
  throw new BudgetHeldError(row.id, opts.recheckMs);
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

/**
 * Adds the cost and tokens of model calls to every window they fall in, in one statement: give it the transaction
 * that records the LlmCall rows (steps.ts recordTrace), so spend and calls are committed together.
 */
export async function countSpend(db: Pick<Db, '$executeRaw'>, step: StepScope, calls: Pick<LlmCallRecord, 'costUsd' | 'promptTokens' | 'completionTokens'>[], at = new Date()): Promise<void> {
  const usd = calls.reduce((s, c) => s + c.costUsd, 0);
  const tokens = calls.reduce((s, c) => s + c.promptTokens + c.completionTokens, 0);
  if (usd <= 0 && tokens <= 0) return;
  const keys = scopeKeysOf(workflowOf(step));
  const values = BUDGET_SCOPES.flatMap((scope) => BUDGET_PERIODS.map((period) =>
    Prisma.sql`(${randomUUID()}, ${scope}, ${keys[scope]}, ${period}, ${windowOf(period, at)}, ${usd.toFixed(6)}::numeric, ${BigInt(tokens)}::bigint, ${at})`));
  await db.$executeRaw`
    INSERT INTO "BudgetWindow" ("id", "scope", "scopeKey", "period", "window", "spentUsd", "spentTokens", "updatedAt")
    VALUES ${Prisma.join(values)}
    ON CONFLICT ("scope", "scopeKey", "period", "window") DO UPDATE
      SET "spentUsd" = "BudgetWindow"."spentUsd" + EXCLUDED."spentUsd", "spentTokens" = "BudgetWindow"."spentTokens" + EXCLUDED."spentTokens", "updatedAt" = EXCLUDED."updatedAt"`;
}

/** Tells the thread and the admins, once per window, that a limit on this step's workflow passed `warnAt`. Called
 *  after a step's spend was committed, and before each step. */
export async function warnBudgets(deps: EngineDeps, step: StepScope, at = new Date()): Promise<void> {
  const opts = deps.budgets;
  if (!opts) return;
  for (const s of await standings(deps.prisma, opts, workflowOf(step), at)) {
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
async function adminsOf(deps: EngineDeps, platform: PlatformName): Promise<string[]> {
  const port = deps.chat[platform];
  if (!port) return [];
  const rows = await deps.prisma.chatUserRole.findMany({ where: { platform, role: { in: ['admin', 'owner'] } }, orderBy: { userId: 'asc' }, take: 10 });
  return rows.map((r) => port.mention(r.userId));
}

export type RaiseResult = { ok: true; detail: Record<string, unknown> } | { ok: false; text: string };

/**
 * An approver raises a spent window's limit once: the window gets the limit again on top (a conditional write, so
 * only the first raise counts). The window must be one of this workflow's (a button cannot raise another
 * conversation's budget). Held steps go on at their next look (recheckMs).
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
  return { ok: true, detail: { scope: row.scope, scopeKey: row.scopeKey, period: row.period, window: row.window, addedUsd: rule.limitUsd ?? null, addedTokens: rule.limitTokens ?? null } };
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
