import { describe, expect, it } from 'vitest';
import { chunk, toSlack } from '../../bot/slack/blocks';
import { jobId } from '../../orchestrator/jobs';
import { costUsd } from '../../agents/llm/pricing';
import { userPrompt } from '../../agents/prompt';
import { demoProvider, DEMO_NOTICE } from '../../agents/llm/demo';
import { planView } from '../../orchestrator/views';

describe('Slack rendering', () => {
  it('renders text, context and buttons as Block Kit', () => {
    const m = toSlack({ text: 'hello', context: 'small', actions: [{ id: 'approve', label: 'Approve', value: 'a1', style: 'primary' }] });
    expect(m.text).toBe('hello');
    expect(m.blocks).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: 'hello' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'small' }] },
      { type: 'actions', block_id: 'rolecall_actions', elements: [{ type: 'button', action_id: 'approve', value: 'a1', text: { type: 'plain_text', text: 'Approve' }, style: 'primary' }] },
    ]);
  });

  it('splits long text into section blocks within the limit, preferring line breaks', () => {
    const text = Array.from({ length: 200 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n');
    const pieces = chunk(text, 2900);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.every((p) => p.length <= 2900)).toBe(true);
    expect(pieces.join('\n')).toBe(text);
    expect(chunk('y'.repeat(7000), 2900).map((p) => p.length)).toEqual([2900, 2900, 1200]);
  });
});

describe('job ids', () => {
  it('are deterministic and free of colons', () => {
    const message = { platform: 'slack' as const, teamId: 'T', channelId: 'C1', threadTs: '1.2', messageTs: '1.3', userId: 'U', text: 'x', mentioned: true };
    expect(jobId({ kind: 'intake', message })).toBe('intake-slack-C1-1.3');
    expect(jobId({ kind: 'step', stepId: 's', revision: 2, run: 1 })).toBe('step-s-r2-n1');
    expect(jobId({ kind: 'decision', approvalId: 'a' })).toBe('decision-a');
  });
});

describe('pricing', () => {
  it('prices known OpenAI models per million tokens and local models at zero', () => {
    expect(costUsd('openai', 'gpt-4o-mini', 1_000_000, 1_000_000)).toBeCloseTo(0.75);
    expect(costUsd('openai', 'gpt-4o-2024-08-06', 1_000_000, 0)).toBeCloseTo(2.5);
    expect(costUsd('ollama', 'llama3.1', 1_000_000, 1_000_000)).toBe(0);
    expect(costUsd('openai', 'unknown-model', 1000, 1000)).toBe(0);
  });
});

describe('prompts', () => {
  it('carries earlier outputs, thread notes and requested changes', () => {
    const p = userPrompt({
      request: 'build  SSO\nlogin',
      previous: [{ roleName: 'Business Analyst', output: 'stories' }],
      threadNotes: [{ userId: 'U1', text: 'Okta too' }],
      revision: { previousOutput: 'draft 1', feedback: 'more detail' },
    });
    expect(p).toBe('Request: build SSO login\n\n## Output of the Business Analyst\nstories\n\n## Notes from people in the thread\n- U1: Okta too\n\n## Your previous draft\ndraft 1\n\n## Changes requested by the reviewer\nmore detail\nRevise your draft to address them.');
  });
});

describe('offline demo model', () => {
  it('is deterministic and says so', async () => {
    const req = { model: 'demo', temperature: 0, system: 'You are the QA Tester, working with a team.', user: 'Request: test the login' };
    const a = await demoProvider().complete(req);
    const b = await demoProvider().complete(req);
    expect(a).toEqual(b);
    expect(a.text).toContain(DEMO_NOTICE);
    expect(a.text).toContain('*QA Tester* (example answer) on "test the login"');
    expect((await demoProvider().complete({ ...req, user: 'Request: other' })).text).not.toBe(a.text);
  });
});

describe('the plan in the requester language', () => {
  const plan = (language?: string) => planView({
    request: 'Bitte prüfe die Architektur', templateName: 'Architecture review', intent: null, language,
    steps: [
      { key: 'a', displayName: 'Technical Architect', gateAfter: true, after: [] },
      { key: 'b', displayName: 'Project Manager', gateAfter: false, after: ['Technical Architect'] },
    ],
  });

  it('speaks German to a German request, English otherwise', () => {
    const de = plan('German');
    expect(de.text).toContain('*Plan: Architecture review* für _Bitte prüfe die Architektur_');
    expect(de.text).toContain('Sprache: Deutsch; die Rollen antworten auf Deutsch.');
    expect(de.text).toContain('_(nach Technical Architect)_');
    expect(de.text).toContain(':vertical_traffic_light: Freigabe');
    expect(de.context).toContain('Jede Rolle schreibt hier');
    const en = plan(undefined);
    expect(en.text).toContain('*Plan: Architecture review* for _');
    expect(en.text).toContain('approval gate');
    expect(en.text).not.toContain('Language:');
    expect(plan('Portuguese').text).toContain('*Plano: Architecture review* para');
  });
});
