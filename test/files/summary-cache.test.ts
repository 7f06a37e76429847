// A large file's map-reduce summaries are kept (FileSummary, by file hash, prompt budget and model): the next step on
// the same model reuses them instead of summarising the file again, so its summary calls are made and recorded (and
// priced) once, with the step that made them. Real Redis, PostgreSQL, parser threads; the local Slack and OpenAI fakes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { roleOf } from '../support/fake-openai';
import { gatePost, tsOf } from '../support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from '../support/harness';
import { buttonClick, mention } from '../support/slack-requests';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

const isSummaryRequest = (r: { response_format?: unknown; messages: { content: unknown }[] }) => !r.response_format && /summarise parts of files/.test(String(r.messages[0]?.content));

describe('summaries of a large file', () => {
  it('are made once and reused by the next step on the same model, their cost recorded once', async () => {
    const sections = Array.from({ length: 40 }, (_, i) => `# Chapter ${i + 1}\n\n${`Requirement ${i + 1} says the checkout keeps working when the payment provider is slow. `.repeat(40)}`);
    const big = h.slack.addFile('handbook.md', new TextEncoder().encode(sections.join('\n\n')), 'text/markdown');
    const ev = { ...mention('we need a login page with SSO for our customer portal'), files: [big] };
    expect((await h.post.event(ev)).status).toBe(200);
    const gate1 = await waitFor(() => gatePost(h, ev.ts, 1), 'the first gate');
    const made = h.openai.requests.filter(isSummaryRequest).length;
    expect(made).toBeGreaterThan(0);
    expect(await h.prisma.fileSummary.count()).toBe(1);

    await h.post.interaction(buttonClick('approve', buttonsOf(gate1).approve!, { messageTs: tsOf(gate1), threadTs: ev.ts, user: 'U_BOB' }));
    const ta = await waitFor(() => h.openai.requests.find((r) => roleOf(r) === 'Technical Architect' && r.response_format), 'the architect\'s request');
    expect(h.openai.requests.filter(isSummaryRequest).length).toBe(made); // no new summary calls
    const user = JSON.stringify(ta.messages[1]!.content);
    expect(user).toContain('these parts are summaries by a model, not the original text');
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { threadTs: ev.ts } });
    const calls = await h.prisma.llmCall.findMany({ where: { workflowId: wf.id, purpose: 'file' } });
    expect(calls).toHaveLength(made);
    expect(new Set(calls.map((c) => c.roleId))).toEqual(new Set(['business_analyst']));
  });
});
