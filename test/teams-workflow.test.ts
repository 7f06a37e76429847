// The whole user story in a Teams channel, over the real Agents SDK and HTTP, with JWT-authenticated requests,
// a local Bot Connector and a local Entra ID: mention -> plan -> persona cards -> gates (Action.Execute) -> summary.
import { describe, expect, it } from 'vitest';
import { waitFor, type Harness } from './support/harness';
import { useTeamsHarness } from './support/teams-harness';
import {
  ALICE, BOB, CAROL, actionsOf, cardOf, cardText, channelMention, executeData, executeInvoke, headerName, personalMessage,
  type ConnectorCall, type FakeMicrosoft, type TeamsPoster,
} from './support/fake-teams';

let h: Harness;
let ms: FakeMicrosoft;
let teams: TeamsPoster;
const { posts, gates } = useTeamsHarness((...a) => ([h, ms, teams] = a));

/** A press on a card of a 1:1 chat (the invoke carries the personal conversation, as Teams sends it). */
async function pressInChat(conv: string, card: ConnectorCall, verb: string, who = ALICE) {
  const chat = personalMessage(ms, 'x', who);
  const invoke = { ...executeInvoke(ms, conv, card.response.id, executeData(card, verb), who), conversation: chat.conversation, channelData: chat.channelData };
  return (await teams.send(invoke)).json();
}

describe('a Teams channel reply chain runs the default workflow end to end', () => {
  it('posts persona cards, gates with Universal Actions, refreshes decided cards and finishes with a summary', async () => {
    const mention = channelMention(ms, 'we need a login page with SSO for our customer portal');
    const res = await teams.send(mention);
    expect(res.status).toBe(200);
    const conv = mention.conversation.id; // posts go into the reply chain of the mention

    const plan = await waitFor(() => posts(conv)[0], 'the plan');
    expect(headerName(plan)).toBe('Rolecall');
    expect(cardOf(plan)).toMatchObject({ type: 'AdaptiveCard', version: '1.5' });
    expect(cardText(plan)).toContain('**Business Analyst**');
    expect(plan.auth).toMatch(/^Bearer outbound-\d+$/);
    expect(ms.tokenRequests[0]!.get('grant_type')).toBe('client_credentials');
    expect(ms.tokenRequests[0]!.get('scope')).toBe('https://api.botframework.com/.default');

    const gate1 = await waitFor(() => gates(conv)[0], 'the first gate');
    expect(headerName(gate1)).toBe('Business Analyst');
    // the analyst's status message became its output: edited with updateActivity (PUT), or posted with it when the
    // poster was behind
    const output = posts(conv).find((c) => headerName(c) === 'Business Analyst' && !actionsOf(c).length)!;
    expect([output, ...ms.calls.filter((c) => c.verb === 'PUT' && c.activityId === output.response.id)].some((c) => cardText(c).includes('Business Analyst says: done'))).toBe(true);
    expect(headerName(output)).toBe('Business Analyst');
    expect(output.body.entities).toEqual([expect.objectContaining({ additionalType: ['AIGeneratedContent'] })]);
    const approve = actionsOf(gate1).find((a) => a.verb === 'approve')!;
    expect(approve).toMatchObject({ type: 'Action.Execute', fallback: { type: 'Action.Submit', data: approve.data } });
    expect(cardOf(gate1)!.body.some((b: any) => b.type === 'Input.Text' && b.id === 'feedback')).toBe(true);
    // status kept current with updateActivity, and a typing indicator while a role works
    expect([output, ...ms.calls.filter((c) => c.verb === 'PUT')].some((c) => cardText(c).includes('Business Analyst finished in'))).toBe(true);
    expect(ms.calls.some((c) => c.body.type === 'typing')).toBe(true);
    expect(h.openai.requests).toHaveLength(1);

    const click = await teams.send(executeInvoke(ms, conv, gate1.response.id, executeData(gate1, 'approve'), BOB));
    expect(click.status).toBe(200);
    const answer = await click.json();
    // the press is queued and answered at once with a neutral note (the card stays); the decision follows from a worker
    expect(answer).toEqual({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: 'Received: you will see the result here in a moment.' });

    const decided = await waitFor(() => ms.calls.find((c) => c.verb === 'PUT' && c.activityId === gate1.response.id), 'gate 1 refreshed');
    expect(cardText(decided)).toContain('Approved by <at>Bob Brown</at>');
    // Adaptive Cards' DATE/TIME functions: each reader sees their own locale and time zone
    expect(cardText(decided)).toMatch(/decided \{\{DATE\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z, SHORT\)\}\} \{\{TIME\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\)\}\}/);
    expect(actionsOf(decided)).toEqual([]);
    expect(cardOf(decided)!.msteams.entities).toEqual([{ type: 'mention', text: '<at>Bob Brown</at>', mentioned: { id: 'aad-bob', name: 'Bob Brown' } }]);

    const gate2 = await waitFor(() => gates(conv)[1], 'the second gate');
    expect(headerName(gate2)).toBe('Technical Architect');
    await teams.send(executeInvoke(ms, conv, gate2.response.id, executeData(gate2, 'approve'), CAROL));

    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { platform: 'teams', status: 'completed' }, include: { steps: true, approvals: true } }), 'completion');
    expect(wf.channelId).toBe(encodeURIComponent('19:a1b2c3@thread.tacv2'));
    expect(wf.threadTs).toBe(mention.id);
    expect(wf.approvals.map((a) => a.decidedBy).sort()).toEqual(['aad-bob', 'aad-carol']);
    // the workflow completes in the database before the poster has sent its last posts (the outbox): wait for them
    await waitFor(async () => (await h.prisma.chatOutbox.count({ where: { workflowId: wf.id, status: { in: ['pending', 'sending'] } } })) === 0 || undefined, 'the last posts sent');
    const names = posts(conv).map(headerName);
    expect(names.at(-1)).toBe('Project Manager');
    expect(new Set(names)).toEqual(new Set(['Rolecall', 'Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager']));
    expect(ms.calls.every((c: ConnectorCall) => c.auth?.startsWith('Bearer outbound-'))).toBe(true);
  });

  it('treats a later reply in the chain as context, not as a new workflow', async () => {
    const mention = channelMention(ms, 'build a feature that lets customers export invoices as PDF');
    await teams.send(mention);
    const conv = mention.conversation.id;
    await waitFor(() => gates(conv)[0], 'the first gate');
    const reply = { ...channelMention(ms, 'x', CAROL), conversation: mention.conversation, text: 'please keep it simple', entities: [] };
    expect((await teams.send(reply)).status).toBe(200);
    await waitFor(() => h.prisma.threadReply.findFirst({ where: { text: 'please keep it simple' } }), 'the reply stored');
    expect(await h.prisma.workflow.count()).toBe(1);
  });
});

describe('a 1:1 chat with Rolecall', () => {
  it('starts a workflow without a mention; a new message while it runs is answered with "add it, or start a new one?"', async () => {
    const first = personalMessage(ms, 'the checkout page crashes when the cart is empty');
    expect((await teams.send(first)).status).toBe(200);
    const conv = first.conversation.id;
    const gate = await waitFor(() => gates(conv)[0], 'the first gate');
    expect(headerName(gate)).toBe('QA Tester');
    await teams.send(personalMessage(ms, 'it only happens on Safari'));
    // not silently taken as context: a card asks, with two Universal Actions
    const ask = await waitFor(() => posts(conv).find((c) => cardText(c).includes('Add this to the running workflow, or start a new one?')), 'the question card');
    expect(headerName(ask)).toBe('Rolecall');
    expect(cardText(ask)).toContain('it only happens on Safari');
    expect(actionsOf(ask).map((a) => [a.type, a.verb])).toEqual([['Action.Execute', 'request_add'], ['Action.Execute', 'request_new']]);
    expect(await h.prisma.threadReply.count()).toBe(0);
    await pressInChat(conv, ask, 'request_add');
    await waitFor(async () => (await h.prisma.threadReply.count()) === 1, 'the follow-up stored as context');
    const wf = await h.prisma.workflow.findFirstOrThrow({ include: { replies: true } });
    expect(wf).toMatchObject({ platform: 'teams', template: 'bug_triage', channelId: encodeURIComponent(conv) }); // ids are URI-encoded: job ids cannot hold ':'
    expect(wf.replies[0]!.text).toBe('it only happens on Safari');
    expect(await h.prisma.workflow.count()).toBe(1);
    await waitFor(() => ms.calls.find((c) => c.verb === 'PUT' && c.activityId === ask.response.id && cardText(c).includes('Added to the running workflow')), 'the answered card');
    // the other button of an answered card does nothing, and says so (a reply that mentions the presser)
    await pressInChat(conv, ask, 'request_new');
    await waitFor(() => posts(conv).find((c) => /This request was already answered/.test(String(c.body.text ?? ''))), 'the refusal');
    expect(await h.prisma.workflow.count()).toBe(1);
  });

  it('"Start a new one" starts a second workflow from the message', async () => {
    const first = personalMessage(ms, 'the checkout page crashes when the cart is empty');
    await teams.send(first);
    const conv = first.conversation.id;
    await waitFor(() => gates(conv)[0], 'the first gate');
    await teams.send(personalMessage(ms, 'we need a login page with SSO for our customer portal'));
    const ask = await waitFor(() => posts(conv).find((c) => cardText(c).includes('start a new one?')), 'the question card');
    // as a crash would leave it: the answer recorded, the work not done; the retried press finishes it
    expect((await h.prisma.pendingRequest.updateMany({ where: { status: 'waiting' }, data: { status: 'started' } })).count).toBe(1);
    await pressInChat(conv, ask, 'request_new');
    await waitFor(async () => (await h.prisma.workflow.count()) === 2, 'the second workflow');
    // the same answer once more (a double press) starts nothing more
    await pressInChat(conv, ask, 'request_new');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await h.prisma.workflow.count()).toBe(2);
    const second = await h.prisma.workflow.findFirstOrThrow({ orderBy: { createdAt: 'desc' } });
    expect(second.requestText).toBe('we need a login page with SSO for our customer portal');
    expect(await h.prisma.threadReply.count()).toBe(0);
  });

  it('answers the declared help command and starts nothing', async () => {
    const help = personalMessage(ms, 'help');
    expect((await teams.send(help)).status).toBe(200);
    const answer = await waitFor(() => posts(help.conversation.id)[0], 'the help card');
    expect(headerName(answer)).toBe('Rolecall');
    expect(cardText(answer)).toContain('👋 **Rolecall** runs AI roles');
    expect(cardText(answer)).not.toMatch(/:[a-z_]+:/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.prisma.workflow.count()).toBe(0);
    expect(await h.prisma.inboundEvent.count()).toBe(0);
  });
});

describe('the Teams app manifest', () => {
  it('is on a current schema, declares help, and has the RSC permissions that let channel and chat replies reach the bot without a mention', async () => {
    const { readFileSync } = await import('node:fs');
    const m = JSON.parse(readFileSync('bot/teams/manifest.json', 'utf8'));
    expect(Number(m.manifestVersion)).toBeGreaterThanOrEqual(1.19);
    expect(m.$schema).toContain(`/v${m.manifestVersion}/`);
    expect(m.bots[0].commandLists[0].commands.map((c: { title: string }) => c.title)).toEqual(['help']);
    expect(m.authorization.permissions.resourceSpecific).toEqual(expect.arrayContaining([
      { name: 'ChannelMessage.Read.Group', type: 'Application' }, { name: 'ChatMessage.Read.Chat', type: 'Application' },
    ]));
    expect(m.webApplicationInfo.id).toBe(m.bots[0].botId);
  });
});
