// The settings of cost control (issue 16) that the engine is given: budget defaults and policy, and the limits on new
// workflows per person and per channel. A leaf module (types, schemas and the throttle's interface), so EngineDeps can
// name them without an import cycle; the logic is in budgets.ts and throttle.ts.
import { z } from 'zod';
import type { LlmProvider } from '../agents/llm/provider';

export const BUDGET_SCOPES = ['workspace', 'channel', 'workflow'] as const;
export const BUDGET_PERIODS = ['day', 'month', 'total'] as const;
export const BUDGET_ACTIONS = ['wait', 'local'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];
export type BudgetAction = (typeof BUDGET_ACTIONS)[number];

/** A limit as config or the console states it. scopeKey "*": every workspace (channel, workflow) without its own. */
export interface BudgetRule {
  scope: BudgetScope;
  scopeKey: string;
  period: BudgetPeriod;
  limitUsd?: number;
  limitTokens?: number;
  action: BudgetAction;
  source: 'config' | 'console';
}

/** A config default (BUDGETS): applies to every workspace, channel or workflow. */
export const BudgetDefaultSchema = z.object({
  scope: z.enum(BUDGET_SCOPES),
  period: z.enum(BUDGET_PERIODS),
  usd: z.number().positive().max(1e9).optional(),
  tokens: z.number().int().positive().max(1e15).optional(),
  action: z.enum(BUDGET_ACTIONS).optional(),
}).strict().refine((b) => b.usd !== undefined || b.tokens !== undefined, { message: 'needs usd or tokens' });
export type BudgetDefault = z.infer<typeof BudgetDefaultSchema>;

export interface BudgetOptions {
  /** From config: limits for every workspace / channel / workflow that has no console row. */
  defaults: BudgetDefault[];
  /** The action of a config default that names none (BUDGET_ACTION). */
  action: BudgetAction;
  /** Share of a limit at which the thread and the admins are told (0.8). */
  warnAt: number;
  /** How often a held step looks again whether it may run. */
  recheckMs: number;
  /** The local model steps drop to under a `local` budget; absent: such steps wait as under `wait`. */
  local?: { provider: LlmProvider; model: string };
}

/** New workflows per person and per channel (abuse prevention): `take` counts one and says whether it may start. */
export interface WorkflowThrottle {
  take(who: { platform: string; teamId: string; channelId: string; userId: string }): Promise<{ ok: true } | { ok: false; limit: 'person' | 'channel'; retryAfterMs: number }>;
}
