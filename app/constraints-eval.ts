// `npm run constraints:eval [-- --set FILE.jsonl] [--roles DIR] [--json] [--verbose]`: runs a labelled set of candidate
// outputs through the constraint check a step uses and prints caught %, false-positive % and both per category.
// Exit code 0 when the goals are met (>= 95% caught, <= 5% of clean outputs flagged), 1 when not, 2 on bad input.
import { parseArgs } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SET, evaluate, readLabelledSet } from '../agents/checks/eval';
import { errorMessage } from '../agents/errors';
import { loadRoles } from '../agents/roles';

export const GOALS = { caughtPct: 95, falsePositivePct: 5 };

try {
  const { values } = parseArgs({ options: { set: { type: 'string' }, roles: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } } });
  const roles = loadRoles(values.roles ?? process.env.ROLES_DIR ?? 'roles');
  const set = values.set ?? DEFAULT_SET;
  const report = evaluate(roles, readLabelledSet(set, roles));
  const met = report.caughtPct >= GOALS.caughtPct && report.falsePositivePct <= GOALS.falsePositivePct;
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ set, machine: machine(), goals: GOALS, met, ...report, rows: report.rows.map((r) => ({ id: r.row.id, expect: r.row.expect, category: r.row.category, flagged: r.flagged, caught: r.caught, details: r.details })) }, null, 2)}\n`);
  } else {
    const out: string[] = [`Labelled set: ${path.relative(process.cwd(), set)} (${report.violations} violating, ${report.clean} clean) on ${machine()}`, ''];
    out.push('| category | violating | caught | clean | flagged |', '| --- | --- | --- | --- | --- |');
    for (const c of report.categories) out.push(`| ${c.category} | ${c.violations} | ${c.violations ? `${c.caught} (${pct(c.caught, c.violations)}%)` : '-'} | ${c.clean} | ${c.clean ? `${c.flagged} (${pct(c.flagged, c.clean)}%)` : '-'} |`);
    out.push(`| **all** | ${report.violations} | ${report.caught} (${report.caughtPct}%) | ${report.clean} | ${report.flagged} (${report.falsePositivePct}%) |`, '');
    const wrong = report.rows.filter((r) => (r.row.expect === 'violation' ? !r.caught : r.flagged));
    for (const r of values.verbose ? report.rows : wrong) out.push(`${r.row.expect === 'violation' ? (r.caught ? 'caught ' : 'MISSED ') : r.flagged ? 'FLAGGED' : 'clean  '} ${r.row.id} (${r.row.role}, ${r.row.category})${r.details.length ? `: ${r.details.join(' | ')}` : ''}`);
    out.push(`Goals: >= ${GOALS.caughtPct}% caught, <= ${GOALS.falsePositivePct}% false positives: ${met ? 'met' : 'NOT met'}`);
    process.stdout.write(`${out.join('\n')}\n`);
  }
  process.exit(met ? 0 : 1);
} catch (e) {
  process.stderr.write(`constraints:eval: ${errorMessage(e)}\n`);
  process.exit(2);
}

function pct(n: number, of: number): number {
  return Math.round((1000 * n) / of) / 10;
}

function machine(): string {
  return `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${os.cpus().length} cores), Node ${process.version}`;
}
