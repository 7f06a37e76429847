// Second stage of intent classification: asks a language model (structured output) when the local classifier's
// confidence is low (below RECOMMENDED_LLM_THRESHOLD in ./classifier). The answer is validated; a malformed answer
// is an IntentLlmError, never a guess.
import { z } from 'zod';
import type { LlmProvider } from '../../agents/llm/provider';
import { NO_INTENT, type IntentResult } from './classifier';
import { RolecallError } from '../../agents/errors';

export interface IntentTemplateInfo {
  id: string;
  name: string;
  description: string;
}

/** The model's answer was not valid JSON, or did not match the schema, or named an intent that does not exist. */
export class IntentLlmError extends RolecallError {
  constructor(message: string, readonly answer: string) {
    super(message);
  }
}

const SYSTEM = [
  'You route chat messages to workflow templates.',
  'Pick the single template whose description fits what the message asks for.',
  `Answer "${NO_INTENT}" when no template fits (small talk, unrelated requests, or a request none of them covers).`,
  'confidence is your probability (0..1) that the chosen answer is right; reason is one short sentence.',
].join(' ');

export async function classifyWithLlm(provider: LlmProvider, model: string, text: string, templates: IntentTemplateInfo[]): Promise<IntentResult> {
  if (!templates.length) throw new Error('classifyWithLlm: no templates');
  const ids = [...templates.map((t) => t.id), NO_INTENT];
  const schema = {
    type: 'object',
    properties: {
      intent: { type: 'string', enum: ids },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      reason: { type: 'string' },
    },
    required: ['intent', 'confidence', 'reason'],
    additionalProperties: false,
  };
  const user = [
    'Templates:',
    ...templates.map((t) => `- ${t.id}: ${t.name}. ${t.description}`),
    `- ${NO_INTENT}: no template fits.`,
    '',
    'Message:',
    text.slice(0, 4000),
  ].join('\n');
  const res = await provider.complete({ model, temperature: 0, system: SYSTEM, user, responseSchema: { name: 'intent', schema } });

  let data: unknown;
  try {
    data = JSON.parse(res.text);
  } catch {
    throw new IntentLlmError(`intent model ${res.model}: answer is not JSON`, res.text);
  }
  const answer = z
    .object({ intent: z.enum(ids as [string, ...string[]]), confidence: z.number().min(0).max(1), reason: z.string().trim().min(1).max(500) })
    .safeParse(data);
  if (!answer.success) {
    const problems = answer.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new IntentLlmError(`intent model ${res.model}: invalid answer (${problems})`, res.text);
  }
  return { intent: answer.data.intent, confidence: answer.data.confidence, reason: answer.data.reason, source: 'llm' };
}
