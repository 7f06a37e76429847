// Checks a role's output against its constraints before anything is posted.
// Forbidden-topic patterns run on RE2JS (a JavaScript port of RE2): matching takes time linear in the input for every
// pattern, so no pattern and no input can make a check backtrack for seconds. Checks are bounded in input size too.
import { RE2JS } from 're2js';
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
  if (raw.length > MAX_ANSWER_CHARS) {
    return { ok: false, text: raw.slice(0, role.constraints.max_output_chars), violations: [{ kind: 'max_output', detail: `the answer is ${raw.length} characters; nothing over ${MAX_ANSWER_CHARS} is checked` }] };
  }
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

/** Longest answer that is parsed at all; a longer one is refused as it is (larger than any role may post anyway). */
export const MAX_ANSWER_CHARS = 200_000;
/** Longest pattern, and the largest compiled program (RE2's measure of cost), a forbidden topic may have. */
export const MAX_PATTERN_CHARS = 1_000;
export const MAX_PATTERN_PROGRAM = 5_000;
/** Budget of one forbidden-topic check; past it the check stops and the output is held (fails closed). */
export const CHECK_BUDGET_MS = 500;

const FLAGS = RE2JS.CASE_INSENSITIVE | RE2JS.MULTILINE;
const compiled = new Map<string, RE2JS>();

/** Compiles a forbidden-topic pattern with RE2 (case-insensitive, ^ and $ at line ends); throws with the reason. */
export function compilePattern(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re) return re;
  if (pattern.length > MAX_PATTERN_CHARS) throw new Error(`is ${pattern.length} characters long; the limit is ${MAX_PATTERN_CHARS}`);
  try {
    re = RE2JS.compile(pattern, FLAGS);
  } catch (e) {
    const why = errorMessage(e).replace(/^error parsing regexp: /, '');
    throw new Error(`${why} (patterns use RE2 syntax, which runs in linear time: no backreferences such as \\1, no lookahead or lookbehind)`);
  }
  if (re.programSize() > MAX_PATTERN_PROGRAM) throw new Error(`is too large once compiled (${re.programSize()} instructions; the limit is ${MAX_PATTERN_PROGRAM}): use smaller repetition counts`);
  if (compiled.size > 2_000) compiled.clear();
  compiled.set(pattern, re);
  return re;
}

/** Why a pattern cannot be used as a forbidden topic, or undefined when it can. */
export function patternProblem(pattern: string): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

/**
 * The forbidden topics the text strays into. Only the first max_output_chars characters are read (a longer text is
 * already a max_output violation), and the check stops, failing closed, when it runs past CHECK_BUDGET_MS.
 */
export function forbiddenTopicHits(role: Role, text: string): Violation[] {
  const hits: Violation[] = [];
  const scanned = text.length > role.constraints.max_output_chars ? text.slice(0, role.constraints.max_output_chars) : text;
  const deadline = performance.now() + CHECK_BUDGET_MS;
  for (const topic of role.constraints.forbidden_topics) {
    for (const pattern of topic.patterns) {
      if (performance.now() > deadline) {
        hits.push({ kind: 'forbidden_topic', detail: `${topic.id}: the check took longer than ${CHECK_BUDGET_MS} ms and was stopped; a person must review the output` });
        return hits;
      }
      const m = compilePattern(pattern).exec(scanned);
      if (m) {
        hits.push({ kind: 'forbidden_topic', detail: `${topic.id}: ${topic.description} (matched "${String(m[0]).slice(0, 60)}")` });
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

/** Models sometimes wrap JSON in a ```json fence even when asked not to. (String operations: linear in the input.) */
function stripFences(raw: string): string {
  const t = raw.trim();
  if (!t.startsWith('```') || !t.endsWith('```') || t.length < 6) return raw;
  const firstLine = t.indexOf('\n');
  const lastLine = t.lastIndexOf('\n');
  if (firstLine < 0 || lastLine <= firstLine) return raw;
  if (!/^```(json)?\s*$/.test(t.slice(0, firstLine)) || t.slice(lastLine + 1) !== '```') return raw;
  return t.slice(firstLine + 1, lastLine);
}

export function feedbackFor(violations: Violation[]): string {
  return `Your previous answer broke these rules:\n${violations.map((v) => `- ${v.kind}: ${v.detail}`).join('\n')}\nAnswer again with JSON that follows the schema and the rules.`;
}
