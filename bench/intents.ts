// Intent benchmark: trains the local classifier from the templates' examples and classifies the held-out labelled
// thread messages in bench/intents/labelled.jsonl (never used for training). Local classifier only, no model call.
// Prints Markdown: accuracy, per-intent precision/recall, confusion matrix, time per message. Exit code 1 below 90%.
// Run: npx tsx bench/intents.ts   (or npm run bench:intents)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRoles } from '../agents/roles';
import { leaveOneOutAccuracy, NO_INTENT, RECOMMENDED_LLM_THRESHOLD, trainClassifier, type IntentResult } from '../orchestrator/intent/classifier';
import { loadTemplates, TEMPLATES_DIR } from '../orchestrator/templates';

const TARGET = 0.9;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

interface Labelled { text: string; intent: string }

const roleIds = new Set(loadRoles(path.join(root, 'roles')).keys());
const templates = loadTemplates(TEMPLATES_DIR, roleIds);
const ids = templates.map((t) => t.id);
const labelled: Labelled[] = readFileSync(path.join(here, 'intents', 'labelled.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l, i) => {
    const row = JSON.parse(l) as Labelled;
    if (typeof row.text !== 'string' || !ids.includes(row.intent)) throw new Error(`labelled.jsonl line ${i + 1}: bad row ${l}`);
    return row;
  });

// The test set must be held out: refuse to run if a labelled message is also a training example.
const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
const training = new Set(templates.flatMap((t) => t.examples.map(norm)));
const leaked = labelled.filter((r) => training.has(norm(r.text)));
if (leaked.length) throw new Error(`labelled.jsonl overlaps the training examples: ${leaked.map((r) => r.text).join(' | ')}`);

const t0 = performance.now();
const clf = trainClassifier(templates);
const trainMs = performance.now() - t0;

const results: { row: Labelled; got: IntentResult }[] = [];
const t1 = performance.now();
for (const row of labelled) results.push({ row, got: clf.classify(row.text) });
const perMsgMs = (performance.now() - t1) / labelled.length;

const cols = [...ids, NO_INTENT];
const matrix = new Map(ids.map((a) => [a, new Map(cols.map((b) => [b, 0]))]));
for (const { row, got } of results) {
  const r = matrix.get(row.intent)!;
  r.set(got.intent, (r.get(got.intent) ?? 0) + 1);
}
const correct = results.filter((r) => r.got.intent === r.row.intent).length;
const accuracy = correct / results.length;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const out: string[] = [];
out.push(`Held-out messages: ${results.length}; training examples: ${templates.reduce((n, t) => n + t.examples.length, 0)} (${templates.length} templates)`);
out.push('');
out.push(`**Accuracy: ${pct(accuracy)}** (${correct}/${results.length}), target ${pct(TARGET)}`);
out.push(`Leave-one-out accuracy on the training examples: ${pct(leaveOneOutAccuracy(templates))}`);
out.push(`Training: ${trainMs.toFixed(1)} ms; classification: ${(perMsgMs * 1000).toFixed(0)} µs per message (mean of ${results.length})`);
const low = results.filter((r) => r.got.confidence < RECOMMENDED_LLM_THRESHOLD);
const lowWrong = low.filter((r) => r.got.intent !== r.row.intent).length;
const highWrong = results.filter((r) => r.got.confidence >= RECOMMENDED_LLM_THRESHOLD && r.got.intent !== r.row.intent).length;
out.push(
  `Below the LLM threshold (confidence < ${RECOMMENDED_LLM_THRESHOLD}): ${low.length} messages, ${lowWrong} of them wrong; ` +
    `at or above it: ${results.length - low.length} messages, ${highWrong} wrong`,
);
out.push('');
out.push('| Intent | Precision | Recall | Support |');
out.push('|---|---|---|---|');
for (const id of ids) {
  const tp = matrix.get(id)!.get(id)!;
  const predicted = results.filter((r) => r.got.intent === id).length;
  const actual = results.filter((r) => r.row.intent === id).length;
  out.push(`| ${id} | ${predicted ? pct(tp / predicted) : '–'} | ${actual ? pct(tp / actual) : '–'} | ${actual} |`);
}
out.push('');
out.push('Confusion matrix (rows: labelled intent, columns: predicted):');
out.push('');
out.push(`| labelled \\ predicted | ${cols.join(' | ')} |`);
out.push(`|---|${cols.map(() => '---').join('|')}|`);
for (const id of ids) out.push(`| ${id} | ${cols.map((c) => matrix.get(id)!.get(c)).join(' | ')} |`);
const wrong = results.filter((r) => r.got.intent !== r.row.intent);
if (wrong.length) {
  out.push('');
  out.push('Misclassified:');
  out.push('');
  for (const { row, got } of wrong) out.push(`- ${row.intent} → ${got.intent} (${got.confidence.toFixed(2)}): ${row.text}`);
}
console.log(out.join('\n'));
process.exitCode = accuracy >= TARGET ? 0 : 1;
