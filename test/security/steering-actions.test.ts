// Security: every steering button (gate decisions, Retry / Skip / Cancel, Run this plan, drop-role and gate edits) is
// bound to the conversation its workflow lives in and follows the gate policies. The attacks go through the public
// interface: correctly signed Slack block_actions / view_submission payloads crafted from another channel or another
// team, and Teams Action.Execute invokes and Action.Submit messages from another conversation. A refusal is an ephemeral
// note (or the invoke's message answer), an audit row, and no change at all; an allowed person still succeeds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultScript, requestOf, type Script } from '../support/fake-openai';
import { gatePosts, tsOf, workflowOf } from '../support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from '../support/harness';
import { copyRoles, DESIGNER_ROLE } from '../support/roles-dir';
import { buttonClick, mention, modalSubmit, nextTs } from '../support/slack-requests';
import type { SlackCall } from '../support/fake-slack';
import { gatesIn, useTeamsHarness } from '../support/teams-harness';
import {
  BOB, CAROL, channelMention, executeData, executeInvoke, submitMessage, type FakeMicrosoft, type TeamsPoster,
} from '../support/fake-teams';

const OTHER_CONVERSATION = 'This button belongs to a workflow in another conversation.';
const LEAD = 'U_LEAD'; // mapped approver: passes every gate policy below
const VIEWER = 'U_VIEW'; // mapped viewer: below the policies
const NOBODY = 'U_NOBODY'; // no Rolecall role

/** Request markers: a request containing one of these fails at once (HTTP 400) for every role while it is in the set. */
const failing = new Set<string>();

const script: Script = (req, n) => {
  if (req.response_format?.json_schema?.name === 'intent') {
    const text = (req.messages[1]?.content ?? '').split('Message:').pop() ?? ''; // the person's message, after the template list
    const intent = text.includes('wireframes') ? 'none' : text.includes('checkout') ? 'bug_triage' : 'feature_delivery';
    return { content: JSON.stringify({ intent, confidence: intent === 'none' ? 0.9 : 1, reason: 'test script' }) };
  }
  if ([...failing].some((m) => requestOf(req).includes(m))) return { status: 400, error: 'the model refuses this request' };
  return defaultScript(req, n);
};

describe('Slack steering buttons', () => {
  let h: Harness;
  beforeAll(async () => {
    const roles = copyRoles();
    roles.add('ux_designer.yaml', DESIGNER_ROLE.replace('tools:\n  allow: [validate_output]\n', 'inputs: [requirements_doc]\n'));
    // Every request asks the (scripted) model for its intent, so the script decides template vs assembled plan.
    h = await startHarness({ script, env: { ROLES_DIR: roles.dir, INTENT_MIN_CONFIDENCE: '0.99' } });
    await h.prisma.gatePolicy.createMany({ data: [{ roleId: 'business_analyst', minRole: 'approver' }, { roleId: 'qa_tester', minRole: 'approver' }] });
    await h.prisma.chatUserRole.createMany({ data: [{ platform: 'slack', userId: LEAD, role: 'approver' }, { platform: 'slack', userId: VIEWER, role: 'viewer' }] });
  });
  afterAll(async () => { await h?.close(); });

  async function start(channel: string, text: string) {
    const ev = mention(text, { channel });
    expect((await h.post.event(ev)).status).toBe(200);
    return ev;
  }

  /** A signed click as Slack would send it from `channel` (and `team`, default the workflow's T1). Slack is answered at
   * once; the press may be handled later by a worker, which tells the presser the outcome in an ephemeral note. */
  async function click(action: string, value: string, o: { user: string; channel: string; post: Pick<SlackCall, 'response'>; threadTs: string; team?: string | null }) {
    const payload: Record<string, unknown> = buttonClick(action, value, { user: o.user, channel: o.channel, messageTs: o.post.response!.ts, threadTs: o.threadTs });
    if (o.team !== undefined) {
      payload.team = o.team === null ? null : { id: o.team, domain: 'other' };
      payload.user = o.team === null ? { id: o.user, username: o.user } : { id: o.user, username: o.user, team_id: o.team };
    }
    const res = await h.post.interaction(payload);
    expect(res.status).toBe(200);
  }

  const notesTo = (user: string, channel: string) => h.slack.callsTo('chat.postEphemeral').filter((c) => c.params.user === user && c.params.channel === channel).map((c) => c.params.text as string);

  /** A press that must be refused: returns the note the presser got (in the channel the click came from). */
  async function refused(action: string, value: string, o: Parameters<typeof click>[2]): Promise<string> {
    const before = notesTo(o.user, o.channel).length;
    await click(action, value, o);
    return waitFor(() => notesTo(o.user, o.channel)[before], `the note for ${action} by ${o.user} in ${o.channel}`);
  }

  const auditOf = (actor: string, action: string) => h.prisma.auditLog.findMany({ where: { actor: `slack:${actor}`, action }, orderBy: { at: 'asc' } });
  const failureCard = (threadTs: string) => waitFor(() => h.threadPosts(threadTs).find((c) => 'retry_step' in buttonsOf(c)), 'the failure card');

  it('refuses gate decisions from another channel, another team or a payload without a team; an approver in the channel decides', async () => {
    const ev = await start('C_A', 'we need a login page with SSO for our customer portal');
    const gate = await waitFor(() => gatePosts(h, ev.ts)[0], 'the first gate');
    const approvalId = buttonsOf(gate).approve!;
    const wf = (await workflowOf(h, ev.ts))!;

    const notes = [
      await refused('approve', approvalId, { user: LEAD, channel: 'C_B', post: gate, threadTs: ev.ts }),
      await refused('reject', approvalId, { user: LEAD, channel: 'C_B', post: gate, threadTs: ev.ts }),
      await refused('approve', approvalId, { user: LEAD, channel: 'C_A', post: gate, threadTs: ev.ts, team: 'T_OTHER' }),
      await refused('approve', approvalId, { user: LEAD, channel: 'C_A', post: gate, threadTs: ev.ts, team: null }),
      await refused('cancel_workflow', wf.id, { user: LEAD, channel: 'C_B', post: gate, threadTs: ev.ts }),
    ];
    // Request changes from channel B (it may open the feedback modal: that changes nothing), then the modal submitted
    // with metadata naming channel B
    await click('request_changes', approvalId, { user: LEAD, channel: 'C_B', post: gate, threadTs: ev.ts });
    const before = notesTo(LEAD, 'C_B').length;
    const modal = await h.post.interaction(modalSubmit(JSON.stringify({ approvalId, channel: 'C_B', team: 'T1', threadTs: ev.ts }), 'rewrite everything', LEAD));
    expect(modal.status).toBe(200);
    const modalAnswer = await modal.text();
    if (!modalAnswer.includes(OTHER_CONVERSATION)) notes.push(await waitFor(() => notesTo(LEAD, 'C_B')[before], 'the note for the modal'));

    expect(notes.every((n) => n === OTHER_CONVERSATION)).toBe(true);
    expect(await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ status: 'pending', decidedBy: null, feedback: null });
    expect((await workflowOf(h, ev.ts))!.status).toBe(wf.status);
    const gateRefusals = await auditOf(LEAD, 'gate.refused');
    expect(gateRefusals.length).toBeGreaterThanOrEqual(5); // approve, reject, other team, no team, the modal
    for (const r of gateRefusals) expect(r.detail).toMatchObject({ reason: 'other_conversation', workflowId: wf.id });
    expect((await auditOf(LEAD, 'action.refused')).map((r) => r.detail)).toEqual([expect.objectContaining({ action: 'cancel_workflow', reason: 'other_conversation' })]);
    expect(await h.prisma.auditLog.count({ where: { action: { in: ['gate.approved', 'gate.rejected', 'gate.changes_requested', 'workflow.cancelled'] } } })).toBe(0);

    // the same approver, clicking in the workflow's own channel, decides
    await click('approve', approvalId, { user: LEAD, channel: 'C_A', post: gate, threadTs: ev.ts });
    await waitFor(async () => (await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).status !== 'pending', 'the decision');
    expect(await h.prisma.approval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ status: 'approved', decidedBy: LEAD });
    await waitFor(async () => (await auditOf(LEAD, 'gate.approved')).length === 1, 'the audit row of the decision');
  });

  it('refuses Retry, Skip and Cancel from another channel and below the gate policy; an approver retries, skips and cancels', async () => {
    failing.add('FAIL1');
    const ev = await start('C_F', 'the checkout page crashes when the cart is empty FAIL1');
    const card = await failureCard(ev.ts);
    const buttons = buttonsOf(card);
    expect(Object.keys(buttons)).toEqual(['retry_step', 'skip_step', 'cancel_workflow']);
    const before = (await workflowOf(h, ev.ts))!;
    const step = before.steps.find((s) => s.status === 'failed')!;
    expect(step.roleId).toBe('qa_tester');

    const notes: Record<string, string[]> = { other: [], viewer: [], nobody: [] };
    for (const action of ['retry_step', 'skip_step', 'cancel_workflow']) {
      notes.other!.push(await refused(action, buttons[action]!, { user: LEAD, channel: 'C_B', post: card, threadTs: ev.ts }));
      notes.other!.push(await refused(action, buttons[action]!, { user: LEAD, channel: 'C_F', post: card, threadTs: ev.ts, team: 'T_OTHER' }));
      notes.viewer!.push(await refused(action, buttons[action]!, { user: VIEWER, channel: 'C_F', post: card, threadTs: ev.ts }));
      notes.nobody!.push(await refused(action, buttons[action]!, { user: NOBODY, channel: 'C_F', post: card, threadTs: ev.ts }));
    }
    expect(notes.other).toEqual(Array(6).fill(OTHER_CONVERSATION));
    expect(notes.viewer).toEqual([
      'You may not retry this step: this gate needs the approver role or above, and you are viewer.',
      'You may not skip this step: this gate needs the approver role or above, and you are viewer.',
      'You may not cancel this workflow: this gate needs the approver role or above, and you are viewer.',
    ]);
    expect(notes.nobody).toEqual([
      'You may not retry this step: this gate needs the approver role or above, and you have no Rolecall role.',
      'You may not skip this step: this gate needs the approver role or above, and you have no Rolecall role.',
      'You may not cancel this workflow: this gate needs the approver role or above, and you have no Rolecall role.',
    ]);
    const after = (await workflowOf(h, ev.ts))!;
    expect(after.status).toBe(before.status);
    expect(after.steps.find((s) => s.id === step.id)).toMatchObject({ status: 'failed', runCount: step.runCount, revision: step.revision });
    expect(h.slack.callsTo('chat.update').some((c) => c.params.ts === tsOf(card))).toBe(false); // the card still offers its buttons
    for (const who of [VIEWER, NOBODY]) {
      expect((await auditOf(who, 'action.refused')).map((r) => (r.detail as { action: string }).action)).toEqual(['retry_step', 'skip_step', 'cancel_workflow']);
    }
    expect((await auditOf(LEAD, 'action.refused')).filter((r) => (r.detail as { workflowId?: string }).workflowId === before.id)).toHaveLength(6);
    expect(await h.prisma.auditLog.count({ where: { action: { in: ['step.retried', 'step.skipped', 'workflow.cancelled'] } } })).toBe(0);

    // an approver in the workflow's channel: Retry re-runs the step (the model works again), and it reaches its gate
    failing.delete('FAIL1');
    await click('retry_step', buttons.retry_step!, { user: LEAD, channel: 'C_F', post: card, threadTs: ev.ts });
    await waitFor(() => gatePosts(h, ev.ts)[0], 'the triage gate after the retry');
    await waitFor(async () => (await auditOf(LEAD, 'step.retried')).length === 1, 'the audit row of the retry');

    failing.add('FAIL2');
    const ev2 = await start('C_F', 'the checkout page crashes when the cart is empty FAIL2');
    const card2 = await failureCard(ev2.ts);
    failing.delete('FAIL2');
    await click('skip_step', buttonsOf(card2).skip_step!, { user: LEAD, channel: 'C_F', post: card2, threadTs: ev2.ts });
    await waitFor(async () => (await workflowOf(h, ev2.ts))!.steps.find((s) => s.key === 'triage')!.status === 'skipped', 'the skipped step');
    await waitFor(async () => (await auditOf(LEAD, 'step.skipped')).length === 1, 'the audit row of the skip');

    failing.add('FAIL3');
    const ev3 = await start('C_F', 'the checkout page crashes when the cart is empty FAIL3');
    const card3 = await failureCard(ev3.ts);
    await click('cancel_workflow', buttonsOf(card3).cancel_workflow!, { user: LEAD, channel: 'C_F', post: card3, threadTs: ev3.ts });
    await waitFor(async () => (await workflowOf(h, ev3.ts))!.status === 'cancelled', 'the cancelled workflow');
    await waitFor(async () => (await auditOf(LEAD, 'workflow.cancelled')).length === 1, 'the audit row of the cancel');
    failing.delete('FAIL3');
  });

  it('refuses Run this plan, drop-role and gate edits from another channel and below the gate policy; an approver edits and runs it', async () => {
    // A plan waiting for confirmation, as intake stores one assembled from role capabilities (set up directly, so the
    // test does not depend on how the classifier reads a message); every attack on it is a signed click.
    const ev = { ts: nextTs(), channel: 'C_P' };
    const wf = await h.prisma.workflow.create({
      data: {
        platform: 'slack', teamId: 'T1', channelId: 'C_P', threadTs: ev.ts, requestText: 'draw wireframes and user flows, plus user stories and a status summary',
        requestedBy: 'U_ALICE', sourceEventId: `slack:C_P:${ev.ts}`, template: 'assembled', status: 'planned',
        steps: { create: [
          { position: 0, key: 'business_analyst', roleId: 'business_analyst' },
          { position: 1, key: 'ux_designer', roleId: 'ux_designer', dependsOn: ['business_analyst'] },
          { position: 2, key: 'project_manager', roleId: 'project_manager', dependsOn: ['business_analyst'] },
        ] },
      },
      include: { steps: { orderBy: { position: 'asc' } } },
    });
    const plan = { response: { ts: ev.ts } }; // the plan message the buttons are on
    const snapshot = (w: { steps: { key: string; gateAfter: boolean; dependsOn: string[] }[] }) => w.steps.map((s) => [s.key, s.gateAfter, s.dependsOn.join(',')]);
    const designer = `${wf.id}|ux_designer`;
    const edits: [string, string][] = [['plan_drop', designer], ['plan_gate', designer], ['plan_confirm', wf.id]];

    const notes: Record<string, string[]> = { other: [], viewer: [] };
    for (const [action, value] of edits) {
      notes.other!.push(await refused(action, value, { user: LEAD, channel: 'C_B', post: plan, threadTs: ev.ts }));
      notes.other!.push(await refused(action, value, { user: LEAD, channel: 'C_P', post: plan, threadTs: ev.ts, team: 'T_OTHER' }));
      notes.viewer!.push(await refused(action, value, { user: VIEWER, channel: 'C_P', post: plan, threadTs: ev.ts }));
    }
    expect(notes.other).toEqual(Array(6).fill(OTHER_CONVERSATION));
    expect(notes.viewer).toEqual([
      'You may not change this plan: this gate needs the approver role or above, and you are viewer.',
      'You may not change this plan: this gate needs the approver role or above, and you are viewer.',
      'You may not run this plan: this gate needs the approver role or above, and you are viewer.',
    ]);
    const unchanged = (await workflowOf(h, ev.ts))!;
    expect(unchanged.status).toBe('planned');
    expect(snapshot(unchanged)).toEqual(snapshot(wf));
    expect(h.slack.callsTo('chat.postMessage').some((c) => c.params.channel === 'C_P' && /Plan/.test(c.params.text))).toBe(false); // not re-rendered
    expect((await auditOf(VIEWER, 'action.refused')).filter((r) => (r.detail as { workflowId?: string }).workflowId === wf.id)).toHaveLength(3);
    expect(await h.prisma.auditLog.count({ where: { target: wf.id, action: { startsWith: 'plan.' } } })).toBe(0);

    await click('plan_gate', `${wf.id}|business_analyst`, { user: LEAD, channel: 'C_P', post: plan, threadTs: ev.ts });
    await waitFor(async () => (await h.prisma.auditLog.count({ where: { target: wf.id, action: 'plan.gate_changed' } })) === 1, 'the gate edit');
    await click('plan_drop', designer, { user: LEAD, channel: 'C_P', post: plan, threadTs: ev.ts });
    await waitFor(async () => (await h.prisma.auditLog.count({ where: { target: wf.id, action: 'plan.role_dropped' } })) === 1, 'the drop');
    await click('plan_confirm', wf.id, { user: LEAD, channel: 'C_P', post: plan, threadTs: ev.ts });
    await waitFor(async () => (await workflowOf(h, ev.ts))!.status !== 'planned', 'the confirmed plan');
    const edited = (await workflowOf(h, ev.ts))!;
    expect(edited.steps.map((s) => s.key)).not.toContain('ux_designer');
    expect(edited.steps.find((s) => s.key === 'business_analyst')!.gateAfter).toBe(!wf.steps.find((s) => s.key === 'business_analyst')!.gateAfter);
    await waitFor(async () => (await auditOf(LEAD, 'plan.confirmed')).some((r) => r.target === wf.id), 'the audit row of the confirmation');
  });
});

describe('Teams steering buttons', () => {
  let h: Harness;
  let ms: FakeMicrosoft;
  let teams: TeamsPoster;
  useTeamsHarness((...a) => ([h, ms, teams] = a));

  const OTHER_CHANNEL = '19:other-channel@thread.tacv2';
  const sentTexts = (text: string) => ms.calls.filter((c) => c.verb === 'POST' && JSON.stringify(c.body).includes(text)).length;

  /** The presser is told `text`: in the invoke's answer, or (Action.Submit, or a press handled after the answer) in a
   * message that mentions them. Waits for it, so the press has been handled when this returns. */
  async function told(res: Response, text: string): Promise<void> {
    expect(res.status).toBe(200);
    const raw = await res.text();
    const answer = raw ? (JSON.parse(raw) as { value?: unknown }) : undefined;
    if (answer?.value === text) return;
    await waitFor(() => sentTexts(text) > seen.get(text)!, `a note saying "${text}"`);
    seen.set(text, sentTexts(text));
  }
  const seen = new Map<string, number>();
  const expectNotes = (...texts: string[]) => { for (const t of texts) seen.set(t, sentTexts(t)); };

  it('refuses Action.Execute and Action.Submit from another conversation or team and below the gate policy; an approver decides', async () => {
    await h.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await h.prisma.chatUserRole.createMany({ data: [{ platform: 'teams', userId: CAROL.aadObjectId, role: 'approver' }, { platform: 'teams', userId: BOB.aadObjectId, role: 'viewer' }] });
    const m = channelMention(ms, 'we need a login page with SSO for our customer portal');
    expect((await teams.send(m)).status).toBe(200);
    const conv = m.conversation.id;
    const gate = await waitFor(() => gatesIn(ms, conv)[0], 'the first gate');
    const wf = await h.prisma.workflow.findFirstOrThrow();
    const approve = executeData(gate, 'approve');
    const otherConv = `${OTHER_CHANNEL};messageid=1699999999999`;
    expectNotes(OTHER_CONVERSATION, 'You may not decide this gate: this gate needs the approver role or above, and you are viewer.', 'You may not cancel this workflow: this gate needs the approver role or above, and you are viewer.');

    // Action.Execute from another channel's reply chain, by an approver
    await told(await teams.send(executeInvoke(ms, otherConv, gate.response.id, approve, CAROL)), OTHER_CONVERSATION);
    // the workflow's conversation id, but another team
    const otherTeam = executeInvoke(ms, conv, gate.response.id, approve, CAROL);
    otherTeam.channelData = { ...otherTeam.channelData, team: { id: '19:another-team@thread.tacv2' } };
    await told(await teams.send(otherTeam), OTHER_CONVERSATION);
    // Action.Submit (clients without Universal Actions) of a crafted Cancel, from the other channel
    const cancel = { rolecall: { action: 'cancel_workflow', value: wf.id } };
    await told(await teams.send(submitMessage(ms, otherConv, gate.response.id, cancel, CAROL)), OTHER_CONVERSATION);
    // in the workflow's conversation, but below the policy
    await told(await teams.send(executeInvoke(ms, conv, gate.response.id, approve, BOB)), 'You may not decide this gate: this gate needs the approver role or above, and you are viewer.');
    await told(await teams.send(executeInvoke(ms, conv, gate.response.id, cancel, BOB)), 'You may not cancel this workflow: this gate needs the approver role or above, and you are viewer.');

    expect(await h.prisma.approval.findFirstOrThrow()).toMatchObject({ status: 'pending', decidedBy: null });
    expect((await h.prisma.workflow.findFirstOrThrow()).status).toBe(wf.status);
    const refusals = await h.prisma.auditLog.findMany({ where: { action: { in: ['gate.refused', 'action.refused'] } } });
    expect(refusals.map((r) => `${r.actor} ${r.action} ${(r.detail as { reason: string }).reason}`).sort()).toEqual([
      'teams:aad-bob action.refused this gate needs the approver role or above, and you are viewer',
      'teams:aad-bob gate.refused this gate needs the approver role or above, and you are viewer',
      'teams:aad-carol action.refused other_conversation',
      'teams:aad-carol gate.refused other_conversation',
      'teams:aad-carol gate.refused other_conversation',
    ]);

    // the approver, in the workflow's own conversation
    expect((await teams.send(executeInvoke(ms, conv, gate.response.id, approve, CAROL))).status).toBe(200);
    await waitFor(async () => (await h.prisma.approval.findFirstOrThrow()).status !== 'pending', 'the decision');
    expect(await h.prisma.approval.findFirstOrThrow()).toMatchObject({ status: 'approved', decidedBy: 'aad-carol' });
  });
});
