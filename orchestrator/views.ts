// Message views the orchestrator posts. Pure functions: platform rendering happens in bot/.
import { DEMO_NOTICE } from '../agents/llm/demo';
import type { ModelAttempts, ModelRetry } from '../agents/agent';
import type { LlmFailureKind } from '../agents/llm/provider';
import type { Role } from '../agents/roles';
import type { MessageView, Persona } from './chat';
import { buttonValue, type DecideResult } from './contract';
import { LANGUAGE_NAMES, LANGUAGES, type Language } from './intent/language';
import { dateToken, utcStamp } from './markup';

export { utcStamp };

export const ROLECALL_PERSONA: Persona = { displayName: 'Rolecall', iconEmoji: ':robot_face:' };

export const personaOf = (role: Role): Persona => ({
  displayName: role.persona.display_name,
  iconEmoji: role.persona.icon_emoji,
  iconUrl: role.persona.icon_url,
});

export interface PlanStep {
  key: string;
  displayName: string;
  gateAfter: boolean;
  after: string[];
}

export interface PlanInfo {
  request: string;
  templateName: string;
  intent: { intent: string; confidence: number; reason: string; source: string } | null;
  steps: PlanStep[];
  /** Set while the plan waits for a person to confirm it: the plan gets edit buttons. */
  editable?: { workflowId: string };
  /** The requester's language by name when it is not English: the roles answer in it. */
  language?: string;
}

/** The plan's own words in the languages the offline path knows: the requester reads the plan in their language. */
interface PlanWords {
  plan: string; for: string; after: (names: string[]) => string; gate: string; language: (name: string) => string;
  assembled: string; howItWorks: string;
}
const PLAN_WORDS: Record<Language, PlanWords> = {
  en: { plan: 'Plan', for: 'for', after: (n) => `after ${n.join(' and ')}`, gate: 'approval gate', language: (l) => `Language: ${l}; the roles answer in ${l}.`,
    assembled: 'No template fits exactly, so this plan was assembled from the roles\' capabilities. Edit it, then press Run this plan.',
    howItWorks: 'Each role posts here as itself. At a gate, approve, request changes or reject with the buttons.' },
  de: { plan: 'Plan', for: 'für', after: (n) => `nach ${n.join(' und ')}`, gate: 'Freigabe', language: () => 'Sprache: Deutsch; die Rollen antworten auf Deutsch.',
    assembled: 'Keine Vorlage passt genau, daher wurde dieser Plan aus den Fähigkeiten der Rollen zusammengestellt. Bearbeite ihn und drücke dann „Run this plan“.',
    howItWorks: 'Jede Rolle schreibt hier unter eigenem Namen. An einer Freigabe: mit den Knöpfen freigeben, Änderungen anfordern oder ablehnen.' },
  es: { plan: 'Plan', for: 'para', after: (n) => `después de ${n.join(' y ')}`, gate: 'aprobación', language: () => 'Idioma: español; los roles responden en español.',
    assembled: 'Ninguna plantilla encaja exactamente, así que este plan se armó con las capacidades de los roles. Edítalo y pulsa «Run this plan».',
    howItWorks: 'Cada rol publica aquí con su propio nombre. En una aprobación, aprueba, pide cambios o rechaza con los botones.' },
  fr: { plan: 'Plan', for: 'pour', after: (n) => `après ${n.join(' et ')}`, gate: 'validation', language: () => 'Langue : français ; les rôles répondent en français.',
    assembled: 'Aucun modèle ne correspond exactement : ce plan a été composé à partir des compétences des rôles. Modifiez-le, puis appuyez sur « Run this plan ».',
    howItWorks: 'Chaque rôle publie ici sous son propre nom. À une validation, approuvez, demandez des modifications ou refusez avec les boutons.' },
  pt: { plan: 'Plano', for: 'para', after: (n) => `depois de ${n.join(' e ')}`, gate: 'aprovação', language: () => 'Idioma: português; os papéis respondem em português.',
    assembled: 'Nenhum modelo se encaixa exatamente, então este plano foi montado a partir das capacidades dos papéis. Edite-o e pressione "Run this plan".',
    howItWorks: 'Cada papel publica aqui com o próprio nome. Numa aprovação, aprove, peça alterações ou rejeite com os botões.' },
};

/** The language code of a language named by LANGUAGE_NAMES (PlanInfo carries the name), English otherwise. */
const languageOf = (name: string | undefined): Language => (LANGUAGES.find((l) => LANGUAGE_NAMES[l] === name) ?? 'en');

export function planView(plan: PlanInfo): MessageView {
  const w = PLAN_WORDS[languageOf(plan.language)];
  const lines = plan.steps.map((s, i) => {
    const after = s.after.length ? `  _(${w.after(s.after)})_` : '';
    return `${i + 1}. *${s.displayName}*${after}${s.gateAfter ? `  →  :vertical_traffic_light: ${w.gate}` : ''}`;
  });
  const why = plan.language ? `\n_${w.language(plan.language)}_` : '';
  // the classifier's internals (confidence, matched words) stay out of the plan: one "details" line in the small print
  const details = plan.intent ? ` · details: ${plan.intent.intent}, ${Math.round(plan.intent.confidence * 100)}% ${plan.intent.source}; ${truncate(plan.intent.reason, 200)}` : '';
  const view: MessageView = {
    text: `:clipboard: *${w.plan}: ${plan.templateName}* ${w.for} _${truncate(plan.request, 300)}_${why}\n${lines.join('\n')}`,
    context: `${plan.editable ? w.assembled : w.howItWorks}${details}`,
  };
  if (plan.editable) {
    const id = plan.editable.workflowId;
    view.actions = [
      ...plan.steps.map((s) => ({ id: 'plan_drop' as const, label: `Drop ${s.displayName}`, value: buttonValue({ kind: 'plan_step', workflowId: id, stepKey: s.key }) })),
      ...plan.steps.map((s) => ({ id: 'plan_gate' as const, label: `${s.gateAfter ? 'No gate' : 'Gate'} after ${s.displayName}`, value: buttonValue({ kind: 'plan_step', workflowId: id, stepKey: s.key }) })),
      { id: 'plan_confirm', label: 'Run this plan', value: buttonValue({ kind: 'workflow', workflowId: id }), style: 'primary' },
    ];
  }
  return view;
}

/** The answer to the `help` command (Teams' declared command list; any platform may use it). */
export function helpView(): MessageView {
  return {
    text: ':wave: *Rolecall* runs AI roles (Business Analyst, Technical Architect, Developer, QA Tester, Project Manager) on a request, each posting its work here as itself.\n'
      + '• *Start*: write what you need, e.g. _we need a login page with SSO for our customer portal_ (in a channel, mention @Rolecall).\n'
      + '• *Steer*: reply in the thread to add context or answer a role\'s question.\n'
      + '• *Decide*: at a gate, press Approve, Request changes or Reject.',
    context: 'The admin console shows every workflow, its costs and its audit trail.',
  };
}

export function noPlanView(templates: { name: string; description: string }[]): MessageView {
  return {
    text: `:thinking_face: I could not tell which kind of work you need, and no role's capabilities match. I can run:\n${templates.map((t) => `• *${t.name}*: ${t.description}`).join('\n')}\nMention me again with a little more detail.`,
  };
}

export function workingView(role: Role, attempt: number, maxAttempts: number, revision: number): MessageView {
  const rev = revision > 1 ? ` (revision ${revision})` : '';
  return { text: `:hourglass_flowing_sand: *${role.persona.display_name}* is working${rev}…`, context: `attempt ${attempt} of ${maxAttempts}`, working: `is working${rev}…` };
}

export function retryingView(role: Role, attempt: number, maxAttempts: number, error: string): MessageView {
  return { text: `:warning: *${role.persona.display_name}* hit an error and will try again: ${truncate(error, 300)}`, context: `attempt ${attempt} of ${maxAttempts} failed` };
}

const FAILURE_WORDS: Record<LlmFailureKind, string> = {
  rate_limited: 'rate limited', timed_out: 'timed out', server_error: 'server error', unreachable: 'unreachable',
  empty_answer: 'empty answer', rejected: 'rejected',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What a failed model call tried, e.g. "gpt-4o-mini: 3 attempts (rate limited); fallback llama3.1: 1 attempt (timed out)". */
export function modelAttemptsText(tried: ModelAttempts[]): string {
  return tried.map((t) => `${t.fallback ? 'fallback ' : ''}${t.model}: ${plural(t.attempts, 'attempt')} (${FAILURE_WORDS[t.lastError.kind]})`).join('; ');
}

/** A model call failed and will be tried again: on the same model after a wait, or on the fallback model. */
export function modelRetryView(role: Role, r: ModelRetry): MessageView {
  const why = `${FAILURE_WORDS[r.error.kind]}: ${truncate(r.error.message, 200)}`;
  const next = r.next.model !== r.model ? `will try the fallback model ${r.next.model}` : `will try again in ${Math.max(1, Math.round(r.waitMs / 1000))} s`;
  return {
    text: `:warning: *${role.persona.display_name}* hit an error on ${r.model} (${why}) and ${next}.`,
    context: `${r.model}: attempt ${r.attempt} of ${r.maxAttempts} failed`,
  };
}

export function doneView(role: Role, seconds: number): MessageView {
  return { text: `:white_check_mark: *${role.persona.display_name}* finished in ${seconds.toFixed(1)} s.` };
}

export function stoppedView(role: Role): MessageView {
  return { text: `:x: *${role.persona.display_name}* stopped: see below.` };
}

export function outputView(text: string, model: string, escalation: string | null = null): MessageView {
  const held = escalation ? `:warning: *Held for review:* this output broke the role's constraints.\n` : '';
  return { text: `${held}${text}`, context: model === 'demo' ? `model: demo. ${DEMO_NOTICE}` : `model: ${model}` };
}

/** A step's status message once the step is done: its output, with who finished it and how fast in the small print. */
export function stepOutputView(role: Role, text: string, model: string, escalation: string | null, seconds: number): MessageView {
  const view = outputView(text, model, escalation);
  return { ...view, context: `${view.context} · ${role.persona.display_name} finished in ${seconds.toFixed(1)} s` };
}

/** `who`: the people who may decide, as mentions (orchestrator/gate-timers.ts approverMentions), or "" for nobody named. */
export function gateView(role: Role, approvalId: string, escalation: string | null = null, who = ''): MessageView {
  const ask = who ? `${who}: please review` : 'Please review';
  const why = escalation ? `\n:warning: It did not meet its constraints after ${role.constraints.max_retries + 1} tries:\n${escalation.split('\n').map((l) => `• ${truncate(l, 300)}`).join('\n')}\nApprove it anyway, request changes, or reject.` : '';
  return {
    text: `:vertical_traffic_light: ${ask} the *${role.persona.display_name}* output above.${why}`,
    actions: [
      { id: 'approve', label: 'Approve', value: buttonValue({ kind: 'approval', approvalId }), style: 'primary' },
      { id: 'request_changes', label: 'Request changes', value: buttonValue({ kind: 'approval', approvalId }) },
      { id: 'reject', label: 'Reject', value: buttonValue({ kind: 'approval', approvalId }), style: 'danger' },
    ],
  };
}

const DECISION_WORDS = { approved: ':white_check_mark: Approved', changes_requested: ':pencil2: Changes requested', rejected: ':no_entry: Rejected' } as const;

export function decidedGateView(role: Role, decision: keyof typeof DECISION_WORDS, who: string, at: Date, feedback?: string | null): MessageView {
  const fb = feedback ? `\n> ${truncate(feedback, 500).replace(/\n/g, '\n> ')}` : '';
  return {
    text: `${DECISION_WORDS[decision]} by ${who}: *${role.persona.display_name}* output.${fb}`,
    context: `decided ${dateToken(at)}`,
  };
}

/** A new request in a 1:1 chat while a workflow runs there: the writer chooses (orchestrator/pending.ts). */
export function addOrNewView(requestId: string, request: string): MessageView {
  const quoted = truncate(request.replace(/\s+/g, ' ').trim(), 300);
  return {
    text: `:twisted_rightwards_arrows: A workflow is still running in this chat. Add this to the running workflow, or start a new one?\n> ${quoted}`,
    actions: [
      { id: 'request_add', label: 'Add to the running workflow', value: buttonValue({ kind: 'pending_request', requestId }) },
      { id: 'request_new', label: 'Start a new one', value: buttonValue({ kind: 'pending_request', requestId }), style: 'primary' },
    ],
  };
}

/** The choice card once answered: its buttons are gone. */
export function addOrNewAnsweredView(choice: 'added' | 'started', request: string): MessageView {
  const quoted = truncate(request.replace(/\s+/g, ' ').trim(), 300);
  return { text: `${choice === 'added' ? ':heavy_plus_sign: Added to the running workflow' : ':sparkles: Started a new workflow'}:\n> ${quoted}` };
}

/** How long a gate has waited, in words ("3 h", "2 d", "45 min", "20 s"). */
export function waitedText(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** A gate still waiting after approval.remind_after: the people who may decide are called on again. */
export function reminderView(role: Role, who: string, waitedMs: number): MessageView {
  const ask = who ? `${who}: the` : 'The';
  return { text: `:bell: ${ask} *${role.persona.display_name}* output above has waited ${waitedText(waitedMs)} for a decision. Approve, request changes or reject it on the card above.` };
}

/** Nobody decided within approval.expire_after and the policy escalates: the gate stays open. */
export function escalatedView(role: Role, who: string, waitedMs: number): MessageView {
  const ask = who ? `${who}: nobody` : 'Nobody';
  return { text: `:rotating_light: ${ask} has decided on the *${role.persona.display_name}* output in ${waitedText(waitedMs)}. Please decide on the card above; the workflow waits.` };
}

/** The gate card once it expired: its buttons are gone. */
export function expiredGateView(role: Role, waitedMs: number): MessageView {
  return { text: `:hourglass: Expired: no decision on the *${role.persona.display_name}* output within ${waitedText(waitedMs)}.` };
}

/** Nobody decided within approval.expire_after and the policy cancels: the workflow stops. */
export function expiredView(role: Role, who: string, waitedMs: number): MessageView {
  const cc = who ? ` (${who})` : '';
  return {
    text: `:hourglass: *Workflow cancelled.* Nobody decided on the *${role.persona.display_name}* output within ${waitedText(waitedMs)}${cc}. Mention Rolecall with the request again to start over.`,
  };
}

/** `attempts` is null when `error` already says what was tried (the model attempts, see modelAttemptsText). */
export function failedView(role: Role, error: string, stepId: string, attempts: number | null, workflowId: string): MessageView {
  const after = attempts === null ? '' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'}`;
  return {
    text: `:x: *${role.persona.display_name}* could not finish${after}. ${humanError(error)}\nThe workflow is paused; nothing is lost. Retry this step, skip it, or cancel the workflow.`,
    context: `The technical detail is on the workflow's page in the admin console (error id ${stepId}).`,
    actions: [
      { id: 'retry_step', label: 'Retry', value: buttonValue({ kind: 'step', stepId }), style: 'primary' },
      { id: 'skip_step', label: 'Skip', value: buttonValue({ kind: 'step', stepId }) },
      { id: 'cancel_workflow', label: 'Cancel workflow', value: buttonValue({ kind: 'workflow', workflowId }), style: 'danger' },
    ],
  };
}

/** A sentence a person can act on for a failed step; the raw error (provider messages, stack-ish detail) stays in the
 * console, found by the error id (the step id) on the workflow's page. */
export function humanError(error: string): string {
  const e = error.toLowerCase();
  if (/rate.?limit|\b429\b|too many requests/.test(e)) return 'The AI model provider is busy right now (rate limited); retrying in a minute usually works.';
  if (/timed? ?out|timeout|deadline/.test(e)) return 'The AI model took too long to answer.';
  if (/unreachable|econnrefused|enotfound|fetch failed|network/.test(e)) return 'The AI model provider could not be reached.';
  if (/empty answer/.test(e)) return 'The AI model answered with nothing usable.';
  if (/budget|spend|cost limit/.test(e)) return 'This would go over the spending budget set in the admin console.';
  if (/\b(401|403)\b|api key|unauthori[sz]ed|forbidden/.test(e)) return 'The AI model provider refused Rolecall\'s credentials; an admin needs to check the model settings.';
  if (/rejected|\b400\b|content/.test(e)) return 'The AI model provider refused the request.';
  return 'Something went wrong while it worked.';
}

/** Told in the thread when the platform refused one of Rolecall's messages there (the thread itself is reachable). */
export function postRefusedView(kind: string, why: string): MessageView {
  return { text: `:warning: Rolecall could not post a message here (${kind}): ${truncate(why, 300)}. The workflow page in the admin console shows it in full.` };
}

export function skippedView(role: Role, who: string): MessageView {
  return { text: `:fast_forward: *${role.persona.display_name}* step skipped by ${who}.` };
}

export function cancelledView(who: string): MessageView {
  return { text: `:octagonal_sign: Workflow cancelled by ${who}.` };
}

export function handoverView(from: Role, to: Role, error: string): MessageView {
  return { text: `:arrow_right_hook: *${from.persona.display_name}* could not finish (${truncate(error, 200)}); *${to.persona.display_name}* takes this step over.` };
}

export function waitingView(role: Role): MessageView {
  return { text: `:raised_hand: *${role.persona.display_name}* is waiting for an answer in this thread.` };
}

export function questionView(role: Role, question: string): MessageView {
  return { text: `:question: ${truncate(question, 2000)}`, context: `${role.persona.display_name} needs this to go on: reply in this thread.` };
}

export function retriedView(role: Role, who: string): MessageView {
  return { text: `:repeat: *${role.persona.display_name}* step retried by ${who}.` };
}

/** The failed run's status line once a person retried the step: the new run posts its own status below. */
export function retriedStatusView(role: Role, who: string): MessageView {
  return { text: `:repeat: *${role.persona.display_name}* stopped, then ${who} retried it: the new attempt follows below.` };
}

export function rejectionSummaryView(done: string[], rejectedRole: string, notRun: string[], who: string): MessageView {
  const lines = [
    `:no_entry: *Workflow stopped.* ${who} rejected the *${rejectedRole}* output.`,
    done.length ? `Completed: ${done.join(', ')}` : 'Completed: nothing before the rejected step',
    notRun.length ? `Not run: ${notRun.join(', ')}` : '',
  ];
  return { text: lines.filter(Boolean).join('\n') };
}

export function satisfactionView(workflowId: string): MessageView {
  return {
    text: ':checkered_flag: *Workflow complete.* Was this helpful?',
    actions: [
      { id: 'satisfaction_up', label: '👍 Helpful', value: buttonValue({ kind: 'workflow', workflowId }) },
      { id: 'satisfaction_down', label: '👎 Not helpful', value: buttonValue({ kind: 'workflow', workflowId }) },
    ],
  };
}

const DECIDED_WORDS: Record<string, string> = { approved: 'approved', changes_requested: 'sent back for changes', rejected: 'rejected' };

/** What to tell someone whose click did not decide a gate; `decidedBy` is how the platform names who did decide. */
export function notDecidedText(result: Exclude<DecideResult, { won: true }>, decidedBy: string): string {
  if (result.reason === 'unknown') return 'This approval request no longer exists.';
  if (result.reason === 'not_allowed') return result.message;
  if (result.reason === 'vote_recorded') return `Your approval is recorded: ${result.votes} of ${result.needed} approvals needed.`;
  if (result.status === 'expired') return `This approval request expired${result.decidedAt ? ` at ${utcStamp(result.decidedAt)}` : ''}: nobody decided in time, so the workflow was cancelled.`;
  const when = result.decidedAt ? ` at ${utcStamp(result.decidedAt)}` : '';
  return `Already decided: ${DECIDED_WORDS[result.status] ?? result.status} by ${decidedBy}${when}.`;
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** The words of the clarifying question, in the languages the offline path knows (English otherwise). */
const CLARIFY_WORDS: Record<string, { ask: string; other: string; context: string; chose: (who: string, what: string) => string; tellMore: string }> = {
  en: { ask: 'I am not sure which kind of work you need. Which of these fits best?', other: 'Something else', context: 'Your answer starts the workflow and helps Rolecall understand requests like this one.', chose: (w, x) => `${w} chose *${x}*.`, tellMore: 'Tell me in a sentence what you need and mention me again. I can run:' },
  de: { ask: 'Ich bin nicht sicher, welche Art von Arbeit du brauchst. Was passt am besten?', other: 'Etwas anderes', context: 'Deine Antwort startet den Workflow und hilft Rolecall, solche Anfragen zu verstehen.', chose: (w, x) => `${w} hat *${x}* gewählt.`, tellMore: 'Sag mir in einem Satz, was du brauchst, und erwähne mich noch einmal. Ich kann:' },
  es: { ask: 'No estoy seguro de qué tipo de trabajo necesitas. ¿Cuál encaja mejor?', other: 'Otra cosa', context: 'Tu respuesta inicia el flujo y ayuda a Rolecall a entender peticiones como esta.', chose: (w, x) => `${w} eligió *${x}*.`, tellMore: 'Dime en una frase qué necesitas y vuelve a mencionarme. Puedo ejecutar:' },
  fr: { ask: 'Je ne suis pas sûr du type de travail dont vous avez besoin. Lequel convient le mieux ?', other: 'Autre chose', context: 'Votre réponse lance le workflow et aide Rolecall à comprendre ce genre de demande.', chose: (w, x) => `${w} a choisi *${x}*.`, tellMore: 'Dites-moi en une phrase ce dont vous avez besoin et mentionnez-moi à nouveau. Je peux lancer :' },
  pt: { ask: 'Não tenho certeza de que tipo de trabalho você precisa. Qual destes se encaixa melhor?', other: 'Outra coisa', context: 'Sua resposta inicia o fluxo e ajuda o Rolecall a entender pedidos como este.', chose: (w, x) => `${w} escolheu *${x}*.`, tellMore: 'Diga em uma frase o que você precisa e me mencione de novo. Posso executar:' },
};
const clarifyWords = (language: string | null | undefined) => CLARIFY_WORDS[language ?? 'en'] ?? CLARIFY_WORDS.en!;

const PICK_IDS = ['intent_pick_1', 'intent_pick_2', 'intent_pick_3'] as const;

/** One question with the likeliest workflows as buttons (at most three) and "something else". */
export function clarifyView(exampleId: string, request: string, candidates: { id: string; name: string; description: string }[], language?: string | null): MessageView {
  const w = clarifyWords(language);
  const offered = candidates.slice(0, PICK_IDS.length);
  return {
    text: `:thinking_face: ${w.ask}\n> ${truncate(request.replace(/\s+/g, ' '), 200)}\n${offered.map((c) => `• *${c.name}*: ${c.description}`).join('\n')}`,
    context: w.context,
    actions: [
      ...offered.map((c, i) => ({ id: PICK_IDS[i]!, label: c.name, value: buttonValue({ kind: 'intent_choice', exampleId, choice: c.id }), ...(i === 0 ? { style: 'primary' as const } : {}) })),
      { id: 'intent_other', label: w.other, value: buttonValue({ kind: 'intent_choice', exampleId, choice: 'other' }) },
    ],
  };
}

/** The question once answered: who chose what (no buttons). */
export function clarifiedView(request: string, who: string, choiceName: string, language?: string | null): MessageView {
  const w = clarifyWords(language);
  return { text: `:white_check_mark: ${w.chose(who, choiceName)}\n> ${truncate(request.replace(/\s+/g, ' '), 200)}` };
}

/** "Something else": what Rolecall can run, and how to ask again. */
export function tellMoreView(templates: { name: string; description: string }[], language?: string | null): MessageView {
  return { text: `${clarifyWords(language).tellMore}\n${templates.map((t) => `• *${t.name}*: ${t.description}`).join('\n')}` };
}

/** The name of "something else" in the requester's language (for the answered question). */
export const somethingElse = (language?: string | null) => clarifyWords(language).other;
