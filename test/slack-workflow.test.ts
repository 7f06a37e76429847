// The whole user story on real Redis, Postgres and Bolt: mention -> plan -> personas -> gates -> summary.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultScript } from './support/fake-openai';
import { gatePost, threadMessages, tsOf } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, mention } from './support/slack-requests';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });
afterEach(async () => { await h.close(); });

describe('a Slack thread runs the default workflow end to end', () => {
  it('acks at once, posts the plan, runs each role as its persona, stops at gates and finishes with a summary', async () => {
    const ev = mention('we need a login page with SSO for our customer portal');
    // "At once": the ack does not wait for the work. The model is held until the ack has arrived, so an ack that
    // waited for the work would only come after the model call had timed out and been retried (or not at all).
    // How fast the ack is belongs to bench/ (Slack event ack latency).
    let ackArrived!: () => void;
    const acked = new Promise<void>((r) => { ackArrived = r; });
    h.openai.script = async (req, n) => { await acked; return defaultScript(req, n); };
    const res = await h.post.event(ev);
    ackArrived();
    expect(res.status).toBe(200);
    expect(h.openai.requests.length).toBeLessThanOrEqual(1);
    expect(await h.prisma.llmCall.count()).toBe(0);

    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'the plan');
    expect(plan.params).toMatchObject({ channel: 'C_TEAM', thread_ts: ev.ts, username: 'Rolecall' });
    expect(plan.params.text).toContain('Business Analyst');
    expect(plan.params.text).toMatch(/Business Analyst\*\s+→\s+:vertical_traffic_light: approval gate/);
    expect(plan.params.text).toMatch(/5\. \*Project Manager\*$/);

    const gate1 = await waitFor(() => gatePost(h, ev.ts, 1), 'the first gate');
    expect(gate1.params.username).toBe('Business Analyst');
    expect(gate1.params.icon_emoji).toBe(':memo:');
    // the analyst's status message became its output (edited in place, or posted with it when the poster was behind)
    const baOwn = threadMessages(h, ev.ts).filter((c) => c.params.username === 'Business Analyst' && !('approve' in buttonsOf(c)));
    expect(baOwn).toHaveLength(1);
    const baOutput = baOwn[0];
    // the structured output (validated against the role's schema) is rendered as markdown
    expect(baOutput?.params.text).toMatch(/^\*Requirements doc\*\n\*Problem statement:\* Business Analyst says: done for "we need a login page with SSO for our customer portal"\n\*User stories:\*\n  • \*Story:\* Business Analyst says/);
    expect(h.openai.requests[0]!.response_format?.json_schema?.name).toBe('business_analyst_output');
    expect(JSON.stringify(baOutput?.params.blocks)).toMatch(/Business Analyst finished in \d+\.\d s/);
    // nothing runs past the gate
    expect(h.openai.requests).toHaveLength(1);

    await h.post.interaction(buttonClick('approve', buttonsOf(gate1).approve!, { messageTs: tsOf(gate1), threadTs: ev.ts, user: 'U_BOB' }));
    const decided = await waitFor(() => h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(gate1) && /Approved/.test(c.params.text)), 'gate 1 updated');
    expect(decided.params.text).toContain('Approved by <@U_BOB>');
    expect(JSON.stringify(decided.params.blocks)).not.toContain('"actions"');
    // each reader sees the time in their own time zone (Slack's date token), UTC where a client cannot
    expect(JSON.stringify(decided.params.blocks)).toMatch(/decided <!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC>/);

    const gate2 = await waitFor(() => gatePost(h, ev.ts, 2), 'the second gate');
    expect(gate2.params.username).toBe('Technical Architect');
    // the architect saw the analyst's output as context
    expect(h.openai.requests[1]!.messages[1]!.content).toContain('## Output of the Business Analyst');
    await h.post.interaction(buttonClick('approve', buttonsOf(gate2).approve!, { messageTs: tsOf(gate2), threadTs: ev.ts }));

    // completed, and its last post (the satisfaction buttons) has gone out
    const wf = await waitFor(async () => {
      const w = await h.prisma.workflow.findFirst({ where: { threadTs: ev.ts, status: 'completed' }, include: { steps: true, approvals: true, llmCalls: true, messages: true } });
      return w && w.messages.some((m) => m.kind === 'satisfaction' && m.messageTs) ? w : undefined;
    }, 'completion');
    // the Project Manager posts the summary, then asks for a thumbs up or down
    const rating = await waitFor(() => h.threadPosts(ev.ts).find((c) => 'satisfaction_up' in buttonsOf(c)), 'the satisfaction buttons');
    expect(rating.params.username).toBe('Project Manager');
    expect(buttonsOf(rating)).toEqual({ satisfaction_up: wf.id, satisfaction_down: wf.id });
    const posts = h.threadPosts(ev.ts).filter((c) => c !== rating).map((c) => c.params.username);
    expect(posts.at(-1)).toBe('Project Manager');
    expect(threadMessages(h, ev.ts).filter((c) => c.response?.ts !== rating.response?.ts).at(-1)!.params.text).toContain('Project Manager says: done');
    await h.post.interaction(buttonClick('satisfaction_up', wf.id, { messageTs: tsOf(rating), threadTs: ev.ts, user: 'U_BOB' }));
    await h.post.interaction(buttonClick('satisfaction_down', wf.id, { messageTs: tsOf(rating), threadTs: ev.ts, user: 'U_BOB' }));
    await h.post.interaction(buttonClick('satisfaction_up', wf.id, { messageTs: tsOf(rating), threadTs: ev.ts, user: 'U_ALICE' }));
    // presses are queued and may run in any order: the latest press of each person counts
    const votesOf = async () => (await h.prisma.satisfaction.findMany({ where: { workflowId: wf.id }, orderBy: { userId: 'asc' } })).map((v) => [v.userId, v.score]);
    const expected = JSON.stringify([['U_ALICE', 1], ['U_BOB', -1]]);
    await waitFor(async () => (JSON.stringify(await votesOf()) === expected ? true : undefined), `votes ${expected}`);
    expect(await votesOf()).toEqual([['U_ALICE', 1], ['U_BOB', -1]]);
    expect(new Set(posts)).toEqual(new Set(['Rolecall', 'Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager']));
    expect(h.openai.requests.map((r) => r.model)).toEqual(Array(5).fill('gpt-4o-mini'));
    // the Project Manager summarises with every previous output
    const pmPrompt = h.openai.requests[4]!.messages[1]!.content;
    for (const r of ['Business Analyst', 'Technical Architect', 'Developer', 'QA Tester']) expect(pmPrompt).toContain(`## Output of the ${r}`);

    expect(wf.steps.every((s) => s.status === 'completed')).toBe(true);
    expect(wf.approvals.map((a) => [a.status, a.decidedBy])).toEqual(expect.arrayContaining([['approved', 'U_BOB'], ['approved', 'U_ALICE']]));
    expect(wf.llmCalls).toHaveLength(5);
    for (const c of wf.llmCalls) {
      expect(c).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', promptTokens: 100, completionTokens: 50, ok: true, purpose: 'step' });
      expect(c.roleId).toBe(wf.steps.find((s) => s.id === c.stepId)!.roleId);
      expect(Number(c.costUsd)).toBeCloseTo((100 * 0.15 + 50 * 0.6) / 1e6, 9);
      expect(c.latencyMs).toBeGreaterThanOrEqual(0);
    }
    expect(wf.messages.every((m) => m.messageTs)).toBe(true);
    expect(wf.messages.filter((m) => m.kind === 'output')).toHaveLength(5);
    // every call used the bot token
    expect(h.slack.callsTo('chat.postMessage').every((c) => c.auth === 'Bearer xoxb-test')).toBe(true);
  });
});
