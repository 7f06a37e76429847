// Rolecall's own posts when the chat platform's API fails: Slack's 429 (Retry-After) and 5xx are waited out and the
// post arrives once; a long output is split into several posts, in order, none over Slack's or Teams' limits; a
// channel Slack will not take posts in (not_in_channel) shows as a failure on the console's workflow page.
import { afterEach, describe, expect, it } from 'vitest';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient } from './support/admin-client';
import { defaultScript, fill, roleOf, type Script } from './support/fake-openai';
import { current, startThread, waitForGate, workflowOf } from './support/flow';
import { cardOf, channelMention, startFakeMicrosoft, teamsPoster, type ConnectorCall, type FakeMicrosoft } from './support/fake-teams';
import { startHarness, waitFor, type Harness } from './support/harness';
import { copyRoles } from './support/roles-dir';
import type { SlackCall } from './support/fake-slack';

let h: Harness | undefined;
let ms: FakeMicrosoft | undefined;
afterEach(async () => {
  await h?.close();
  await ms?.close();
  h = undefined;
  ms = undefined;
});

const ok = (c: SlackCall) => c.response?.ok === true;
const okPosts = (h: Harness, threadTs: string) => h.threadPosts(threadTs).filter(ok);

// ~36,000 characters, ~73 KB of UTF-8: more than one Slack post (30,000 characters each) and than one Teams card.
const LINES = Array.from({ length: 560 }, (_, i) => `Zeile ${i + 1}: ログインページはシングルサインオンに対応し、顧客ポータルで利用できること。Übersicht für die Straße.`);
const LONG = LINES.join('\n');

/** The Business Analyst answers with LONG as its problem statement; everyone else as usual. */
const longAnalyst = (onAnalyst?: () => void): Script => (req, n) => {
  const schema = req.response_format?.json_schema?.schema;
  if (roleOf(req) !== 'Business Analyst' || !schema) return defaultScript(req, n);
  onAnalyst?.();
  const value = fill(schema, 'the login page supports single sign-on') as { requirements_doc: Record<string, unknown> };
  value.requirements_doc.problem_statement = LONG;
  return { content: JSON.stringify(value) };
};

/** A roles folder whose Business Analyst may write up to 40,000 characters (the most a role may). */
function roomyRoles(): string {
  const roles = copyRoles();
  roles.edit('business_analyst.yaml', (t) => t.replace(/max_output_chars: \d+/, 'max_output_chars: 40000'));
  return roles.dir;
}

function expectWithinSlackLimits(c: SlackCall): void {
  const blocks = c.params.blocks as { type: string; text?: { text: string } }[];
  expect((c.params.text as string).length).toBeLessThanOrEqual(40_000);
  expect(blocks.length).toBeLessThanOrEqual(50);
  for (const b of blocks) if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3_000);
}

const sectionText = (c: SlackCall) => (c.params.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section').map((b) => b.text!.text).join('\n');

describe('Slack API failures on Rolecall\'s posts', () => {
  it('waits out a 429 with Retry-After and posts once', async () => {
    h = await startHarness();
    h.slack.failHttp('chat.postMessage', 1, 429, 1);
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const attempts = h.slack.callsTo('chat.postMessage').filter((c) => /Plan: /.test(c.params.text));
    expect(attempts).toHaveLength(2); // the rate-limited call, then the same post once more
    expect(attempts[0]!.response).toMatchObject({ ok: false, httpStatus: 429 });
    expect(ok(attempts[1]!)).toBe(true);
    expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(950); // Retry-After: 1 (s) was honoured
    expect(okPosts(h, ev.ts).filter((c) => /Plan: /.test(c.params.text))).toHaveLength(1);
    expect((await workflowOf(h, ev.ts))!.status).toBe('awaiting_approval');
  });

  it('retries Slack 5xx answers and posts once', async () => {
    h = await startHarness();
    h.slack.failHttp('chat.postMessage', 2, 503);
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const plans = h.slack.callsTo('chat.postMessage').filter((c) => /Plan: /.test(c.params.text));
    expect(plans.map(ok)).toEqual([false, false, true]);
    expect(okPosts(h, ev.ts).filter((c) => /Plan: /.test(c.params.text))).toHaveLength(1);
  });

  it('splits a long output into several posts in order, none over the limits, also when Slack says msg_too_long', async () => {
    h = await startHarness({ env: { ROLES_DIR: roomyRoles() } });
    let refused = false;
    // the post right after the Business Analyst's answer is its output's first part: Slack refuses it once as too long
    h.openai.script = longAnalyst(() => { if (!refused) { refused = true; h!.slack.failNext('chat.postMessage', 'msg_too_long', 1); } });
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    // each post as it reads now: the status message may have become the output's first part (one edit)
    const partsNow = () => okPosts(h!, ev.ts).map((c) => current(h!, c)).filter((c) => c.params.username === 'Business Analyst' && /Zeile \d+:/.test(sectionText(c)));
    // at least two parts (three when Slack's msg_too_long fell on a part, which is then halved; which post the one
    // refusal hits depends on the poster's timing), holding every line of the output
    const complete = () => { const p = partsNow(); const all = p.map(sectionText).join('\n'); return p.length >= 2 && LINES.every((l) => all.includes(l)) ? p : undefined; };
    const parts = await waitFor(complete, 'the whole output in parts');
    for (const c of h.slack.callsTo('chat.postMessage')) expectWithinSlackLimits(c);
    const joined = parts.map(sectionText).join('\n');
    const at = LINES.map((l) => joined.indexOf(l));
    expect(at.every((i) => i >= 0)).toBe(true); // every line arrived...
    expect(at).toEqual([...at].sort((a, b) => a - b)); // ...in order
    const labels = parts.map((c) => c.params.blocks.find((b: any) => b.type === 'context')?.elements[0].text as string);
    expect(labels.every((l) => /part \d of \d$/.test(l))).toBe(true);
    expect(parts.at(-1)!.params.blocks.find((b: any) => b.type === 'context').elements[0].text).toMatch(/^model: gpt-4o-mini · part \d of \d$/);
    // a re-run finds every part already posted: the rows are keyed per part
    // recorded as the poster marks them (the last part with its run, a moment after Slack has it)
    const rows = await waitFor(async () => {
      const r = await h!.prisma.agentMessage.findMany({ where: { kind: 'output' } });
      return r.length >= 2 && r.every((m) => m.messageTs) ? r : undefined;
    }, 'the parts recorded');
    expect(rows.length).toBe(2);
    expect(rows.every((r) => r.messageTs)).toBe(true);
  });

  it('shows a post Slack refuses for good (not_in_channel) on the console\'s workflow page and in the audit log', async () => {
    h = await startHarness();
    h.slack.failNext('chat.postMessage', 'not_in_channel', 100);
    const ev = await startThread(h);
    const wf = await waitFor(() => h!.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow');
    const row = await waitFor(() => h!.prisma.agentMessage.findFirst({ where: { workflowId: wf.id, failedAt: { not: null } } }), 'the refused post recorded');
    expect(row).toMatchObject({ kind: 'plan', messageTs: null, error: 'Slack will not take posts in this channel (not_in_channel)' });
    // the audit row is written just after the refusal is recorded on the post's row: wait for it, not for an empty list
    const audit = await waitFor(async () => { const rows = await h!.prisma.auditLog.findMany({ where: { action: 'post.failed', target: wf.id } }); return rows.length ? rows : undefined; }, 'the audit row');
    // each refused post is audited once (the step's status post may be refused, and audited, by now too)
    const details = audit.map((a) => a.detail as { post: string });
    expect(details.filter((d) => d.post === row.idempotencyKey)).toHaveLength(1);
    expect(new Set(details.map((d) => d.post)).size).toBe(details.length);
    for (const d of details) expect(d).toMatchObject({ code: 'not_in_channel', platform: 'slack', channel: 'C_TEAM' });

    await upsertAdminUser(h.prisma, 'viewer@example.com', 'a-long-enough-password', 'viewer');
    const console = adminClient(h.runtime.app!);
    expect((await console.signIn('viewer@example.com', 'a-long-enough-password')).status).toBe(303);
    const page = await (await console.get(`/admin/workflows/${wf.id}`)).text();
    expect(page).toContain('role="alert"');
    expect(page).toContain('Could not post in the thread (plan');
    expect(page).toContain('not_in_channel');
    expect(page).toContain('not posted: Slack will not take posts in this channel (not_in_channel)');
  });
});

describe('Teams connector failures on Rolecall\'s posts', () => {
  it('waits out connector throttling (429, Retry-After) and posts once', async () => {
    ms = await startFakeMicrosoft();
    h = await startHarness({ env: ms.env });
    const mention = channelMention(ms, 'we need a login page with SSO for our customer portal');
    ms.failNext(1, 429, 1);
    expect((await teamsPoster(h.url, ms).send(mention)).status).toBe(200);
    const conv = mention.conversation.id;
    await waitFor(() => ms!.calls.some((c) => c.conversationId === conv && !c.failedWith && JSON.stringify(cardOf(c) ?? {}).includes('Plan: ')), 'the plan');
    const plans = ms.calls.filter((c) => c.conversationId === conv && JSON.stringify(cardOf(c) ?? {}).includes('Plan: '));
    expect(plans.map((c) => c.failedWith)).toEqual([429, undefined]);
    expect(plans[1]!.at - plans[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('splits a long output into cards of at most 28 KB, in order', async () => {
    ms = await startFakeMicrosoft();
    h = await startHarness({ env: { ...ms.env, ROLES_DIR: roomyRoles() } });
    h.openai.script = longAnalyst();
    const mention = channelMention(ms, 'we need a login page with SSO for our customer portal');
    expect((await teamsPoster(h.url, ms).send(mention)).status).toBe(200);
    const conv = mention.conversation.id;
    const isPart = (c: ConnectorCall) => c.verb === 'POST' && c.conversationId === conv && JSON.stringify(cardOf(c) ?? {}).includes('Zeile ');
    await waitFor(() => ms!.calls.filter(isPart).some((c) => JSON.stringify(c.body).includes(LINES.at(-1)!)), 'the last part');
    const parts = ms.calls.filter(isPart);
    expect(parts.length).toBeGreaterThanOrEqual(3); // ~73 KB of text
    for (const c of parts) expect(Buffer.byteLength(JSON.stringify(c.body))).toBeLessThanOrEqual(28 * 1024);
    const joined = parts.map((c) => JSON.stringify(cardOf(c)!.body)).join('');
    const at = LINES.map((l) => joined.indexOf(l));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
  });
});
