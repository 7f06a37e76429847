// Dynamic orchestration in the engine (test/support/engine.ts: real Redis, PostgreSQL and worker, no HTTP, no Slack):
// intent -> template or assembled plan, DAG steps in parallel, handoffs, questions back to people, recovery and restart.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { startRuntime } from '../../app/runtime';
import { createLogger } from '../../orchestrator/log';
import { buttonsOf, engineSuite, type Engine, type RecordedPost } from '../support/engine';
import { defaultScript, fill, roleOf, type Script } from '../support/fake-openai';
import { copyRoles, DESIGNER_ROLE } from '../support/roles-dir';
import { copyTemplates } from '../support/templates-dir';
import { waitFor } from '../support/wait';

const suite = engineSuite();

const approve = (e: Engine, gate: RecordedPost, user = 'U_ALICE') => e.press('approve', buttonsOf(gate).approve!, user);
const rolesAsked = (e: Engine) => e.openai.requests.filter((r) => r.response_format?.json_schema?.name !== 'intent').map(roleOf);

describe('intent classification picks the template', () => {
  it('routes a bug report to bug triage and shows intent, confidence and reason in the plan', async () => {
    const e = await suite.start();
    const t = await e.mention('the checkout page crashes when the cart is empty');
    const plan = await waitFor(() => e.posts(t.threadTs)[0], 'plan');
    expect(plan.view.text).toMatch(/^:clipboard: \*Plan: Bug triage and fix\*/);
    // the reason names words of the request that matched the template's examples
    // the classifier's internals are in the small print's "details", not in the plan itself
    expect(plan.view.text).not.toMatch(/Intent:|matched/);
    expect(plan.view.context).toMatch(/details: bug_triage, \d+% local; .*matched "(crash|crashes|empty|cart is|checkout page)"/);
    const wf = (await e.workflow(t.threadTs))!;
    expect(wf).toMatchObject({ template: 'bug_triage', intent: 'bug_triage', intentSource: 'local' });
    expect(wf.intentConfidence).toBeGreaterThan(0.5);
    expect(wf.steps.map((s) => [s.key, s.roleId])).toEqual([['triage', 'qa_tester'], ['fix', 'developer'], ['regression', 'qa_tester'], ['summary', 'project_manager']]);
    const gate = await e.waitForGate(t.threadTs, 1);
    expect(gate.persona.displayName).toBe('QA Tester');
  });

  it('asks the configured model when the local classifier is unsure, and says so', async () => {
    const e = await suite.start();
    e.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent'
      ? { content: JSON.stringify({ intent: 'requirements_only', confidence: 0.8, reason: 'asks for screens and flows, not code' }) }
      : defaultScript(req, n));
    const t = await e.mention('we need wireframes and user flows for the onboarding screens');
    const plan = await waitFor(() => e.posts(t.threadTs)[0], 'plan');
    expect(plan.view.text).toContain('*Plan: Requirements only*');
    expect(plan.view.context).toContain('details: requirements_only, 80% llm; asks for screens and flows, not code');
    const asked = e.openai.requests[0]!;
    expect(asked.response_format!.json_schema!.name).toBe('intent');
    expect(asked.messages[1]!.content).toContain('we need wireframes and user flows for the onboarding screens');
    // intent calls belong to no workflow yet: scoped to this engine's time on the file's database
    expect(await e.prisma.llmCall.findMany({ where: { purpose: 'intent', createdAt: { gte: e.startedAt } } })).toEqual([expect.objectContaining({ workflowId: null, provider: 'openai', ok: true })]);
    await approve(e, await e.waitForGate(t.threadTs, 1));
    await e.waitForStatus(t.threadTs, 'completed');
    expect(rolesAsked(e)).toEqual(['Business Analyst', 'Project Manager']);
  });

  it('says clearly when nothing fits instead of guessing', async () => {
    const e = await suite.start();
    e.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent' ? { content: JSON.stringify({ intent: 'none', confidence: 0.9, reason: 'small talk' }) } : defaultScript(req, n));
    const t = await e.mention('draw wireframes for onboarding');
    const answer = await waitFor(() => e.posts(t.threadTs)[0], 'answer');
    expect(answer.view.text).toMatch(/^:thinking_face: I could not tell which kind of work you need/);
    expect(answer.view.text).toContain('*Bug triage and fix*');
    expect(await e.prisma.workflow.count({ where: { channelId: e.channelId } })).toBe(0);
  });
});

describe('steps form a DAG', () => {
  it('runs independent steps in parallel after their common input, and the summary gets both as structured context', async () => {
    const e = await suite.start();
    const t = await e.mention('please review the architecture of the notification service');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    await e.waitForStatus(t.threadTs, 'completed');
    const order = rolesAsked(e);
    expect(order[0]).toBe('Technical Architect');
    expect(order.slice(1, 3).sort()).toEqual(['Developer', 'QA Tester']);
    expect(order[3]).toBe('Project Manager');
    const summary = e.openai.requests.find((r) => roleOf(r) === 'Project Manager')!.messages[1]!.content;
    expect(summary).toContain('## Output of the QA Tester\n{\n "test_plan": {');
    expect(summary).toContain('## Output of the Developer\n{\n "implementation_plan": {');
    expect(summary).toContain('## Output of the Technical Architect\n{\n "design_doc": {');
    const plan = e.posts(t.threadTs)[0]!;
    expect(plan.view.text).toContain('4. *Project Manager*  _(after QA Tester and Developer)_');
  });

  it('resolves several gates open at once, each on its own', async () => {
    const templates = copyTemplates({ 'dual_review.yaml': `id: dual_review
name: Dual review
description: Requirements and design reviewed side by side.
examples:
  - dual review of the zebra import feature
  - side by side zebra review please
  - zebra dual review for the new flow
  - run a dual zebra review
  - zebra review requirements and design side by side
steps:
  - { id: requirements, role: business_analyst, gate: true }
  - { id: design, role: technical_architect, gate: true }
  - { id: summary, role: project_manager, depends_on: [requirements, design] }
` });
    const e = await suite.start({ env: { TEMPLATES_DIR: templates } });
    const t = await e.mention('dual zebra review for the import feature');
    await waitFor(() => e.gates(t.threadTs).length === 2, 'two open gates');
    const [g1, g2] = e.gates(t.threadTs);
    expect(new Set([g1!.persona.displayName, g2!.persona.displayName])).toEqual(new Set(['Business Analyst', 'Technical Architect']));
    expect(await approve(e, g2!, 'U_BOB')).toMatchObject({ kind: 'done' });
    await waitFor(async () => (await e.prisma.approval.count({ where: { status: 'approved', workflow: { channelId: e.channelId } } })) === 1, 'one approved');
    await waitFor(async () => (await e.workflow(t.threadTs))!.steps.filter((s) => s.status === 'completed').length === 1, 'the approved step completed');
    await new Promise((r) => setTimeout(r, 300));
    expect(rolesAsked(e)).not.toContain('Project Manager');
    expect((await e.workflow(t.threadTs))!.steps.find((s) => s.key === 'summary')!.status).toBe('pending');
    // request changes: without feedback the edge is asked to collect it; with it, the step runs again
    expect(await e.press('request_changes', buttonsOf(g1!).request_changes!)).toEqual({ kind: 'needs_feedback', text: 'Please say what should change.' });
    expect(await e.press('request_changes', buttonsOf(g1!).request_changes!, 'U_ALICE', 'Mention the zebra CSV format')).toMatchObject({ kind: 'done' });
    await waitFor(() => e.gates(t.threadTs).length === 3, 'the revised gate');
    await approve(e, e.gates(t.threadTs)[2]!);
    await e.waitForStatus(t.threadTs, 'completed');
    expect(rolesAsked(e).filter((r) => r === 'Project Manager')).toHaveLength(1);
  });
});

describe('plans assembled from role capabilities', () => {
  it('posts an editable plan, applies drop and gate edits, and runs only after confirmation', async () => {
    const roles = copyRoles();
    roles.add('ux_designer.yaml', DESIGNER_ROLE.replace('tools:\n  allow: [validate_output]\n', 'inputs: [requirements_doc]\n'));
    const e = await suite.start({ env: { ROLES_DIR: roles.dir, INTENT_MIN_CONFIDENCE: '0.99' } });
    e.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent' ? { content: JSON.stringify({ intent: 'none', confidence: 0.9, reason: 'no template' }) } : defaultScript(req, n));
    const t = await e.mention('draw wireframes and user flows, plus user stories and a status summary');
    const plan = await waitFor(() => e.posts(t.threadTs)[0], 'plan');
    expect(plan.view.text).toContain('*Plan: Assembled from role capabilities*');
    let wf = (await e.workflow(t.threadTs))!;
    expect(wf.status).toBe('planned');
    const keys = wf.steps.map((s) => s.key);
    expect(keys).toContain('ux_designer');
    expect(keys.indexOf('business_analyst')).toBeLessThan(keys.indexOf('ux_designer')); // the designer works from the analyst's requirements_doc
    expect(wf.steps.find((s) => s.key === 'ux_designer')!.dependsOn).toContain('business_analyst');
    expect(Object.keys(buttonsOf(plan))).toEqual(expect.arrayContaining(['plan_drop', 'plan_gate', 'plan_confirm']));
    await new Promise((r) => setTimeout(r, 200));
    expect(rolesAsked(e)).toEqual([]); // nothing runs before confirmation

    const actions = plan.view.actions!;
    const pick = (id: string, label: string) => actions.find((a) => a.id === id && a.label === label)!.value;
    const others = wf.steps.filter((s) => !['business_analyst', 'ux_designer'].includes(s.key));
    for (const s of others.filter((s) => s.key !== 'project_manager')) expect(await e.press('plan_drop', `${wf.id}|${s.key}`)).toMatchObject({ kind: 'done' });
    expect(await e.press('plan_gate', pick('plan_gate', 'Gate after UX Designer'))).toMatchObject({ kind: 'done' });
    wf = (await e.workflow(t.threadTs))!;
    expect(wf.steps.map((s) => s.key).sort()).toEqual(['business_analyst', 'project_manager', 'ux_designer'].filter((k) => keys.includes(k)).sort());
    expect(wf.steps.find((s) => s.key === 'ux_designer')!.gateAfter).toBe(true);
    await e.postsSent(); // the re-rendered plan goes out through the chat outbox
    const rerendered = e.updatesOf(plan).at(-1)!;
    expect(rerendered.view.text).toMatch(/\*UX Designer\*.*approval gate/);

    expect(await e.press('plan_confirm', wf.id)).toMatchObject({ kind: 'done' });
    const gate = await waitFor(() => e.gates(t.threadTs).find((g) => g.persona.displayName === 'UX Designer'), 'designer gate');
    // the designer (and the summariser, whose declared inputs are also met) start only once the analyst is done
    expect(rolesAsked(e)[0]).toBe('Business Analyst');
    expect(rolesAsked(e)).toContain('UX Designer');
    await approve(e, gate);
    await e.waitForStatus(t.threadTs, 'completed');
    expect(await e.press('plan_drop', pick('plan_drop', 'Drop UX Designer'))).toEqual({ kind: 'refused', text: expect.stringMatching(/cannot be changed any more/) });
  });
});

describe('handoffs', () => {
  it('lets a role ask the thread a question, waits durably, and resumes with the answer', async () => {
    const e = await suite.start();
    let asked = false;
    e.openai.script = (req, n) => {
      const schema = req.response_format?.json_schema?.schema;
      if (roleOf(req) === 'Business Analyst' && !asked && schema) {
        asked = true;
        return { content: JSON.stringify({ ...(fill(schema, 'a first draft for review') as object), question_for_requester: 'Which identity providers must we support?' }) };
      }
      return defaultScript(req, n);
    };
    const t = await e.mention('we need a login page with SSO for our customer portal');
    const question = await e.waitForPost(t.threadTs, (p) => /Which identity providers/.test(p.view.text), 'question');
    expect(question.persona.displayName).toBe('Business Analyst');
    expect((await e.workflow(t.threadTs))!.steps[0]).toMatchObject({ status: 'waiting_input', question: 'Which identity providers must we support?' });
    expect(e.gates(t.threadTs)).toHaveLength(0);
    await e.reply(t.threadTs, 'Okta and Azure AD', 'U_CAROL');
    await e.waitForGate(t.threadTs, 1);
    // the answer was used: its writer sees ✅ on it
    expect(e.chat.reactions.filter((r) => r.thread.threadTs === t.threadTs).map((r) => r.emoji)).toEqual(['white_check_mark']);
    const rerun = e.openai.requests.filter((r) => roleOf(r) === 'Business Analyst')[1]!.messages[1]!.content;
    expect(rerun).toContain('## You asked the people in the thread\nWhich identity providers must we support?\n## Their answer\nOkta and Azure AD');
    expect(rerun).not.toContain('you may instead set "question_for_requester"');
    expect(await e.prisma.workflow.count({ where: { channelId: e.channelId } })).toBe(1);
  });
});

describe('recovery', () => {
  const failing = (role: string): Script => (req, n) => (roleOf(req) === role ? { status: 500, error: `${role} is down` } : defaultScript(req, n));
  const failurePost = (e: Engine, threadTs: string, action: 'skip_step' | 'cancel_workflow') =>
    e.waitForPost(threadTs, (p) => action in buttonsOf(p), 'escalation');

  it('hands a failing step to the next role of its fallback chain', async () => {
    const e = await suite.start({ env: { STEP_ATTEMPTS: '1' } });
    e.openai.script = failing('Developer');
    const t = await e.mention('the checkout page crashes when the cart is empty');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    const handover = await e.waitForPost(t.threadTs, (p) => /takes this step over/.test(p.view.text), 'handover');
    expect(handover.view.text).toContain('*Developer* could not finish');
    expect(handover.view.text).toContain('*Technical Architect* takes this step over');
    await e.waitForStatus(t.threadTs, 'completed');
    const fix = (await e.workflow(t.threadTs))!.steps.find((s) => s.key === 'fix')!;
    expect(fix).toMatchObject({ roleId: 'technical_architect', attemptedRoles: ['developer'], status: 'completed' });
  });

  it('escalates to people with Retry, Skip and Cancel when no fallback is left; Skip goes on without the step', async () => {
    const e = await suite.start({ env: { STEP_ATTEMPTS: '1' } });
    e.openai.script = failing('QA Tester');
    const t = await e.mention('please review the architecture of the notification service');
    await approve(e, await e.waitForGate(t.threadTs, 1));
    const failure = await failurePost(e, t.threadTs, 'skip_step');
    expect(Object.keys(buttonsOf(failure))).toEqual(['retry_step', 'skip_step', 'cancel_workflow']);
    expect(await e.press('skip_step', buttonsOf(failure).skip_step!, 'U_OPS')).toMatchObject({ kind: 'done' });
    await e.waitForStatus(t.threadTs, 'completed');
    const steps = (await e.workflow(t.threadTs))!.steps;
    expect(steps.find((s) => s.key === 'risks')!.status).toBe('skipped');
    expect(e.updatesOf(failure).some((u) => /skipped by <@U_OPS>/.test(u.view.text))).toBe(true);
  });

  it('Cancel stops the workflow and says who did it', async () => {
    const e = await suite.start({ env: { STEP_ATTEMPTS: '1' } });
    e.openai.script = failing('QA Tester');
    const t = await e.mention('the checkout page crashes when the cart is empty');
    const failure = await failurePost(e, t.threadTs, 'cancel_workflow');
    expect(await e.press('cancel_workflow', buttonsOf(failure).cancel_workflow!, 'U_LEAD')).toMatchObject({ kind: 'done' });
    await e.waitForPost(t.threadTs, (p) => /Workflow cancelled by <@U_LEAD>/.test(p.view.text), 'cancel note');
    const wf = (await e.workflow(t.threadTs))!;
    expect(wf.status).toBe('cancelled');
    expect(await e.prisma.auditLog.count({ where: { action: 'workflow.cancelled', actor: 'slack:U_LEAD', target: wf.id } })).toBe(1);
  });

  it('resumes running workflows from the database after a restart that lost the queue', async () => {
    const e = await suite.start({ worker: false });
    const threadTs = '1700000000.000001';
    const wf = await e.prisma.workflow.create({
      data: {
        platform: 'slack', teamId: e.teamId, channelId: e.channelId, threadTs, requestText: 'recover me', requestedBy: 'U_ALICE',
        sourceEventId: `slack:${e.channelId}:${threadTs}`, template: 'requirements_only', status: 'running',
        steps: { create: [{ position: 0, key: 'requirements', roleId: 'business_analyst', gateAfter: true, status: 'running' }, { position: 1, key: 'summary', roleId: 'project_manager', dependsOn: ['requirements'] }] },
      },
    });
    expect(Object.values(await e.runtime.queueCounts()).reduce((a, b) => a + b, 0)).toBe(0);
    const worker = await startRuntime(loadConfig(e.env), { server: false, worker: true, migrate: true, chat: { slack: e.chat } }, createLogger('error'));
    try {
      const gate = await e.waitForGate(threadTs, 1);
      expect(gate.persona.displayName).toBe('Business Analyst');
      await approve(e, gate);
      await waitFor(async () => (await e.prisma.workflow.findUnique({ where: { id: wf.id } }))?.status === 'completed', 'completion');
    } finally {
      await worker.close();
    }
  });
});
