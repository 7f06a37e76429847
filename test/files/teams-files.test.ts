// Files in and out on Teams, over the real Agents SDK and HTTP with JWT-authenticated requests and the local Microsoft
// (Bot Connector, Entra ID, and a file host): a file shared in a chat (download info) is fetched from its pre-authorised
// URL without any token, a pasted image (hosted content) with the bot's token; both reach the role's model request
// (the image as an image part). A file linked from a channel message, which Teams does not hand to bots, is named as
// skipped and the workflow goes on. The roles' files are linked to the console (a bot cannot upload into Teams threads).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roleOf, userParts } from '../support/fake-openai';
import { ALICE, cardText, channelMention, personalMessage, startFakeMicrosoft, teamsPoster, type FakeMicrosoft, type TeamsPoster } from '../support/fake-teams';
import { startHarness, waitFor, type Harness } from '../support/harness';
import { gatesIn, postsIn } from '../support/teams-harness';
import { fixture } from './samples';

let h: Harness;
let ms: FakeMicrosoft;
let teams: TeamsPoster;
beforeEach(async () => {
  ms = await startFakeMicrosoft();
  h = await startHarness({ env: { ...ms.env, CONSOLE_URL: 'https://rolecall.example.com/' } });
  teams = teamsPoster(h.url, ms);
});
afterEach(async () => {
  await h.close();
  await ms.close();
});

describe('files in a Teams chat', () => {
  it('reach the role: the chat file without a token, the pasted image with the bot token and as an image part; the role\'s files are linked to the console', async () => {
    const spec = ms.addChatFile('repro.txt', new TextEncoder().encode('Steps: open the cart, remove the last item, press Checkout.\nResult: HTTP 500\n'));
    const shot = ms.addInlineImage(fixture('screenshot-text.png'));
    const msg = { ...personalMessage(ms, 'the checkout page crashes when the cart is empty, see the attached'), attachments: [spec, shot, { contentType: 'text/html', content: '<p>the checkout page crashes</p>' }] };
    expect((await teams.send(msg)).status).toBe(200);
    const conv = msg.conversation.id;
    await waitFor(() => gatesIn(ms, conv)[0], 'the first gate');

    const req = h.openai.requests.find((r) => roleOf(r) === 'QA Tester' && r.response_format)!;
    const qa = userParts(req);
    expect(qa.text).toContain('File 1: repro.txt');
    expect(qa.text).toContain('Result: HTTP 500');
    expect(qa.text).toMatch(/File 2: image-2\.png \(image, \d+ KB, \d+×\d+\)/);
    expect(qa.images).toHaveLength(1);
    expect(qa.images[0]).toMatch(/^data:image\/(png|jpeg);base64,/);
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { platform: 'teams' } });
    const shares = await h.prisma.sharedFile.findMany({ where: { workflowId: wf.id }, orderBy: { name: 'asc' } });
    expect(shares.map((s) => [s.name, s.status, s.platform])).toEqual([['image-2.png', 'extracted', 'teams'], ['repro.txt', 'extracted', 'teams']]);

    // The token went only to the connector's hosted content; SharePoint's pre-authorised URL got none.
    const sharepoint = ms.fileRequests.filter((r) => r.path.startsWith('/sharepoint/'));
    const hosted = ms.fileRequests.filter((r) => r.path.startsWith('/v3/attachments/'));
    expect(sharepoint).toEqual([expect.objectContaining({ auth: undefined, served: true })]);
    expect(hosted).toEqual([expect.objectContaining({ auth: expect.stringMatching(/^Bearer outbound-\d+$/), served: true })]);

    // The QA Tester's test cases are linked to the console's downloads (Teams takes no uploads from a bot in a thread).
    const note = await waitFor(() => postsIn(ms, conv).find((c) => cardText(c).includes('test-cases.csv')), 'the files note');
    const files = await h.prisma.outputFile.findMany({ where: { workflowId: wf.id }, orderBy: { name: 'asc' } });
    expect(files.map((f) => [f.name, f.delivery, f.deliveredRef])).toEqual([['test-cases.csv', 'delivered', 'link'], ['test-cases.xlsx', 'delivered', 'link']]);
    expect(cardText(note)).toContain(`https://rolecall.example.com/admin/workflows/${wf.id}/outputs/${files[0]!.id}`);
    expect(cardText(note)).toContain('QA Tester');
  });
});

describe('a file linked from a Teams channel message', () => {
  it('is named as skipped with the reason, and the workflow goes on', async () => {
    const ref = ms.channelFileReference('budget.xlsx');
    const msg = { ...channelMention(ms, 'we need a login page with SSO for our customer portal', ALICE), attachments: [ref] };
    expect((await teams.send(msg)).status).toBe(200);
    const conv = msg.conversation.id;
    const skipped = await waitFor(() => postsIn(ms, conv).find((c) => cardText(c).includes('budget.xlsx was skipped')), 'the skipped-file note');
    expect(cardText(skipped)).toContain('the file host answered 403');
    expect(cardText(skipped)).toContain('share it in a chat with Rolecall');
    await waitFor(() => gatesIn(ms, conv)[0], 'the first gate');
    expect(ms.fileRequests).toEqual([expect.objectContaining({ auth: undefined, served: false })]);
  });
});
