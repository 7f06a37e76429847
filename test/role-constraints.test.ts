// Role constraints are enforced before anything is posted, on the Slack path, and every violation is a row.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScript, fill, requestOf, roleOf, type Script } from './support/fake-openai';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { startThread, tsOf, waitForGate, workflowOf } from './support/flow';
import { copyRoles } from './support/roles-dir';
import { buttonClick } from './support/slack-requests';

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
const valid = (schema: Record<string, any>) => JSON.stringify(fill(schema, 'Fine text for the thread'));
const withCode = (schema: Record<string, any>) => {
  const v = fill(schema, 'Users sign in with SSO') as any;
  v.requirements_doc.problem_statement = 'Add this:\n```js\nfunction login() { return sso(); }\n```';
  return JSON.stringify(v);
};

describe('required outputs', () => {
  it('retries an answer that is not schema-valid with the errors as feedback, then posts the valid one once', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [() => 'Sure! Here are the requirements: users log in.', () => '{"requirements_doc": {"problem_statement": "x"}}', valid]);
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const ba = h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst');
    expect(ba).toHaveLength(3);
    expect(ba[1]!.messages[1]!.content).toContain('## Problems with your last answer\nYour previous answer broke these rules:\n- schema: the answer is not valid JSON');
    expect(ba[2]!.messages[1]!.content).toContain("- schema: /requirements_doc must have required property 'user_stories'");
    const rows = await h.prisma.constraintViolation.findMany({ where: { roleId: 'business_analyst' }, orderBy: { createdAt: 'asc' } });
    expect(rows.every((r) => r.kind === 'schema' && r.action === 'retried')).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const outputs = h.threadPosts(ev.ts).filter((c) => c.params.username === 'Business Analyst' && /Requirements doc/.test(c.params.text));
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.params.text).toContain('Fine text for the thread');
    expect(await h.prisma.llmCall.count({ where: { step: { roleId: 'business_analyst' } } })).toBe(3);
  });
});

describe('forbidden topics', () => {
  it('catches implementation code from the Business Analyst, retries, then escalates to a person in the thread', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [withCode]);
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    expect(h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst')).toHaveLength(3); // 1 + max_retries 2
    expect(h.openai.requests[1]!.messages[1]!.content).toContain('- forbidden_topic: implementation_code: writing implementation code, which is the Developer\'s job (matched "```")');
    expect(gate.params.text).toContain(':warning: It did not meet its constraints after 3 tries:');
    expect(gate.params.text).toContain('• forbidden_topic: implementation_code');
    const output = h.threadPosts(ev.ts).find((c) => /Held for review/.test(c.params.text))!;
    expect(output.params.username).toBe('Business Analyst');
    const rows = await h.prisma.constraintViolation.findMany({ where: { roleId: 'business_analyst' }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((r) => [r.kind, r.action])).toEqual([['forbidden_topic', 'retried'], ['forbidden_topic', 'retried'], ['forbidden_topic', 'escalated']]);
    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps[0]!.escalation).toMatch(/^forbidden_topic: implementation_code/);
    expect(rows.every((r) => r.workflowId === wf.id && r.stepId === wf.steps[0]!.id)).toBe(true);
  });

  it('accepts an output corrected by the retry', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Business Analyst', [withCode, valid]);
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    expect(gate.params.text).not.toContain('did not meet its constraints');
    expect(h.threadPosts(ev.ts).some((c) => /Held for review/.test(c.params.text))).toBe(false);
    expect((await h.prisma.constraintViolation.findMany()).map((r) => r.action)).toEqual(['retried']);
  });

  it('escalates a step without a gate by opening one, and the workflow goes on once a person approves', async () => {
    h = await startHarness();
    h.openai.script = scriptFor('Developer', [(schema) => JSON.stringify(fill(schema, 'use key sk-abcdefghijklmnopqrstuvwx1234 here'))]);
    const ev = await startThread(h);
    for (const n of [1, 2]) {
      const g = await waitForGate(h, ev.ts, n);
      await h.post.interaction(buttonClick('approve', buttonsOf(g).approve!, { messageTs: tsOf(g), threadTs: ev.ts }));
    }
    const devGate = await waitForGate(h, ev.ts, 3);
    expect(devGate.params.username).toBe('Developer');
    expect(devGate.params.text).toContain('forbidden_topic: secrets');
    await h.post.interaction(buttonClick('approve', buttonsOf(devGate).approve!, { messageTs: tsOf(devGate), threadTs: ev.ts }));
    await waitFor(async () => (await workflowOf(h, ev.ts))?.status === 'completed', 'completion');
  });

  it('asks the model as a second judge when the role says so', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('  max_retries: 2', '  max_retries: 2\n  model_judge: true'));
    h = await startHarness({ env: { ROLES_DIR: roles.dir } });
    let judged = 0;
    h.openai.script = (req, n) => {
      if (req.messages[0]!.content.startsWith('You review text')) {
        judged++;
        return { content: JSON.stringify({ violations: judged === 1 ? [{ topic_id: 'effort_estimates', reason: 'says it takes two weeks' }] : [] }) };
      }
      return defaultScript(req, n);
    };
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    expect(judged).toBe(2);
    const rows = await h.prisma.constraintViolation.findMany();
    expect(rows.map((r) => [r.kind, r.detail, r.action])).toEqual([['forbidden_topic', 'effort_estimates: says it takes two weeks (model judge)', 'retried']]);
    const judgeRequest = h.openai.requests.find((r) => r.messages[0]!.content.startsWith('You review text'))!;
    expect(judgeRequest.messages[1]!.content).toContain('- implementation_code: writing implementation code');
    expect(judgeRequest.messages[1]!.content).toContain(`Business Analyst says: done for "${requestOf(h.openai.requests[0]!)}"`);
  });
});

describe('the offline demo model', () => {
  it('produces schema-valid outputs for all five roles through a whole workflow', async () => {
    h = await startHarness({ env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    const ev = await startThread(h);
    for (const n of [1, 2]) {
      const g = await waitForGate(h, ev.ts, n);
      await h.post.interaction(buttonClick('approve', buttonsOf(g).approve!, { messageTs: tsOf(g), threadTs: ev.ts }));
    }
    await waitFor(async () => (await workflowOf(h, ev.ts))?.status === 'completed', 'completion');
    expect(await h.prisma.constraintViolation.count()).toBe(0);
    const outputs = h.threadPosts(ev.ts).filter((c) => c.params.blocks?.some((b: any) => b.type === 'context' && /model: demo/.test(b.elements[0].text)));
    expect(outputs.map((c) => c.params.username)).toEqual(['Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager']);
    expect(outputs.every((c) => JSON.stringify(c.params.blocks).includes('Offline demo model'))).toBe(true);
    expect(h.openai.requests).toHaveLength(0);
    const calls = await h.prisma.llmCall.findMany();
    expect(calls.every((c) => c.provider === 'demo' && Number(c.costUsd) === 0)).toBe(true);
  });
});

describe('approval policies from the role file', () => {
  it('a quorum gate needs that many different approvers; one person approving twice counts once', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('approval:\n  policy: any', 'approval:\n  policy: quorum\n  quorum: 2'));
    h = await startHarness({ env: { ROLES_DIR: roles.dir } });
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const approveAs = (user: string) => h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts, user }));
    await approveAs('U_ANN');
    await approveAs('U_ANN');
    await waitFor(() => h.slack.callsTo('chat.postEphemeral').length === 2, 'two notes');
    expect(h.slack.callsTo('chat.postEphemeral').map((c) => [c.params.user, c.params.text])).toEqual([
      ['U_ANN', 'Your approval is recorded: 1 of 2 approvals needed.'],
      ['U_ANN', 'Your approval is recorded: 1 of 2 approvals needed.'],
    ]);
    expect((await workflowOf(h, ev.ts))!.approvals[0]!.status).toBe('pending');
    await approveAs('U_BEN');
    await waitForGate(h, ev.ts, 2);
    const approval = (await workflowOf(h, ev.ts))!.approvals.find((a) => a.status === 'approved')!;
    expect(approval.decidedBy).toBe('U_BEN');
    expect(await h.prisma.approvalVote.count({ where: { approvalId: approval.id } })).toBe(2);
  });

  it('an rbac_role gate refuses people without that Rolecall role', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('approval:\n  policy: any', 'approval:\n  policy: rbac_role\n  rbac_role: approver'));
    h = await startHarness({ env: { ROLES_DIR: roles.dir } });
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const approveAs = (user: string) => h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts, user }));
    await approveAs('U_GUEST');
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral')[0], 'refusal');
    expect(note.params.text).toBe('You may not decide this gate: this gate needs the approver role or above, and you have no Rolecall role.');
    await h.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_GUEST', role: 'approver' } });
    await approveAs('U_GUEST');
    await waitForGate(h, ev.ts, 2);
    expect(await h.prisma.auditLog.count({ where: { action: 'gate.refused', actor: 'slack:U_GUEST' } })).toBe(1);
  });
});

describe('tools while a role works on a step', () => {
  it('offers only allow-listed tools, runs them, refuses and records any other, and feeds the results back', async () => {
    h = await startHarness();
    let round = 0;
    h.openai.script = (req, n) => {
      if (roleOf(req) !== 'Business Analyst' || !req.tools) return defaultScript(req, n);
      round++;
      if (round === 1) {
        return { toolCalls: [
          { id: 'call_1', name: 'list_artifacts', arguments: '{"limit": 3}' },
          { id: 'call_2', name: 'drop_database', arguments: '{}' },
        ] };
      }
      return defaultScript(req, n);
    };
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const ba = h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst');
    expect(ba[0]!.tools!.map((t) => t.function.name).sort()).toEqual(['get_artifact', 'list_artifacts', 'validate_output']);
    const results = ba[1]!.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => m.tool_call_id)).toEqual(['call_1', 'call_2']);
    expect(results[0]!.content).toBe('[]');
    expect(results[1]!.content).toMatch(/^ERROR: Refused: Business Analyst \(business_analyst\) may not call the tool "drop_database"/);
    expect(ba[1]!.messages.find((m) => m.role === 'assistant')!.tool_calls!.map((c) => c.function.name)).toEqual(['list_artifacts', 'drop_database']);
    const wf = (await workflowOf(h, ev.ts))!;
    const refused = await h.prisma.constraintViolation.findMany({ where: { kind: 'tool' } });
    expect(refused).toEqual([expect.objectContaining({ roleId: 'business_analyst', action: 'refused', workflowId: wf.id, stepId: wf.steps[0]!.id, detail: 'call to drop_database refused: not on the allow-list' })]);
    expect(await h.prisma.llmCall.count({ where: { stepId: wf.steps[0]!.id } })).toBe(2);
  });
});
