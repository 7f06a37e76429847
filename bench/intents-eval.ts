// `npm run intents:eval -- --set FILE.jsonl [--json] [--min-confidence X]`: classifies every `{text,label}` line (label:
// a template id or `none`; optional `lang`, ISO 639-1, for the per-language figures) through the same decision users
// get (orchestrator/planning.ts decide(): threshold, the model stage when a model is configured, clarifying question,
// assembled plan, nothing), and prints accuracy, per-label precision/recall, the confusion matrix, false starts and
// missed starts, and the end-to-end goals of issue 13. Users tune their own templates with it (TEMPLATES_DIR).
//
// Outcomes: `template:<id>` (starts at once) | `clarify` (asks with buttons) | `assembled` (a plan that waits for
// confirmation) | `none` (nothing starts). Scoring, one rule for every figure:
//   - a work request (label = template id) is right only when its template starts at once; `clarify`, `assembled` and
//     `none` are missed starts (a question is a miss: the person has to click);
//   - small talk (label `none`) is right when nothing starts: `none`, or `clarify` (a question starts nothing; the report
//     counts these separately); `template:*` is a false start, `assembled` a plan waiting for confirmation.
// Exit code 0 (the goals are a report, not a gate); bench/intents.ts exits 1 when a goal is missed.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfusionMatrix } from 'ml-confusion-matrix';
import { z } from 'zod';
import { createLlmRouter } from '../agents/llm/router';
import { loadRoles } from '../agents/roles';
import { loadConfig } from '../app/config';
import { plannerFrom } from '../app/planner';
import { NO_INTENT } from '../orchestrator/intent/classifier';
import { isLanguage } from '../orchestrator/intent/language';
import { classifyWithLlm } from '../orchestrator/intent/llm';
import type { Decision, Planner } from '../orchestrator/planning';
import { loadTemplates } from '../orchestrator/templates';

const Row = z.object({ text: z.string().max(40_000), label: z.string().min(1).max(64).optional(), intent: z.string().min(1).max(64).optional(), lang: z.string().max(8).optional() })
  .transform((r, ctx) => {
    const label = r.label ?? r.intent;
    if (!label) {
      ctx.addIssue({ code: 'custom', message: 'needs "label"' });
      return z.NEVER;
    }
    return { text: r.text, label, lang: r.lang ?? 'en' };
  });
export type EvalRow = z.output<typeof Row>;

export function readSet(file: string, known: string[]): EvalRow[] {
  return readFileSync(file, 'utf8').split('\n').map((l, i) => [l, i + 1] as const).filter(([l]) => l.trim()).map(([l, n]) => {
    let json: unknown;
    try {
      json = JSON.parse(l);
    } catch {
      throw new Error(`${file}:${n}: not JSON`);
    }
    const row = Row.safeParse(json);
    if (!row.success) throw new Error(`${file}:${n}: ${row.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ')}`);
    if (!known.includes(row.data.label)) throw new Error(`${file}:${n}: label "${row.data.label}" is neither a template id nor "${NO_INTENT}"`);
    return row.data;
  });
}

export const outcomeOf = (d: Decision): string =>
  d.kind === 'plan' ? (d.plan.templateId === 'assembled' ? 'assembled' : `template:${d.plan.templateId}`) : d.kind;

export interface EvalResult {
  rows: (EvalRow & { outcome: string; right: boolean; confidence: number; source: string; language?: string })[];
  accuracy: number;
  accuracyCi95: [number, number];
  perLabel: { label: string; precision: number; recall: number; support: number }[];
  matrix: { labels: string[]; columns: string[]; counts: number[][] };
  byLanguage: { lang: string; right: number; total: number }[];
  goals: { name: string; value: number; goal: string; met: boolean }[];
  falseStarts: number;
  missedStarts: number;
  smallTalkAsked: number;
  msPerMessage: number;
}

/** Wilson score interval (95%) for a proportion. */
export function wilson(right: number, n: number): [number, number] {
  if (!n) return [0, 0];
  const z = 1.959964;
  const p = right / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

export async function evaluate(planner: Pick<Planner, 'decide'>, rows: EvalRow[], templateIds: string[]): Promise<EvalResult> {
  const t0 = performance.now();
  const out: EvalResult['rows'] = [];
  for (const row of rows) {
    const d = await planner.decide(row.text);
    const outcome = outcomeOf(d);
    const right = row.label === NO_INTENT ? outcome === 'none' || outcome === 'clarify' : outcome === `template:${row.label}`;
    const intent = d.kind === 'plan' ? d.plan.intent : d.intent;
    out.push({ ...row, outcome, right, confidence: intent.confidence, source: intent.source, language: d.language });
  }
  const msPerMessage = (performance.now() - t0) / Math.max(1, rows.length);
  // The matrix's predictions: the template started, `none` for nothing started (a question on small talk included),
  // and `clarify` / `assembled` for work requests that got a question or an assembled plan.
  const predicted = out.map((r) => (r.outcome.startsWith('template:') ? r.outcome.slice(9) : r.label === NO_INTENT && r.outcome === 'clarify' ? NO_INTENT : r.outcome));
  const labels = [...templateIds, NO_INTENT];
  const columns = [...labels, 'clarify', 'assembled'];
  const cm = ConfusionMatrix.fromLabels(out.map((r) => r.label), predicted, { labels: columns });
  const right = out.filter((r) => r.right).length;
  const work = out.filter((r) => r.label !== NO_INTENT);
  const talk = out.filter((r) => r.label === NO_INTENT);
  const nonEnglish = out.filter((r) => r.lang !== 'en');
  const bugs = out.filter((r) => r.label === 'bug_triage');
  const share = (a: number, b: number) => (b ? a / b : 0);
  const talkStarts = talk.filter((r) => r.outcome.startsWith('template:')).length;
  const talkAssembled = talk.filter((r) => r.outcome === 'assembled').length;
  const workMissed = work.filter((r) => !r.outcome.startsWith('template:')).length;
  const goals = [
    { name: 'overall (right template started, or nothing started for small talk)', value: share(right, out.length), goal: '>= 90%', met: share(right, out.length) >= 0.9 },
    { name: 'non-English messages', value: share(nonEnglish.filter((r) => r.right).length, nonEnglish.length), goal: '>= 80%', met: share(nonEnglish.filter((r) => r.right).length, nonEnglish.length) >= 0.8 },
    { name: 'small talk that starts a workflow at once', value: share(talkStarts, talk.length), goal: '<= 3%', met: share(talkStarts, talk.length) <= 0.03 },
    { name: 'small talk that gets an assembled plan (waits for confirmation)', value: share(talkAssembled, talk.length), goal: '(reported)', met: true },
    { name: 'work requests that start nothing, only a question, or only an assembled plan', value: share(workMissed, work.length), goal: '<= 5%', met: share(workMissed, work.length) <= 0.05 },
    { name: 'bug_triage recall', value: share(bugs.filter((r) => r.right).length, bugs.length), goal: '>= 85%', met: share(bugs.filter((r) => r.right).length, bugs.length) >= 0.85 },
  ];
  const langs = [...new Set(out.map((r) => r.lang))].sort();
  return {
    rows: out,
    accuracy: share(right, out.length),
    accuracyCi95: wilson(right, out.length),
    perLabel: labels.map((l) => ({
      label: l,
      precision: cm.getPositiveCount(l) ? share(cm.getTruePositiveCount(l), cm.getTruePositiveCount(l) + cm.getFalsePositiveCount(l)) : 0,
      recall: share(cm.getTruePositiveCount(l), cm.getPositiveCount(l)),
      support: cm.getPositiveCount(l),
    })),
    matrix: { labels, columns, counts: labels.map((a) => columns.map((p) => cm.getCount(a, p))) },
    byLanguage: langs.map((lang) => ({ lang, right: out.filter((r) => r.lang === lang && r.right).length, total: out.filter((r) => r.lang === lang).length })),
    goals,
    falseStarts: out.filter((r) => r.outcome.startsWith('template:') && !r.right).length,
    missedStarts: workMissed,
    smallTalkAsked: talk.filter((r) => r.outcome === 'clarify').length,
    msPerMessage,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const oneLine = (s: string) => (s.length > 110 ? `${s.slice(0, 109)}…` : s).replace(/\s+/g, ' ');

export const machine = () => `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;

export function markdown(r: EvalResult, title: string): string {
  const o: string[] = [];
  o.push(`${title}: ${r.rows.length} messages (${r.rows.filter((x) => x.label === NO_INTENT).length} small talk, ${r.rows.filter((x) => x.lang !== 'en').length} not in English); machine: ${machine()}`);
  o.push('');
  o.push(`**Accuracy: ${pct(r.accuracy)}** (${r.rows.filter((x) => x.right).length}/${r.rows.length}; 95% Wilson interval ${pct(r.accuracyCi95[0])}–${pct(r.accuracyCi95[1])}); ${(r.msPerMessage * 1000).toFixed(0)} µs per message`);
  o.push('');
  o.push('| goal | value | target | met |');
  o.push('|---|---|---|---|');
  for (const g of r.goals) o.push(`| ${g.name} | ${pct(g.value)} | ${g.goal} | ${g.goal === '(reported)' ? '' : g.met ? 'yes' : '**no**'} |`);
  o.push('');
  o.push(`False starts (a workflow started that was not asked for): ${r.falseStarts}. Missed starts (a work request that started nothing at once): ${r.missedStarts}. Small talk answered with a question: ${r.smallTalkAsked}.`);
  o.push('');
  o.push(`By language: ${r.byLanguage.map((l) => `${l.lang} ${l.right}/${l.total}`).join(', ')}`);
  o.push('');
  o.push('| label | precision | recall | support |');
  o.push('|---|---|---|---|');
  for (const l of r.perLabel) o.push(`| ${l.label} | ${l.support || r.matrix.counts.some((row) => row[r.matrix.columns.indexOf(l.label)]) ? pct(l.precision) : '–'} | ${l.support ? pct(l.recall) : '–'} | ${l.support} |`);
  o.push('');
  o.push('Confusion matrix (rows: label; columns: what happened — the template started, `none` = nothing started (a question on small talk included), `clarify` / `assembled` = a work request got a question / an assembled plan):');
  o.push('');
  o.push(`| label \\ outcome | ${r.matrix.columns.join(' | ')} |`);
  o.push(`|---|${r.matrix.columns.map(() => '---').join('|')}|`);
  r.matrix.labels.forEach((l, i) => o.push(`| ${l} | ${r.matrix.counts[i]!.join(' | ')} |`));
  const wrong = r.rows.filter((x) => !x.right);
  if (wrong.length) {
    o.push('');
    o.push('Misses:');
    o.push('');
    for (const w of wrong) o.push(`- ${w.label} → ${w.outcome} (${w.confidence.toFixed(2)} ${w.source}): ${oneLine(w.text)}`);
  }
  return o.join('\n');
}

/** The planner as the app builds it from the environment (TEMPLATES_DIR, ROLES_DIR, INTENT_MIN_CONFIDENCE, model settings). */
export function plannerFromEnv(env: Record<string, string | undefined>, minConfidence?: number) {
  const config = loadConfig(env);
  const roleFiles = loadRoles(config.rolesDir, { externalMcp: config.externalMcp });
  const llm = createLlmRouter(config.llm, roleFiles.values());
  const templates = loadTemplates(config.templatesDir, new Set(roleFiles.keys()));
  const model = llm.orchestration;
  const planner = plannerFrom({
    templates,
    roles: () => [...roleFiles.values()],
    minConfidence: minConfidence ?? config.intentMinConfidence,
    model: model ? { classify: (text) => classifyWithLlm(model.provider, model.model, text, templates) } : undefined,
  });
  return { planner, templates, describe: model ? `model stage: ${model.model}` : 'local classifier only (no model configured)' };
}

async function main() {
  const { values } = parseArgs({ options: { set: { type: 'string' }, json: { type: 'boolean', default: false }, 'min-confidence': { type: 'string' } } });
  if (!values.set) {
    console.error('usage: npm run intents:eval -- --set FILE.jsonl [--json] [--min-confidence 0.3]');
    process.exit(2);
  }
  const min = values['min-confidence'] === undefined ? undefined : Number(values['min-confidence']);
  if (min !== undefined && !(min >= 0 && min <= 1)) throw new Error('--min-confidence must be between 0 and 1');
  const { planner, templates, describe } = plannerFromEnv(process.env, min);
  const rows = readSet(values.set, [...templates.map((t) => t.id), NO_INTENT]);
  for (const r of rows) if (r.lang !== 'en' && !isLanguage(r.lang)) console.error(`note: language "${r.lang}" is not one the offline path knows`);
  const result = await evaluate(planner, rows, templates.map((t) => t.id));
  if (values.json) console.log(JSON.stringify({ set: values.set, machine: machine(), stage: describe, ...result }, null, 2));
  else console.log(markdown(result, `${path.relative(process.cwd(), values.set)} (${describe})`));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
