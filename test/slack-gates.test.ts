// Approval gates on the Slack path: request changes (modal), a click on a decided or unknown gate (ephemeral notes).
// Reject and simultaneous decisions are engine behaviour: test/engine/gates.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { startThread, tsOf, waitForGate, workflowOf } from './support/flow';
import { buttonClick, modalSubmit } from './support/slack-requests';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const click = (action: string, gate: Parameters<typeof tsOf>[0], threadTs: string, user = 'U_ALICE') =>
  h.post.interaction(buttonClick(action, buttonsOf(gate)[action]!, { messageTs: tsOf(gate), threadTs, user }));

describe('Request changes', () => {
  it('opens a modal, takes feedback and re-runs the step with it, then gates the new revision', async () => {
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const res = await click('request_changes', gate, ev.ts, 'U_DANA');
    expect(res.status).toBe(200);
    const open = await waitFor(() => h.slack.callsTo('views.open')[0], 'views.open');
    expect(open.params.trigger_id).toMatch(/^trig-/);
    expect(open.params.view.callback_id).toBe('request_changes_modal');

    const submit = await h.post.interaction(modalSubmit(open.params.view.private_metadata, 'Add SAML as well as OIDC', 'U_DANA'));
    expect(submit.status).toBe(200);
    expect(await submit.text()).toBe('');

    const gate2 = await waitForGate(h, ev.ts, 2);
    expect(gate2.params.username).toBe('Business Analyst');
    const rerun = h.openai.requests[1]!;
    expect(rerun.messages[0]!.content).toMatch(/^You are the Business Analyst/);
    expect(rerun.messages[1]!.content).toContain('## Changes requested by the reviewer\nAdd SAML as well as OIDC');
    expect(rerun.messages[1]!.content).toContain('## Your previous draft\n*Requirements doc*\n*Problem statement:* Business Analyst says: done');
    const updated = h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(gate))!;
    expect(updated.params.text).toContain('Changes requested by <@U_DANA>');
    expect(updated.params.text).toContain('> Add SAML as well as OIDC');

    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps[0]).toMatchObject({ revision: 2, status: 'awaiting_approval', feedback: 'Add SAML as well as OIDC' });
    expect(wf.approvals.map((a) => [a.revision, a.status]).sort()).toEqual([[1, 'changes_requested'], [2, 'pending']]);
    // both revisions' outputs recorded (the poster records a run of posts once it has sent them all)
    await waitFor(async () => (await h.prisma.agentMessage.count({ where: { workflowId: wf.id, kind: 'output', messageTs: { not: null } } })) >= 2 || undefined, 'the outputs recorded');
    expect(await h.prisma.agentMessage.count({ where: { workflowId: wf.id, kind: 'output' } })).toBe(2);
  });

  it('refuses empty feedback with an inline error', async () => {
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    await click('request_changes', gate, ev.ts);
    const open = await waitFor(() => h.slack.callsTo('views.open')[0], 'views.open');
    const res = await h.post.interaction(modalSubmit(open.params.view.private_metadata, '   '));
    expect(await res.json()).toEqual({ response_action: 'errors', errors: { feedback: 'Please say what should change.' } });
    expect((await workflowOf(h, ev.ts))!.approvals[0]!.status).toBe('pending');
  });
});

describe('one decision wins', () => {
  it('answers a second click on a decided gate with an ephemeral note and changes nothing', async () => {
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    await click('approve', gate, ev.ts, 'U_BOB');
    await waitForGate(h, ev.ts, 2);
    await click('reject', gate, ev.ts, 'U_MALLORY');
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral')[0], 'ephemeral note');
    expect(note.params).toMatchObject({ channel: 'C_TEAM', user: 'U_MALLORY', thread_ts: ev.ts });
    expect(note.params.text).toMatch(/^Already decided: approved by <@U_BOB> at \d{4}-\d{2}-\d{2} /);
    expect((await workflowOf(h, ev.ts))!.status).toBe('awaiting_approval');
  });

  it('tells the user when a gate does not exist', async () => {
    await h.post.interaction(buttonClick('approve', '00000000-0000-0000-0000-000000000000', { messageTs: '1.2', threadTs: '1.1', user: 'U_X' }));
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral')[0], 'ephemeral');
    expect(note.params.text).toBe('This approval request no longer exists.');
  });
});
