// When the intent classifier is unsure: one question with the likeliest workflows as buttons and "something else".
// The person's answer starts the chosen workflow and is kept as a labelled example (IntentExample) that an admin can
// review in the console; accepted examples train the classifier (intent/retrain.ts, before each decision).
// Invariants: one question per message (IntentExample.sourceEventId is unique, created with the inbound event in one
// transaction); only the person who asked may answer; one answer wins (a conditional write on label IS NULL).
import type { IntentExample } from '../generated/prisma/client';
import type { InboundMessage } from './chat';
import { chatFor, type EngineDeps } from './deps';
import type { Decision } from './planning';
import { insertWorkflow, kickOff } from './start';
import { adoptMessageFiles } from './files';
import { clarifiedView, clarifyView, ROLECALL_PERSONA, somethingElse, tellMoreView } from './views';

/** The answer of "something else". */
export const OTHER = 'other';

const threadOf = (ex: Pick<IntentExample, 'platform' | 'teamId' | 'channelId' | 'threadTs'>) => ({ platform: ex.platform, teamId: ex.teamId, channelId: ex.channelId, threadTs: ex.threadTs });

/** Records the question (with the inbound event) and posts it. Nothing when this message was handled already. */
export async function askWhich(deps: EngineDeps, msg: InboundMessage, key: string, d: Extract<Decision, { kind: 'clarify' }>): Promise<void> {
  const created = await deps.prisma.$transaction(async (tx) => {
    const { count } = await tx.inboundEvent.createMany({ data: [{ id: key, platform: msg.platform, kind: 'mention' }], skipDuplicates: true });
    if (count === 0) return false;
    await tx.intentExample.create({
      data: {
        sourceEventId: key, platform: msg.platform, teamId: msg.teamId, channelId: msg.channelId, threadTs: msg.threadTs,
        text: msg.text.slice(0, 4000), language: d.language ?? null, requestedBy: msg.userId, candidates: d.candidates,
        guess: d.intent.intent, confidence: d.intent.confidence,
      },
    });
    return true;
  });
  if (created) await postQuestion(deps, key);
}

/** Posts the question of a message unless it was posted (a re-run after a crash between recording and posting). */
export async function postQuestion(deps: EngineDeps, key: string): Promise<void> {
  const ex = await deps.prisma.intentExample.findUnique({ where: { sourceEventId: key } });
  if (!ex || ex.questionTs || ex.label) return;
  const byId = new Map(deps.planner.templates.map((t) => [t.id, t]));
  const candidates = ex.candidates.flatMap((id) => (byId.has(id) ? [{ id, name: byId.get(id)!.name, description: byId.get(id)!.description }] : []));
  const ts = await chatFor(deps, ex.platform).post(threadOf(ex), ROLECALL_PERSONA, clarifyView(ex.id, ex.text, candidates, ex.language));
  await deps.prisma.intentExample.updateMany({ where: { id: ex.id, questionTs: null }, data: { questionTs: ts } });
  deps.log.info('asked which workflow', { key, candidates: ex.candidates, guess: ex.guess, confidence: ex.confidence });
}

export type AnswerOutcome =
  | { ok: true; exampleId: string; choice: string; workflowId?: string }
  | { ok: false; reason: 'unknown' | 'not_requester' | 'not_offered' | 'already_answered'; text: string };

/** The person's click on one of the question's buttons. */
export async function answerWhich(deps: EngineDeps, exampleId: string, choice: string, userId: string): Promise<AnswerOutcome> {
  const ex = await deps.prisma.intentExample.findUnique({ where: { id: exampleId } });
  if (!ex) return { ok: false, reason: 'unknown', text: 'This question no longer exists.' };
  if (ex.requestedBy !== userId) return { ok: false, reason: 'not_requester', text: 'Only the person who asked can answer this question. Mention me with your own request.' };
  const template = deps.planner.templates.find((t) => t.id === choice);
  if (choice !== OTHER && (!template || !ex.candidates.includes(choice))) return { ok: false, reason: 'not_offered', text: 'This choice was not offered.' };
  const { count } = await deps.prisma.intentExample.updateMany({ where: { id: ex.id, label: null }, data: { label: choice, labelledBy: userId, labelledAt: new Date() } });
  if (count === 0) return { ok: false, reason: 'already_answered', text: 'This question was already answered.' };
  const chat = chatFor(deps, ex.platform);
  const name = template?.name ?? somethingElse(ex.language);
  if (ex.questionTs) await chat.update(threadOf(ex), ex.questionTs, ROLECALL_PERSONA, clarifiedView(ex.text, chat.mention(userId), name, ex.language));
  if (!template) {
    await chat.post(threadOf(ex), ROLECALL_PERSONA, tellMoreView(deps.planner.templates, ex.language));
    return { ok: true, exampleId: ex.id, choice };
  }
  const plan = deps.planner.planFor(template.id, { intent: template.id, confidence: 1, reason: `chosen by the requester from the question (the classifier guessed ${ex.guess ?? 'nothing'} at ${(ex.confidence ?? 0).toFixed(2)})`, source: 'person' });
  if (!plan) return { ok: false, reason: 'not_offered', text: 'This choice was not offered.' };
  const workflowId = await insertWorkflow(deps, { ...threadOf(ex), text: ex.text, userId: ex.requestedBy, key: ex.sourceEventId, language: ex.language }, plan, false);
  if (!workflowId) return { ok: true, exampleId: ex.id, choice };
  await deps.prisma.intentExample.update({ where: { id: ex.id }, data: { workflowId } });
  await adoptMessageFiles(deps.prisma, ex.platform, ex.sourceEventId, workflowId); // files shared with the question's message
  deps.log.info('workflow started from a clarifying question', { workflowId, template: template.id, exampleId: ex.id });
  await kickOff(deps, workflowId);
  return { ok: true, exampleId: ex.id, choice, workflowId };
}

/** The accepted examples, as training data. */
export async function acceptedExamples(deps: Pick<EngineDeps, 'prisma'>): Promise<{ text: string; label: string }[]> {
  const rows = await deps.prisma.intentExample.findMany({ where: { review: 'accepted', label: { not: null } }, select: { text: true, label: true }, orderBy: { createdAt: 'asc' }, take: 5000 });
  return rows.flatMap((r) => (r.label && r.label !== OTHER ? [{ text: r.text, label: r.label }] : []));
}

