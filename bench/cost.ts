// `npm run bench:cost [-- --seed N --scale K --json --workflows N]`: replays a fixed mix of workflows (the shipped
// templates, counts from bench/cost/simulation.yaml) twice — every step on the premium tier, and routed (start on the
// role's start tier, escalate on failed checks, a revision sent back starts one tier up, never past the ceiling) — and
// reports cost and acceptance for both.
//
// SIMULATION (no model configured): the tiers are fake models whose outputs pass the role's checks, and whose gated
// outputs a simulated person approves without changes, with the probabilities of bench/cost/simulation.yaml (per
// role, task type and tier). Everything else is the product's: the tier router (agents/llm/routing.ts), the agent
// runner with its constraint checks and retries (agents/agent.ts), and prices from @pydantic/genai-prices
// (agents/llm/pricing.ts; LLM_PRICES and LOCAL_COMPUTE_USD_PER_HOUR apply). Deterministic for a seed.
// REAL (OPENAI_API_KEY, OLLAMA_HOST… set): the shipped roles' own tiers (roles/*.yaml `models`) on the configured
// providers, a few workflows (--workflows, default 6) with fixed requests; outputs are checked by the real
// constraints and judge and priced from the providers' usage; the person's approval is still simulated from the table.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { instanceOf } from '../agents/llm/demo';
import { configurePrices, priceCall } from '../agents/llm/pricing';
import type { ChatRequest, LlmProvider } from '../agents/llm/provider';
import { createLlmRouter, DEFAULT_RETRY, type LlmRouter } from '../agents/llm/router';
import { planTiers, runTiered, startFor, type TierPlan } from '../agents/llm/routing';
import { roleSchema, type Role } from '../agents/role-schema';
import { loadRoles } from '../agents/roles';
import { loadConfig } from '../app/config';
import { loadTemplates, TEMPLATES_DIR, type WorkflowTemplate } from '../orchestrator/templates';

const pair = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]);
const Table = z.object({
  tiers: z.array(z.object({ name: z.string(), provider: z.enum(['openai', 'ollama']), model: z.string(), latency_ms: z.number().int().min(0) }).strict()).min(1),
  routing: z.record(z.string(), z.object({ start: z.string(), start_by_step: z.record(z.string(), z.string()).default({}), ceiling: z.string().optional() }).strict()),
  tokens: z.record(z.string(), z.tuple([z.number().int().min(0), z.number().int().min(0)])),
  acceptance: z.record(z.string(), z.record(z.string(), z.record(z.string(), pair))),
  mix: z.record(z.string(), z.number().int().min(0)),
}).strict();
type Table = z.infer<typeof Table>;

const MAX_REVISIONS = 3;

const { values: args } = parseArgs({ options: { seed: { type: 'string', default: '1' }, scale: { type: 'string', default: '1' }, json: { type: 'boolean', default: false }, workflows: { type: 'string' }, table: { type: 'string' } } });
const tablePath = args.table ?? path.join(import.meta.dirname, 'cost', 'simulation.yaml');
const table = Table.parse(parseYaml(readFileSync(tablePath, 'utf8')));
const config = loadConfig(process.env);
configurePrices(config.prices);
const realRouter = config.llm.openai || config.llm.ollama ? createLlmRouter(config.llm, loadRoles(config.rolesDir).values()) : undefined;
const real = realRouter !== undefined && realRouter.providers.size > 0;
const rolesById = real ? loadRoles(config.rolesDir) : simulatedRoles(table);
const templates = loadTemplates(config.templatesDir ?? TEMPLATES_DIR, new Set(rolesById.keys()));

/** Deterministic uniform draw in [0, 1) from a key (FNV-1a then a xorshift mix). */
function draw(key: string): number {
  let h = 2166136261 ^ Number(args.seed);
  for (const ch of key) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  h ^= h >>> 13; h = Math.imul(h, 0x5bd1e995) >>> 0; h ^= h >>> 15;
  return (h >>> 0) / 2 ** 32;
}

function simulatedRoles(t: Table): Map<string, Role> {
  const roles = new Map<string, Role>();
  for (const [id, routing] of Object.entries(t.routing)) {
    roles.set(id, roleSchema.parse({
      role_id: id,
      persona: { display_name: id, icon_emoji: ':robot_face:', style: 'Simulated.' },
      capabilities: ['simulated'],
      instructions: 'A simulated role of the cost benchmark (bench/cost.ts).',
      constraints: { required_outputs: [{ name: 'work', description: 'The work.', schema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } } }], max_retries: 2 },
      llm_config: { provider: t.tiers[0]!.provider, model: t.tiers[0]!.model },
      models: { tiers: t.tiers.map(({ name, provider, model }) => ({ name, provider, model })), start: routing.start, ...(routing.ceiling ? { ceiling: routing.ceiling } : {}) },
    }));
  }
  return roles;
}

/** Fake tiers: a model's answer passes the checks with the table's probability for this role, task and tier. */
function fakeRouter(roleId: string, task: string, key: string): LlmRouter {
  const byModel = new Map(table.tiers.map((t) => [t.model, t]));
  let call = 0;
  const provider = (name: string): LlmProvider => ({
    name,
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest) {
      const tier = byModel.get(req.model)!;
      const [passes] = table.acceptance[roleId]?.[task]?.[tier.name] ?? [0.9, 0.9];
      const [prompt, completion] = table.tokens[task] ?? [3000, 1000];
      const ok = draw(`${key}:${tier.name}:${call++}`) < passes;
      return { text: ok ? JSON.stringify(instanceOf(req.responseSchema!.schema, () => `simulated ${task}`)) : 'simulated answer that is not JSON', model: req.model, promptTokens: prompt, completionTokens: completion };
    },
  });
  const providers = new Map(['openai', 'ollama'].map((n) => [n, provider(n)]));
  return { describe: 'simulated tiers', providers, forRole: (r) => ({ provider: providers.get(r.llm_config.provider)!, model: r.llm_config.model, temperature: r.llm_config.temperature, retry: { ...DEFAULT_RETRY, backoffMs: 0 } }) };
}

interface Totals { steps: number; accepted: number; passedFirst: number; revisions: number; escalations: number; heldForPerson: number; costUsd: number; runsByTier: Record<string, number>; unknownPrice: number }

const REQUESTS: Record<string, string> = {
  bug_triage: 'Bug: after resetting a password, signing in with the new one fails with "invalid credentials" until the page is reloaded.',
  feature_delivery: 'We need CSV export of the invoices list, filtered like the screen, for accountants.',
  test_plan: 'Write the test plan for the new two-factor sign-in with TOTP apps and recovery codes.',
  requirements_only: 'Requirements for letting customers pause a subscription for up to three months.',
  architecture_review: 'Review the design of moving our notification sending from cron jobs to a queue.',
  status_report: 'Status report for the billing migration project this week.',
};

async function replay(policy: 'premium' | 'routed'): Promise<Totals> {
  const t: Totals = { steps: 0, accepted: 0, passedFirst: 0, revisions: 0, escalations: 0, heldForPerson: 0, costUsd: 0, runsByTier: {}, unknownPrice: 0 };
  const workflows = mixList();
  for (const [w, template] of workflows.entries()) {
    for (const step of template.steps) {
      const role = rolesById.get(step.role)!;
      const available = real ? (p: string) => realRouter!.providers.has(p) : () => true;
      const base = planTiers(role, template.id, available);
      const plan: TierPlan = policy === 'premium' ? { tiers: base.tiers, start: base.tiers.length - 1 } : { ...base, start: startIndex(base, step.role, step.id) };
      let previous: string | undefined;
      t.steps++;
      for (let revision = 1; revision <= MAX_REVISIONS; revision++) {
        const from = revision === 1 ? plan.start : startFor(plan, previous).index;
        if (revision > 1 && from > plan.tiers.findIndex((x) => x.name === previous)) t.escalations++;
        const key = `${w}:${template.id}:${step.id}:${revision}`;
        const router = real ? realRouter! : fakeRouter(step.role, step.id, key);
        const ctx = { request: REQUESTS[template.id] ?? `Work on: ${template.name}`, previous: [], threadNotes: [], mayAsk: false, ...(revision > 1 ? { revision: { previousOutput: '(previous output)', feedback: 'Please make it more specific.' } } : {}) };
        const r = await runTiered(role, router, ctx, plan, from, undefined, { sleep: async () => undefined });
        t.revisions++;
        t.escalations += r.escalations.length;
        for (const run of r.runs) t.runsByTier[run.tier.name] = (t.runsByTier[run.tier.name] ?? 0) + 1;
        t.costUsd += r.result.calls.reduce((s, c) => s + c.costUsd, 0) + localCompute(r.runs.map((x) => x.tier.name), r.result.calls.length);
        t.unknownPrice += r.result.calls.filter((c) => c.priceUnknown).length;
        const passed = r.result.kind === 'ok';
        if (!passed) t.heldForPerson++;
        const gated = step.gate || !passed; // a held output always goes to a person
        const [, approves] = table.acceptance[step.role]?.[step.id]?.[r.tier.name] ?? [0.9, 0.9];
        const approved = !gated || (passed && draw(`${key}:person`) < approves);
        if (revision === 1 && passed) t.passedFirst++;
        if (revision === 1 && passed && approved) t.accepted++;
        if (approved) break;
        previous = r.tier.name; // changes requested: the next revision starts one tier up
      }
    }
  }
  return t;
}

/** In simulation a local call's compute price: LOCAL_COMPUTE_USD_PER_HOUR for the table's latency_ms per call. */
function localCompute(tiersRun: string[], calls: number): number {
  if (real || config.prices.localUsdPerHour === 0) return 0;
  const local = table.tiers.filter((x) => x.provider === 'ollama');
  const perCall = (name: string) => (local.find((l) => l.name === name)?.latency_ms ?? 0) / 3_600_000 * config.prices.localUsdPerHour;
  return tiersRun.length ? perCall(tiersRun[0]!) * Math.max(1, Math.round(calls / tiersRun.length)) : 0;
}

function startIndex(plan: TierPlan, roleId: string, stepId: string): number {
  if (real) return plan.start; // the role file's own start / start_by_template
  const r = table.routing[roleId];
  const wanted = r?.start_by_step[stepId] ?? r?.start;
  const i = plan.tiers.findIndex((x) => x.name === wanted);
  return i === -1 ? plan.start : i;
}

function mixList(): WorkflowTemplate[] {
  const scale = Number(args.scale);
  const list: WorkflowTemplate[] = [];
  for (const [id, count] of Object.entries(table.mix)) {
    const tpl = templates.find((x) => x.id === id);
    if (!tpl) throw new Error(`${tablePath}: mix names template "${id}", which is not in ${config.templatesDir}`);
    for (let i = 0; i < Math.round(count * scale); i++) list.push(tpl);
  }
  if (!real) return list;
  const n = Number(args.workflows ?? 6);
  return Array.from({ length: Math.min(n, list.length) }, (_, i) => list[Math.floor((i * list.length) / n)]!);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const [premium, routed] = [await replay('premium'), await replay('routed')];
const report = {
  mode: real ? `REAL (${realRouter!.describe}; person approvals simulated from ${path.relative(process.cwd(), tablePath)})` : `SIMULATION (fake tiers, acceptance from ${path.relative(process.cwd(), tablePath)})`,
  seed: Number(args.seed), workflows: mixList().length,
  prices: Object.fromEntries(table.tiers.map((x) => [`${x.name} (${x.provider}/${x.model})`, priceCall(x.provider, x.model, 1_000_000, 1_000_000).known ? `$${priceCall(x.provider, x.model, 1_000_000, 0).costUsd}/$${priceCall(x.provider, x.model, 0, 1_000_000).costUsd} per M in/out` : 'PRICE UNKNOWN'])),
  premium, routed,
  costCut: premium.costUsd > 0 ? 1 - routed.costUsd / premium.costUsd : null,
};
if (args.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`bench:cost — ${report.mode}, seed ${report.seed}, ${report.workflows} workflows`);
  for (const [tier, price] of Object.entries(report.prices)) console.log(`  price ${tier}: ${price}`);
  console.log('policy        steps  accepted 1st rev  passed checks 1st  revisions  escalations  held  cost USD   runs by tier');
  for (const [name, x] of [['all-premium', premium], ['routed', routed]] as const) {
    console.log(`${name.padEnd(13)} ${String(x.steps).padStart(5)}  ${pct(x.accepted / x.steps).padStart(16)}  ${pct(x.passedFirst / x.steps).padStart(17)}  ${String(x.revisions).padStart(9)}  ${String(x.escalations).padStart(11)}  ${String(x.heldForPerson).padStart(4)}  ${x.costUsd.toFixed(4).padStart(9)}  ${Object.entries(x.runsByTier).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  if (report.costCut !== null) console.log(`routed vs all-premium: ${report.costCut >= 0 ? '−' : '+'}${pct(Math.abs(report.costCut))} cost, acceptance ${pct(routed.accepted / routed.steps)} vs ${pct(premium.accepted / premium.steps)}`);
  if (premium.unknownPrice + routed.unknownPrice > 0) console.log(`WARNING: ${premium.unknownPrice + routed.unknownPrice} call(s) had no known price (counted as $0): set LLM_PRICES`);
}
