// Gate RBAC on the Slack path: with a GatePolicy, only chat users mapped to that role or above may decide; refusals
// are ephemeral notes, are not recorded as decisions, and are audited, like every decision. mayDecide itself is tested
// in test/engine/gates.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startThread, tsOf, waitForGate } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, modalSubmit } from './support/slack-requests';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

describe('gate policies', () => {
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
    // a refused "request changes" submission closes the modal (it was queued) and is refused by an ephemeral note too
    const res = await h.post.interaction(modalSubmit(JSON.stringify({ approvalId, channel: ev.channel, team: 'T1', threadTs: ev.ts }), 'please change', 'U_BOB'));
    expect(res.status).toBe(200);
    await waitFor(() => h.slack.callsTo('chat.postEphemeral').filter((c) => c.params.user === 'U_BOB').length === 2, 'the second refusal note');
    expect(h.slack.callsTo('chat.postEphemeral').at(-1)!.params.text).toContain('You may not decide this gate');
    expect((await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).status).toBe('pending');

    await h.post.interaction(buttonClick('approve', approvalId, { messageTs: tsOf(gate), threadTs: ev.ts, user: 'U_CAROL' }));
    await waitFor(async () => (await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).status !== 'pending', 'the decision');
    expect(await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ status: 'approved', decidedBy: 'U_CAROL' });
    await waitForGate(h, ev.ts, 2); // the workflow moved on

    const audit = await h.prisma.auditLog.findMany({ where: { target: approvalId }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => [a.actor, a.action])).toEqual([['slack:U_BOB', 'gate.refused'], ['slack:U_BOB', 'gate.refused'], ['slack:U_CAROL', 'gate.approved']]);
    expect(audit[0]!.detail).toMatchObject({ decision: 'approved', gateRole: 'business_analyst' });
  });
});
