// Role constraints are enforced before anything is posted, on the Slack path, and every violation is a row.
// The engine-level constraint tests (schema retries, model judge, demo model, approval policies, tools) are in
// test/engine/role-constraints.test.ts (no HTTP, no Slack).
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScript, fill, roleOf, type Script } from './support/fake-openai';
import { startHarness, waitFor, type Harness } from './support/harness';
import { startThread, threadMessages, waitForGate, workflowOf } from './support/flow';

let h: Harness;
afterEach(async () => { await h.close(); });

/** Answers every role normally, except `role`, whose answers come from `answers` in turn (the last repeats). */
const scriptFor = (role: string, answers: ((schema: Record<string, any>) => string)[]): Script => {
  let n = 0;
  return (req, i) => {
    if (roleOf(req) !== role) return defaultScript(req, i);
    const answer = answers[Math.min(n++, answers.length - 1)]!;
    return { content: answer(req.response_format!.json_schema!.schema) };
  };
};
const withCode = (schema: Record<string, any>) => {
  const v = fill(schema, 'Users sign in with SSO') as any;
  v.requirements_doc.problem_statement = 'Add this:\n```js\nfunction login() { return sso(); }\n```';
  return JSON.stringify(v);
};

describe('forbidden topics', () => {
  it('catches implementation code from the Business Analyst, retries, then escalates to a person in the thread', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [withCode]);
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    expect(h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst')).toHaveLength(3); // 1 + max_retries 2
    expect(h.openai.requests[1]!.messages[1]!.content).toMatch(/- forbidden_topic: implementation_code: writing implementation code, which is the Developer's job \(1 line of code at line \d+: "function login\(\) \{ return sso\(\); \}"\)/);
    expect(gate.params.text).toContain(':warning: It did not meet its constraints after 3 tries:');
    expect(gate.params.text).toContain('• forbidden_topic: implementation_code');
    const output = threadMessages(h, ev.ts).find((c) => /Held for review/.test(c.params.text))!;
    expect(output.params.username).toBe('Business Analyst');
    const rows = await h.prisma.constraintViolation.findMany({ where: { roleId: 'business_analyst' }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => [r.kind, r.action])).toEqual([['forbidden_topic', 'retried'], ['forbidden_topic', 'retried'], ['forbidden_topic', 'escalated']]);
    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps[0]!.escalation).toMatch(/^forbidden_topic: implementation_code/);
    expect(rows.every((r) => r.workflowId === wf.id && r.stepId === wf.steps[0]!.id)).toBe(true);
  });
});

describe('question_for_requester', () => {
  const SECRET = 'ghp_k3Jd9QmLx2Vb7RtY5nW8pZc4Hs6Af1Ge0UiO';
  const asking = (question: string) => (schema: Record<string, any>) => JSON.stringify({ ...(fill(schema, 'Users sign in with SSO') as object), question_for_requester: question });

  it('is checked like the output: a question with a secret is retried, escalated, and never posted as it is', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [asking(`Should the importer use the token ${SECRET} for the GitHub API?`)]);
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const ba = h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst');
    expect(ba).toHaveLength(3); // 1 + max_retries 2
    expect(ba[1]!.messages[1]!.content).toMatch(/- forbidden_topic: secrets: .*github-pat, ghp_… \(40 characters\)\) in question_for_requester/);
    expect(gate.params.text).toContain('• forbidden_topic: secrets');
    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps[0]).toMatchObject({ question: null, status: 'awaiting_approval' });
    expect(JSON.stringify(h.slack.calls)).not.toContain(SECRET); // not in the question, the held output, the gate or a status
    expect(JSON.stringify(ba.map((r) => r.messages))).toContain(SECRET.slice(0, 4)); // the masked form is the feedback
    const rows = await h.prisma.constraintViolation.findMany({ where: { roleId: 'business_analyst' } });
    expect(rows.map((r) => r.action)).toEqual(['retried', 'retried', 'escalated']);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
  });

  it('a clean question after the retry is posted and the step waits for the answer', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [asking('Is it OK if the SSO work takes 2 sprints?'), asking('Which identity providers must we support?')]);
    const ev = await startThread(h);
    const question = await waitFor(() => h.threadPosts(ev.ts).find((c) => /Which identity providers/.test(c.params.text)), 'question');
    expect(question.params.username).toBe('Business Analyst');
    expect(h.threadPosts(ev.ts).some((c) => /2 sprints/.test(c.params.text))).toBe(false);
    expect((await h.prisma.constraintViolation.findMany()).map((r) => [r.detail.split(':')[0], r.action])).toEqual([['effort_estimates', 'retried']]);
  });
});
