// Experiments end to end, on real PostgreSQL and Redis through the console over Hono in-process requests (the HTTP
// console test style): define (YAML, validated), start (fixed-horizon plan), a real Slack workflow is assigned its
// sticky arm in the workflow's transaction and gets the arm's template (or role) variation, results say "not enough data yet",
// insights render, and Stop rolls the winning role variation out through the role editor's audited path
// (a RoleDefinition row and a config.role audit row) and a winning template variation through the template store (a
// TemplateDefinition row per template, a config.template audit row, the next workflow without the gate). An arm's
// persona is on its role's posts (Slack username and icon, the outbox rows Teams and the playground render), and an
// intent-threshold arm decides its threads with its threshold (a question where the control starts a workflow). Attacks: viewers cannot change anything, a post without the
// CSRF token is refused, a hostile name is escaped, a workspace-bound user is refused.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { armFor, assignExperiments, threadKeyOf } from '../orchestrator/experiments/assign';
import { parseExperiment } from '../orchestrator/experiments/definition';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { rolesCopy, runWorkflow } from './support/admin-flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, mention } from './support/slack-requests';
import { defaultScript, type Script } from './support/fake-openai';
import { tsOf } from './support/flow';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'admin' | 'viewer' | 'scoped', AdminClient> = {} as never;

const gateYaml = `id: gate-off
name: "<script>alert(1)</script> gates"
arms:
  - { id: control, weight: 50 }
  - id: no_gate
    weight: 50
    template: { gates: { requirements: false, design: false, implementation: false, qa: false } }
primary_metric: completion
guardrails: [satisfaction, time_to_completion]
`;
const roleYaml = `id: analyst-persona
name: Analyst persona
arms:
  - { id: control, weight: 1 }
  - id: renamed
    weight: 1000            # nearly every thread: the test checks whichever arm the thread got
    role: { id: business_analyst, display_name: Experiment Analyst, icon_emoji: ":test_tube:", instructions: "Turn the request into requirements; keep it short." }
primary_metric: approval_unchanged
`;

/** The model stage of the intent classifier is unsure (it answers "none" at 0.1): below a threshold, Rolecall asks. */
const unsureModel: Script = (req, n) =>
  req.response_format?.json_schema?.name === 'intent'
    ? { content: JSON.stringify({ intent: 'none', confidence: 0.1, reason: 'too vague to tell' }) }
    : defaultScript(req, n);

beforeAll(async () => {
  h = await startHarness({ script: unsureModel, env: { ADMIN_SESSION_SECRET: 'test-admin-session-secret-0123456789abcdef', ROLES_DIR: rolesCopy() } });
  app = h.runtime.app!;
  for (const role of ['admin', 'viewer', 'scoped'] as const) {
    const user = await upsertAdminUser(h.prisma, `${role}@example.com`, PASSWORD, role === 'scoped' ? 'admin' : role);
    void user;
    as[role] = adminClient(app);
    expect((await as[role].signIn(`${role}@example.com`, PASSWORD)).status).toBe(303);
  }
  const scoped = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'scoped@example.com' } });
  await h.prisma.adminWorkspace.create({ data: { userId: scoped.id, teamId: 'T_OTHER' } });
});
afterAll(async () => { await h?.close(); });

describe('experiments in the console', () => {
  it('refuses bad definitions, viewers, posts without the token and workspace-bound users', async () => {
    const bad = await as.admin.post('/admin/experiments', { yaml: 'id: x\nname: y\narms: []\nprimary_metric: completion\n' });
    expect(await bad.text()).toMatch(/arms/);
    expect(await h.prisma.experiment.count()).toBe(0);
    expect((await as.viewer.post('/admin/experiments', { yaml: gateYaml })).status).toBe(403);
    expect((await as.admin.post('/admin/experiments', { yaml: gateYaml }, { csrf: null })).status).toBeGreaterThanOrEqual(400);
    expect((await as.scoped.get('/admin/experiments')).status).toBe(403);
    expect((await as.scoped.post('/admin/experiments', { yaml: gateYaml }, { csrf: 'x'.repeat(20) })).status).toBe(403);
    expect(await h.prisma.experiment.count()).toBe(0);
    expect((await adminClient(app).get('/admin/api/experiments/gate-off')).status).toBe(401);
  });

  it('defines and starts an experiment; a real workflow gets its sticky arm and the arm\'s variation', async () => {
    const saved = await as.admin.post('/admin/experiments', { yaml: gateYaml });
    expect(saved.status).toBe(303);
    const page = await (await as.viewer.get('/admin/experiments/gate-off')).text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;');
    expect((await as.admin.post('/admin/experiments/gate-off/start', {})).status).toBe(303);
    const row = await h.prisma.experiment.findUniqueOrThrow({ where: { id: 'gate-off' } });
    expect(row.status).toBe('running');
    expect(row.plannedPerArm).toBe(388); // 50 % → 60 %, alpha 0.05, power 0.8
    expect((await as.admin.post('/admin/experiments', { yaml: gateYaml })).status).toBe(200); // a started one cannot change
    expect(await h.prisma.auditLog.count({ where: { action: { in: ['experiment.saved', 'experiment.started'] }, target: 'gate-off' } })).toBe(2);

    const { workflowId } = await runWorkflow(h);
    const wf = await h.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: true } });
    const assignment = await h.prisma.experimentAssignment.findUniqueOrThrow({ where: { experimentId_workflowId: { experimentId: 'gate-off', workflowId } } });
    const def = parseExperiment(gateYaml);
    expect(assignment.arm).toBe(armFor(def, threadKeyOf(wf)).id);
    expect(assignment.threadKey).toBe(threadKeyOf(wf));
    if (assignment.arm === 'no_gate') expect(wf.steps.every((s) => !s.gateAfter)).toBe(true);
    else expect(wf.steps.some((s) => s.gateAfter)).toBe(true);
    // a re-delivery of the same thread's message gets the same arm (pure function of experiment and thread)
    const again = await assignExperiments(h.prisma, { platform: wf.platform, teamId: wf.teamId, channelId: wf.channelId, threadTs: wf.threadTs, templateId: wf.template }, {
      templateId: wf.template, templateName: '', needsConfirmation: false, intent: { intent: wf.template, confidence: 1, reason: '', source: 'local' }, steps: [],
    });
    expect(again.assignments).toEqual([{ experimentId: 'gate-off', arm: assignment.arm, threadKey: assignment.threadKey }]);
    // nothing about the experiment reaches the thread
    expect(JSON.stringify(h.slack.calls)).not.toMatch(/gate-off|no_gate/);

    const detail = await (await as.viewer.get('/admin/experiments/gate-off')).text();
    expect(detail).toContain('Not enough data yet');
    expect(detail).toContain('Fixed-horizon design');
    expect(detail).toContain(workflowId.slice(0, 8));
    const api = await (await as.viewer.get('/admin/api/experiments/gate-off')).json();
    expect(api.analysis.enoughData).toBe(false);
    expect(api.analysis.observed[assignment.arm]).toBe(1);
    expect((await as.viewer.get('/admin/experiments')).status).toBe(200);
    const insights = await as.viewer.get('/admin/experiments/insights');
    expect(insights.status).toBe(200);
    expect(await insights.text()).toContain('Busiest hours');
  });

  it('stopping rolls the winning role variation out through the audited role edit path', async () => {
    expect((await as.admin.post('/admin/experiments', { yaml: roleYaml })).status).toBe(303);
    expect((await as.admin.post('/admin/experiments/analyst-persona/start', {})).status).toBe(303);
    // while it runs, a workflow's steps run as its arm's role (the shared role itself is unchanged)
    const { threadTs, workflowId } = await runWorkflow(h, 'we need a login page with SSO for our customer portal', 'U_BOB');
    const { arm } = await h.prisma.experimentAssignment.findUniqueOrThrow({ where: { experimentId_workflowId: { experimentId: 'analyst-persona', workflowId } } });
    // the arm's persona is on every post of that role in the thread: Slack username and icon, and the outbox rows the
    // Teams card header and the web playground render from
    const [name, icon] = arm === 'renamed' ? ['Experiment Analyst', ':test_tube:'] : ['Business Analyst', ':memo:'];
    const baRows = await h.prisma.chatOutbox.findMany({ where: { workflowId, roleId: 'business_analyst' } });
    expect(baRows.length).toBeGreaterThanOrEqual(2);
    for (const r of baRows) expect(r.persona).toMatchObject({ displayName: name });
    const analystPosts = h.threadPosts(threadTs).filter((c) => c.params.username === name);
    expect(analystPosts.length).toBeGreaterThanOrEqual(1);
    if (arm === 'renamed') {
      for (const c of analystPosts) expect(c.params.icon_emoji).toBe(icon);
      expect(h.threadPosts(threadTs).filter((c) => c.params.username === 'Business Analyst')).toEqual([]);
    }
    const prompted = h.openai.requests.some((r) => r.messages.some((m) => typeof m.content === 'string' && m.content.includes('keep it short')));
    expect(prompted).toBe(arm === 'renamed');
    expect(h.runtime.deps.roles.get('business_analyst')!.persona.display_name).toBe('Business Analyst');
    expect((await as.viewer.post('/admin/experiments/analyst-persona/stop', { winner: 'renamed' })).status).toBe(403);
    const stop = await as.admin.post('/admin/experiments/analyst-persona/stop', { winner: 'renamed' });
    expect(stop.status).toBe(303);
    const row = await h.prisma.roleDefinition.findUniqueOrThrow({ where: { roleId: 'business_analyst' } });
    expect(row.yaml).toMatch(/display_name: Experiment Analyst/);
    expect(row.yaml).toMatch(/keep it short/);
    expect(row.updatedBy).toBe('console:admin@example.com');
    const entry = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'config.role', target: 'business_analyst' } });
    expect(entry.detail).toMatchObject({ via: 'experiment:analyst-persona:renamed' });
    expect((entry.detail as { after: string }).after).toBe(row.yaml);
    expect(h.runtime.deps.roles.get('business_analyst')!.persona.display_name).toBe('Experiment Analyst');
    const exp = await h.prisma.experiment.findUniqueOrThrow({ where: { id: 'analyst-persona' } });
    expect(exp).toMatchObject({ status: 'stopped', winner: 'renamed' });
    expect(await h.prisma.auditLog.count({ where: { action: 'experiment.stopped', target: 'analyst-persona' } })).toBe(1);
    // stopping twice rolls out once
    expect((await as.admin.post('/admin/experiments/analyst-persona/stop', { winner: 'renamed' })).status).toBe(409);
    expect(await h.prisma.auditLog.count({ where: { action: 'config.role', target: 'business_analyst' } })).toBe(1);
  });

  it('an intent-threshold arm decides its threads with its own threshold (a question instead of a workflow)', async () => {
    const yaml = `id: strict-intent
name: Strict intent threshold
eligibility: { channels: [C_THR] }
arms:
  - { id: control, weight: 1 }
  - { id: strict, weight: 1, intent_threshold: 1 }
primary_metric: completion
`;
    expect((await as.admin.post('/admin/experiments', { yaml })).status).toBe(303);
    expect((await as.admin.post('/admin/experiments/strict-intent/start', {})).status).toBe(303);
    const def = parseExperiment(yaml);
    const tsIn = (arm: string) => Array.from({ length: 200 }, (_, i) => `1800000${String(i).padStart(3, '0')}.000100`).find((ts) => armFor(def, threadKeyOf({ platform: 'slack', teamId: 'T1', channelId: 'C_THR', threadTs: ts })).id === arm)!;
    const text = 'write user stories for a loyalty points program'; // starts a workflow at the configured threshold
    // the control thread: decided at the configured threshold, a workflow starts at once
    const control = mention(text, { channel: 'C_THR', ts: tsIn('control') });
    expect((await h.post.event(control)).status).toBe(200);
    const started = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: control.ts } }), 'the control thread\'s workflow');
    expect(await h.prisma.experimentAssignment.findUniqueOrThrow({ where: { experimentId_workflowId: { experimentId: 'strict-intent', workflowId: started.id } } })).toMatchObject({ arm: 'control' });
    // the strict thread: the same message is below the arm's threshold, so Rolecall asks which workflow is meant
    const strict = mention(text, { channel: 'C_THR', ts: tsIn('strict') });
    expect((await h.post.event(strict)).status).toBe(200);
    const q = await waitFor(() => h.threadPosts(strict.ts).find((c) => 'intent_other' in buttonsOf(c)), 'the question in the strict thread');
    expect(await h.prisma.workflow.count({ where: { threadTs: strict.ts } })).toBe(0);
    const [pickId, pickValue] = Object.entries(buttonsOf(q)).find(([id]) => id.startsWith('intent_pick_'))!;
    await h.post.interaction(buttonClick(pickId, pickValue, { messageTs: tsOf(q), threadTs: strict.ts, channel: 'C_THR' }));
    const answered = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: strict.ts } }), 'the workflow the answer starts');
    expect(await h.prisma.experimentAssignment.findUniqueOrThrow({ where: { experimentId_workflowId: { experimentId: 'strict-intent', workflowId: answered.id } } })).toMatchObject({ arm: 'strict' });
    expect((await as.admin.post('/admin/experiments/strict-intent/stop', { winner: '' })).status).toBe(303);
  });

  it('stopping rolls a winning template variation out through the audited template edit path', async () => {
    const stop = await as.admin.post('/admin/experiments/gate-off/stop', { winner: 'no_gate' });
    expect(stop.status).toBe(303);
    expect(decodeURIComponent(stop.headers.get('location') ?? '')).toMatch(/template requirements_only updated/);
    const stored = await h.prisma.templateDefinition.findMany({ orderBy: { templateId: 'asc' } });
    expect(stored.map((t) => t.templateId)).toContain('requirements_only');
    expect(stored.map((t) => t.templateId)).toContain('feature_delivery');
    const ro = stored.find((t) => t.templateId === 'requirements_only')!;
    expect(ro).toMatchObject({ version: 1, updatedBy: 'console:admin@example.com' });
    expect(ro.yaml).toMatch(/id: requirements, role: business_analyst, gate: false/);
    const entries = await h.prisma.auditLog.findMany({ where: { action: 'config.template' } });
    expect(entries.map((e) => e.target).sort()).toEqual(stored.map((t) => t.templateId));
    const entry = entries.find((e) => e.target === 'requirements_only')!;
    expect(entry.detail).toMatchObject({ via: 'experiment:gate-off:no_gate', after: ro.yaml });
    expect((entry.detail as { before: string }).before).toMatch(/id: requirements, role: business_analyst, gate: true/);
    // the next workflow of that template runs the rolled-out template: no gate, so no approval is asked for
    const { workflowId } = await runWorkflow(h, 'write user stories for a loyalty points program');
    const wf = await h.prisma.workflow.findUniqueOrThrow({ where: { id: workflowId }, include: { steps: true, approvals: true } });
    expect(wf.template).toBe('requirements_only');
    expect(wf.steps.every((st) => !st.gateAfter)).toBe(true);
    expect(wf.approvals).toEqual([]);
    expect(await h.prisma.experimentAssignment.count({ where: { workflowId } })).toBe(0); // nothing is running any more
    // stopping twice rolls out once
    expect((await as.admin.post('/admin/experiments/gate-off/stop', { winner: 'no_gate' })).status).toBe(409);
    expect(await h.prisma.auditLog.count({ where: { action: 'config.template' } })).toBe(entries.length);
  });

  it('insights find a gate always approved unchanged, with its evidence, and start a draft experiment in one click', async () => {
    for (let i = 0; i < 6; i++) {
      await h.prisma.workflow.create({
        data: {
          platform: 'slack', teamId: 'T_INS', channelId: 'C_INS', threadTs: `9${i}.1`, requestText: 'x', requestedBy: 'U1', sourceEventId: `ins-${i}`,
          template: 'status_report', status: 'completed', finishedAt: new Date(),
          steps: { create: [{ position: 0, key: 'report', roleId: 'project_manager', gateAfter: true, status: 'completed' }] },
        },
      });
    }
    const steps = await h.prisma.step.findMany({ where: { workflow: { teamId: 'T_INS' } } });
    for (const [i, s] of steps.entries()) {
      await h.prisma.approval.create({ data: { workflowId: s.workflowId, stepId: s.id, revision: 1, status: i === 0 ? 'changes_requested' : 'approved', feedback: i === 0 ? 'needs clearer risks' : null } });
    }
    // one change requested: not a removal candidate; once that decision reads "approved", all 6 are unchanged
    let html = await (await as.admin.get('/admin/experiments/insights')).text();
    expect(html).toContain('project_manager in status_report: changes requested on 1 of 6');
    await h.prisma.approval.updateMany({ where: { workflow: { teamId: 'T_INS' }, status: 'changes_requested' }, data: { status: 'approved' } });
    html = await (await as.admin.get('/admin/experiments/insights')).text();
    expect(html).toContain('The gate after report (project_manager) in status_report was approved unchanged all 6 times');
    const linked = [...html.matchAll(/\/admin\/workflows\/([0-9a-f-]{36})/g)].map((m) => m[1]);
    expect(new Set(linked).size).toBe(5); // five examples of the six, each one of these workflows
    for (const id of linked) expect(steps.map((s) => s.workflowId)).toContain(id);
    const yaml = /name="yaml" value="([^"]+)"/.exec(html)![1]!.replace(/&#(\d+);|&quot;|&amp;|&lt;|&gt;|&#39;/g, (m, d) => (d ? String.fromCharCode(Number(d)) : ({ '&quot;': '"', '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#39;': "'" } as Record<string, string>)[m]!));
    expect((await as.admin.post('/admin/experiments', { yaml })).status).toBe(303);
    const draft = await h.prisma.experiment.findUniqueOrThrow({ where: { id: 'status-report-report-no-gate' } });
    expect(draft.status).toBe('draft');
    expect(draft.definition).toMatchObject({ eligibility: { templates: ['status_report'] }, arms: [{ id: 'control' }, { id: 'no_gate', template: { gates: { report: false } } }] });
  });
});
