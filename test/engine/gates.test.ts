// Approval gates in the engine, through act() as the edges call it (test/support/engine.ts: real Redis, PostgreSQL
// and worker, no HTTP, no Slack): reject stops the workflow with a summary; of two simultaneous decisions exactly
// one wins; gate policies (mayDecide). The Slack wire format of gates (modal, ephemeral notes) is tested over HTTP in
// test/slack-gates.test.ts and test/gate-permissions.test.ts.
import { describe, expect, it } from 'vitest';
import { mayDecide } from '../../orchestrator/permissions';
import { buttonsOf, engineSuite, type Engine } from '../support/engine';
import { waitFor } from '../support/wait';

const suite = engineSuite();
const start = (e: Engine) => e.mention('we need a login page with SSO for our customer portal');

describe('Reject', () => {
  it('stops the workflow and the Project Manager posts a summary', async () => {
    const e = await suite.start();
    const t = await start(e);
    await e.press('approve', buttonsOf(await e.waitForGate(t.threadTs, 1)).approve!);
    const gate2 = await e.waitForGate(t.threadTs, 2);
    expect(await e.press('reject', buttonsOf(gate2).reject!, 'U_ERIN')).toMatchObject({ kind: 'done' });
    const summary = await e.waitForPost(t.threadTs, (p) => /Workflow stopped/.test(p.view.text), 'rejection summary');
    expect(summary.persona.displayName).toBe('Project Manager');
    expect(summary.view.text).toContain('<@U_ERIN> rejected the *Technical Architect* output');
    expect(summary.view.text).toContain('Completed: Business Analyst');
    expect(summary.view.text).toContain('Not run: Developer, QA Tester, Project Manager');
    const wf = (await e.workflow(t.threadTs))!;
    expect(wf.status).toBe('rejected');
    expect(wf.finishedAt).not.toBeNull();
    await new Promise((r) => setTimeout(r, 300));
    expect(e.openai.requests).toHaveLength(2);
  });
});

describe('one decision wins', () => {
  it('lets exactly one of two simultaneous decisions win; the other is told who decided', async () => {
    const e = await suite.start();
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    const [bob, carol] = await Promise.all([e.press('approve', buttonsOf(gate).approve!, 'U_BOB'), e.press('reject', buttonsOf(gate).reject!, 'U_CAROL')]);
    const wf = (await e.workflow(t.threadTs))!;
    const approval = wf.approvals[0]!;
    const winner = approval.decidedBy!;
    expect(['U_BOB', 'U_CAROL']).toContain(winner);
    const [won, lost] = winner === 'U_BOB' ? [bob, carol] : [carol, bob];
    expect(won).toMatchObject({ kind: 'done' });
    expect(lost).toEqual({ kind: 'refused', text: expect.stringMatching(new RegExp(`^Already decided: ${winner === 'U_BOB' ? 'approved' : 'rejected'} by <@${winner}> at \\d{4}-\\d{2}-\\d{2} `)) });
    expect(approval.status).toBe(winner === 'U_BOB' ? 'approved' : 'rejected');
    await waitFor(() => e.updatesOf(gate).length > 0, 'gate update');
    const updates = e.updatesOf(gate);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((u) => u.view.text.includes(`<@${winner}>`))).toBe(true);
  });
});

describe('gate policies', () => {
  it('mayDecide: anyone without a policy; with one, only users mapped to the role or above', async () => {
    const e = await suite.start({ worker: false });
    expect(await mayDecide(e.prisma, 'slack', 'U_NOBODY', 'business_analyst')).toEqual({ ok: true });
    await e.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await e.prisma.chatUserRole.createMany({ data: [{ platform: 'slack', userId: 'U_VIEW', role: 'viewer' }, { platform: 'slack', userId: 'U_ADMIN', role: 'admin' }, { platform: 'teams', userId: 'U_NOBODY', role: 'owner' }] });
    expect(await mayDecide(e.prisma, 'slack', 'U_NOBODY', 'business_analyst')).toMatchObject({ ok: false, reason: expect.stringContaining('no Rolecall role') });
    expect(await mayDecide(e.prisma, 'slack', 'U_VIEW', 'business_analyst')).toMatchObject({ ok: false, reason: expect.stringContaining('you are viewer') });
    expect(await mayDecide(e.prisma, 'slack', 'U_ADMIN', 'business_analyst')).toEqual({ ok: true });
    expect(await mayDecide(e.prisma, 'slack', 'U_VIEW', 'technical_architect')).toEqual({ ok: true });
  });
});
