import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRoles } from '../../agents/roles';
import type { ChatRequest, LlmProvider } from '../../agents/llm/provider';
import { NO_INTENT, RECOMMENDED_LLM_THRESHOLD, trainClassifier } from '../../orchestrator/intent/classifier';
import { classifyWithLlm, IntentLlmError } from '../../orchestrator/intent/llm';
import { loadTemplates, TEMPLATES_DIR } from '../../orchestrator/templates';
import { plannerFrom } from '../../app/planner';
import { detectLanguage } from '../../orchestrator/intent/language';
import { assembleFromCapabilities } from '../../orchestrator/planning';
import { requestCue, socialFrame, symptom } from '../../orchestrator/intent/cues';

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

// The planner as users get it (templates + small talk, no model): issue 13's patterns, end to end.
describe('issue 13 patterns, through the same decision intake uses', () => {
  const roleFiles = loadRoles(path.resolve(import.meta.dirname, '../../roles'));
  const planner = plannerFrom({ templates, roles: () => [...roleFiles.values()], minConfidence: RECOMMENDED_LLM_THRESHOLD });
  const outcome = async (text: string) => {
    const d = await planner.decide(text);
    return d.kind === 'plan' ? (d.plan.templateId === 'assembled' ? 'assembled' : `template:${d.plan.templateId}`) : d.kind;
  };

  it.each([
    // what is asked outweighs what it is about
    ['requirements for role based permissions in the admin area', 'template:requirements_only'],
    ['fix the broken login', 'template:bug_triage'],
    ['the export crashes with an error since the regression last week', 'template:bug_triage'],
    ['assess the risks of the new login page', 'template:architecture_review'],
    ['review the design of the billing service', 'template:architecture_review'],
    ['stories and acceptance criteria for the login page', 'template:requirements_only'],
    ['test cases for the login page', 'template:test_plan'],
    ['a test matrix for the login page', 'template:test_plan'],
    ['progress on the login page', 'template:status_report'],
    ['status update on the login page', 'template:status_report'],
    // short jargon and pasted logs
    ['arch review for ledger svc', 'template:architecture_review'],
    ['Traceback (most recent call last):\n  File "/srv/app/orders.py", line 41, in total\n    return row["amount"]\nKeyError: \'amount\'', 'template:bug_triage'],
    ['java.lang.IllegalArgumentException: id must not be null\n\tat com.acme.Orders.find(Orders.java:12)', 'template:bug_triage'],
    // non-English
    ['¿Puedes revisar la arquitectura del nuevo servicio de pagos?', 'template:architecture_review'],
    ['Die App stürzt beim Speichern ab', 'template:bug_triage'],
    ['Quels cas de test pour le paiement ?', 'template:test_plan'],
    ['Preciso das histórias de usuário para o portal', 'template:requirements_only'],
  ])('%j -> %s', async (text, expected) => {
    expect(await outcome(text)).toBe(expected);
  });

  it.each(['the test plan you wrote last week was great, thanks!', 'testing 1 2 3', 'thanks!', 'hi', 'good morning team', 'are you a bot?', 'Danke!', '¡Gracias!'])(
    'small talk starts nothing at once: %j',
    async (text) => {
      expect(['none', 'clarify']).toContain(await outcome(text));
    },
  );

  it('a vague request gets a question with two or three likely workflows, never a plan from one word', async () => {
    const d = await planner.decide('checkout');
    expect(d.kind).toBe('clarify');
    if (d.kind !== 'clarify') return;
    expect(d.candidates.length).toBeGreaterThanOrEqual(2);
    expect(d.candidates.length).toBeLessThanOrEqual(3);
    for (const c of d.candidates) expect(templates.map((t) => t.id)).toContain(c);
  });

  it('assembled plans need two or more capability hits', () => {
    const roles = [...roleFiles.values()];
    expect(assembleFromCapabilities(roles, 'we need wireframes')).toBeUndefined(); // no capability named
    expect(assembleFromCapabilities(roles, 'summary please')).toBeUndefined(); // one hit
    expect(assembleFromCapabilities(roles, 'architecture and api design notes')?.steps.map((s) => s.roleId)).toEqual(['technical_architect']);
  });

  it('detects the requester\'s language, and keeps short English jargon English', () => {
    expect(detectLanguage('¿Puedes revisar la arquitectura del nuevo servicio de pagos?')).toBe('es');
    expect(detectLanguage('Wie ist der Stand beim Cloud-Umzug?')).toBe('de');
    expect(detectLanguage('Où en est le projet de refonte ?')).toBe('fr');
    expect(detectLanguage('Qual é o status do projeto de migração?')).toBe('pt');
    expect(detectLanguage('arch review for ledger svc')).toBe('en');
    expect(detectLanguage('👍')).toBeUndefined();
  });

  it('accepted examples teach the classifier', async () => {
    const learner = plannerFrom({ templates, roles: () => [...roleFiles.values()], minConfidence: RECOMMENDED_LLM_THRESHOLD });
    expect(await (async () => (await learner.decide('zorblax frobnication wibble')).kind)()).toBe('none');
    learner.retrain([{ text: 'zorblax frobnication wibble', label: 'test_plan' }]);
    const d = await learner.decide('zorblax frobnication wibble');
    expect(d.kind === 'plan' && d.plan.templateId).toBe('test_plan');
  });
});

// The cues of orchestrator/intent/cues.ts (examples written for these tests; none is in bench/intents/extended.jsonl).
describe('cues: social frame, request, symptom', () => {
  it.each([
    ['really liked the risk register you drafted, kudos', 'kudos'],
    ['the sprint demo was super smooth', 'was super smooth'],
    ['lmao the staging banner still says 2019', 'lmao'],
    ['Die Abnahmekriterien waren echt klasse', 'waren echt klasse'],
    ['jajaja qué semana', 'jajaja'],
    ["L'analyse des risques était nickel", 'était nickel'],
    ['A estimativa ficou show', 'ficou show'],
    ['zero crashes since tuesday', 'zero crashes'],
    ['Keine Abstürze mehr seit Montag', 'Keine Abstürze'],
  ])('social frame in %j', (text, phrase) => {
    expect(socialFrame(text)?.toLowerCase()).toBe(phrase.toLowerCase());
  });

  it.each(['we need a rollback plan for the cutover', 'the warehouse sync crashes at midnight', 'write the release notes for 4.2', 'Schreib bitte die Testfälle'])(
    'no social frame in %j',
    (text) => expect(socialFrame(text)).toBeUndefined(),
  );

  it.each([
    ['great job! could you draft the onboarding stories next', 'could you'],
    ['thanks, now the regression checklist for ios', 'now the'],
    ['nice. review the cache invalidation approach', 'review'],
    ['how did the vendor migration go', 'how'],
    ['Merci ! Il faudrait aussi la revue du module de paie', 'il faudrait'],
    ['Valeu! Precisamos do relatório da sprint', 'precisamos'],
  ])('request in %j', (text, phrase) => {
    expect(requestCue(text)?.toLowerCase()).toBe(phrase);
  });

  it.each(['loved the retro board', 'haha classic friday deploy', 'the design doc was gold'])('no request in %j', (text) => expect(requestCue(text)).toBeUndefined());

  it('a question mark alone is a request (and a non-empty cue)', () => {
    expect(requestCue('great job all, the ios numbers for q3?')).toBe('?');
  });

  it.each([
    ['the font picker does not remember my choice', 'does not remember'],
    ['uploads stopped working after the cdn switch', 'stopped working'],
    ['the tooltip keeps flickering on hover', 'keeps flickering'],
    ['the order page still shows the cancelled status', 'still shows'],
    ['the share link opens the login page instead of the document', 'opens the login page instead of'],
    ['the welcome email was sent twice to every trial user', 'sent twice'],
    ['totals on the summary tab are wrong after filtering', 'are wrong'],
    ['Die Sortierung wird nach dem Export nicht übernommen', 'nicht übernommen'],
    ['El botón de guardar no hace nada en el formulario de alta', 'no hace nada'],
    ["L'export PDF ne s'ouvre pas sur Mac", "ne s'ouvre pas"],
    ['O upload de anexos parou de funcionar', 'parou de'],
  ])('symptom in %j', (text, phrase) => {
    expect(symptom(text)?.toLowerCase()).toBe(phrase.toLowerCase());
  });

  it.each([
    'the importer does not crash anymore', // a negated failure is a fix, not a symptom
    'Nenhuma falha desde a atualização',
    'plan how we verify no invoices are lost during the cutover', // a condition to check
    'the exporter should not include archived rows', // a requirement
    'we never load tested the api', // "load" is a noun here
    'I don\'t know which database to pick',
    "can we display initials instead of the avatar", // a feature: nothing "shows" wrongly
    'Conviene usar eventos en vez de llamadas síncronas',
    'Lohnt es sich, statt REST auf gRPC zu setzen?', // "statt" names an alternative, not a wrong result
  ])('no symptom in %j', (text) => expect(symptom(text)).toBeUndefined());

  it('reads at most 4,000 characters, in linear time', () => {
    const long = 'a'.repeat(100_000);
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) [socialFrame, requestCue, symptom].forEach((f) => f(long));
    expect(symptom('x '.repeat(2_100) + "it doesn't save")).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(5_000); // generous: a catastrophic pattern would take minutes
  });
});

describe('issue 13 follow-up: small talk by its frame, bugs by their symptom, end to end', () => {
  const roleFiles = loadRoles(path.resolve(import.meta.dirname, '../../roles'));
  const planner = plannerFrom({ templates, roles: () => [...roleFiles.values()], minConfidence: RECOMMENDED_LLM_THRESHOLD });
  const outcome = async (text: string) => {
    const d = await planner.decide(text);
    return d.kind === 'plan' ? (d.plan.templateId === 'assembled' ? 'assembled' : `template:${d.plan.templateId}`) : d.kind;
  };

  it.each([
    // praise for an artifact, in five languages
    'superb job on the acceptance criteria for the voucher epic',
    'the test matrix for the tablet app was spot on 👏',
    'Die Architekturbewertung letzte Woche war super, danke',
    'Excelente trabajo con el informe de estado del lunes',
    "Bravo pour l'analyse des risques, c'était nickel",
    'Mandou bem no plano de testes da versão 3',
    // chatter with a work word
    'lol that deadlock bug on friday was something else',
    'the outage postmortem was hilarious tbh',
    // a fix reported
    'zero errors in the logs since the patch 🎉',
  ])('starts nothing: %j', async (text) => {
    expect(await outcome(text)).toBe('none');
    const d = await planner.decide(text);
    expect(d.kind === 'none' && d.intent.reason).toMatch(/small talk/);
  });

  it.each([
    // symptoms with no bug word, in five languages
    ['the font picker does not remember my choice after a reload', 'template:bug_triage'],
    ['the tooltip keeps flickering on hover in the chart view', 'template:bug_triage'],
    ['the share link opens the login page instead of the document', 'template:bug_triage'],
    ['Die Sortierung wird nach dem Export nicht übernommen', 'template:bug_triage'],
    ['El botón de guardar no hace nada en el formulario de alta', 'template:bug_triage'],
    ["L'export PDF ne s'ouvre plus sur Mac depuis la mise à jour", 'template:bug_triage'],
    ['O upload de anexos parou de funcionar no Chrome', 'template:bug_triage'],
    // praise or thanks around a request or a symptom: the request wins
    ['thanks for the stories! could you now write the test cases for the voucher flow', 'template:test_plan'],
    ['great job yesterday. the sync still fails for accounts with 2fa', 'template:bug_triage'],
    ['cheers! please put together acceptance criteria for the voucher refunds', 'template:requirements_only'],
    ['great job all, where are we on the ios release?', 'template:status_report'], // a question is a request
  ])('%j -> %s', async (text, expected) => {
    expect(await outcome(text)).toBe(expected);
  });

  it('says which symptom it read', async () => {
    const d = await planner.decide('the font picker does not remember my choice after a reload');
    expect(d.kind === 'plan' && d.plan.intent.reason).toContain('a symptom ("does not remember")');
  });
});
