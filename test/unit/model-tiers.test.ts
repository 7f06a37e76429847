// Model tiers (agents/llm/routing.ts) with the real agent runner and fake providers: where a step starts, escalation
// on each trigger (failed constraints, the judge's rejection, a person's request for changes), the ceiling; prices
// (agents/llm/pricing.ts: the price package, overrides, local compute, unknown prices flagged, tokens counted when a
// provider reports none); recommendations and acceptance from fixed data (agents/llm/evidence.ts).
import { describe, expect, it } from 'vitest';
import { instanceOf } from '../../agents/llm/demo';
import { recommend, tierStats, type RoutedRun, type ShadowPair } from '../../agents/llm/evidence';
import { measuredCall } from '../../agents/llm/measure';
import { parsePriceOverrides, priceCall } from '../../agents/llm/pricing';
import type { ChatRequest, LlmProvider } from '../../agents/llm/provider';
import { DEFAULT_RETRY, type LlmRouter } from '../../agents/llm/router';
import { planTiers, runTiered, startFor, tiersOf } from '../../agents/llm/routing';
import { parseRoleFile } from '../../agents/roles';
import { loadConfig } from '../../app/config';

const roleYaml = (extra: string, judge = false) => `role_id: tester
persona: { display_name: Tester, icon_emoji: ":mag:", style: Brief. }
capabilities: [bug_triage]
instructions: Triage the bug report and say what fails and why.
constraints:
  forbidden_topics:
    - id: blame
      description: blaming a named person for the bug
      patterns: ['\\bblame\\b']
  required_outputs:
    - name: triage
      description: The triage.
      schema: { type: object, required: [severity], properties: { severity: { type: string } } }
  max_retries: 2
  model_judge: ${judge}
llm_config: { provider: openai, model: gpt-4o-mini }
${extra}`;

const TIERS = `models:
  tiers:
    - { name: local, provider: ollama, model: "llama3.1:8b" }
    - { name: standard, provider: openai, model: gpt-4o-mini }
    - { name: premium, provider: openai, model: gpt-4.1 }
  start_by_template: { incident: standard }
`;

type Behaviour = 'valid' | 'invalid' | 'judge_rejects';

/** A provider per name whose answers depend on the model: valid JSON, invalid JSON, or valid but the judge objects. */
function fakes(byModel: Record<string, Behaviour>) {
  const calls: { provider: string; model: string; judge: boolean }[] = [];
  const provider = (name: string): LlmProvider => ({
    name,
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: true },
    async complete(req: ChatRequest) {
      const judge = req.responseSchema?.name === 'topic_review';
      calls.push({ provider: name, model: req.model, judge });
      const b = byModel[req.model] ?? 'valid';
      if (judge) return { text: JSON.stringify({ violations: b === 'judge_rejects' ? [{ topic_id: 'blame', reason: 'names a culprit' }] : [] }), model: req.model, promptTokens: 10, completionTokens: 5 };
      const text = b === 'invalid' ? 'not json at all' : JSON.stringify(instanceOf(req.responseSchema!.schema, () => 'high'));
      return { text, model: req.model, promptTokens: 100, completionTokens: 50 };
    },
  });
  const providers = new Map([['openai', provider('openai')], ['ollama', provider('ollama')]]);
  const router: LlmRouter = {
    describe: 'fake', providers,
    forRole: (role) => ({ provider: providers.get(role.llm_config.provider)!, model: role.llm_config.model, temperature: role.llm_config.temperature, retry: DEFAULT_RETRY }),
  };
  return { router, calls };
}

const ctx = { request: 'the login page crashes', previous: [], threadNotes: [], mayAsk: false };
const all = () => true;

describe('where a step starts', () => {
  it('a role without tiers has one, its llm_config model', () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(''));
    expect(tiersOf(role)).toEqual([{ name: 'default', provider: 'openai', model: 'gpt-4o-mini', temperature: 0.3 }]);
    expect(planTiers(role, 'bug', all)).toMatchObject({ start: 0, tiers: [{ name: 'default' }] });
  });

  it('starts on the cheapest tier, or the template\'s, and skips tiers whose provider is not configured', () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(TIERS));
    const plan = planTiers(role, 'bug', all);
    expect(plan.tiers.map((t) => t.name)).toEqual(['local', 'standard', 'premium']);
    expect(plan.tiers[plan.start]!.name).toBe('local');
    const incident = planTiers(role, 'incident', all);
    expect(incident.tiers[incident.start]!.name).toBe('standard');
    const noOllama = planTiers(role, 'bug', (p) => p === 'openai');
    expect(noOllama.tiers.map((t) => t.name)).toEqual(['standard', 'premium']);
    expect(noOllama.start).toBe(0);
  });

  it('refuses tiers that name unknown tiers or start above the ceiling', () => {
    expect(() => parseRoleFile('/r/tester.yaml', roleYaml(`${TIERS}  ceiling: huge\n`))).toThrow(/ceiling: names tier "huge"/);
    expect(() => parseRoleFile('/r/tester.yaml', roleYaml(`${TIERS}  ceiling: local\n`))).toThrow(/starts above the ceiling/);
  });
});

describe('escalation', () => {
  it('moves up one tier when the output fails its constraints, and records why', async () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(TIERS));
    const { router, calls } = fakes({ 'llama3.1:8b': 'invalid' });
    const told: string[] = [];
    const r = await runTiered(role, router, ctx, planTiers(role, 'bug', all), 0, undefined, { onEscalate: (e) => void told.push(`${e.from}->${e.to}`) });
    expect(r.result.kind).toBe('ok');
    expect(r.tier.name).toBe('standard');
    expect(r.escalations).toEqual([expect.objectContaining({ from: 'local', to: 'standard', reason: 'constraints' })]);
    expect(told).toEqual(['local->standard']);
    // below the ceiling a tier gets no retries (retries_below_ceiling: 0): one local call, then standard
    expect(calls.filter((c) => !c.judge).map((c) => c.model)).toEqual(['llama3.1:8b', 'gpt-4o-mini']);
    expect(r.runs.map((x) => [x.tier.name, x.outcome])).toEqual([['local', 'failed'], ['standard', 'passed']]);
    expect(r.result.calls).toHaveLength(2); // both tiers' calls are in the trace
  });

  it('moves up when the model judge rejects the output, with reason judge', async () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(TIERS, true));
    const { router } = fakes({ 'llama3.1:8b': 'judge_rejects' });
    const r = await runTiered(role, router, ctx, planTiers(role, 'bug', all), 0);
    expect(r.escalations).toEqual([expect.objectContaining({ from: 'local', to: 'standard', reason: 'judge' })]);
    expect(r.escalations[0]!.detail).toContain('(model judge)');
    expect(r.result.kind).toBe('ok');
  });

  it('a revision a person sent back starts one tier above the one that produced it', () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(TIERS));
    const plan = planTiers(role, 'bug', all);
    expect(startFor(plan, undefined)).toEqual({ index: 0 });
    expect(startFor(plan, 'local')).toEqual({ index: 1, escalation: expect.objectContaining({ from: 'local', to: 'standard', reason: 'changes_requested' }) });
    expect(startFor(plan, 'premium')).toEqual({ index: 2 }); // already at the top: stays, no escalation
  });

  it('never goes past the ceiling: the ceiling tier gets the role\'s retries and then a person decides', async () => {
    const role = parseRoleFile('/r/tester.yaml', roleYaml(`${TIERS}  ceiling: standard\n`));
    const { router, calls } = fakes({ 'llama3.1:8b': 'invalid', 'gpt-4o-mini': 'invalid', 'gpt-4.1': 'valid' });
    const plan = planTiers(role, 'bug', all);
    expect(plan.tiers.map((t) => t.name)).toEqual(['local', 'standard']);
    const r = await runTiered(role, router, ctx, plan, 0);
    expect(r.result.kind).toBe('escalate');
    expect(r.tier.name).toBe('standard');
    expect(calls.some((c) => c.model === 'gpt-4.1')).toBe(false);
    expect(calls.filter((c) => c.model === 'gpt-4o-mini')).toHaveLength(3); // 1 + max_retries 2
    expect(startFor(plan, 'standard')).toEqual({ index: 1 }); // changes requested at the ceiling: stays there
  });
});

describe('prices', () => {
  const none = { overrides: {}, localUsdPerHour: 0 };
  it('come from the price package, with overrides first, local compute by the hour, and unknown ones flagged', () => {
    expect(priceCall('openai', 'gpt-4o-mini', 1_000_000, 1_000_000, 0, none)).toMatchObject({ known: true, source: 'package', costUsd: expect.closeTo(0.75, 5) });
    expect(priceCall('openai', 'gpt-4o-mini', 1_000_000, 0, 0, { ...none, overrides: { 'gpt-4o-mini': { input: 1, output: 2 } } })).toMatchObject({ source: 'override', costUsd: 1 });
    expect(priceCall('ollama', 'llama3.1:8b', 5_000, 5_000, 0, none)).toEqual({ known: true, source: 'local', costUsd: 0 });
    expect(priceCall('ollama', 'llama3.1:8b', 5_000, 5_000, 1_800_000, { ...none, localUsdPerHour: 2 })).toMatchObject({ costUsd: 1 });
    expect(priceCall('openai', 'our-finetune-v7', 1000, 1000, 0, none)).toEqual({ known: false, source: 'unknown', costUsd: 0 });
  });

  it('LLM_PRICES is parsed once with the configuration, and a bad entry is named', () => {
    expect(parsePriceOverrides('gpt-4o-mini=0.15/0.6, groq/llama-3.1-8b=0.05/0.08')).toEqual({ 'gpt-4o-mini': { input: 0.15, output: 0.6 }, 'groq/llama-3.1-8b': { input: 0.05, output: 0.08 } });
    expect(loadConfig({ LLM_PRICES: 'x=1/2', LOCAL_COMPUTE_USD_PER_HOUR: '0.5', MODEL_SHADOW_SAMPLE: '0.1' })).toMatchObject({ prices: { overrides: { x: { input: 1, output: 2 } }, localUsdPerHour: 0.5 }, tiers: { shadowSample: 0.1, minSamples: 20 } });
    expect(() => loadConfig({ LLM_PRICES: 'gpt-4o=cheap' })).toThrow(/LLM_PRICES: "gpt-4o=cheap" is not model=input\/output/);
  });

  it('marks a call to a model without a price, and counts tokens with a tokenizer when the provider reports none', async () => {
    const silent: LlmProvider = { name: 'openai', capabilities: { tools: false, images: false, structuredOutput: true, reasoning: true }, complete: async (req) => ({ text: 'three little words', model: req.model, promptTokens: 0, completionTokens: 0 }) };
    const m = await measuredCall(silent, { model: 'our-finetune-v7', temperature: 0, system: 'You are a tester.', user: 'Hello there' });
    expect(m.record).toMatchObject({ priceUnknown: true, costUsd: 0, ok: true });
    expect(m.record.promptTokens).toBeGreaterThan(2);
    expect(m.record.completionTokens).toBe(3);
  });
});

describe('evidence', () => {
  const pair = (candidatePassed: boolean, basePassed: boolean, over: Partial<ShadowPair> = {}): ShadowPair =>
    ({ roleId: 'qa_tester', template: 'bug_triage', candidate: 'local', base: 'standard', candidatePassed, basePassed, candidateCostUsd: 0.0039, baseCostUsd: 0.01, ...over });

  it('recommends from shadow pairs with the sample size, and says "not enough data" below the threshold', () => {
    const pairs = [
      ...Array.from({ length: 47 }, () => pair(true, true)), pair(false, true), pair(true, false), pair(false, false),
      ...Array.from({ length: 5 }, () => pair(false, true, { roleId: 'developer', template: 'feature' })),
    ];
    const [qa, dev] = recommend(pairs, { minSamples: 20, roleName: (id) => (id === 'qa_tester' ? 'QA Tester' : id), templateName: (t) => t.replace('_', ' ') });
    expect(qa).toMatchObject({ n: 50, verdict: 'move_down', candidateAcceptance: 0.96, baseAcceptance: 0.96 });
    expect(qa!.costChange).toBeCloseTo(-0.61, 5);
    expect(qa!.text).toBe('QA Tester on local for bug triage: 96% acceptance vs 96% on standard, −61% cost (n=50): consider starting on local');
    expect(dev).toMatchObject({ n: 5, verdict: 'not_enough_data' });
    expect(dev!.text).toContain('not enough data (n=5, needs 20)');
    const worse = recommend(Array.from({ length: 30 }, (_, i) => pair(i < 20, true)), { minSamples: 20 });
    expect(worse[0]).toMatchObject({ verdict: 'keep', candidateAcceptance: 20 / 30, baseAcceptance: 1 });
  });

  it('acceptance per role, template and tier: passed checks, approved without changes, open gates left out', () => {
    const run = (outcome: string, approval: RoutedRun['approval'], costUsd = 0.01): RoutedRun => ({ roleId: 'qa_tester', template: 'bug_triage', tier: 'standard', outcome, approval, costUsd, priceUnknown: false });
    const [s] = tierStats([run('passed', null), run('passed', 'approved'), run('passed', 'changes_requested'), run('passed', 'pending'), run('failed', null), run('error', null, 0)]);
    expect(s).toMatchObject({ runs: 6, passed: 4 / 5, decided: 2, approved: 0.5, acceptance: 2 / 4 });
    expect(s!.costUsd).toBeCloseTo(0.05, 9);
  });
});
