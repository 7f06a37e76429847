// Model tiers on real PostgreSQL (orchestrator/tiers.ts) and on the console (web-admin/routes/cost.tsx, /metrics): a
// revision a person sent back starts one tier up and the escalation is recorded and told in the status line; a
// sampled revision also runs on the cheaper tier without posting, recorded as a shadow run; a model without a price is
// flagged on the Cost page and in /metrics; the Cost page shows acceptance per role/template/tier and the
// recommendations; a console user bound to a workspace cannot open it; anonymous users are sent to sign in.
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceOf } from '../agents/llm/demo';
import type { ChatRequest, LlmProvider } from '../agents/llm/provider';
import { DEFAULT_RETRY, type LlmRouter } from '../agents/llm/router';
import { parseRoleFile } from '../agents/roles';
import { runRoutedStep } from '../orchestrator/tiers';
import type { MessageView } from '../orchestrator/chat';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { adminClient, type AdminClient } from './support/admin-client';
import { startHarness, type Harness } from './support/harness';

const SECRET = 'test-admin-session-secret-0123456789abcdef';
const PASSWORD = 'a long enough password';

const role = parseRoleFile('/r/triager.yaml', `role_id: triager
persona: { display_name: Triager, icon_emoji: ":mag:", style: Brief. }
capabilities: [bug_triage]
instructions: Triage the bug report and say what fails and why.
constraints:
  required_outputs:
    - name: triage
      description: The triage.
      schema: { type: object, required: [severity], properties: { severity: { type: string } } }
  max_retries: 0
llm_config: { provider: openai, model: gpt-4o-mini }
models:
  tiers:
    - { name: cheap, provider: openai, model: our-finetune-v7 }
    - { name: standard, provider: openai, model: gpt-4o-mini }
    - { name: premium, provider: openai, model: gpt-4.1 }
  start_by_template: { incident: standard }
  ceiling: standard
`);

/** Every model answers valid JSON, except those listed, which answer prose (failing the schema). */
function fakeRouter(failing: string[] = []) {
  const asked: string[] = [];
  const provider: LlmProvider = {
    name: 'openai',
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest) {
      asked.push(req.model);
      const text = failing.includes(req.model) ? 'I think it is bad.' : JSON.stringify(instanceOf(req.responseSchema!.schema, () => 'high'));
      return { text, model: req.model, promptTokens: 1000, completionTokens: 200 };
    },
  };
  const router: LlmRouter = {
    describe: 'fake', providers: new Map([['openai', provider]]),
    forRole: (r) => ({ provider, model: r.llm_config.model, temperature: r.llm_config.temperature, retry: DEFAULT_RETRY }),
  };
  return { router, asked };
}

let h: Harness;
let app: Hono;
let admin: AdminClient;
const ctx = { request: 'the login page crashes on submit', previous: [], threadNotes: [], mayAsk: false };

async function workflowWithStep(template: string) {
  const n = Math.random().toString(36).slice(2, 10);
  const wf = await h.prisma.workflow.create({
    data: { platform: 'slack', teamId: 'T1', channelId: 'C_TIERS', threadTs: `1.${n}`, requestText: 'bug: login crashes', requestedBy: 'U1', sourceEventId: `ev-${n}`, template, status: 'running' },
  });
  const step = await h.prisma.step.create({ data: { workflowId: wf.id, position: 0, key: 'triage', roleId: 'triager', status: 'running' } });
  return { wf, step };
}

beforeAll(async () => {
  h = await startHarness({ env: { ADMIN_SESSION_SECRET: SECRET, ADMIN_SESSION_TTL_MINUTES: '60', MODEL_SHADOW_MIN_SAMPLES: '2' }, worker: false });
  app = h.runtime.app!;
  await upsertAdminUser(h.prisma, 'viewer@example.com', PASSWORD, 'viewer');
  admin = adminClient(app);
  expect((await admin.signIn('viewer@example.com', PASSWORD)).status).toBe(303);
});
afterAll(async () => { await h?.close(); });

describe('escalation recorded on the step', () => {
  it('a revision a person requested changes to starts one tier up, recorded and told in the status line', async () => {
    const { step } = await workflowWithStep('bug_triage');
    const { router, asked } = fakeRouter();
    const deps = { ...h.runtime.deps, llm: router, tiers: { shadowSample: 0, minSamples: 2 } };
    const first = await runRoutedStep(deps, { ...step, revision: 1, runCount: 0, feedback: null }, role, ctx);
    expect(first.kind).toBe('ok');
    expect(asked).toEqual(['our-finetune-v7']);
    const views: [string, MessageView][] = [];
    const second = await runRoutedStep(deps, { ...step, revision: 2, runCount: 0, feedback: 'add the failing browser' }, role, ctx, undefined, { status: async (tag, v) => void views.push([tag, v]) });
    expect(asked).toEqual(['our-finetune-v7', 'gpt-4o-mini']);
    expect(second.kind === 'ok' && second.model).toBe('gpt-4o-mini · tier standard, up from cheap (changes requested)');
    expect(views).toEqual([['tier-cheap-standard', expect.objectContaining({ text: expect.stringContaining('moved up from the cheap tier to standard: changes were requested') })]]);
    const escalations = await h.prisma.tierEscalation.findMany({ where: { stepId: step.id } });
    expect(escalations).toEqual([expect.objectContaining({ revision: 2, fromTier: 'cheap', toTier: 'standard', reason: 'changes_requested' })]);
    // a third revision sent back is already at the ceiling: it stays on standard
    await runRoutedStep(deps, { ...step, revision: 3, runCount: 0, feedback: 'shorter' }, role, ctx);
    expect(asked.at(-1)).toBe('gpt-4o-mini');
    expect(await h.prisma.tierEscalation.count({ where: { stepId: step.id } })).toBe(1);
  });

  it('a failed check moves the run up and is recorded with its reason; the workflow page shows it', async () => {
    const { wf, step } = await workflowWithStep('bug_triage');
    const { router } = fakeRouter(['our-finetune-v7']);
    const result = await runRoutedStep({ ...h.runtime.deps, llm: router }, { ...step, revision: 1, runCount: 0, feedback: null }, role, ctx);
    expect(result.kind).toBe('ok');
    expect(await h.prisma.tierEscalation.findMany({ where: { stepId: step.id } })).toEqual([expect.objectContaining({ fromTier: 'cheap', toTier: 'standard', reason: 'constraints' })]);
    expect((await h.prisma.tierRun.findMany({ where: { stepId: step.id }, orderBy: { createdAt: 'asc' } })).map((r) => [r.tier, r.outcome])).toEqual([['cheap', 'failed'], ['standard', 'passed']]);
    const page = await (await admin.get(`/admin/workflows/${wf.id}`)).text();
    expect(page).toMatch(/<table id="tier-escalations">[\s\S]*cheap[\s\S]*standard[\s\S]*constraints/);
  });
});

describe('shadow mode', () => {
  it('also runs a sampled revision on the cheaper tier, scores it and records it, and posts nothing', async () => {
    const { step } = await workflowWithStep('incident'); // starts on standard: the shadow runs on cheap
    const { router, asked } = fakeRouter();
    const posts = await h.prisma.agentMessage.count();
    const result = await runRoutedStep({ ...h.runtime.deps, llm: router, tiers: { shadowSample: 1, minSamples: 2 } }, { ...step, revision: 1, runCount: 0, feedback: null }, role, ctx);
    expect(asked.sort()).toEqual(['gpt-4o-mini', 'our-finetune-v7']);
    expect(result.kind === 'ok' && result.calls.map((c) => c.model)).toEqual(['gpt-4o-mini']); // the routed result only
    const runs = await h.prisma.tierRun.findMany({ where: { stepId: step.id }, orderBy: { mode: 'asc' } });
    expect(runs.map((r) => [r.mode, r.tier, r.outcome, r.baseTier])).toEqual([['routed', 'standard', 'passed', null], ['shadow', 'cheap', 'passed', 'standard']]);
    expect(runs[1]!.priceUnknown).toBe(true);
    expect(await h.prisma.llmCall.findMany({ where: { stepId: step.id } })).toEqual([expect.objectContaining({ purpose: 'shadow', model: 'our-finetune-v7', priceUnknown: true })]);
    expect(await h.prisma.agentMessage.count()).toBe(posts);
  });
});

describe('the Cost page and /metrics', () => {
  it('flags the model without a price on the Cost page and in /metrics', async () => {
    const page = await admin.get('/admin/cost');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('have no known price');
    expect(html).toMatch(/<tr class="unknown-price"><td>openai \/ our-finetune-v7<\/td><td>[1-9]/);
    const metrics = await (await app.request('http://rolecall.test/metrics')).text();
    expect(metrics).toMatch(/rolecall_llm_unknown_price_calls\{role="triager",model="our-finetune-v7"\} [1-9]/);
  });

  it('shows acceptance per role, template and tier, and recommendations with their sample size', async () => {
    // a second shadowed revision: two pairs, MODEL_SHADOW_MIN_SAMPLES=2
    const { step } = await workflowWithStep('incident');
    await runRoutedStep({ ...h.runtime.deps, llm: fakeRouter().router, tiers: { shadowSample: 1, minSamples: 2 } }, { ...step, revision: 1, runCount: 0, feedback: null }, role, ctx);
    const json = await (await admin.get('/admin/api/cost?days=7')).json() as { stats: { roleId: string; template: string; tier: string; runs: number; acceptance: number }[]; recommendations: { text: string; n: number; verdict: string }[] };
    expect(json.stats).toContainEqual(expect.objectContaining({ roleId: 'triager', template: 'incident', tier: 'standard', runs: 2, acceptance: 1, costUsd: expect.any(Number) }));
    expect(json.recommendations).toContainEqual(expect.objectContaining({ n: 2, verdict: 'move_down', text: expect.stringMatching(/^triager on cheap for incident: 100% acceptance vs 100% on standard, cost n\/a \(n=2\)|^triager on cheap for incident: 100% acceptance vs 100% on standard, [−+]\d+% cost \(n=2\)/) }));
    const html = await (await admin.get('/admin/cost')).text();
    expect(html).toMatch(/<table id="tier-stats">[\s\S]*triager[\s\S]*incident[\s\S]*standard/);
    expect(html).toContain('triager on cheap for incident');
    expect(html).toContain('<a href="/admin/cost" class="active">Cost</a>');
  });

  it('escapes what it echoes, sends anonymous users to sign in, and refuses workspace-bound users', async () => {
    const { step } = await workflowWithStep('bug_triage');
    await h.prisma.tierEscalation.create({ data: { workflowId: step.workflowId, stepId: step.id, revision: 9, run: 0, roleId: 'triager', fromTier: 'cheap', toTier: 'standard', reason: 'constraints', detail: '<script>alert(1)</script>' } });
    const html = await (await admin.get('/admin/cost')).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const anon = adminClient(app);
    expect((await anon.get('/admin/cost')).status).toBe(303);
    expect((await anon.get('/admin/api/cost')).status).toBe(401);
    await upsertAdminUser(h.prisma, 'bound@example.com', PASSWORD, 'admin');
    const bound = await h.prisma.adminUser.findUniqueOrThrow({ where: { email: 'bound@example.com' } });
    await h.prisma.adminWorkspace.create({ data: { userId: bound.id, teamId: 'T_OTHER' } });
    const c = adminClient(app);
    await c.signIn('bound@example.com', PASSWORD);
    expect((await c.get('/admin/cost')).status).toBe(403);
    expect((await c.get('/admin/api/cost')).status).toBe(403);
  });
});
