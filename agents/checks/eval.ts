// Scores the constraint check on a labelled set of candidate outputs (agents/checks/eval/labelled.jsonl by default):
// each row becomes a schema-valid answer of its role, with its text in one field (or in question_for_requester, or the
// whole answer in a fence), and goes through checkOutput, the same check a workflow step and validate_output use.
// Invariant: rows are validated with zod (a bad row stops the run, naming its line); nothing here calls a model.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { checkOutput } from '../constraints';
import { instanceOf } from '../llm/demo';
import { QUESTION_FIELD, responseSchema } from '../output-schema';
import type { Role } from '../role-schema';
import { OperatorError } from '../errors';

export const DEFAULT_SET = fileURLToPath(new URL('eval/labelled.jsonl', import.meta.url));

const rowSchema = z
  .object({
    id: z.string().min(1),
    role: z.string().min(1),
    expect: z.enum(['violation', 'clean']),
    category: z.string().min(1),
    /** For a violation: the forbidden topic that must catch it. */
    topic: z.string().optional(),
    /** Where the text goes: `question` (question_for_requester); by default the first text field of the output. */
    field: z.literal('question').optional(),
    text: z.string().min(1).max(50_000),
    /** Wrap the whole answer in this opening fence (e.g. "```JSON") and a closing ```. */
    wrap: z.string().regex(/^(`{3,}|~{3,})[A-Za-z]*$/).optional(),
    note: z.string().optional(),
  })
  .strict()
  .refine((r) => r.expect === 'clean' || r.topic, { message: 'a violation names the topic that must catch it', path: ['topic'] });

export type LabelledRow = z.infer<typeof rowSchema>;

/** A labelled set that cannot be used (bad line, unknown role): named with the file and line. */
export class LabelledSetError extends OperatorError {
}

export function readLabelledSet(file: string, roles: Map<string, Role>): LabelledRow[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const rows: LabelledRow[] = [];
  const ids = new Set<string>();
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let row: LabelledRow;
    try {
      row = rowSchema.parse(JSON.parse(line));
    } catch (e) {
      throw new LabelledSetError(`${file}:${i + 1}: ${e instanceof z.ZodError ? e.issues.map((x) => `${x.path.join('.') || '(row)'}: ${x.message}`).join('; ') : String(e)}`);
    }
    const role = roles.get(row.role);
    if (!role) throw new LabelledSetError(`${file}:${i + 1}: unknown role "${row.role}"`);
    if (row.topic && !role.constraints.forbidden_topics.some((t) => t.id === row.topic)) throw new LabelledSetError(`${file}:${i + 1}: role ${row.role} has no forbidden topic "${row.topic}"`);
    if (ids.has(row.id)) throw new LabelledSetError(`${file}:${i + 1}: id "${row.id}" is used twice`);
    ids.add(row.id);
    rows.push(row);
  });
  return rows;
}

const NEUTRAL = 'Plain description of the work for the thread.';

/** The model answer a row stands for: a valid output of its role with the row's text in one place. */
export function answerFor(role: Role, row: LabelledRow): string {
  const data = instanceOf(responseSchema(role.constraints.required_outputs), () => NEUTRAL) as Record<string, unknown>;
  if (row.field === 'question') data[QUESTION_FIELD] = row.text;
  else putFirstText(data, row.text);
  const json = JSON.stringify(data);
  return row.wrap ? `${row.wrap}\n${json}\n${row.wrap.replace(/[A-Za-z]+$/, '')}` : json;
}

function putFirstText(value: Record<string, unknown>, text: string): void {
  let done = false;
  const visit = (v: unknown): unknown => {
    if (done) return v;
    if (typeof v === 'string') {
      done = true;
      return text;
    }
    if (Array.isArray(v)) return v.map(visit);
    if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = visit(x);
    }
    return v;
  };
  visit(value);
}

export interface RowResult {
  row: LabelledRow;
  flagged: boolean;
  /** A violation caught by the topic the row names (for clean rows: false). */
  caught: boolean;
  details: string[];
}

export interface CategoryFigures {
  category: string;
  violations: number;
  caught: number;
  clean: number;
  flagged: number;
}

export interface EvalReport {
  rows: RowResult[];
  violations: number;
  caught: number;
  clean: number;
  flagged: number;
  caughtPct: number;
  falsePositivePct: number;
  categories: CategoryFigures[];
}

export function evaluate(roles: Map<string, Role>, rows: LabelledRow[]): EvalReport {
  const results = rows.map((row): RowResult => {
    const role = roles.get(row.role)!;
    const checked = checkOutput(role, answerFor(role, row));
    const details = checked.ok ? [] : checked.violations.map((v) => `${v.kind}: ${v.detail}`);
    const caught = !checked.ok && row.expect === 'violation' && checked.violations.some((v) => v.kind === 'forbidden_topic' && v.detail.startsWith(`${row.topic}: `));
    return { row, flagged: !checked.ok, caught, details };
  });
  const byCategory = new Map<string, CategoryFigures>();
  for (const r of results) {
    const c = byCategory.get(r.row.category) ?? { category: r.row.category, violations: 0, caught: 0, clean: 0, flagged: 0 };
    if (r.row.expect === 'violation') {
      c.violations++;
      if (r.caught) c.caught++;
    } else {
      c.clean++;
      if (r.flagged) c.flagged++;
    }
    byCategory.set(r.row.category, c);
  }
  const violations = results.filter((r) => r.row.expect === 'violation');
  const clean = results.filter((r) => r.row.expect === 'clean');
  const caught = violations.filter((r) => r.caught).length;
  const flagged = clean.filter((r) => r.flagged).length;
  return {
    rows: results,
    violations: violations.length,
    caught,
    clean: clean.length,
    flagged,
    caughtPct: pct(caught, violations.length),
    falsePositivePct: pct(flagged, clean.length),
    categories: [...byCategory.values()],
  };
}

const pct = (n: number, of: number) => (of ? Math.round((1000 * n) / of) / 10 : 0);
