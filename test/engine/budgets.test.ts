// Budgets and limits on new workflows in the engine (real PostgreSQL, Redis and worker; the fake OpenAI answers every
// call with 150 tokens): a spent budget holds the next step and offers an approver a raise (once), the 80% notice is
// posted once per window, and a person who starts too many workflows gets a polite note only they see.
import { describe, expect, it } from 'vitest';
import { buttonsOf, engineSuite, type Engine, type RecordedPost } from '../support/engine';
import { fill } from '../support/fake-openai';
import { startFakeOllama } from '../support/fake-ollama';
import { waitFor } from '../support/wait';

const suite = engineSuite();

const approve = (e: Engine, gate: RecordedPost) => e.press('approve', buttonsOf(gate).approve!);
const budgetPosts = (e: Engine, threadTs: string, stage: 'warning' | 'reached' | 'raised') =>
  e.posts(threadTs).filter((p) => (stage === 'warning' ? /Budget at \d+%/ : stage === 'reached' ? /Budget reached/ : /limit was raised once/).test(p.view.text));
const stepCalls = (e: Engine, workflowId: string) => e.prisma.llmCall.count({ where: { workflowId, purpose: 'step' } });

describe('budgets', () => {
  it('holds the next step when a workflow budget is spent, and an approver raises it once', async () => {
    const e = await suite.start({ env: { BUDGETS: JSON.stringify([{ scope: 'workflow', period: 'total', tokens: 100 }]), BUDGET_RECHECK_S: '0.3' } });
    const t = await e.mention('the checkout page crashes when the cart is empty');
    await approve(e, await e.waitForGate(t.threadTs, 1)); // triage ran (budget not yet spent) and spent >= 150 tokens
    const reached = await e.waitForPost(t.threadTs, (p) => /Budget reached/.test(p.view.text), 'budget reached post');
    expect(reached.view.text).toContain('workflow total budget');
    const raise = buttonsOf(reached).budget_raise!;
    expect(raise).toBeTruthy();
    const wf = (await e.workflow(t.threadTs))!;
    const spentBefore = await stepCalls(e, wf.id);
    // the held step is not run (no call), and its job waits without failing
    const fix = wf.steps.find((s) => s.key === 'fix')!;
    expect(['pending', 'running']).toContain(fix.status);

    // someone without the approver role may not raise it (refused, audited, nothing changes)
    const refused = await e.press('budget_raise', raise, 'U_NOBODY');
    expect(refused).toMatchObject({ kind: 'refused', text: expect.stringContaining('approver role') });
    expect(await e.prisma.auditLog.count({ where: { action: 'budget.raise_refused', actor: 'slack:U_NOBODY' } })).toBe(1);
    expect(await stepCalls(e, wf.id)).toBe(spentBefore);

    await e.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_BOSS', role: 'approver' } });
    expect(await e.press('budget_raise', raise, 'U_BOSS')).toMatchObject({ kind: 'done' });
    expect(await e.prisma.auditLog.findFirst({ where: { action: 'budget.raised', actor: 'slack:U_BOSS' } })).toMatchObject({ detail: expect.objectContaining({ workflowId: wf.id, addedTokens: 100 }) });
    await waitFor(() => budgetPosts(e, t.threadTs, 'raised')[0], 'raised post');
    // the held step goes on by itself at its next look
    await waitFor(async () => (await stepCalls(e, wf.id)) > spentBefore, 'the developer step ran after the raise');
    // only once: a second raise of the same window is refused
    expect(await e.press('budget_raise', raise, 'U_BOSS')).toMatchObject({ kind: 'refused', text: expect.stringContaining('already raised once') });
    const window = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'workflow', scopeKey: wf.id, period: 'total' } });
    expect(Number(window.extraTokens)).toBe(100);
    expect(window.raisedBy).toBe('slack:U_BOSS');
  });

  it('a raise button cannot raise another workflow\'s window', async () => {
    const e = await suite.start({ env: { BUDGETS: JSON.stringify([{ scope: 'workflow', period: 'total', tokens: 100 }]), BUDGET_RECHECK_S: '0.3' } });
    const t = await e.mention('the checkout page crashes when the cart is empty');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    const reached = await e.waitForPost(t.threadTs, (p) => /Budget reached/.test(p.view.text), 'budget reached post');
    const [, windowId] = buttonsOf(reached).budget_raise!.split('|');
    const other = await e.mention('the login page crashes on submit');
    await e.waitForGate(other.threadTs, 1);
    const otherWf = (await e.workflow(other.threadTs))!;
    await e.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_BOSS', role: 'approver' } });
    // this conversation's workflow, another workflow's window: refused, and the window is not raised
    expect(await e.press('budget_raise', `${otherWf.id}|${windowId}`, 'U_BOSS')).toMatchObject({ kind: 'refused' });
    expect((await e.prisma.budgetWindow.findUniqueOrThrow({ where: { id: windowId! } })).raisedAt).toBeNull();
  });

  it('tells the thread and the admins once when a channel budget passes 80%', async () => {
    // 170 tokens a day for the channel: the first step (150) passes 80%; the second still starts and passes 100%
    const e = await suite.start({ env: { BUDGETS: JSON.stringify([{ scope: 'channel', period: 'day', tokens: 170 }]), BUDGET_RECHECK_S: '0.3' } });
    await e.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_ADMIN', role: 'admin' } });
    const t = await e.mention('the checkout page crashes when the cart is empty');
    const warning = await e.waitForPost(t.threadTs, (p) => /Budget at \d+%/.test(p.view.text), '80% notice');
    expect(warning.view.text).toContain('channel daily budget');
    expect(warning.view.text).toContain('<@U_ADMIN>');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    await e.waitForPost(t.threadTs, (p) => /Budget reached/.test(p.view.text), 'budget reached post');
    expect(budgetPosts(e, t.threadTs, 'warning')).toHaveLength(1);
    const window = await e.prisma.budgetWindow.findFirstOrThrow({ where: { scope: 'channel', scopeKey: `slack:${e.channelId}`, period: 'day' } });
    expect(window.warnedAt).not.toBeNull();
    expect(await e.prisma.auditLog.count({ where: { action: 'budget.warned', target: window.id } })).toBe(1);
    expect(Number(window.spentTokens)).toBeGreaterThanOrEqual(300);
  });

  it('drops steps over a `local` budget to the local model instead of holding them', async () => {
    const ollama = await startFakeOllama((body) => ({ content: JSON.stringify(fill(body.format as Record<string, any>, 'local model answer')) }));
    try {
      const e = await suite.start({ env: {
        BUDGETS: JSON.stringify([{ scope: 'workflow', period: 'total', tokens: 50, action: 'local' }]), // the triage spends 60 (fake Ollama) or 150
        OLLAMA_HOST: ollama.host, BUDGET_LOCAL_MODEL: 'llama3.2:3b',
      } });
      const t = await e.mention('the checkout page crashes when the cart is empty');
      await approve(e, await e.waitForGate(t.threadTs, 1));
      // the developer's step (an openai role) runs on the local model once the workflow's budget is spent
      await waitFor(() => ollama.requests.find((r) => r.model === 'llama3.2:3b' && /You are the Developer/.test(r.messages[0]?.content ?? '')), 'the developer on the local model');
      expect(budgetPosts(e, t.threadTs, 'reached')).toHaveLength(0);
      const wf = (await e.workflow(t.threadTs))!;
      await waitFor(() => e.prisma.llmCall.findFirst({ where: { workflowId: wf.id, provider: 'ollama', model: 'llama3.2:3b', ok: true } }), 'the local call recorded');
    } finally {
      await ollama.close();
    }
  });

  it('the console budget row overrides config and a step over a budget with no local model waits', async () => {
    const e = await suite.start({ env: { BUDGETS: JSON.stringify([{ scope: 'channel', period: 'day', tokens: 1_000_000 }]), BUDGET_RECHECK_S: '0.3' } });
    await e.prisma.budget.create({ data: { scope: 'channel', scopeKey: `slack:${e.channelId}`, period: 'day', limitTokens: 1n, action: 'local', updatedBy: 'console:test@example.com' } });
    const t = await e.mention('the checkout page crashes when the cart is empty');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    const reached = await e.waitForPost(t.threadTs, (p) => /Budget reached/.test(p.view.text), 'budget reached post');
    expect(reached.view.text).toContain('channel daily budget');
    await e.prisma.budget.deleteMany({ where: { scopeKey: `slack:${e.channelId}` } });
  });
});

describe('limits on new workflows', () => {
  it('answers a person over their limit with a polite note only they see, and audits it', async () => {
    const e = await suite.start({ env: { WORKFLOWS_PER_PERSON: '1' } });
    const first = await e.mention('the checkout page crashes when the cart is empty', { user: 'U_EAGER' });
    await e.waitForGate(first.threadTs, 1);
    const second = await e.mention('the login page crashes on submit', { user: 'U_EAGER' });
    const note = await waitFor(() => e.chat.notes.find((n) => n.thread.threadTs === second.threadTs), 'throttle note');
    expect(note.person.id).toBe('U_EAGER');
    expect(note.text).toMatch(/^Thanks for your request! You have started quite a few workflows.*try again in about \d+ minutes?\.$/);
    expect(e.posts(second.threadTs)).toHaveLength(0);
    expect(await e.prisma.workflow.count({ where: { channelId: e.channelId, threadTs: second.threadTs } })).toBe(0);
    expect(await e.prisma.auditLog.findFirst({ where: { action: 'workflow.throttled', actor: 'slack:U_EAGER' } })).toMatchObject({ detail: expect.objectContaining({ limit: 'person' }) });
    // someone else in the channel may still start one
    const other = await e.mention('the search page crashes on empty input', { user: 'U_CALM' });
    await e.waitForGate(other.threadTs, 1);
  });

  it('limits a channel across people', async () => {
    const e = await suite.start({ env: { WORKFLOWS_PER_CHANNEL: '1' } });
    const first = await e.mention('the checkout page crashes when the cart is empty', { user: 'U_ONE' });
    await e.waitForGate(first.threadTs, 1);
    const second = await e.mention('the login page crashes on submit', { user: 'U_TWO' });
    const note = await waitFor(() => e.chat.notes.find((n) => n.thread.threadTs === second.threadTs), 'throttle note');
    expect(note.text).toContain('This channel has started quite a few workflows');
  });
});
