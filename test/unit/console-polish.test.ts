// Console polish (issue 14), the pure parts: chart specs at $0 and with NaN, a step's final status in a rejected or
// cancelled workflow, and the model a role actually answers with (demo model, tier routing over configured providers).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseRoleFile } from '../../agents/roles';
import { finish } from '../../web-admin/analytics/charts';
import { modelInUse } from '../../web-admin/views/model-in-use';
import { finalStepNote, finalStepStatus } from '../../web-admin/views/steps';

const role = (id: string) => parseRoleFile(`roles/${id}.yaml`, readFileSync(`roles/${id}.yaml`, 'utf8'));

describe('chart specs', () => {
  it('say "no spend yet" at $0 instead of drawing bars of zero', () => {
    const spec = finish('cost-role', { type: 'bar', title: 't', labels: ['developer', 'qa_tester'], datasets: [{ label: 'USD', data: [0, 0] }] });
    expect(spec.empty).toMatch(/^No spend yet \(\$0\)/);
    expect(finish('cost-day', { type: 'line', title: 't', labels: [], datasets: [{ label: 'USD', data: [] }] }).empty).toMatch(/No spend yet/);
    expect(finish('cost-role', { type: 'bar', title: 't', labels: ['developer'], datasets: [{ label: 'USD', data: [0.002] }] }).empty).toBeUndefined();
  });

  it('never hand NaN or infinities to a chart', () => {
    const spec = finish('intervention', { type: 'bar', title: 't', labels: ['a', 'b', 'c'], datasets: [{ label: '%', data: [Number.NaN, Number.POSITIVE_INFINITY, 12.5] }] });
    expect(spec.datasets[0]!.data).toEqual([0, 0, 12.5]);
    expect(spec.empty).toBeUndefined(); // 0% of steps needed a person is data, not an empty chart
  });

  it('say why a chart without rows is empty, and a doughnut of no votes too', () => {
    expect(finish('completion', { type: 'doughnut', title: 't', labels: [], datasets: [{ label: 'w', data: [] }] }).empty).toMatch(/Playground/);
    expect(finish('satisfaction', { type: 'doughnut', title: 't', labels: ['up', 'down'], datasets: [{ label: 'votes', data: [0, 0] }] }).empty).toMatch(/No votes yet/);
    expect(finish('satisfaction', { type: 'doughnut', title: 't', labels: ['up', 'down'], datasets: [{ label: 'votes', data: [1, 0] }] }).empty).toBeUndefined();
  });
});

describe('a step\'s final status', () => {
  it('is what became of it once the workflow was rejected or cancelled', () => {
    expect(finalStepStatus('pending', 'rejected')).toBe('skipped');
    expect(finalStepStatus('pending', 'cancelled')).toBe('skipped');
    expect(finalStepStatus('running', 'cancelled')).toBe('cancelled');
    expect(finalStepStatus('waiting_input', 'cancelled')).toBe('cancelled');
    expect(finalStepStatus('awaiting_approval', 'rejected', true)).toBe('rejected');
    expect(finalStepStatus('completed', 'rejected', true)).toBe('rejected');
    expect(finalStepStatus('completed', 'cancelled')).toBe('completed');
    expect(finalStepStatus('failed', 'cancelled')).toBe('failed');
    expect(finalStepNote('skipped', 'pending', 'rejected')).toBe('not run: the workflow was rejected');
    expect(finalStepNote('cancelled', 'running', 'cancelled')).toBe('stopped while running: the workflow was cancelled');
  });

  it('is the stored one while the workflow runs or after it completed', () => {
    for (const wf of ['running', 'awaiting_approval', 'step_failed', 'completed', 'planned'] as const) {
      expect(finalStepStatus('pending', wf)).toBe('pending');
      expect(finalStepStatus('running', wf, true)).toBe('running');
    }
    expect(finalStepNote('pending', 'pending', 'running')).toBe('');
  });
});

describe('the model in use', () => {
  it('is the offline demo model when no provider is configured, whatever the YAML names', () => {
    const ba = role('business_analyst');
    const m = modelInUse(ba, []);
    expect(m).toMatchObject({ label: 'offline demo model', demo: true });
    expect(m.note).toContain(`the YAML names ${ba.llm_config.provider} / ${ba.llm_config.model}`);
  });

  it('is the YAML\'s model when its provider is configured', () => {
    const ba = role('business_analyst');
    expect(modelInUse(ba, [ba.llm_config.provider])).toEqual({ label: `${ba.llm_config.provider} / ${ba.llm_config.model}`, demo: false });
  });

  it('is where the tier router starts: tiers whose provider is not configured are skipped', () => {
    const qa = role('qa_tester'); // tiers local (ollama), standard (openai), premium (openai); starts on local, ceiling standard
    expect(modelInUse(qa, ['ollama', 'openai'])).toMatchObject({ label: 'ollama / llama3.1:8b', note: expect.stringContaining('starts on tier local, up to standard') });
    const openaiOnly = modelInUse(qa, ['openai']);
    expect(openaiOnly.label).toBe('openai / gpt-4o-mini');
    expect(openaiOnly.note).toContain('tier local skipped: provider not configured');
    expect(modelInUse(qa, ['azure'])).toMatchObject({ label: 'none (cannot run)' });
  });
});
