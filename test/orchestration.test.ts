// Dynamic orchestration on real Redis, Postgres and Bolt: intent -> template or assembled plan, DAG steps in
// parallel, handoffs, questions back to people, recovery and restart.
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config';
import { createLogger } from '../orchestrator/log';
import { startRuntime } from '../app/runtime';
import { defaultScript, fill, roleOf, type Script } from './support/fake-openai';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { gatePosts, startThread, tsOf, waitForGate, workflowOf } from './support/flow';
import { copyRoles, DESIGNER_ROLE } from './support/roles-dir';
import { buttonClick, threadReply } from './support/slack-requests';
import { copyTemplates } from './support/templates-dir';

let h: Harness;
afterEach(async () => { await h?.close(); });

const approve = (gate: Parameters<typeof tsOf>[0], threadTs: string, user = 'U_ALICE') =>
  h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs, user }));
const click = (action: string, call: Parameters<typeof tsOf>[0], threadTs: string, user = 'U_ALICE') =>
  h.post.interaction(buttonClick(action, buttonsOf(call)[action]!, { messageTs: tsOf(call), threadTs, user }));
const rolesAsked = () => h.openai.requests.filter((r) => r.response_format?.json_schema?.name !== 'intent').map(roleOf);
const completed = (threadTs: string) => waitFor(async () => (await workflowOf(h, threadTs))?.status === 'completed', 'completion');

describe('intent classification picks the template', () => {
  it('routes a bug report to bug triage and shows intent, confidence and reason in the plan', async () => {
    h = await startHarness();
    const ev = await startThread(h, 'the checkout page crashes when the cart is empty');
    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'plan');
    expect(plan.params.text).toMatch(/^:clipboard: \*Plan: Bug triage and fix\*/);
    expect(plan.params.text).toMatch(/_Intent: bug_triage \(\d+% local\): matched .*checkout page/);
    const wf = (await workflowOf(h, ev.ts))!;
    expect(wf).toMatchObject({ template: 'bug_triage', intent: 'bug_triage', intentSource: 'local' });
    expect(wf.intentConfidence).toBeGreaterThan(0.5);
    expect(wf.steps.map((s) => [s.key, s.roleId])).toEqual([['triage', 'qa_tester'], ['fix', 'developer'], ['regression', 'qa_tester'], ['summary', 'project_manager']]);
    const gate = await waitForGate(h, ev.ts, 1);
    expect(gate.params.username).toBe('QA Tester');
  });

  it('asks the configured model when the local classifier is unsure, and says so', async () => {
    h = await startHarness();
    h.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent'
      ? { content: JSON.stringify({ intent: 'requirements_only', confidence: 0.8, reason: 'asks for screens and flows, not code' }) }
      : defaultScript(req, n));
    const ev = await startThread(h, 'we need wireframes and user flows for the onboarding screens');
    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'plan');
    expect(plan.params.text).toContain('*Plan: Requirements only*');
    expect(plan.params.text).toContain('_Intent: requirements_only (80% llm): asks for screens and flows, not code_');
    const asked = h.openai.requests[0]!;
    expect(asked.response_format!.json_schema!.name).toBe('intent');
    expect(asked.messages[1]!.content).toContain('we need wireframes and user flows for the onboarding screens');
    expect(await h.prisma.llmCall.findMany({ where: { purpose: 'intent' } })).toEqual([expect.objectContaining({ workflowId: null, provider: 'openai', ok: true })]);
    await approve(await waitForGate(h, ev.ts, 1), ev.ts);
    await completed(ev.ts);
    expect(rolesAsked()).toEqual(['Business Analyst', 'Project Manager']);
  });

  it('says clearly when nothing fits instead of guessing', async () => {
    h = await startHarness();
    h.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent' ? { content: JSON.stringify({ intent: 'none', confidence: 0.9, reason: 'small talk' }) } : defaultScript(req, n));
    const ev = await startThread(h, 'draw wireframes for onboarding');
    const answer = await waitFor(() => h.threadPosts(ev.ts)[0], 'answer');
    expect(answer.params.text).toMatch(/^:thinking_face: I could not tell which kind of work you need/);
    expect(answer.params.text).toContain('*Bug triage and fix*');
    expect(await h.prisma.workflow.count()).toBe(0);
  });
});

describe('steps form a DAG', () => {
  it('runs independent steps in parallel after their common input, and the summary gets both as structured context', async () => {
    h = await startHarness();
    const ev = await startThread(h, 'please review the architecture of the notification service');
    await approve(await waitForGate(h, ev.ts, 1), ev.ts);
    await completed(ev.ts);
    const order = rolesAsked();
    expect(order[0]).toBe('Technical Architect');
    expect(order.slice(1, 3).sort()).toEqual(['Developer', 'QA Tester']);
    expect(order[3]).toBe('Project Manager');
    const summary = h.openai.requests.find((r) => roleOf(r) === 'Project Manager')!.messages[1]!.content;
    expect(summary).toContain('## Output of the QA Tester\n{\n "test_plan": {');
    expect(summary).toContain('## Output of the Developer\n{\n "implementation_plan": {');
    expect(summary).toContain('## Output of the Technical Architect\n{\n "design_doc": {');
    const plan = h.threadPosts(ev.ts)[0]!;
    expect(plan.params.text).toContain('4. *Project Manager*  _(after QA Tester and Developer)_');
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
    h = await startHarness({ env: { TEMPLATES_DIR: templates } });
    const ev = await startThread(h, 'dual zebra review for the import feature');
    await waitFor(() => gatePosts(h, ev.ts).length === 2, 'two open gates');
    const [g1, g2] = gatePosts(h, ev.ts);
    expect(new Set([g1!.params.username, g2!.params.username])).toEqual(new Set(['Business Analyst', 'Technical Architect']));
    await approve(g2!, ev.ts, 'U_BOB');
    await waitFor(async () => (await h.prisma.approval.count({ where: { status: 'approved' } })) === 1, 'one approved');
    await new Promise((r) => setTimeout(r, 300));
    expect(rolesAsked()).not.toContain('Project Manager');
    await click('request_changes', g1!, ev.ts);
    const open = await waitFor(() => h.slack.callsTo('views.open')[0], 'modal');
    const { modalSubmit } = await import('./support/slack-requests');
    await h.post.interaction(modalSubmit(open.params.view.private_metadata, 'Mention the zebra CSV format'));
    await waitFor(() => gatePosts(h, ev.ts).length === 3, 'the revised gate');
    await approve(gatePosts(h, ev.ts)[2]!, ev.ts);
    await completed(ev.ts);
    expect(rolesAsked().filter((r) => r === 'Project Manager')).toHaveLength(1);
  });
});

describe('plans assembled from role capabilities', () => {
  it('posts an editable plan, applies drop and gate edits, and runs only after confirmation', async () => {
    const roles = copyRoles();
    roles.add('ux_designer.yaml', DESIGNER_ROLE.replace('tools:\n  allow: [validate_output]\n', 'inputs: [requirements_doc]\n'));
    h = await startHarness({ env: { ROLES_DIR: roles.dir, INTENT_MIN_CONFIDENCE: '0.99' } });
    h.openai.script = (req, n) => (req.response_format?.json_schema?.name === 'intent' ? { content: JSON.stringify({ intent: 'none', confidence: 0.9, reason: 'no template' }) } : defaultScript(req, n));
    const ev = await startThread(h, 'draw wireframes and user flows, plus user stories and a status summary');
    const plan = await waitFor(() => h.threadPosts(ev.ts)[0], 'plan');
    expect(plan.params.text).toContain('*Plan: Assembled from role capabilities*');
    let wf = (await workflowOf(h, ev.ts))!;
    expect(wf.status).toBe('planned');
    const keys = wf.steps.map((s) => s.key);
    expect(keys).toContain('ux_designer');
    expect(keys.indexOf('business_analyst')).toBeLessThan(keys.indexOf('ux_designer')); // the designer works from the analyst's requirements_doc
    expect(wf.steps.find((s) => s.key === 'ux_designer')!.dependsOn).toContain('business_analyst');
    expect(Object.keys(buttonsOf(plan))).toEqual(expect.arrayContaining(['plan_drop', 'plan_gate', 'plan_confirm']));
    await new Promise((r) => setTimeout(r, 200));
    expect(rolesAsked()).toEqual([]); // nothing runs before confirmation

    const actions = (plan.params.blocks as any[]).find((b) => b.type === 'actions').elements as { action_id: string; value: string; text: { text: string } }[];
    const pick = (id: string, label: string) => actions.find((a) => a.action_id === id && a.text.text === label)!.value;
    const { buttonClick: bc } = await import('./support/slack-requests');
    const press = (id: string, value: string) => h.post.interaction(bc(id, value, { messageTs: tsOf(plan), threadTs: ev.ts }));
    const others = wf.steps.filter((s) => !['business_analyst', 'ux_designer'].includes(s.key));
    for (const s of others.filter((s) => s.key !== 'project_manager')) await press('plan_drop', `${wf.id}|${s.key}`);
    await press('plan_gate', pick('plan_gate', 'Gate after UX Designer'));
    wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps.map((s) => s.key).sort()).toEqual(['business_analyst', 'project_manager', 'ux_designer'].filter((k) => keys.includes(k)).sort());
    expect(wf.steps.find((s) => s.key === 'ux_designer')!.gateAfter).toBe(true);
    const rerendered = h.slack.callsTo('chat.update').filter((c) => c.params.ts === tsOf(plan)).at(-1)!;
    expect(rerendered.params.text).toMatch(/\*UX Designer\*.*approval gate/);

    await press('plan_confirm', wf.id);
    const gate = await waitFor(() => gatePosts(h, ev.ts).find((g) => g.params.username === 'UX Designer'), 'designer gate');
    // the designer (and the summariser, whose declared inputs are also met) start only once the analyst is done
    expect(rolesAsked()[0]).toBe('Business Analyst');
    expect(rolesAsked()).toContain('UX Designer');
    await approve(gate, ev.ts);
    await completed(ev.ts);
    await press('plan_drop', pick('plan_drop', 'Drop UX Designer'));
    await waitFor(() => h.slack.callsTo('chat.postEphemeral').some((c) => /cannot be changed any more/.test(c.params.text)), 'refusal after confirmation');
  });
});

describe('handoffs', () => {
  it('lets a role ask the thread a question, waits durably, and resumes with the answer', async () => {
    h = await startHarness();
    let asked = false;
    h.openai.script = (req, n) => {
      const schema = req.response_format?.json_schema?.schema;
      if (roleOf(req) === 'Business Analyst' && !asked && schema) {
        asked = true;
        return { content: JSON.stringify({ ...(fill(schema, 'a first draft for review') as object), question_for_requester: 'Which identity providers must we support?' }) };
      }
      return defaultScript(req, n);
    };
    const ev = await startThread(h, 'we need a login page with SSO for our customer portal');
    const question = await waitFor(() => h.threadPosts(ev.ts).find((c) => /Which identity providers/.test(c.params.text)), 'question');
    expect(question.params.username).toBe('Business Analyst');
    expect((await workflowOf(h, ev.ts))!.steps[0]).toMatchObject({ status: 'waiting_input', question: 'Which identity providers must we support?' });
    expect(gatePosts(h, ev.ts)).toHaveLength(0);
    await h.post.event(threadReply('Okta and Azure AD', ev.ts, { user: 'U_CAROL' }));
    await waitForGate(h, ev.ts, 1);
    const rerun = h.openai.requests.filter((r) => roleOf(r) === 'Business Analyst')[1]!.messages[1]!.content;
    expect(rerun).toContain('## You asked the people in the thread\nWhich identity providers must we support?\n## Their answer\nOkta and Azure AD');
    expect(rerun).not.toContain('you may instead set "question_for_requester"');
    expect(await h.prisma.workflow.count()).toBe(1);
  });
});

describe('recovery', () => {
  const failing = (role: string): Script => (req, n) => (roleOf(req) === role ? { status: 500, error: `${role} is down` } : defaultScript(req, n));

  it('hands a failing step to the next role of its fallback chain', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '1' } });
    h.openai.script = failing('Developer');
    const ev = await startThread(h, 'the checkout page crashes when the cart is empty');
    await approve(await waitForGate(h, ev.ts, 1), ev.ts);
    const handover = await waitFor(() => h.threadPosts(ev.ts).find((c) => /takes this step over/.test(c.params.text)), 'handover');
    expect(handover.params.text).toContain('*Developer* could not finish');
    expect(handover.params.text).toContain('*Technical Architect* takes this step over');
    await completed(ev.ts);
    const fix = (await workflowOf(h, ev.ts))!.steps.find((s) => s.key === 'fix')!;
    expect(fix).toMatchObject({ roleId: 'technical_architect', attemptedRoles: ['developer'], status: 'completed' });
  });

  it('escalates to people with Retry, Skip and Cancel when no fallback is left; Skip goes on without the step', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '1' } });
    h.openai.script = failing('QA Tester');
    const ev = await startThread(h, 'please review the architecture of the notification service');
    await approve(await waitForGate(h, ev.ts, 1), ev.ts);
    const failure = await waitFor(() => h.threadPosts(ev.ts).find((c) => 'skip_step' in buttonsOf(c)), 'escalation');
    expect(Object.keys(buttonsOf(failure))).toEqual(['retry_step', 'skip_step', 'cancel_workflow']);
    await click('skip_step', failure, ev.ts, 'U_OPS');
    await completed(ev.ts);
    const steps = (await workflowOf(h, ev.ts))!.steps;
    expect(steps.find((s) => s.key === 'risks')!.status).toBe('skipped');
    expect(h.slack.callsTo('chat.update').some((c) => c.params.ts === tsOf(failure) && /skipped by <@U_OPS>/.test(c.params.text))).toBe(true);
  });

  it('Cancel stops the workflow and says who did it', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '1' } });
    h.openai.script = failing('QA Tester');
    const ev = await startThread(h, 'the checkout page crashes when the cart is empty');
    const failure = await waitFor(() => h.threadPosts(ev.ts).find((c) => 'cancel_workflow' in buttonsOf(c)), 'escalation');
    await click('cancel_workflow', failure, ev.ts, 'U_LEAD');
    await waitFor(() => h.threadPosts(ev.ts).find((c) => /Workflow cancelled by <@U_LEAD>/.test(c.params.text)), 'cancel note');
    expect((await workflowOf(h, ev.ts))!.status).toBe('cancelled');
    expect(await h.prisma.auditLog.count({ where: { action: 'workflow.cancelled', actor: 'slack:U_LEAD' } })).toBe(1);
  });

  it('resumes running workflows from the database after a restart that lost the queue', async () => {
    h = await startHarness({ worker: false });
    const wf = await h.prisma.workflow.create({
      data: {
        platform: 'slack', teamId: 'T1', channelId: 'C_TEAM', threadTs: '1700000000.000001', requestText: 'recover me', requestedBy: 'U_ALICE',
        sourceEventId: 'slack:C_TEAM:1700000000.000001', template: 'requirements_only', status: 'running',
        steps: { create: [{ position: 0, key: 'requirements', roleId: 'business_analyst', gateAfter: true, status: 'running' }, { position: 1, key: 'summary', roleId: 'project_manager', dependsOn: ['requirements'] }] },
      },
    });
    expect(Object.values(await h.runtime.queueCounts()).reduce((a, b) => a + b, 0)).toBe(0);
    const config = loadConfig({ ...h.env, PORT: '0' });
    const worker = await startRuntime(config, { server: false, worker: true, migrate: false }, createLogger('error'));
    try {
      const gate = await waitForGate(h, '1700000000.000001', 1);
      expect(gate.params.username).toBe('Business Analyst');
      await approve(gate, '1700000000.000001');
      await waitFor(async () => (await h.prisma.workflow.findUnique({ where: { id: wf.id } }))?.status === 'completed', 'completion');
    } finally {
      await worker.close();
    }
  });
});
