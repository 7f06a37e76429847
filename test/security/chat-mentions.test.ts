// Security: nothing Rolecall echoes can notify a whole channel or a user group. A request, a model's output, its
// question, a person's feedback and a provider's error message may all contain Slack's <!channel>, <!here>,
// <!everyone> and <!subteam^…> (or Teams' <at>…</at>); Rolecall posts them as text. Its own mentions of people (the
// person who decided a gate) still notify them.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScript, fill, requestOf, roleOf, type Script } from '../support/fake-openai';
import { gatePosts, threadMessages, tsOf, workflowOf } from '../support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from '../support/harness';
import { buttonClick, mention, modalSubmit, threadReply } from '../support/slack-requests';
import { postsIn, useTeamsHarness } from '../support/teams-harness';
import { BOB, CAROL, cardOf, channelMention, executeData, executeInvoke, type FakeMicrosoft, type TeamsPoster } from '../support/fake-teams';

const BROADCASTS = '<!channel> <!here> <!everyone> <!subteam^S0123ABC> <!subteam^S0456DEF|@oncall> @here';
/** What must never reach Slack as is: each would notify many people. */
const RAW = /<!channel>|<!here>|<!everyone>|<!subteam\^|<!channel\||<!here\|/;

describe('Slack', () => {
  let h: Harness;
  afterEach(async () => { await h?.close(); });

  /** Every text and block Rolecall sent to Slack (posts, updates, ephemeral notes, modals). */
  const everythingSent = () => h.slack.calls.filter((c) => c.method !== 'auth.test').map((c) => JSON.stringify(c.params));

  it('a request, model output, a question, feedback and summaries with broadcast mentions notify nobody; Rolecall still mentions the decider', async () => {
    let asked = false;
    const script: Script = (req, n) => {
      const schema = req.response_format?.json_schema?.schema;
      if (!schema || req.response_format?.json_schema?.name === 'intent') return defaultScript(req, n);
      const out = fill(schema, `${roleOf(req)} output for everyone ${BROADCASTS}`) as Record<string, unknown>;
      if (roleOf(req) === 'Business Analyst' && !asked) {
        asked = true;
        return { content: JSON.stringify({ ...out, question_for_requester: `Which team? ${BROADCASTS}` }) };
      }
      return { content: JSON.stringify(out) };
    };
    h = await startHarness({ script });
    const ev = mention(`we need a login page with SSO for our customer portal ${BROADCASTS}`);
    expect((await h.post.event(ev)).status).toBe(200);
    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'the plan');
    expect(plan.params.text).toContain('&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;!subteam^S0123ABC&gt; &lt;!subteam^S0456DEF|@oncall&gt;');

    // the question, then the answer in the thread (itself full of broadcasts)
    const question = await waitFor(() => h.threadPosts(ev.ts).find((c) => /Which team\?/.test(c.params.text)), 'the question');
    expect(question.params.text).toContain('&lt;!here&gt;');
    await h.post.event(threadReply(`the platform team ${BROADCASTS}`, ev.ts, { user: 'U_ALICE' }));

    // gate 1: Carol requests changes with feedback full of broadcasts; the decided gate names her with a real mention
    const gate1 = await waitFor(() => gatePosts(h, ev.ts)[0], 'gate 1');
    const approvalId = buttonsOf(gate1).approve!;
    await h.post.interaction(modalSubmit(JSON.stringify({ approvalId, channel: ev.channel, team: 'T1', threadTs: ev.ts }), `redo it ${BROADCASTS}`, 'U_CAROL'));
    const decided = await waitFor(() => h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(gate1) && /Changes requested/.test(c.params.text)), 'the decided gate');
    expect(decided.params.text).toContain('by <@U_CAROL>');
    expect(decided.params.text).toContain('redo it &lt;!channel&gt;');

    // approve every further gate until the Project Manager's summary is posted
    const approved = new Set<string>([approvalId]);
    await waitFor(async () => {
      for (const g of gatePosts(h, ev.ts)) {
        const id = buttonsOf(g).approve!;
        if (approved.has(id)) continue;
        approved.add(id);
        await h.post.interaction(buttonClick('approve', id, { messageTs: tsOf(g), threadTs: ev.ts, user: 'U_CAROL' }));
      }
      return (await workflowOf(h, ev.ts))?.status === 'completed';
    }, 'the completed workflow');
    // posting is off the critical path (the outbox): the summary reaches the thread shortly after the workflow completes
    const summary = await waitFor(() => threadMessages(h, ev.ts).find((c) => c.params.username === 'Project Manager' && /Project Manager output/.test(c.params.text)), 'the summary');
    expect(summary.params.text).toContain('&lt;!everyone&gt;');
    expect(h.slack.callsTo('chat.update').some((c) => /Approved\* by <@U_CAROL>|Approved by <@U_CAROL>/.test(c.params.text))).toBe(true);

    const sent = everythingSent();
    expect(sent.length).toBeGreaterThan(10);
    for (const s of sent) expect(s).not.toMatch(RAW);
    // a bare @here is defused too (a word joiner after the @), not removed
    expect(sent.some((s) => s.includes('@\\u2060here') || s.includes('@\u2060here'))).toBe(true);
  });

  it('a provider error message with broadcast mentions never reaches the thread; the card says what happened in words', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '1' } });
    h.openai.script = (req, n) => (requestOf(req).includes('checkout')
      ? { status: 400, error: `invalid request ${BROADCASTS}` }
      : defaultScript(req, n));
    const ev = mention('the checkout page crashes when the cart is empty');
    expect((await h.post.event(ev)).status).toBe(200);
    const card = await waitFor(() => h.threadPosts(ev.ts).find((c) => 'retry_step' in buttonsOf(c)), 'the failure card');
    expect(card.params.text).toMatch(/could not finish/);
    expect(card.params.text).not.toContain('invalid request');
    // the provider's words are kept for the console, not echoed to the channel
    const wf = await workflowOf(h, ev.ts);
    expect(wf!.steps.some((s) => (s.error ?? '').includes('invalid request'))).toBe(true);
    for (const s of everythingSent()) expect(s).not.toMatch(RAW);
  });
});

describe('Teams', () => {
  let h: Harness;
  let ms: FakeMicrosoft;
  let teams: TeamsPoster;
  useTeamsHarness((...a) => ([h, ms, teams] = a));

  it('<at> tags in a request and in model output mention nobody; the person who decided is mentioned', async () => {
    h.openai.script = (req, n) => {
      const schema = req.response_format?.json_schema?.schema;
      if (!schema || req.response_format?.json_schema?.name === 'intent') return defaultScript(req, n);
      return { content: JSON.stringify(fill(schema, `ping <at>${BOB.aadObjectId}</at> and <at>Bob Brown</at> and <AT>Bob Brown</AT>`)) };
    };
    // Bob writes the request (so Rolecall knows his name and id), typing an <at> tag of his own (Teams sends it escaped)
    const m = channelMention(ms, 'we need a login page with SSO &lt;at&gt;Bob Brown&lt;/at&gt;', BOB);
    expect((await teams.send(m)).status).toBe(200);
    const conv = m.conversation.id;
    const gate = await waitFor(() => postsIn(ms, conv).find((c) => (cardOf(c)?.actions ?? []).some((a: { verb?: string }) => a.verb === 'approve')), 'the first gate');
    expect((await teams.send(executeInvoke(ms, conv, gate.response.id, executeData(gate, 'approve'), CAROL))).status).toBe(200);
    const refreshed = await waitFor(() => ms.calls.find((c) => c.verb === 'PUT' && c.activityId === gate.response.id && /Approved/.test(JSON.stringify(cardOf(c)?.body))), 'the decided gate');
    expect(cardOf(refreshed)!.msteams.entities).toEqual([{ type: 'mention', text: '<at>Carol Chen</at>', mentioned: { id: CAROL.aadObjectId, name: 'Carol Chen' } }]);
    expect(JSON.stringify(cardOf(refreshed)!.body)).toContain('<at>Carol Chen</at>');

    const cards = ms.calls.map(cardOf).filter((c): c is Record<string, any> => !!c);
    expect(cards.length).toBeGreaterThan(3);
    const bodies = cards.map((c) => JSON.stringify(c.body));
    expect(bodies.some((b) => b.includes('Bob Brown'))).toBe(true); // the echoed text is there, as text
    // Rolecall's own mentions are the only live ones: a gate mentions who may decide (here the requester, Bob), and
    // each such tag has its entity; the tags Bob typed and the model wrote are shown as text on every card
    const isGate = (c: Record<string, any>) => (c.actions ?? []).some((a: { verb?: string }) => a.verb === 'approve');
    for (const c of cards) {
      const body = JSON.stringify(c.body);
      expect(body).not.toMatch(/<at>aad-bob<\/at>|<AT>Bob Brown<\/AT>/);
      const tags = body.match(/<at>Bob Brown<\/at>/g)?.length ?? 0;
      const entities = (c.msteams?.entities ?? []).filter((e: { mentioned: { id: string } }) => e.mentioned.id === BOB.aadObjectId).length;
      if (!isGate(c)) expect(entities).toBe(0);
      expect(tags).toBeLessThanOrEqual(entities > 0 ? 1 : 0);
    }
    expect(bodies.some((b) => b.includes('<\u200bat>Bob Brown') || b.includes('<\\u200bat>Bob Brown') || b.includes('<\u200Bat>'))).toBe(true);
  });
});
