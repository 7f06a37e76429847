// Below the intent threshold Rolecall asks one question with the likeliest workflows as buttons (and "something
// else"), over real Slack HTTP, Bolt, Redis and PostgreSQL: only the requester may answer, one answer wins, the answer
// starts the chosen workflow and is recorded as a labelled example for the console.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultScript, type Script } from './support/fake-openai';
import { tsOf } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, mention } from './support/slack-requests';

/** The model stage is unsure too (it answers "none" at 0.1), so the local candidates are offered. */
const unsureModel: Script = (req, n) =>
  req.response_format?.json_schema?.name === 'intent'
    ? { content: JSON.stringify({ intent: 'none', confidence: 0.1, reason: 'too vague to tell' }) }
    : defaultScript(req, n);

let h: Harness;
beforeEach(async () => { h = await startHarness({ script: unsureModel }); });
afterEach(async () => { await h.close(); });

const questionOf = (h: Harness, threadTs: string) => h.threadPosts(threadTs).find((c) => 'intent_other' in buttonsOf(c));

describe('a vague mention gets a question with buttons', () => {
  it('offers the likeliest workflows, refuses other people, starts the chosen one and records the answer', async () => {
    const ev = mention('checkout');
    expect((await h.post.event(ev)).status).toBe(200);
    const q = await waitFor(() => questionOf(h, ev.ts), 'the question');
    expect(q.params.username).toBe('Rolecall');
    expect(q.params.text).toMatch(/Which of these fits best/);
    const buttons = buttonsOf(q);
    const picks = Object.entries(buttons).filter(([id]) => id.startsWith('intent_pick_'));
    expect(picks.length).toBeGreaterThanOrEqual(2);
    expect(picks.length).toBeLessThanOrEqual(3);
    const example = await waitFor(() => h.prisma.intentExample.findFirst({ where: { threadTs: ev.ts, questionTs: { not: null } } }), 'the recorded question');
    expect(example).toMatchObject({ text: 'checkout', requestedBy: 'U_ALICE', label: null, review: 'pending', questionTs: tsOf(q) });
    expect(buttons.intent_other).toBe(`${example.id}|other`);
    // nothing started yet, and the model was asked once (intent), no role ran
    expect(await h.prisma.workflow.count()).toBe(0);

    const [chosenId, chosenValue] = picks[picks.length - 1]!;
    const chosen = chosenValue.split('|')[1]!;
    expect(example.candidates).toContain(chosen);

    // someone else cannot answer for the requester
    await h.post.interaction(buttonClick(chosenId, chosenValue, { messageTs: tsOf(q), threadTs: ev.ts, user: 'U_BOB' }));
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral').find((c) => c.params.user === 'U_BOB'), 'the note to Bob');
    expect(note.params.text).toMatch(/Only the person who asked/);
    expect((await h.prisma.intentExample.findUniqueOrThrow({ where: { id: example.id } })).label).toBeNull();

    // the requester's click starts the chosen workflow
    await h.post.interaction(buttonClick(chosenId, chosenValue, { messageTs: tsOf(q), threadTs: ev.ts }));
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow');
    expect(wf).toMatchObject({ template: chosen, intentSource: 'person', sourceEventId: example.sourceEventId, requestedBy: 'U_ALICE', requestText: 'checkout' });
    const plan = await waitFor(() => h.threadPosts(ev.ts).find((c) => /Plan: /.test(c.params.text)), 'the plan');
    // the plan's small print (its context block) says a person chose it; the text itself keeps classifier internals out
    expect(JSON.stringify(plan.params.blocks)).toContain('person');
    expect(plan.params.text).not.toMatch(/%/);
    const labelled = await h.prisma.intentExample.findUniqueOrThrow({ where: { id: example.id } });
    expect(labelled).toMatchObject({ label: chosen, labelledBy: 'U_ALICE', workflowId: wf.id, review: 'pending' });
    const updated = await waitFor(() => h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(q)), 'the answered question');
    expect(updated.params.text).toContain('<@U_ALICE> chose');
    expect(JSON.stringify(updated.params.blocks)).not.toContain('"actions"');
    const audits = await waitFor(async () => {
      const rows = await h.prisma.auditLog.findMany({ where: { action: { startsWith: 'intent.' } }, orderBy: { at: 'asc' } });
      return rows.length >= 2 ? rows : undefined;
    }, 'the audit rows');
    expect(audits.map((a) => [a.actor, a.action])).toEqual([['slack:U_BOB', 'intent.answer_refused'], ['slack:U_ALICE', 'intent.chosen']]);
    expect(audits[1]!).toMatchObject({ target: example.id, detail: { choice: chosen, workflowId: wf.id } });

    // one answer wins: a second click changes nothing
    await h.post.interaction(buttonClick('intent_other', buttons.intent_other!, { messageTs: tsOf(q), threadTs: ev.ts }));
    await waitFor(() => h.slack.callsTo('chat.postEphemeral').find((c) => c.params.user === 'U_ALICE' && /already answered/.test(c.params.text)), 'the note to Alice');
    expect(await h.prisma.workflow.count()).toBe(1);
    expect((await h.prisma.intentExample.findUniqueOrThrow({ where: { id: example.id } })).label).toBe(chosen);
  });

  it('"something else" starts nothing, says what Rolecall can run, and records the answer', async () => {
    const ev = mention('checkout');
    await h.post.event(ev);
    const q = await waitFor(() => questionOf(h, ev.ts), 'the question');
    await h.post.interaction(buttonClick('intent_other', buttonsOf(q).intent_other!, { messageTs: tsOf(q), threadTs: ev.ts }));
    const more = await waitFor(() => h.threadPosts(ev.ts).find((c) => /Tell me in a sentence/.test(c.params.text)), 'the list of workflows');
    expect(more.params.text).toContain('Bug triage and fix');
    expect((await h.prisma.intentExample.findFirstOrThrow({ where: { threadTs: ev.ts } })).label).toBe('other');
    expect(await h.prisma.workflow.count()).toBe(0);
  });

  it('small talk starts nothing and asks nothing; a clear request starts its template at once', async () => {
    const hi = mention('thanks, that was really helpful!');
    await h.post.event(hi);
    await waitFor(() => h.threadPosts(hi.ts)[0], 'the reply to small talk');
    expect(questionOf(h, hi.ts)).toBeUndefined();
    const bug = mention('Traceback (most recent call last):\n  File "app.py", line 8, in total\n    return prices["eur"]\nKeyError: \'eur\'');
    await h.post.event(bug);
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: bug.ts } }), 'the bug workflow');
    expect(wf.template).toBe('bug_triage');
    expect(await h.prisma.workflow.count()).toBe(1);
    expect(await h.prisma.intentExample.count()).toBe(0);
  });
});
