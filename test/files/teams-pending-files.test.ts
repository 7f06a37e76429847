// A new request with a file in a Teams 1:1 chat while a workflow runs there: Rolecall asks "add it, or start a new
// one?" and keeps the message; the file shared with it goes with the message either way (issue 14): into the new
// workflow, or to the running one as the reply's file. Over the real Agents SDK and HTTP with the local Microsoft.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, cardText, executeData, executeInvoke, personalMessage, startFakeMicrosoft, teamsPoster, type ConnectorCall, type FakeMicrosoft, type TeamsPoster } from '../support/fake-teams';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { gatesIn, postsIn } from '../support/teams-harness';

let h: Harness;
let ms: FakeMicrosoft;
let teams: TeamsPoster;
beforeEach(async () => {
  ms = await startFakeMicrosoft();
  h = await startHarness({ env: ms.env });
  teams = teamsPoster(h.url, ms);
});
afterEach(async () => {
  await h.close();
  await ms.close();
});

/** A press on a card of the 1:1 chat. */
async function pressInChat(conv: string, card: ConnectorCall, verb: string) {
  const chat = personalMessage(ms, 'x', ALICE);
  const invoke = { ...executeInvoke(ms, conv, card.response.id, executeData(card, verb), ALICE), conversation: chat.conversation, channelData: chat.channelData };
  return (await teams.send(invoke)).json();
}

/** A workflow running in a 1:1 chat, then a second message with a file: the question card. */
async function askWithFile(): Promise<{ conv: string; ask: ConnectorCall }> {
  const first = personalMessage(ms, 'the checkout page crashes when the cart is empty');
  await teams.send(first);
  const conv = first.conversation.id;
  await waitFor(() => gatesIn(ms, conv)[0], 'the first gate');
  const spec = ms.addChatFile('sso-requirements.txt', new TextEncoder().encode('Providers: Okta and Entra ID.\nSessions expire after 8 hours.\n'));
  expect((await teams.send({ ...personalMessage(ms, 'we need a login page with SSO for our customer portal, see the attached'), attachments: [spec] })).status).toBe(200);
  const ask = await waitFor(() => postsIn(ms, conv).find((c) => cardText(c).includes('start a new one?')), 'the question card');
  return { conv, ask };
}

describe('a file on a 1:1 request asked about', () => {
  it('goes into the new workflow when its writer starts one', async () => {
    const { conv, ask } = await askWithFile();
    expect(ms.fileRequests.filter((r) => r.path.startsWith('/sharepoint/'))).toHaveLength(0); // kept as a reference until the choice
    await pressInChat(conv, ask, 'request_new');
    const second = await waitFor(() => h.prisma.workflow.findFirst({ where: { requestText: { startsWith: 'we need a login page' } } }), 'the second workflow');
    const shares = await waitFor(async () => { const s = await h.prisma.sharedFile.findMany({ where: { workflowId: second.id } }); return s.length ? s : undefined; }, 'the file in the new workflow');
    expect(shares.map((s) => [s.name, s.platform])).toEqual([['sso-requirements.txt', 'teams']]);
    await waitFor(async () => (await h.prisma.sharedFile.findFirstOrThrow({ where: { workflowId: second.id } })).status === 'extracted', 'the file read');
    // the running workflow got nothing of it
    const first = await h.prisma.workflow.findFirstOrThrow({ where: { requestText: { startsWith: 'the checkout page' } } });
    expect(await h.prisma.sharedFile.count({ where: { workflowId: first.id } })).toBe(0);
  });

  it('goes to the running workflow with the reply when its writer adds it', async () => {
    const { conv, ask } = await askWithFile();
    await pressInChat(conv, ask, 'request_add');
    await waitFor(async () => (await h.prisma.threadReply.count()) === 1, 'the reply stored as context');
    const first = await h.prisma.workflow.findFirstOrThrow();
    const shares = await waitFor(async () => { const s = await h.prisma.sharedFile.findMany({ where: { workflowId: first.id } }); return s.length ? s : undefined; }, 'the file in the running workflow');
    expect(shares.map((s) => s.name)).toEqual(['sso-requirements.txt']);
    expect(await h.prisma.workflow.count()).toBe(1);
  });
});
