// Checks a role's output against its constraints before anything is posted.
import { renderOutput } from './render';
import { validatorFor } from './output-schema';
import type { Role } from './roles';
import { errorMessage } from './errors';

export type ViolationKind = 'schema' | 'forbidden_topic' | 'max_output' | 'tool';

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

export type CheckedOutput =
  | { ok: true; data: Record<string, unknown>; text: string }
  | { ok: false; violations: Violation[]; text: string };

/** Parses the model's JSON, validates it against the required outputs, then checks size and forbidden topics. */
export function checkOutput(role: Role, raw: string): CheckedOutput {
  const outputs = role.constraints.required_outputs;
  let data: unknown;
  try {
    data = JSON.parse(stripFences(raw));
  } catch (e) {
    return { ok: false, text: raw, violations: [{ kind: 'schema', detail: `the answer is not valid JSON (${errorMessage(e)})` }] };
  }
  const errors = validatorFor(outputs)(data);
  if (errors.length) return { ok: false, text: raw, violations: errors.slice(0, 10).map((detail) => ({ kind: 'schema' as const, detail })) };
  const text = renderOutput(outputs, data as Record<string, unknown>);
  const violations = [...sizeViolations(role, text), ...forbiddenTopicHits(role, text)];
  return violations.length ? { ok: false, text, violations } : { ok: true, data: data as Record<string, unknown>, text };
}

export function forbiddenTopicHits(role: Role, text: string): Violation[] {
  const hits: Violation[] = [];
  for (const topic of role.constraints.forbidden_topics) {
    for (const pattern of topic.patterns) {
      const m = new RegExp(pattern, 'im').exec(text);
      if (m) {
        hits.push({ kind: 'forbidden_topic', detail: `${topic.id}: ${topic.description} (matched "${m[0].slice(0, 60)}")` });
        break;
      }
    }
  }
  return hits;
}

function sizeViolations(role: Role, text: string): Violation[] {
  const max = role.constraints.max_output_chars;
  return text.length > max ? [{ kind: 'max_output', detail: `output is ${text.length} characters; the limit is ${max}` }] : [];
}

/** Models sometimes wrap JSON in a ```json fence even when asked not to. */
function stripFences(raw: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n```\s*$/.exec(raw);
  return m ? m[1]! : raw;
}

export function feedbackFor(violations: Violation[]): string {
  return `Your previous answer broke these rules:\n${violations.map((v) => `- ${v.kind}: ${v.detail}`).join('\n')}\nAnswer again with JSON that follows the schema and the rules.`;
}
