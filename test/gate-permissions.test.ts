// Gate RBAC on the Slack path: with a GatePolicy, only chat users mapped to that role or above may decide; refusals
// are ephemeral notes, are not recorded as decisions, and are audited, like every decision.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mayDecide } from '../orchestrator/permissions';
import { startThread, tsOf, waitForGate } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, modalSubmit } from './support/slack-requests';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

describe('gate policies', () => {
  it('mayDecide: anyone without a policy; with one, only users mapped to the role or above', async () => {
    expect(await mayDecide(h.prisma, 'slack', 'U_NOBODY', 'business_analyst')).toEqual({ ok: true });
    await h.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await h.prisma.chatUserRole.createMany({ data: [{ platform: 'slack', userId: 'U_VIEW', role: 'viewer' }, { platform: 'slack', userId: 'U_ADMIN', role: 'admin' }, { platform: 'teams', userId: 'U_NOBODY', role: 'owner' }] });
    expect(await mayDecide(h.prisma, 'slack', 'U_NOBODY', 'business_analyst')).toMatchObject({ ok: false, reason: expect.stringContaining('no Rolecall role') });
    expect(await mayDecide(h.prisma, 'slack', 'U_VIEW', 'business_analyst')).toMatchObject({ ok: false, reason: expect.stringContaining('you are viewer') });
    expect(await mayDecide(h.prisma, 'slack', 'U_ADMIN', 'business_analyst')).toEqual({ ok: true });
    expect(await mayDecide(h.prisma, 'slack', 'U_VIEW', 'technical_architect')).toEqual({ ok: true });
  });

  it('refuses a click below the policy with an ephemeral note, then lets a mapped approver decide; both audited', async () => {
    await h.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await h.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_CAROL', role: 'approver' } });
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const approvalId = buttonsOf(gate).approve!;

    await h.post.interaction(buttonClick('approve', approvalId, { messageTs: tsOf(gate), threadTs: ev.ts, user: 'U_BOB' }));
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral').find((c) => c.params.user === 'U_BOB'), 'the refusal note');
    expect(note.params.text).toBe('You may not decide this gate: this gate needs the approver role or above, and you have no Rolecall role.');
    expect(note.params.thread_ts).toBe(ev.ts);
    expect(await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ status: 'pending', decidedBy: null });
    // a refused "request changes" submission is refused in the modal too
    const res = await h.post.interaction(modalSubmit(JSON.stringify({ approvalId, channel: ev.channel, team: 'T1', threadTs: ev.ts }), 'please change', 'U_BOB'));
    expect(JSON.stringify(await res.json())).toContain('You may not decide this gate');
    expect((await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).status).toBe('pending');

    await h.post.interaction(buttonClick('approve', approvalId, { messageTs: tsOf(gate), threadTs: ev.ts, user: 'U_CAROL' }));
    expect(await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ status: 'approved', decidedBy: 'U_CAROL' });
    await waitForGate(h, ev.ts, 2); // the workflow moved on

    const audit = await h.prisma.auditLog.findMany({ where: { target: approvalId }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => [a.actor, a.action])).toEqual([['slack:U_BOB', 'gate.refused'], ['slack:U_BOB', 'gate.refused'], ['slack:U_CAROL', 'gate.approved']]);
    expect(audit[0]!.detail).toMatchObject({ decision: 'approved', gateRole: 'business_analyst' });
  });
});
