// Budgets count every model call and hold on to their limits (issue 16; real PostgreSQL, Redis and worker, the fake
// OpenAI and the fake Ollama): a shadow run's calls count against the workflow's budget as the step's own do; a held
// step's status line says it waits for budget and who can raise it, and a raise wakes it at once (not at its next
// look, an hour away here); calls admitted at the same time pass a limit by at most one call's estimate, and a
// reservation left by a dead worker expires; intent and MCP calls (outside steps) count against their scope; a step
// over a `local` budget runs on its role's own local tier when no BUDGET_LOCAL_* model is set.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BudgetHeldError, countSpend, releaseReservations, reserveCall, RESERVATION_TTL_MS } from '../../orchestrator/budgets';
import type { BudgetOptions } from '../../orchestrator/cost-controls';
import { usageLog } from '../../orchestrator/stores';
import { buttonsOf, engineSuite, type Engine, type RecordedPost } from '../support/engine';
import { fill } from '../support/fake-openai';
import { startFakeOllama } from '../support/fake-ollama';
import { copyRoles } from '../support/roles-dir';
import { waitFor } from '../support/wait';

const suite = engineSuite();

const approve = (e: Engine, gate: RecordedPost) => e.press('approve', buttonsOf(gate).approve!);
const tokensOf = (calls: { promptTokens: number; completionTokens: number }[]) => calls.reduce((s, c) => s + c.promptTokens + c.completionTokens, 0);

describe('every model call counts', () => {
  it('a shadow run\'s calls count against the workflow budget like the step\'s own', async () => {
    const ollama = await startFakeOllama((body) => ({ content: JSON.stringify(fill(body.format as Record<string, any>, 'local shadow answer')) }));
    try {
      const roles = copyRoles();
      // QA triage starts on its standard tier; every revision is also run on its local tier (shadow mode)
      roles.edit('qa_tester.yaml', (t) => t.replace(/^  start: local\b.*$/m, '  start: standard'));
      const e = await suite.start({ env: { ROLES_DIR: roles.dir, OLLAMA_HOST: ollama.host, MODEL_SHADOW_SAMPLE: '1' } });
      const t = await e.mention('the checkout page crashes when the cart is empty');
      await e.waitForGate(t.threadTs, 1);
      const wf = (await e.workflow(t.threadTs))!;
      const shadow = await waitFor(async () => {
        const rows = await e.prisma.llmCall.findMany({ where: { workflowId: wf.id, purpose: 'shadow' } });
        return rows.length ? rows : undefined;
      }, 'the shadow calls recorded');
      expect(shadow.every((c) => c.provider === 'ollama')).toBe(true);
      const all = await e.prisma.llmCall.findMany({ where: { workflowId: wf.id } });
      const window = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'workflow', scopeKey: wf.id, period: 'total' } });
      // the window holds the step's calls and the shadow run's, token for token
      expect(Number(window.spentTokens)).toBe(tokensOf(all));
      expect(Number(window.spentTokens)).toBeGreaterThan(tokensOf(all.filter((c) => c.purpose !== 'shadow')));
      expect(Number(window.reservedTokens)).toBe(0);
    } finally {
      await ollama.close();
    }
  });

  it('intent and MCP calls count against their scope, and a spent scope refuses the next', async () => {
    const e = await suite.start({ worker: false });
    const opts: BudgetOptions = { defaults: [{ scope: 'workspace', period: 'day', tokens: 100 }], action: 'wait', warnAt: 0.8, recheckMs: 1_000 };
    const usage = usageLog(e.prisma, opts);
    const scope = { workspace: `mcp:rc_${randomUUID().slice(0, 8)}` };
    const call = { provider: 'openai', model: 'gpt-4o-mini', promptTokens: 60, completionTokens: 50, latencyMs: 5, costUsd: 0.001, priceUnknown: false, ok: true };
    expect(await usage.spent!(scope)).toBeUndefined();
    await usage.record({ ...call, roleId: 'qa_tester', purpose: 'mcp', scope });
    const window = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'workspace', scopeKey: scope.workspace, period: 'day' } });
    expect(Number(window.spentTokens)).toBe(110);
    expect(await usage.spent!(scope)).toMatch(/workspace daily budget .*110 of 100 tokens/);
    // an intent call of a conversation counts for its workspace and its channel
    const conv = { workspace: `slack:T${randomUUID().slice(0, 6)}`, channel: `slack:C${randomUUID().slice(0, 6)}` };
    await usage.record({ ...call, purpose: 'intent', scope: conv });
    expect(await e.prisma.budgetWindow.count({ where: { scopeKey: { in: [conv.workspace, conv.channel] }, spentTokens: 110n } })).toBe(6); // 2 scopes x day, month, total
    expect(await e.prisma.llmCall.count({ where: { purpose: 'intent', promptTokens: 60 } })).toBeGreaterThanOrEqual(1);
  });
});

describe('reservations', () => {
  it('calls admitted at the same time pass a limit by at most one estimate; a dead worker\'s reservation expires', async () => {
    const e = await suite.start({ worker: false });
    const opts: BudgetOptions = { defaults: [{ scope: 'channel', period: 'total', usd: 1 }], action: 'wait', warnAt: 0.8, recheckMs: 1_000 };
    const scope = { workspace: `slack:T${randomUUID().slice(0, 6)}`, channel: `slack:C${randomUUID().slice(0, 6)}` };
    const est = { usd: 0.3, tokens: 1_000 };
    // 12 calls at once, each estimated at $0.30 and costing $0.30: at most 4 get in (0, 0.3, 0.6 and 0.9 are below $1)
    const outcomes = await Promise.all(Array.from({ length: 12 }, async () => {
      const holder = randomUUID();
      try {
        await reserveCall(e.prisma, opts, scope, est, holder, false);
      } catch (err) {
        if (err instanceof BudgetHeldError) return 'held';
        throw err;
      }
      await e.prisma.$transaction(async (tx) => {
        await countSpend(tx, scope, [{ costUsd: 0.3, promptTokens: 500, completionTokens: 500 }]);
        await releaseReservations(tx, { holder });
      });
      return 'ran';
    }));
    const ran = outcomes.filter((o) => o === 'ran').length;
    expect(ran).toBeGreaterThanOrEqual(1);
    expect(ran).toBeLessThanOrEqual(4);
    const window = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'channel', scopeKey: scope.channel, period: 'total' } });
    expect(Number(window.spentUsd)).toBeLessThanOrEqual(1 + est.usd);
    expect(Number(window.reservedUsd)).toBe(0);
    expect(await e.prisma.budgetReservation.count({ where: { windowId: window.id } })).toBe(0);

    // a worker that died mid-call leaves its reservation: it holds the room until it expires, then the sweep frees it
    const other = { workspace: scope.workspace, channel: `slack:C${randomUUID().slice(0, 6)}` };
    const long = new Date(Date.now() - RESERVATION_TTL_MS - 60_000);
    await reserveCall(e.prisma, opts, other, { usd: 5, tokens: 10 }, 'dead-worker', false, long); // over the limit once admitted
    const held = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'channel', scopeKey: other.channel, period: 'total' } });
    expect(Number(held.reservedUsd)).toBe(5);
    await reserveCall(e.prisma, opts, other, est, randomUUID(), false); // sweeps the expired one first, then fits
    expect(await e.prisma.budgetReservation.count({ where: { holder: 'dead-worker' } })).toBe(0);
    expect(Number((await e.prisma.budgetWindow.findUniqueOrThrow({ where: { id: held.id } })).reservedUsd)).toBeCloseTo(est.usd, 6);
  });
});

describe('held steps', () => {
  it('the status says the step waits for budget and who can raise it; the raise wakes it at once', async () => {
    // the held step would look again only after an hour: only the raise can start it within the test
    const e = await suite.start({ env: { BUDGETS: JSON.stringify([{ scope: 'workflow', period: 'total', tokens: 100 }]), BUDGET_RECHECK_S: '3600' } });
    await e.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_APPROVER', role: 'approver' } });
    const t = await e.mention('the checkout page crashes when the cart is empty');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    const reached = await e.waitForPost(t.threadTs, (p) => /Budget reached/.test(p.view.text), 'budget reached post');
    const wf = (await e.workflow(t.threadTs))!;
    const fix = wf.steps.find((s) => s.key === 'fix')!;
    const statusLines = () => e.posts(t.threadTs).flatMap((p) => [p, ...e.updatesOf(p)]).map((p) => p.view.text);
    const waiting = await waitFor(() => statusLines().find((text) => /is waiting for budget/.test(text)), 'the held step\'s status line');
    expect(waiting).toContain('workflow total budget');
    expect(waiting).toContain('<@U_APPROVER>');
    expect(await e.prisma.budgetHold.count({ where: { stepId: fix.id, resumedAt: null } })).toBe(1);

    expect(await e.press('budget_raise', buttonsOf(reached).budget_raise!, 'U_APPROVER')).toMatchObject({ kind: 'done' });
    await waitFor(() => e.prisma.llmCall.findFirst({ where: { stepId: fix.id, purpose: 'step' } }), 'the held step ran after the raise', 120_000);
    const hold = await e.prisma.budgetHold.findFirstOrThrow({ where: { stepId: fix.id } });
    expect(hold.resumedAt).not.toBeNull();
    expect(await e.prisma.auditLog.findFirst({ where: { action: 'budget.raised', actor: 'slack:U_APPROVER' } })).toMatchObject({ detail: expect.objectContaining({ woken: 1 }) });
  });

  it('a step over a `local` budget runs on its role\'s own local tier (no BUDGET_LOCAL_* set)', async () => {
    const ollama = await startFakeOllama((body) => ({ content: JSON.stringify(fill(body.format as Record<string, any>, 'own local tier answer')) }));
    try {
      const roles = copyRoles();
      roles.edit('developer.yaml', (t) => `${t}models:
  tiers:
    - { name: local, provider: ollama, model: qwen2.5:7b }
    - { name: premium, provider: openai, model: gpt-4.1 }
  start: premium
`);
      const e = await suite.start({ env: { ROLES_DIR: roles.dir, OLLAMA_HOST: ollama.host, BUDGETS: JSON.stringify([{ scope: 'workflow', period: 'total', tokens: 50, action: 'local' }]) } });
      const t = await e.mention('the checkout page crashes when the cart is empty');
      await approve(e, await e.waitForGate(t.threadTs, 1));
      await waitFor(() => ollama.requests.find((r) => r.model === 'qwen2.5:7b' && /You are the Developer/.test(r.messages[0]?.content ?? '')), 'the developer on its own local tier');
      expect(e.posts(t.threadTs).filter((p) => /Budget reached/.test(p.view.text))).toHaveLength(0);
    } finally {
      await ollama.close();
    }
  });
});
