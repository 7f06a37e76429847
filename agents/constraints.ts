// Checks a role's output (and its question_for_requester, which is posted too) against its constraints before anything
// is posted. Forbidden topics are caught by the role's patterns and by built-in detectors (agents/checks/: secrets with
// gitleaks' rules, effort estimates, code by its shape). Forbidden-topic patterns and secret rules run on RE2JS (a JavaScript port of RE2): matching takes time linear in the input for every
// pattern, so no pattern and no input can make a check backtrack for seconds. Checks are bounded in input size too.
import { RE2JS } from 're2js';
import { renderOutput } from './render';
import { QUESTION_FIELD, validatorFor } from './output-schema';
import { codeBlocks } from './checks/code-shape';
import { findEstimates } from './checks/effort';
import { findSecrets, mask, redactSecrets, secretRules } from './checks/secrets';
import type { Role } from './role-schema';
import { errorMessage } from './errors';

export type ViolationKind = 'schema' | 'forbidden_topic' | 'max_output' | 'tool';

export interface Violation {
  kind: ViolationKind;
  detail: string;
  /** Set when the model judge (not a lexical rule or a schema) found it: the tier router tells the two apart. */
  source?: 'judge';
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
  const asked = (data as Record<string, unknown>)[QUESTION_FIELD];
  const question = typeof asked === 'string' ? asked.trim() : '';
  const violations = [...sizeViolations(role, text), ...forbiddenTopicHits(role, text), ...(question ? questionViolations(role, question) : [])];
  return violations.length ? { ok: false, text: withoutSecrets(role, text), violations } : { ok: true, data: data as Record<string, unknown>, text };
}

/** Longest question_for_requester that is posted (it is one short question). */
export const MAX_QUESTION_CHARS = 1_000;

/** The question is posted in the thread as it is: it is checked like the output. */
function questionViolations(role: Role, question: string): Violation[] {
  if (question.length > MAX_QUESTION_CHARS) return [{ kind: 'max_output', detail: `${QUESTION_FIELD} is ${question.length} characters; the limit is ${MAX_QUESTION_CHARS}` }];
  return forbiddenTopicHits(role, question).map((v) => ({ ...v, detail: `${v.detail} in ${QUESTION_FIELD}` }));
}

/** An output held for review is still shown to people: without the secrets a secrets topic found in it. */
function withoutSecrets(role: Role, text: string): string {
  if (!role.constraints.forbidden_topics.some((t) => t.detector === 'secrets')) return text;
  const { hits } = findSecrets(text.slice(0, role.constraints.max_output_chars), performance.now() + CHECK_BUDGET_MS, 200);
  return hits.length ? redactSecrets(text, hits) : text;
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
  if (role.constraints.forbidden_topics.some((t) => t.detector === 'secrets')) secretRules(); // compiled once, before the clock starts
  const hits: Violation[] = [];
  const scanned = text.length > role.constraints.max_output_chars ? text.slice(0, role.constraints.max_output_chars) : text;
  const deadline = performance.now() + CHECK_BUDGET_MS;
  for (const topic of role.constraints.forbidden_topics) {
    const found = topicMatch(topic, scanned, deadline);
    if (found === TIMED_OUT) {
      hits.push({ kind: 'forbidden_topic', detail: `${topic.id}: the check took longer than ${CHECK_BUDGET_MS} ms and was stopped; a person must review the output` });
      return hits;
    }
    if (found) hits.push({ kind: 'forbidden_topic', detail: `${topic.id}: ${topic.description} (${found})` });
  }
  return hits;
}

type Topic = Role['constraints']['forbidden_topics'][number];
export const TIMED_OUT = Symbol('timed out');

/** What in `text` belongs to the topic, described for people and for the model's feedback (a secret masked). */
export function topicMatch(topic: Topic, text: string, until?: number): string | undefined | typeof TIMED_OUT {
  if (topic.detector === 'secrets') secretRules(); // compiled once, before the clock starts
  const deadline = until ?? performance.now() + CHECK_BUDGET_MS;
  for (const pattern of topic.patterns) {
    if (performance.now() > deadline) return TIMED_OUT;
    const m = compilePattern(pattern).exec(text);
    if (m) return `matched "${topic.detector === 'secrets' ? mask(String(m[0])) : String(m[0]).slice(0, 60)}"`;
  }
  if (performance.now() > deadline) return TIMED_OUT;
  switch (topic.detector) {
    case 'secrets': {
      const { hits, complete } = findSecrets(text, deadline, 1);
      const hit = hits[0];
      if (hit) return `found a secret: ${hit.ruleId}, ${hit.masked}`;
      return complete ? undefined : TIMED_OUT;
    }
    case 'effort_estimates': {
      const hit = findEstimates(text, 1)[0];
      return hit ? `matched "${hit.match.slice(0, 60)}"` : undefined;
    }
    case 'code': {
      const allowed = topic.allowed_code_lines ?? 0;
      const block = codeBlocks(text).find((b) => b.lines > allowed);
      if (!block) return undefined;
      const size = `${block.lines} line${block.lines === 1 ? '' : 's'} of code${allowed ? ` (more than ${allowed})` : ''}`;
      return `${size} at line ${block.line}: "${block.sample}"`;
    }
    default:
      return undefined;
  }
}

function sizeViolations(role: Role, text: string): Violation[] {
  const max = role.constraints.max_output_chars;
  return text.length > max ? [{ kind: 'max_output', detail: `output is ${text.length} characters; the limit is ${max}` }] : [];
}

/** Models sometimes wrap JSON in a ```json (or ```JSON) fence even when asked not to. (String operations: linear in the input.) */
function stripFences(raw: string): string {
  const t = raw.trim();
  if (!t.startsWith('```') || !t.endsWith('```') || t.length < 6) return raw;
  const firstLine = t.indexOf('\n');
  const lastLine = t.lastIndexOf('\n');
  if (firstLine < 0 || lastLine <= firstLine) return raw;
  if (!/^```(json)?\s*$/i.test(t.slice(0, firstLine)) || t.slice(lastLine + 1) !== '```') return raw;
  return t.slice(firstLine + 1, lastLine);
}

export function feedbackFor(violations: Violation[]): string {
  return `Your previous answer broke these rules:\n${violations.map((v) => `- ${v.kind}: ${v.detail}`).join('\n')}\nAnswer again with JSON that follows the schema and the rules.`;
}
