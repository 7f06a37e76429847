// Teams approval gates: request changes (feedback in the card), reject, one decision wins, Action.Submit fallback.
import { describe, expect, it } from 'vitest';
import { defaultScript } from './support/fake-openai';
import { waitFor, type Harness } from './support/harness';
import { useTeamsHarness } from './support/teams-harness';
import {
  ALICE, BOB, CAROL, actionsOf, cardOf, cardText, channelMention, executeData, executeInvoke, headerName, submitMessage,
  type FakeMicrosoft, type TeamsPoster,
} from './support/fake-teams';

let h: Harness;
let ms: FakeMicrosoft;
let teams: TeamsPoster;
const { posts, gates } = useTeamsHarness((...a) => ([h, ms, teams] = a));

async function start() {
  const mention = channelMention(ms, 'we need a login page with SSO');
  expect((await teams.send(mention)).status).toBe(200);
  const conv = mention.conversation.id;
  return { conv, gate: await waitFor(() => gates(conv)[0], 'the first gate') };
}

const press = async (conv: string, gate: (typeof ms.calls)[number], verb: string, who = BOB, extra: Record<string, unknown> = {}) =>
  (await teams.send(executeInvoke(ms, conv, gate.response.id, { ...executeData(gate, verb), ...extra }, who))).json();

describe('Request changes', () => {
  it('takes the feedback typed into the card and re-runs the step with it', async () => {
    const { conv, gate } = await start();
    const answer = await press(conv, gate, 'request_changes', CAROL, { feedback: 'Add SAML as well as OIDC' });
    expect(answer).toMatchObject({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: expect.stringMatching(/^Received/) });
    const gate2 = await waitFor(() => gates(conv)[1], 'the gate of revision 2');
    expect(headerName(gate2)).toBe('Business Analyst');
    expect(h.openai.requests[1]!.messages[1]!.content).toContain('Add SAML as well as OIDC');
    const refreshed = ms.calls.find((c) => c.verb === 'PUT' && c.activityId === gate.response.id)!;
    expect(cardText(refreshed)).toContain('Changes requested by <at>Carol Chen</at>');
    expect(cardText(refreshed)).toContain('Add SAML as well as OIDC');
  });

  it('asks for feedback when the box is empty and keeps the gate open', async () => {
    const { conv, gate } = await start();
    const answer = await press(conv, gate, 'request_changes', CAROL, { feedback: '  ' });
    expect(answer).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Please write what should change in the box above, then press Request changes.' });
    expect((await h.prisma.approval.findFirstOrThrow()).status).toBe('pending');
  });
});

describe('Reject', () => {
  it('stops the workflow and the Project Manager posts what was and was not done', async () => {
    const { conv, gate } = await start();
    await press(conv, gate, 'reject', CAROL);
    const summary = await waitFor(() => posts(conv).find((c) => cardText(c).includes('Workflow stopped')), 'rejection summary');
    expect(headerName(summary)).toBe('Project Manager');
    expect(cardText(summary)).toContain('<at>Carol Chen</at> rejected the **Business Analyst** output');
    expect((await h.prisma.workflow.findFirstOrThrow()).status).toBe('rejected');
  });
});

describe('one decision wins', () => {
  it('tells the second person who decided and when, and changes nothing', async () => {
    const { conv, gate } = await start();
    await press(conv, gate, 'approve', BOB);
    await waitFor(async () => (await h.prisma.approval.findFirstOrThrow()).status !== 'pending', 'the first decision');
    const loser = await press(conv, gate, 'reject', CAROL);
    expect(loser.type).toBe('application/vnd.microsoft.activity.message');
    // the losing press is told in a reply that mentions the person (Teams has no message only one person sees)
    const note = await waitFor(() => posts(conv).find((c) => String(c.body.text ?? '').includes('Already decided')), 'the note to the loser');
    expect(note.body.text).toMatch(/^<at>Carol Chen<\/at> Already decided: approved by Bob Brown at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\.$/);
    expect(note.body.entities).toEqual([{ type: 'mention', text: '<at>Carol Chen</at>', mentioned: { id: CAROL.id, name: 'Carol Chen' } }]);
    await waitFor(() => gates(conv)[1], 'the second gate');
    const approval = await h.prisma.approval.findFirstOrThrow({ where: { revision: 1 }, orderBy: { createdAt: 'asc' } });
    expect(approval).toMatchObject({ status: 'approved', decidedBy: 'aad-bob' });
  });

  it('lets exactly one of two simultaneous presses win', async () => {
    const { conv, gate } = await start();
    await Promise.all([press(conv, gate, 'approve', BOB), press(conv, gate, 'reject', CAROL)]);
    await waitFor(() => posts(conv).some((c) => String(c.body.text ?? '').includes('Already decided')), 'the note to the loser');
    expect(posts(conv).filter((c) => String(c.body.text ?? '').includes('Already decided'))).toHaveLength(1);
    const approval = await h.prisma.approval.findFirstOrThrow();
    expect(['aad-bob', 'aad-carol']).toContain(approval.decidedBy);
    const refreshed = await waitFor(() => ms.calls.find((c) => c.verb === 'PUT' && c.activityId === gate.response.id), 'gate refreshed');
    expect(cardText(refreshed)).toContain(approval.decidedBy === 'aad-bob' ? 'Bob Brown' : 'Carol Chen');
  });
});

describe('Action.Submit fallback (clients without Universal Actions)', () => {
  it('decides through the submitted card data and answers a losing press with a mention in the thread', async () => {
    const { conv, gate } = await start();
    const data = actionsOf(gate).find((a) => a.verb === 'approve')!.fallback.data;
    expect((await teams.send(submitMessage(ms, conv, gate.response.id, data, BOB))).status).toBe(200);
    await waitFor(() => gates(conv)[1], 'the second gate');
    expect((await teams.send(submitMessage(ms, conv, gate.response.id, { ...data, rolecall: { action: 'reject', value: data.rolecall.value } }, ALICE))).status).toBe(200);
    const note = await waitFor(() => posts(conv).find((c) => String(c.body.text ?? '').includes('Already decided')), 'the note');
    expect(note.body.text).toMatch(/^<at>Alice Adams<\/at> Already decided: approved by Bob Brown at /);
    expect(note.body.entities).toEqual([{ type: 'mention', text: '<at>Alice Adams</at>', mentioned: { id: '29:alice', name: 'Alice Adams' } }]);
    expect((await h.prisma.approval.findFirstOrThrow({ where: { status: { not: 'pending' } } })).decidedBy).toBe('aad-bob');
  });
});

describe('a failed step in Teams', () => {
  it('shows Retry, Skip and Cancel on the failure card; Retry runs the step again', async () => {
    h.openai.script = () => ({ status: 500, error: 'model down' });
    const mention = channelMention(ms, 'we need a login page with SSO');
    await teams.send(mention);
    const conv = mention.conversation.id;
    const failure = await waitFor(() => posts(conv).find((c) => actionsOf(c).some((a) => a.verb === 'retry_step')), 'failure card');
    expect(actionsOf(failure).map((a) => a.verb)).toEqual(['retry_step', 'skip_step', 'cancel_workflow']);
    h.openai.script = defaultScript;
    await press(conv, failure, 'retry_step', CAROL);
    await waitFor(() => gates(conv)[0], 'the gate after the retry');
    await press(conv, failure, 'skip_step', CAROL);
    const refused = await waitFor(() => posts(conv).find((c) => String(c.body.text ?? '').includes('not waiting for a decision')), 'the refusal');
    expect(refused.body.text).toBe('<at>Carol Chen</at> This step is not waiting for a decision any more.');
  });
});

describe('who a gate calls on', () => {
  it('mentions the people whose RBAC role may decide, as Teams mention entities', async () => {
    await h.prisma.gatePolicy.create({ data: { roleId: 'business_analyst', minRole: 'approver' } });
    await h.prisma.chatUserRole.createMany({ data: [{ platform: 'teams', userId: BOB.aadObjectId, role: 'approver' }, { platform: 'teams', userId: CAROL.aadObjectId, role: 'viewer' }] });
    await h.prisma.teamsUser.createMany({ data: [{ id: BOB.aadObjectId, name: BOB.name }, { id: CAROL.aadObjectId, name: CAROL.name }] });
    const { gate } = await start();
    expect(cardText(gate)).toContain(`<at>${BOB.name}</at>: please review the **Business Analyst** output above.`);
    expect(cardText(gate)).not.toContain(CAROL.name);
    expect(cardOf(gate)?.msteams?.entities).toEqual([{ type: 'mention', text: `<at>${BOB.name}</at>`, mentioned: { id: BOB.aadObjectId, name: BOB.name } }]);
  });
});
