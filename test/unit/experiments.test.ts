// Experiments without a database: definitions (zod), sticky and balanced assignment over 10,000 simulated threads
// (chi-square goodness of fit, deterministic thread keys), the plan variation, and the statistics against reference
// values computed here from the textbook formulas (two-proportion z-test, Mann-Whitney U by counting pairs, the
// fixed-horizon sample size), plus the fixed-horizon rule: no decision before the planned sample size.
import chi2gof from '@stdlib/stats-chi2gof';
import { describe, expect, it } from 'vitest';
import { analyse, type Outcome } from '../../orchestrator/experiments/analysis';
import { readdirSync, readFileSync } from 'node:fs';
import { applyArm, armFor, bucketOf, variantPersona } from '../../orchestrator/experiments/assign';
import { applyTemplateVariation, validateTemplate } from '../../orchestrator/template-store';
import { stepsOf } from '../../orchestrator/planning';
import { ExperimentDefinitionError, loadExperimentFiles, parseExperiment } from '../../orchestrator/experiments/definition';
import { rankComparison, sampleSizeRate, twoProportion } from '../../orchestrator/experiments/stats';
import { themes } from '../../orchestrator/experiments/insights';
import type { Plan } from '../../orchestrator/planning';

const base = `id: gate-test
name: Gate test
eligibility: { templates: [requirements_only] }
primary_metric: completion
guardrails: [satisfaction]
`;
const twoArms = parseExperiment(`${base}arms:\n  - { id: control, weight: 50 }\n  - { id: no_gate, weight: 50, template: { gates: { requirements: false } } }\n`);
// an intent-threshold arm decides the template, so its experiment is limited by channel, not template
const threeArms = parseExperiment(`${base.replace('eligibility: { templates: [requirements_only] }', 'eligibility: { channels: [C1] }')}arms:\n  - { id: control, weight: 50 }\n  - { id: b, weight: 30, role: { id: developer, model: gpt-4.1 } }\n  - { id: c, weight: 20, intent_threshold: 0.5 }\n`);

/** 10,000 simulated threads: deterministic keys, as Slack and Teams make them. */
const threads = Array.from({ length: 10_000 }, (_, i) => `slack:T${i % 7}:C${(i * 7919) % 101}:${1_700_000_000 + i * 37}.${String(i % 1000).padStart(6, '0')}`);

describe('experiment definitions', () => {
  it('validates a definition and the repository\'s experiment files', () => {
    expect(twoArms.arms.map((a) => a.id)).toEqual(['control', 'no_gate']);
    expect(twoArms.design).toMatchObject({ alpha: 0.05, power: 0.8 });
    const files = loadExperimentFiles();
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(f.error, f.file).toBeUndefined();
  });

  it('refuses a varying control, duplicate arms, unknown metrics and unknown keys', () => {
    expect(() => parseExperiment(`${base}arms:\n  - { id: a, intent_threshold: 0.4 }\n  - { id: b }\n`)).toThrow(/control/);
    expect(() => parseExperiment(`${base}arms:\n  - { id: a }\n  - { id: a }\n`)).toThrow(/twice/);
    expect(() => parseExperiment(base.replace('completion', 'vibes') + 'arms:\n  - { id: a }\n  - { id: b }\n')).toThrow(ExperimentDefinitionError);
    expect(() => parseExperiment(`${base}arms:\n  - { id: a }\n  - { id: b, shell: rm }\n`)).toThrow(ExperimentDefinitionError);
    expect(() => parseExperiment('id: [')).toThrow(/not YAML/);
    expect(() => parseExperiment(`${base}arms: []\n`)).toThrow(/arms/);
    expect(() => parseExperiment('x'.repeat(100_001))).toThrow(/100 kB/);
    expect(() => parseExperiment(`${base}arms:\n  - { id: a }\n  - { id: b, intent_threshold: 0.9 }\n`)).toThrow(/channels or workspaces, not templates/);
    expect(() => parseExperiment(`${base}arms:\n  - { id: a }\n  - { id: b, role: { id: developer, icon_url: "http://x.example/a.png" } }\n`)).toThrow(/https/);
  });
});

describe('assignment', () => {
  it('is sticky: the same thread always gets the same arm, in any order, in any process', () => {
    const first = threads.map((t) => armFor(twoArms, t).id);
    const again = [...threads].reverse().map((t) => armFor(twoArms, t).id).reverse();
    expect(again).toEqual(first);
    expect(bucketOf('gate-test', threads[0]!)).toBe(bucketOf('gate-test', threads[0]!));
    // another experiment splits the same threads independently
    const other = threads.map((t) => armFor({ ...twoArms, id: 'other' }, t).id);
    const agree = other.filter((a, i) => a === first[i]).length / threads.length;
    expect(agree).toBeGreaterThan(0.45);
    expect(agree).toBeLessThan(0.55);
  });

  it('is balanced over 10,000 threads (chi-square goodness of fit, 50/50 and 50/30/20)', () => {
    for (const def of [twoArms, threeArms]) {
      const counts = def.arms.map((a) => threads.filter((t) => armFor(def, t).id === a.id).length);
      const total = def.arms.reduce((n, a) => n + a.weight, 0);
      const r = chi2gof(counts, def.arms.map((a) => a.weight / total));
      // 1 or 2 degrees of freedom: well inside the 0.1 % critical values (10.83, 13.82)
      expect(r.statistic, JSON.stringify(counts)).toBeLessThan(def.arms.length === 2 ? 10.83 : 13.82);
      expect(r.pValue).toBeGreaterThan(0.001);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    }
  });

  it('applies an arm\'s template variation to the plan', () => {
    const plan: Plan = {
      templateId: 'requirements_only', templateName: 'Requirements only', needsConfirmation: false,
      intent: { intent: 'requirements_only', confidence: 0.9, reason: 'test', source: 'local' },
      steps: [
        { key: 'requirements', roleId: 'business_analyst', dependsOn: [], gateAfter: true, fallbackRoles: [] },
        { key: 'summary', roleId: 'project_manager', dependsOn: ['requirements'], gateAfter: false, fallbackRoles: [] },
      ],
    };
    expect(applyArm(plan, twoArms.arms[0]!)).toBe(plan);
    expect(applyArm(plan, twoArms.arms[1]!).steps.map((s) => s.gateAfter)).toEqual([false, false]);
    const dropped = applyArm(plan, { id: 'x', weight: 1, template: { drop_steps: ['requirements'] } });
    expect(dropped.steps).toEqual([{ key: 'summary', roleId: 'project_manager', dependsOn: [], gateAfter: false, fallbackRoles: [] }]);
    expect(applyArm(plan, { id: 'x', weight: 1, template: { drop_steps: ['requirements', 'summary'] } })).toBe(plan); // never empty
  });

  it('a winning template variation applied to the template file gives the plan the arm gave (comments kept)', () => {
    const file = readFileSync('orchestrator/templates/feature_delivery.yaml', 'utf8');
    const roleIds = new Set(readdirSync('roles').filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')));
    const template = validateTemplate('feature_delivery', file, roleIds);
    const arm = { id: 'x', weight: 1, template: { gates: { requirements: false, design: false }, drop_steps: ['test_plan'] } };
    const after = applyTemplateVariation(file, arm.template);
    expect(after).toContain('# '); // the file's comments survive
    const rolled = validateTemplate('feature_delivery', after, roleIds);
    const plan: Plan = { templateId: 'feature_delivery', templateName: template.name, needsConfirmation: false, intent: { intent: 'feature_delivery', confidence: 1, reason: '', source: 'local' }, steps: stepsOf(template) };
    expect(stepsOf(rolled)).toEqual(applyArm(plan, arm).steps);
  });

  it('an arm\'s persona (name, avatar) replaces the role\'s on its posts', () => {
    const p = { displayName: 'Business Analyst', iconUrl: 'https://x.example/ba.png' };
    expect(variantPersona(p, { id: 'business_analyst', display_name: 'Exp Analyst' })).toEqual({ displayName: 'Exp Analyst', iconUrl: 'https://x.example/ba.png' });
    expect(variantPersona(p, { id: 'business_analyst', icon_emoji: ':test_tube:' })).toEqual({ displayName: 'Business Analyst', iconEmoji: ':test_tube:' });
    expect(variantPersona(p, { id: 'business_analyst', instructions: 'x' })).toEqual(p);
  });
});

describe('analysis against reference computations', () => {
  it('two-proportion z-test: 40/100 vs 55/100', () => {
    const r = twoProportion(40, 100, 55, 100);
    // reference, by hand: pooled p = 95/200; z = (0.55 - 0.40) / sqrt(p (1 - p) (1/100 + 1/100)); Wald CI of the difference
    const p = 95 / 200;
    const z = 0.15 / Math.sqrt(p * (1 - p) * (2 / 100));
    const se = Math.sqrt((0.4 * 0.6) / 100 + (0.55 * 0.45) / 100);
    expect(r.statistic).toBeCloseTo(z, 10);
    expect(z).toBeCloseTo(2.1240, 4);
    expect(r.pValue).toBeCloseTo(0.0337, 4); // 2 (1 - Phi(2.1240)), normal table
    expect(r.diff).toBeCloseTo(0.15, 10);
    expect(r.ci![0]).toBeCloseTo(0.15 - 1.959964 * se, 5);
    expect(r.ci![1]).toBeCloseTo(0.15 + 1.959964 * se, 5);
  });

  it('Mann-Whitney U: two small samples without ties', () => {
    const a = [1.1, 2.3, 3.5, 4.2, 5.0];
    const b = [3.9, 6.1, 7.4, 8.8, 9.2, 10.5];
    // reference: U = pairs where b > a; z = (U - n1 n2 / 2) / sqrt(n1 n2 (n1 + n2 + 1) / 12)
    const U = b.reduce((n, y) => n + a.filter((x) => y > x).length, 0);
    expect(U).toBe(28);
    const z = (U - 15) / Math.sqrt((5 * 6 * 12) / 12);
    const r = rankComparison(a, b);
    expect(r.statistic).toBeCloseTo(z * z, 8); // two-group Kruskal-Wallis H = z^2
    expect(r.pValue).toBeCloseTo(0.0176, 4); // 2 (1 - Phi(2.3735))
    expect(r.diff).toBeCloseTo(8.1 - 3.5, 10); // median(b) - median(a)
    expect(r.ci![0]).toBeLessThanOrEqual(r.diff!);
    expect(r.ci![1]).toBeGreaterThanOrEqual(r.diff!);
    expect(rankComparison(a, b)).toEqual(r); // seeded bootstrap: reproducible
  });

  it('fixed-horizon sample size: 50 % → 60 %, alpha 0.05, power 0.8', () => {
    const n = (1.959964 * Math.sqrt(2 * 0.55 * 0.45) + 0.841621 * Math.sqrt(0.5 * 0.5 + 0.6 * 0.4)) ** 2 / 0.1 ** 2;
    expect(sampleSizeRate(0.5, 0.1)).toBe(Math.ceil(n));
    expect(Math.ceil(n)).toBe(388);
  });

  it('says "not enough data" before the planned sample size, and decides after it', () => {
    const outcomes = (arm: string, n: number, completed: number, satisfied: number): Outcome[] =>
      Array.from({ length: n }, (_, i) => ({ arm, completed: i < completed, approvedUnchanged: null, satisfied: i < satisfied, cost: null, seconds: null }));
    const early = analyse(twoArms, [...outcomes('control', 30, 12, 20), ...outcomes('no_gate', 30, 18, 20)], 100);
    expect(early.enoughData).toBe(false);
    expect(early.stillNeeded).toBe(70);
    expect(early.decision).toBeUndefined();
    expect(early.primary.vsControl[0]!.pValue).not.toBeNull(); // results are shown, the decision waits

    const done = analyse(twoArms, [...outcomes('control', 100, 40, 60), ...outcomes('no_gate', 100, 55, 60)], 100);
    expect(done.enoughData).toBe(true);
    expect(done.decision?.winner).toBe('no_gate');
    // a guard-rail that gets significantly worse keeps the control
    const hurt = analyse(twoArms, [...outcomes('control', 100, 40, 80), ...outcomes('no_gate', 100, 55, 50)], 100);
    expect(hurt.decision?.winner).toBeUndefined();
    expect(hurt.decision?.reason).toMatch(/guard-rail/);
  });

  it('feedback themes: the words repeated across feedback, stop words left out', () => {
    expect(themes(['Please add acceptance criteria', 'missing acceptance criteria for refunds', 'the refunds story is vague']).slice(0, 3))
      .toEqual([{ word: 'acceptance', count: 2 }, { word: 'criteria', count: 2 }, { word: 'refunds', count: 2 }]);
  });
});
