// Gate reminders, expiry and escalation, and who a gate mentions (issue 14), through the whole engine
// (test/support/engine.ts: real PostgreSQL, Redis with BullMQ delayed jobs, the worker, the fake OpenAI). Role files
// with second-long remind_after / expire_after stand in for hours and days. A click and an expiry write the same
// Approval row conditionally: exactly one of them wins.
import { describe, expect, it } from 'vitest';
import { runGateTimer } from '../../orchestrator/gate-timers';
import { buttonsOf, engineSuite, type Engine } from '../support/engine';
import { copyRoles } from '../support/roles-dir';
import { waitFor } from '../support/wait';

const suite = engineSuite();

/** The shipped roles with the Business Analyst's gate policy replaced by `approval` (YAML lines). */
function rolesWith(approval: string): string {
  const roles = copyRoles();
  roles.edit('business_analyst.yaml', (t) => t.replace(/^approval:\n  policy: any\n/m, `approval:\n${approval}`));
  return roles.dir;
}

const start = (e: Engine) => e.mention('we need a login page with SSO for our customer portal');
const expireJob = (approvalId: string) => ({ kind: 'gate_timer' as const, approvalId, due: 'expire' as const, n: 0, at: new Date().toISOString() });

describe('who a gate mentions', () => {
  it('the configured approvers: users and, only because they are configured, a user group', async () => {
    const e = await suite.start({ env: { ROLES_DIR: rolesWith('  policy: any\n  approvers: { slack: [UDANA01, SREVIEW01] }\n') } });
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    expect(gate.view.text).toMatch(/^:vertical_traffic_light: <@UDANA01> <!subteam\^SREVIEW01>: please review the \*Business Analyst\* output above\./);
    expect(gate.view.text).not.toContain('<@U_ALICE>');
  });

  it('the people whose RBAC role may decide (a gate policy), not the others', async () => {
    const e2 = await suite.start();
    await e2.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await e2.prisma.chatUserRole.createMany({ data: [
      { platform: 'slack', userId: 'U_APPROVER', role: 'approver' }, { platform: 'slack', userId: 'U_OWNER', role: 'owner' },
      { platform: 'slack', userId: 'U_VIEWER', role: 'viewer' }, { platform: 'teams', userId: 'U_TEAMS', role: 'owner' },
    ] });
    const t = await start(e2);
    const gate = await e2.waitForGate(t.threadTs, 1);
    expect(gate.view.text).toContain('<@U_APPROVER>');
    expect(gate.view.text).toContain('<@U_OWNER>');
    expect(gate.view.text).not.toContain('U_VIEWER');
    expect(gate.view.text).not.toContain('U_TEAMS');
  });

  it('anyone may decide: the requester is called on', async () => {
    const e = await suite.start();
    const t = await start(e);
    expect((await e.waitForGate(t.threadTs, 1)).view.text).toContain('<@U_ALICE>: please review the *Business Analyst* output');
  });
});

describe('reminders and expiry', () => {
  it('reminds the approvers once per period, then expires the gate and cancels the workflow', async () => {
    const e = await suite.start({ env: { ROLES_DIR: rolesWith('  policy: any\n  approvers: { slack: [UDANA01] }\n  remind_after: 1s\n  expire_after: 5s\n') } });
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    const reminder = await e.waitForPost(t.threadTs, (p) => p.view.text.startsWith(':bell:'), 'a reminder');
    expect(reminder.view.text).toContain('<@UDANA01>: the *Business Analyst* output above has waited');
    await e.waitForStatus(t.threadTs, 'cancelled');
    const wf = (await e.workflow(t.threadTs))!;
    const approval = wf.approvals[0]!;
    expect(approval.status).toBe('expired');
    // one reminder per period, each posted once: reminders 1..4 are due before the expiry at 5 s
    const reminders = e.posts(t.threadTs).filter((p) => p.view.text.startsWith(':bell:'));
    expect(reminders).toHaveLength(approval.reminders);
    expect(approval.reminders).toBeGreaterThanOrEqual(1);
    expect(approval.reminders).toBeLessThanOrEqual(4);
    const notice = await e.waitForPost(t.threadTs, (p) => p.view.text.includes('*Workflow cancelled.*'), 'the expiry notice');
    expect(notice.view.text).toContain('Nobody decided on the *Business Analyst* output');
    await waitFor(() => e.updatesOf(gate).some((u) => u.view.text.startsWith(':hourglass: Expired') && !u.view.actions?.length), 'the gate card without buttons');
    // a click after the expiry changes nothing and says why
    expect(await e.press('approve', buttonsOf(gate).approve!, 'UDANA01')).toEqual({ kind: 'refused', text: expect.stringContaining('expired') });
    expect((await e.workflow(t.threadTs))!.status).toBe('cancelled');
    expect(await e.prisma.auditLog.count({ where: { action: 'gate.expired', target: wf.id } })).toBe(1);
  });

  it('escalates per policy: the escalation people are called on and the gate stays open', async () => {
    const e = await suite.start({ env: { ROLES_DIR: rolesWith('  policy: any\n  expire_after: 1s\n  on_expire: escalate\n  escalate_to: { slack: [UBOSS01] }\n') } });
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    const escalation = await e.waitForPost(t.threadTs, (p) => p.view.text.startsWith(':rotating_light:'), 'the escalation');
    expect(escalation.view.text).toContain('<@UBOSS01>: nobody has decided on the *Business Analyst* output');
    const approval = (await e.workflow(t.threadTs))!.approvals[0]!;
    expect(approval.status).toBe('pending');
    expect(approval.escalatedAt).not.toBeNull();
    expect(await e.press('approve', buttonsOf(gate).approve!, 'UBOSS01')).toMatchObject({ kind: 'done' });
    await e.waitForGate(t.threadTs, 2);
  });

  it('a click and an expiry: exactly one wins', async () => {
    const e = await suite.start({ env: { ROLES_DIR: rolesWith('  policy: any\n  expire_after: 1h\n') } });
    for (let i = 0; i < 3; i++) {
      const t = await start(e);
      const gate = await e.waitForGate(t.threadTs, 1);
      const approvalId = (await e.workflow(t.threadTs))!.approvals[0]!.id;
      const [click] = await Promise.all([e.press('approve', buttonsOf(gate).approve!, 'UDANA01'), runGateTimer(e.deps, expireJob(approvalId))]);
      const approval = await e.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } });
      const wf = (await e.workflow(t.threadTs))!;
      if (approval.status === 'approved') {
        expect(click).toMatchObject({ kind: 'done' });
        await e.waitForGate(t.threadTs, 2);
        expect((await e.workflow(t.threadTs))!.status).not.toBe('cancelled');
        expect(e.posts(t.threadTs).some((p) => p.view.text.includes('*Workflow cancelled.*'))).toBe(false);
      } else {
        expect(approval.status).toBe('expired');
        expect(click).toMatchObject({ kind: 'refused' });
        expect(wf.status).toBe('cancelled');
      }
      // the timer running again changes nothing
      await runGateTimer(e.deps, expireJob(approvalId));
      expect((await e.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).status).toBe(approval.status);
    }
  });
});
