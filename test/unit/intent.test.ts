import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRoles } from '../../agents/roles';
import type { ChatRequest, LlmProvider } from '../../agents/llm/provider';
import { NO_INTENT, RECOMMENDED_LLM_THRESHOLD, trainClassifier } from '../../orchestrator/intent/classifier';
import { classifyWithLlm, IntentLlmError } from '../../orchestrator/intent/llm';
import { loadTemplates, TEMPLATES_DIR } from '../../orchestrator/templates';

const templates = loadTemplates(TEMPLATES_DIR, new Set(loadRoles(path.resolve(import.meta.dirname, '../../roles')).keys()));
const clf = trainClassifier(templates);

describe('local intent classifier', () => {
  it.each([
    ['@Rolecall we need a login page with SSO', 'feature_delivery'],
    ['write user stories and acceptance criteria for a gift card program', 'requirements_only'],
    ['please review the architecture of our auth service, any risks?', 'architecture_review'],
    ['the invoice page throws a 500 error since the deploy', 'bug_triage'],
    ['we need a test plan for the new search page', 'test_plan'],
    ['give me a status update on the website relaunch', 'status_report'],
  ])('%s -> %s', (text, intent) => {
    const r = clf.classify(text);
    expect(r.intent).toBe(intent);
    expect(r.source).toBe('local');
    expect(r.confidence).toBeGreaterThanOrEqual(RECOMMENDED_LLM_THRESHOLD);
    expect(r.reason).toContain(`${intent} examples`);
  });

  it('explains what matched', () => {
    expect(clf.classify('we need a login page with SSO').reason).toMatch(/matched .*"login page"/);
  });

  it.each(["what's for lunch", 'asdf qwer zxcv', 'thanks!', '', 'translate this document into french'])('low confidence for unrelated text: %j', (text) => {
    const r = clf.classify(text);
    expect(r.confidence).toBeLessThan(RECOMMENDED_LLM_THRESHOLD);
  });

  it('says no template fits for small talk and gibberish', () => {
    for (const text of ["what's for lunch", 'asdf qwer zxcv', '']) {
      const r = clf.classify(text);
      expect(r.intent).toBe(NO_INTENT);
      expect(r.reason).toMatch(/no template fits/);
    }
  });

  it('is deterministic, also across trainings', () => {
    const again = trainClassifier(templates);
    for (const text of ['we need a login page with SSO', 'the app crashes', "what's for lunch", 'how is the migration going']) {
      expect(clf.classify(text)).toEqual(clf.classify(text));
      expect(again.classify(text)).toEqual(clf.classify(text));
    }
  });

  it('confidence is within 0..1', () => {
    for (const t of templates) for (const ex of t.examples) {
      const c = clf.classify(ex).confidence;
      expect(c).toBeGreaterThanOrEqual(0);
      expect(c).toBeLessThanOrEqual(1);
    }
  });

  it('refuses to train without examples', () => {
    expect(() => trainClassifier([])).toThrow();
  });
});

describe('classifyWithLlm', () => {
  const infos = templates.map(({ id, name, description }) => ({ id, name, description }));
  const provider = (text: string, seen: ChatRequest[] = []): LlmProvider => ({
    name: 'openai',
    capabilities: { tools: false, images: false, structuredOutput: true, reasoning: true },
    async complete(req) {
      seen.push(req);
      return { text, model: 'fake-model', promptTokens: 1, completionTokens: 1 };
    },
  });

  it('returns a valid structured answer with source llm', async () => {
    const seen: ChatRequest[] = [];
    const r = await classifyWithLlm(provider(JSON.stringify({ intent: 'bug_triage', confidence: 0.8, reason: 'a defect report' }), seen), 'm', 'it broke', infos);
    expect(r).toEqual({ intent: 'bug_triage', confidence: 0.8, reason: 'a defect report', source: 'llm' });
    const schema = seen[0]!.responseSchema!.schema as { properties: { intent: { enum: string[] } } };
    expect(schema.properties.intent.enum).toEqual([...infos.map((t) => t.id), 'none']);
    expect(seen[0]!.model).toBe('m');
    expect(seen[0]!.user).toContain('it broke');
  });

  it('accepts "none"', async () => {
    const r = await classifyWithLlm(provider(JSON.stringify({ intent: 'none', confidence: 0.9, reason: 'small talk' })), 'm', 'lunch?', infos);
    expect(r.intent).toBe(NO_INTENT);
  });

  it('rejects an unknown intent with a typed error', async () => {
    const p = provider(JSON.stringify({ intent: 'deploy_to_prod', confidence: 0.9, reason: 'x' }));
    await expect(classifyWithLlm(p, 'm', 'ship it', infos)).rejects.toBeInstanceOf(IntentLlmError);
  });

  it('rejects invalid JSON and out-of-range confidence with a typed error', async () => {
    await expect(classifyWithLlm(provider('{intent: bug'), 'm', 'x', infos)).rejects.toThrow(IntentLlmError);
    const err = await classifyWithLlm(provider(JSON.stringify({ intent: 'test_plan', confidence: 7, reason: 'x' })), 'm', 'x', infos).catch((e) => e);
    expect(err).toBeInstanceOf(IntentLlmError);
    expect((err as IntentLlmError).answer).toContain('"confidence":7');
  });
});

describe('small talk does not start work', () => {
  it.each(['good morning team', "what's for lunch today", 'can you help me', 'hello, anyone there?'])('"%s" stays below the threshold for asking the model', (text) => {
    const c = trainClassifier(loadTemplates(TEMPLATES_DIR, new Set(['business_analyst', 'technical_architect', 'developer', 'qa_tester', 'project_manager'])));
    expect(c.classify(text).confidence).toBeLessThan(RECOMMENDED_LLM_THRESHOLD);
  });
});
