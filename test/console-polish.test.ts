// Console polish (issue 14) over Hono in-process requests on real Postgres and Redis, with the offline demo model (no
// provider configured): every list page, and every empty sub-table of a workflow's page, says what to do next; charts
// and the cost page make sense at $0 (no NaN, a "no spend yet" sentence instead of empty axes); the roles page shows
// the model that answers (the demo model, not the YAML's); a rejected workflow shows each step's final status; people
// by name; per-workspace settings that the runtime reads, reachable by an admin bound to that workspace and by no one
// bound elsewhere.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { privacySettingsFor } from '../orchestrator/privacy/settings';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { rolesCopy, runWorkflow } from './support/admin-flow';
import { startThread, waitForGate } from './support/flow';
import { startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick } from './support/slack-requests';

const PASSWORD = 'a long enough password';
let h: Harness;
let app: Hono;
const as: Record<'owner' | 'viewer' | 'bound', AdminClient> = {} as never;

beforeAll(async () => {
  // no model provider: every role answers with the offline demo model, at $0
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: 'console-polish-session-secret-0123456789', ROLES_DIR: rolesCopy(), OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
  app = h.runtime.app!;
  await upsertAdminUser(h.prisma, 'owner@example.com', PASSWORD, 'owner');
  await upsertAdminUser(h.prisma, 'viewer@example.com', PASSWORD, 'viewer');
  await upsertAdminUser(h.prisma, 'bound@example.com', PASSWORD, 'admin');
  const bound = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'bound@example.com' } });
  await h.prisma.adminWorkspace.create({ data: { userId: bound.id, teamId: 'T1' } });
  for (const [who, email] of [['owner', 'owner@example.com'], ['viewer', 'viewer@example.com'], ['bound', 'bound@example.com']] as const) {
    as[who] = adminClient(app);
    expect((await as[who].signIn(email, PASSWORD)).status).toBe(303);
  }
});
afterAll(async () => { await h?.close(); });

const page = async (c: AdminClient, path: string) => {
  const res = await c.get(path);
  expect(res.status, path).toBe(200);
  return res.text();
};
/** The empty-state paragraph of a list, by its data-empty id. */
const emptyOf = (html: string, id: string) => new RegExp(`<p class="empty" data-empty="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html)?.[1];

describe('an empty console', () => {
  it('says on every list page why it is empty and what to do next', async () => {
    const cases: [path: string, id: string, says: RegExp][] = [
      ['/admin/workflows', 'workflows', /No workflows yet.*href="\/admin\/playground"/],
      ['/admin', 'analytics', /No workflows in this range yet.*href="\/admin\/playground"/],
      ['/admin/cost', 'spend', /No spend yet: no workflow ran.*href="\/admin\/playground"/],
      ['/admin/cost', 'tier-stats', /No routed runs.*Playground/],
      ['/admin/budgets', 'budget-rules', /No budget limits yet/],
      ['/admin/budgets', 'budget-windows', /No spend this period yet.*href="\/admin\/playground"/],
      ['/admin/providers', 'provider-health', /No model provider is configured.*OPENAI_API_KEY/],
      ['/admin/experiments', 'experiments', /No experiments yet/],
      ['/admin/experiments/insights', 'recommendations', /Not enough history yet/],
      ['/admin/intents', 'intent-examples', /No pending examples to review.*href="\/admin\/intents\?review=all"/],
      ['/admin/privacy', 'privacy-settings', /No privacy setting/],
      ['/admin/privacy', 'legal-holds', /No legal hold/],
      ['/admin/compliance?from=2001-01-01&to=2001-01-02', 'compliance', /Nothing in this period/],
      ['/admin/audit?actor=nobody-at-all', 'audit', /No entry matches these filters.*href="\/admin\/audit"/],
      ['/admin/workspaces', 'workspaces', /No workspace yet.*href="\/admin\/playground"/],
      ['/admin/api-keys', 'api-keys', /No API keys yet/],
      ['/admin/rbac', 'chat-users', /No Slack or Teams user has a role yet/],
    ];
    for (const [path, id, says] of cases) {
      const text = emptyOf(await page(as.owner, path), id);
      expect(text, `${path} #${id}`).toBeDefined();
      expect(text!.replace(/\s+/g, ' '), `${path} #${id}`).toMatch(says);
    }
    // a list with rows has no empty state
    expect(emptyOf(await page(as.owner, '/admin/roles'), 'roles')).toBeUndefined();
  });

  it('answers every chart with a sentence instead of empty axes, and no NaN', async () => {
    for (const chart of ['completion', 'step-latency', 'cost-role', 'cost-workflow', 'cost-day', 'intervention', 'approval-wait', 'satisfaction', 'violations']) {
      const res = await as.owner.get(`/admin/api/analytics/${chart}?days=7`);
      expect(res.status).toBe(200);
      const spec = await res.json() as { empty?: string; datasets: { data: unknown[] }[] };
      expect(spec.empty, chart).toMatch(/\w/);
      expect(spec.datasets.flatMap((d) => d.data).every((v) => typeof v === 'number' && Number.isFinite(v)), chart).toBe(true);
    }
  });
});

describe('a console with workflows on the offline demo model', () => {
  let rejectedId: string;
  beforeAll(async () => {
    await runWorkflow(h, 'we need a login page with SSO for our customer portal');
    // a second one, rejected at its first gate
    const ev = await startThread(h, 'add CSV export to the billing report');
    const gate = await waitForGate(h, ev.ts, 1);
    const approval = await waitFor(() => h.prisma.approval.findFirst({ where: { messageTs: gate.response!.ts, status: 'pending' } }), 'the open gate');
    await h.post.interaction(buttonClick('reject', approval.id, { messageTs: approval.messageTs!, threadTs: ev.ts }));
    const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts, status: 'rejected' } }), 'the rejected workflow');
    rejectedId = wf.id;
  });

  it('shows cost at $0 as "no spend yet", not as bars of zero or NaN', async () => {
    const spec = await (await as.owner.get('/admin/api/analytics/cost-role?days=7')).json() as { empty?: string; labels: string[]; datasets: { data: number[] }[] };
    expect(spec.labels.length).toBeGreaterThan(0); // the demo model's calls are recorded, at $0
    expect(spec.datasets[0]!.data.every((v) => v === 0)).toBe(true);
    expect(spec.empty).toMatch(/No spend yet \(\$0\).*offline demo model/);
    const completion = await (await as.owner.get('/admin/api/analytics/completion?days=7')).json() as { empty?: string };
    expect(completion.empty).toBeUndefined(); // workflows ran: that chart has something to draw
    const cost = await page(as.owner, '/admin/cost?days=7');
    expect(emptyOf(cost, 'spend')!.replace(/\s+/g, ' ')).toMatch(/No spend yet: the \d+ run\(s\) in this range used free models/);
    expect(cost).not.toContain('NaN');
  });

  it('shows the model that answers on the roles page: the demo model, not the YAML\'s', async () => {
    const html = await page(as.owner, '/admin/roles');
    const row = /<tr data-role="business_analyst">([\s\S]*?)<\/tr>/.exec(html)![1]!;
    expect(/<span class="model-demo">([^<]*)<\/span>/.exec(row)?.[1]).toBe('offline demo model');
    expect(row).toMatch(/the YAML names openai \/ [\w.-]+; no model provider is configured/);
    expect(row).not.toContain('class="model-used"');
  });

  it('shows each step of a rejected workflow with its final status, never pending', async () => {
    const wf = await h.prisma.workflow.findUniqueOrThrow({ where: { id: rejectedId }, include: { steps: true } });
    expect(wf.steps.some((s) => s.status === 'pending')).toBe(true); // stored as it was when the gate was rejected
    const html = await page(as.owner, `/admin/workflows/${rejectedId}`);
    const statuses = [...html.matchAll(/<tr data-step="[^"]*"><td>\d+<\/td><td>[^<]*<\/td><td class="status"[^>]*>(\w+)/g)].map((m) => m[1]);
    expect(statuses).toHaveLength(wf.steps.length);
    expect(statuses).not.toContain('pending');
    expect(statuses).toContain('skipped');
    expect(html).toContain('not run: the workflow was rejected');
    const json = await (await as.owner.get(`/admin/api/workflows/${rejectedId}`)).json() as { steps: { status: string; finalStatus: string }[] };
    expect(json.steps.map((s) => s.finalStatus)).not.toContain('pending');
    expect(json.steps.map((s) => s.finalStatus)).toContain('rejected'); // the step whose gate was rejected
  });

  it('shows people by their stored names, and the id only when no name is known', async () => {
    await h.prisma.teamsUser.create({ data: { id: '29:dana', name: 'Dana Scully' } });
    const teamsWf = await h.prisma.workflow.create({ data: { platform: 'teams', teamId: 'tenant-1', channelId: '19:general', threadTs: 't-1', requestText: 'draft release notes', requestedBy: '29:dana', sourceEventId: 'ev-names-1', template: 'feature', status: 'completed' } });
    const owner = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'owner@example.com' } });
    await h.prisma.workflow.create({ data: { platform: 'web', teamId: 'web', channelId: 'th-1', threadTs: 'th-1', requestText: 'a playground request', requestedBy: owner.id, sourceEventId: 'ev-names-2', template: 'feature', status: 'completed' } });
    await h.prisma.auditLog.create({ data: { actor: 'teams:29:dana', action: 'gate.approved', target: 'x' } });
    const list = await page(as.owner, '/admin/workflows');
    expect(list).toContain('<span class="person" title="29:dana">Dana Scully</span>');
    expect(list).toContain(`<span class="person" title="${owner.id}">owner@example.com</span>`);
    expect(list).toContain('<span class="person">U_ALICE</span>'); // a Slack user whose name is not known (users.info: user_not_found): the id
    expect(await page(as.owner, `/admin/workflows/${teamsWf.id}`)).toContain('by <span class="person" title="29:dana">Dana Scully</span>');
    expect(await page(as.owner, '/admin/audit?actor=teams')).toContain('<span class="person" title="teams:29:dana">Dana Scully</span>');
  });
});

describe('per-workspace settings', () => {
  it('lists the workspaces workflows came from, each with its settings page', async () => {
    const html = await page(as.owner, '/admin/workspaces');
    expect(html).toContain('data-workspace="slack:T1"');
    expect(html).toContain('href="/admin/workspaces/slack/T1"');
  });

  it('saves a workspace\'s own privacy and retention, which the runtime then applies, audited', async () => {
    const res = await as.owner.post('/admin/workspaces/slack/T1', { privacyOwn: 'on', redactPii: 'on', retention_thread_text: '30', retention_files: '' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/workspaces/slack/T1?done=1');
    expect(await privacySettingsFor(h.prisma, { platform: 'slack', teamId: 'T1', channelId: 'C_TEAM' })).toEqual({ redactPii: true, localModelsOnly: false });
    expect(await privacySettingsFor(h.prisma, { platform: 'slack', teamId: 'T2', channelId: 'C_OTHER' })).toEqual({ redactPii: false, localModelsOnly: false });
    expect(await h.prisma.retentionPolicy.findMany({ where: { scopeKey: 'team:slack:T1' }, select: { kind: true, days: true } })).toEqual([{ kind: 'thread_text', days: 30 }]);
    const entry = await h.prisma.auditLog.findFirstOrThrow({ where: { action: 'workspace.settings', target: 'slack:T1' } });
    expect(entry.actor).toBe('console:owner@example.com');
    expect(entry.detail).toMatchObject({ privacy: { from: 'inherit', to: { redactPii: true, localModelsOnly: false } }, 'retention.thread_text': { from: 'inherit', to: 30 } });
    const html = await page(as.owner, '/admin/workspaces/slack/T1');
    expect(html).toMatch(/name="retention_thread_text"[^>]*value="30"/);
    // back to the defaults of every workspace
    expect((await as.owner.post('/admin/workspaces/slack/T1', { retention_thread_text: '' })).status).toBe(303);
    expect(await h.prisma.privacySetting.count({ where: { scopeKey: 'team:slack:T1' } })).toBe(0);
    expect(await h.prisma.retentionPolicy.count({ where: { scopeKey: 'team:slack:T1' } })).toBe(0);
  });

  it('refuses bad input, and changes from a viewer', async () => {
    expect((await as.owner.post('/admin/workspaces/slack/T1', { retention_audit: '-3' })).status).toBe(400);
    expect((await as.owner.post('/admin/workspaces/mars/T1', { privacyOwn: 'on' })).status).toBe(404);
    expect((await as.viewer.get('/admin/workspaces/slack/T1')).status).toBe(200); // may look
    expect((await as.viewer.post('/admin/workspaces/slack/T1', { privacyOwn: 'on', redactPii: 'on' })).status).toBe(403);
    expect(await h.prisma.privacySetting.count()).toBe(0);
  });

  it('lets an admin bound to a workspace set its settings, and nothing of another workspace', async () => {
    const workflows = await page(as.bound, '/admin/workflows');
    expect(workflows).toContain('href="/admin/workspaces/slack/T1"');
    expect((await as.bound.get('/admin/workspaces/slack/T1')).status).toBe(200);
    expect((await as.bound.get('/admin/workspaces/slack/T2')).status).toBe(404); // as if it did not exist
    expect((await as.bound.get('/admin/workspaces/teams/tenant-1')).status).toBe(404);
    expect((await as.bound.get('/admin/workspaces')).status).toBe(403); // spans every workspace
    expect((await as.bound.get('/admin/privacy')).status).toBe(403);
    expect((await as.bound.post('/admin/workspaces/slack/T2', { privacyOwn: 'on', redactPii: 'on' }, { csrf: await csrfOf(as.bound) })).status).toBe(404);
    expect((await as.bound.post('/admin/workspaces/slack/T1', { privacyOwn: 'on', localModelsOnly: 'on' }, { csrf: await csrfOf(as.bound) })).status).toBe(303);
    expect(await privacySettingsFor(h.prisma, { platform: 'slack', teamId: 'T1', channelId: 'C_TEAM' })).toEqual({ redactPii: false, localModelsOnly: true });
    expect(await h.prisma.privacySetting.count({ where: { scopeKey: 'team:slack:T2' } })).toBe(0);
  });
});

describe('a workflow page whose sub-tables are empty', () => {
  const SUB_TABLES = ['steps', 'files', 'output-files', 'posts', 'llm-calls', 'tier-runs', 'tier-escalations', 'approvals', 'violations'];
  const says = (html: string) => Object.fromEntries(SUB_TABLES.map((t) => [t, emptyOf(html, `wf-${t}`)?.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ')]));
  const workflow = (n: number, status: 'running' | 'cancelled') => h.prisma.workflow.create({ data: { platform: 'slack', teamId: 'T1', channelId: 'C_EMPTY', threadTs: `171.${n}`, requestText: 'an empty one', requestedBy: 'U_ALICE', sourceEventId: `ev-empty-${n}`, template: 'feature', status } });

  it('says why each is empty and what comes next for a fresh workflow, instead of a bare table', async () => {
    const wf = await workflow(1, 'running');
    const html = await page(as.viewer, `/admin/workflows/${wf.id}`);
    const s = says(html);
    expect(s.steps).toMatch(/No steps yet: Rolecall is still choosing the workflow.*when the plan is posted/);
    expect(s.files).toMatch(/No files shared yet: nobody has shared a file in this thread.*appears here once Rolecall has read it/);
    expect(emptyOf(html, 'wf-files')).toContain('href="/admin/playground"');
    expect(s['output-files']).toMatch(/No files made by roles: no role in this workflow makes files.*outputs\.files/);
    expect(s.posts).toMatch(/Nothing posted yet: the plan is the first post in the thread/);
    expect(s['llm-calls']).toMatch(/No LLM calls yet: each model call .* appears here as the step runs, once the plan is posted/);
    expect(s['tier-runs']).toMatch(/No tier runs yet/);
    expect(s['tier-escalations']).toMatch(/No escalations so far: no step moved up a model tier/);
    expect(s.approvals).toMatch(/No approvals yet: a gate is asked after each step marked 🚦 posts its output/);
    expect(s.violations).toMatch(/No constraint violations: no output has been checked yet/);
    for (const t of SUB_TABLES) expect(html, t).not.toContain(`<table id="${t}">`);
  });

  it('names the first gate of a planned workflow, and says "ended" once it is over', async () => {
    const wf = await workflow(2, 'running');
    await h.prisma.step.createMany({ data: [
      { workflowId: wf.id, position: 0, roleId: 'business_analyst', status: 'running', startedAt: new Date() },
      { workflowId: wf.id, position: 1, roleId: 'technical_architect', gateAfter: true },
    ] });
    const running = says(await page(as.owner, `/admin/workflows/${wf.id}`));
    expect(running.steps).toBeUndefined(); // it has rows
    expect(running.approvals).toMatch(/No approvals yet: the first gate is asked when technical_architect \(step 2 🚦\) posts its output/);
    expect(running.violations).toMatch(/No constraint violations so far: every output passed/);
    expect(running['llm-calls']).toMatch(/^No LLM calls yet: .*as the step runs\.$/);

    await h.prisma.workflow.update({ where: { id: wf.id }, data: { status: 'cancelled', finishedAt: new Date() } });
    const over = says(await page(as.owner, `/admin/workflows/${wf.id}`));
    expect(over.approvals).toBe('No approvals: no gate was asked before the workflow ended (cancelled).');
    expect(over['llm-calls']).toBe('No LLM calls: the workflow ended (cancelled) before any step called a model.');
    expect(over.files).toBe('No files: nobody shared a file in this thread while the workflow ran.');
    expect(over.posts).toMatch(/^Nothing posted: the workflow ended \(cancelled\)/);
  });

  it('shows the tables, and no empty state, where a workflow has rows', async () => {
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { requestText: 'we need a login page with SSO for our customer portal', status: 'completed' } });
    const html = await page(as.owner, `/admin/workflows/${wf.id}`);
    const s = says(html);
    for (const t of ['steps', 'posts', 'llm-calls', 'approvals']) {
      expect(s[t], t).toBeUndefined();
      expect(html, t).toContain(`<table id="${t}">`);
    }
    expect(s.violations ?? '').toMatch(/^(No constraint violations: every output passed.*)?$/);
  });
});

/** A bound user cannot open /admin/rbac (where the client reads its token by default): read it from their settings page. */
async function csrfOf(c: AdminClient): Promise<string> {
  const html = await (await c.get('/admin/workspaces/slack/T1')).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
}
