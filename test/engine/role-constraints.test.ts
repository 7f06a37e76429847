// Role constraints are enforced in the engine before anything is posted, and every violation is a row
// (test/support/engine.ts: real Redis, PostgreSQL and worker, no HTTP, no Slack). The forbidden-topic escalation and
// question_for_requester checks run on the Slack path in test/role-constraints.test.ts.
import { describe, expect, it } from 'vitest';
import { buttonsOf, engineSuite, type Engine } from '../support/engine';
import { defaultScript, fill, requestOf, roleOf, type Script } from '../support/fake-openai';
import { copyRoles } from '../support/roles-dir';
import { waitFor } from '../support/wait';

const suite = engineSuite();

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
const start = (e: Engine) => e.mention('we need a login page with SSO for our customer portal');
const workflowId = async (e: Engine, threadTs: string) => (await waitFor(() => e.workflow(threadTs), 'workflow')).id;

describe('required outputs', () => {
  it('retries an answer that is not schema-valid with the errors as feedback, then posts the valid one once', async () => {
    const e = await suite.start();
    e.openai.script = scriptFor('Business Analyst', [() => 'Sure! Here are the requirements: users log in.', () => '{"requirements_doc": {"problem_statement": "x"}}', valid]);
    const t = await start(e);
    await e.waitForGate(t.threadTs, 1);
    const ba = e.openai.requests.filter((r) => roleOf(r) === 'Business Analyst');
    expect(ba).toHaveLength(3);
    expect(ba[1]!.messages[1]!.content).toContain('## Problems with your last answer\nYour previous answer broke these rules:\n- schema: the answer is not valid JSON');
    expect(ba[2]!.messages[1]!.content).toContain("- schema: /requirements_doc must have required property 'user_stories'");
    const wf = await workflowId(e, t.threadTs);
    const rows = await e.prisma.constraintViolation.findMany({ where: { roleId: 'business_analyst', workflowId: wf }, orderBy: { createdAt: 'asc' } });
    expect(rows.every((r) => r.kind === 'schema' && r.action === 'retried')).toBe(true);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const outputs = e.messages(t.threadTs).filter((p) => p.persona.displayName === 'Business Analyst' && /Requirements doc/.test(p.view.text));
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.view.text).toContain('Fine text for the thread');
    expect(await e.prisma.llmCall.count({ where: { workflowId: wf, step: { roleId: 'business_analyst' } } })).toBe(3);
  });
});

describe('forbidden topics', () => {
  it('accepts an output corrected by the retry', async () => {
    const e = await suite.start();
    e.openai.script = scriptFor('Business Analyst', [withCode, valid]);
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    expect(gate.view.text).not.toContain('did not meet its constraints');
    expect(e.posts(t.threadTs).some((p) => /Held for review/.test(p.view.text))).toBe(false);
    expect((await e.prisma.constraintViolation.findMany({ where: { workflowId: await workflowId(e, t.threadTs) } })).map((r) => r.action)).toEqual(['retried']);
  });

  it('escalates a step without a gate by opening one, and the workflow goes on once a person approves', async () => {
    const e = await suite.start();
    e.openai.script = scriptFor('Developer', [(schema) => JSON.stringify(fill(schema, 'use key sk-abcdefghijklmnopqrstuvwx1234 here'))]);
    const t = await start(e);
    for (const n of [1, 2]) {
      const g = await e.waitForGate(t.threadTs, n);
      await e.press('approve', buttonsOf(g).approve!);
    }
    const devGate = await e.waitForGate(t.threadTs, 3);
    expect(devGate.persona.displayName).toBe('Developer');
    expect(devGate.view.text).toContain('forbidden_topic: secrets');
    await e.press('approve', buttonsOf(devGate).approve!);
    await e.waitForStatus(t.threadTs, 'completed');
  });

  it('asks the model as a second judge when the role says so', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('  max_retries: 2', '  max_retries: 2\n  model_judge: true'));
    const e = await suite.start({ env: { ROLES_DIR: roles.dir } });
    let judged = 0;
    e.openai.script = (req, n) => {
      if (req.messages[0]!.content.startsWith('You review text')) {
        judged++;
        return { content: JSON.stringify({ violations: judged === 1 ? [{ topic_id: 'effort_estimates', reason: 'says it takes two weeks' }] : [] }) };
      }
      return defaultScript(req, n);
    };
    const t = await start(e);
    await e.waitForGate(t.threadTs, 1);
    expect(judged).toBe(2);
    const rows = await e.prisma.constraintViolation.findMany({ where: { workflowId: await workflowId(e, t.threadTs) } });
    expect(rows.map((r) => [r.kind, r.detail, r.action])).toEqual([['forbidden_topic', 'effort_estimates: says it takes two weeks (model judge)', 'retried']]);
    const judgeRequest = e.openai.requests.find((r) => r.messages[0]!.content.startsWith('You review text'))!;
    expect(judgeRequest.messages[1]!.content).toContain('- implementation_code: writing implementation code');
    expect(judgeRequest.messages[1]!.content).toContain(`Business Analyst says: done for "${requestOf(e.openai.requests[0]!)}"`);
  });
});

describe('the offline demo model', () => {
  it('produces schema-valid outputs for all five roles through a whole workflow', async () => {
    const e = await suite.start({ env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    const t = await start(e);
    for (const n of [1, 2]) {
      const g = await e.waitForGate(t.threadTs, n);
      await e.press('approve', buttonsOf(g).approve!);
    }
    await e.waitForStatus(t.threadTs, 'completed');
    const wf = await workflowId(e, t.threadTs);
    expect(await e.prisma.constraintViolation.count({ where: { workflowId: wf } })).toBe(0);
    const outputs = e.messages(t.threadTs).filter((p) => /model: demo/.test(p.view.context ?? ''));
    expect(outputs.map((p) => p.persona.displayName)).toEqual(['Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager']);
    expect(outputs.every((p) => JSON.stringify(p.view).includes('Offline demo model'))).toBe(true);
    expect(e.openai.requests).toHaveLength(0);
    const calls = await e.prisma.llmCall.findMany({ where: { workflowId: wf } });
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.every((c) => c.provider === 'demo' && Number(c.costUsd) === 0)).toBe(true);
  });
});

describe('approval policies from the role file', () => {
  it('a quorum gate needs that many different approvers; one person approving twice counts once', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('approval:\n  policy: any', 'approval:\n  policy: quorum\n  quorum: 2'));
    const e = await suite.start({ env: { ROLES_DIR: roles.dir } });
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    const approveAs = (user: string) => e.press('approve', buttonsOf(gate).approve!, user);
    // the edge shows a `confirm` outcome to the presser only (Slack: an ephemeral note)
    const recorded = { kind: 'done', text: 'Your approval is recorded: 1 of 2 approvals needed.', confirm: true };
    expect(await approveAs('U_ANN')).toEqual(recorded);
    expect(await approveAs('U_ANN')).toEqual(recorded);
    expect((await e.workflow(t.threadTs))!.approvals[0]!.status).toBe('pending');
    await approveAs('U_BEN');
    await e.waitForGate(t.threadTs, 2);
    const approval = (await e.workflow(t.threadTs))!.approvals.find((a) => a.status === 'approved')!;
    expect(approval.decidedBy).toBe('U_BEN');
    expect(await e.prisma.approvalVote.count({ where: { approvalId: approval.id } })).toBe(2);
  });

  it('an rbac_role gate refuses people without that Rolecall role', async () => {
    const roles = copyRoles();
    roles.edit('business_analyst.yaml', (t) => t.replace('approval:\n  policy: any', 'approval:\n  policy: rbac_role\n  rbac_role: approver'));
    const e = await suite.start({ env: { ROLES_DIR: roles.dir } });
    const t = await start(e);
    const gate = await e.waitForGate(t.threadTs, 1);
    const approveAs = (user: string) => e.press('approve', buttonsOf(gate).approve!, user);
    expect(await approveAs('U_GUEST')).toEqual({ kind: 'refused', text: 'You may not decide this gate: this gate needs the approver role or above, and you have no Rolecall role.' });
    await e.prisma.chatUserRole.create({ data: { platform: 'slack', userId: 'U_GUEST', role: 'approver' } });
    expect(await approveAs('U_GUEST')).toMatchObject({ kind: 'done' });
    await e.waitForGate(t.threadTs, 2);
    expect(await e.prisma.auditLog.count({ where: { action: 'gate.refused', actor: 'slack:U_GUEST', target: buttonsOf(gate).approve! } })).toBe(1);
  });
});

describe('tools while a role works on a step', () => {
  it('offers only allow-listed tools, runs them, refuses and records any other, and feeds the results back', async () => {
    const e = await suite.start();
    let round = 0;
    e.openai.script = (req, n) => {
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
    const t = await start(e);
    await e.waitForGate(t.threadTs, 1);
    const ba = e.openai.requests.filter((r) => roleOf(r) === 'Business Analyst');
    expect(ba[0]!.tools!.map((t) => t.function.name).sort()).toEqual(['get_artifact', 'list_artifacts', 'validate_output']);
    const results = ba[1]!.messages.filter((m) => m.role === 'tool');
    expect(results.map((m) => m.tool_call_id)).toEqual(['call_1', 'call_2']);
    expect(results[0]!.content).toBe('[]');
    expect(results[1]!.content).toMatch(/^ERROR: Refused: Business Analyst \(business_analyst\) may not call the tool "drop_database"/);
    expect(ba[1]!.messages.find((m) => m.role === 'assistant')!.tool_calls!.map((c) => c.function.name)).toEqual(['list_artifacts', 'drop_database']);
    const wf = (await e.workflow(t.threadTs))!;
    const refused = await e.prisma.constraintViolation.findMany({ where: { kind: 'tool', workflowId: wf.id } });
    expect(refused).toEqual([expect.objectContaining({ roleId: 'business_analyst', action: 'refused', workflowId: wf.id, stepId: wf.steps[0]!.id, detail: 'call to drop_database refused: not on the allow-list' })]);
    expect(await e.prisma.llmCall.count({ where: { stepId: wf.steps[0]!.id } })).toBe(2);
  });
});
