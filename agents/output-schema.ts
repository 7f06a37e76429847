// JSON schemas of a role's required outputs: compiled once with ajv, used to ask the model for structured output
// and to validate what it answers.
import { Ajv, type ValidateFunction } from 'ajv';
import { errorMessage } from './errors';

export const QUESTION_FIELD = 'question_for_requester';

const ajv = new Ajv({ allErrors: true, strict: false });

export interface RequiredOutput {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

/** The schema the model must answer with: one property per required output. */
export function responseSchema(outputs: RequiredOutput[]): Record<string, unknown> {
  return {
    type: 'object',
    properties: {
      ...Object.fromEntries(outputs.map((o) => [o.name, { ...o.schema, description: o.description }])),
      [QUESTION_FIELD]: { type: 'string', description: 'Optional: one short question for the requester, only when you cannot go on without the answer' },
    },
    required: outputs.map((o) => o.name),
    additionalProperties: false,
  };
}

const compiled = new WeakMap<object, ValidateFunction>();

export function validatorFor(outputs: RequiredOutput[]): (value: unknown) => string[] {
  const key = outputs;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(responseSchema(outputs));
    compiled.set(key, validate);
  }
  const fn = validate;
  return (value) => (fn(value) ? [] : (fn.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`));
}

export function schemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    ajv.compile(schema);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}
