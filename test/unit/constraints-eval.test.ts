// The labelled set of candidate outputs (agents/checks/eval/labelled.jsonl) through the check a step uses: it covers
// the categories of the quality issue and the goals hold (>= 95% of violations caught, <= 5% of clean outputs flagged),
// and `npm run constraints:eval` reports the same figures and exits by the goals.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SET, evaluate, readLabelledSet } from '../../agents/checks/eval';
import { loadRoles } from '../../agents/roles';

const roles = loadRoles('roles');
const rows = readLabelledSet(DEFAULT_SET, roles);

describe('the labelled constraint set', () => {
  it('has at least 90 rows: 60 violating and 28 clean, over secrets, effort estimates and code, with the traps', () => {
    const violating = rows.filter((r) => r.expect === 'violation');
    expect(rows.length).toBeGreaterThanOrEqual(90);
    expect(violating.length).toBeGreaterThanOrEqual(60);
    expect(rows.length - violating.length).toBeGreaterThanOrEqual(28);
    const ids = rows.map((r) => r.id);
    for (const id of ['secret-openai-proj', 'secret-stripe-live', 'secret-github-pat-url', 'secret-gcp-key', 'secret-db-url-postgres', 'secret-slack-webhook', 'secret-slack-signing-hex', 'placeholder-xoxb',
      'effort-two-sprints', 'effort-tilde-weeks', 'effort-sp', 'effort-dev-days', 'effort-hours', 'code-python-def', 'code-java-method', 'code-arrow-oneline', 'code-diff', 'code-tilde-fence', 'code-indented-block', 'code-unfenced-js-fix',
      'select-invoices', 'import-contacts', 'last-3-sprints', 'json-upper-fence', 'two-sketches']) expect(ids).toContain(id);
    expect(rows.some((r) => r.field === 'question' && r.expect === 'violation')).toBe(true);
  });

  it('meets the goals: >= 95% of violations caught, <= 5% of clean outputs flagged, in every category', () => {
    const report = evaluate(roles, rows);
    const missed = report.rows.filter((r) => (r.row.expect === 'violation' ? !r.caught : r.flagged)).map((r) => `${r.row.id}: ${r.details.join(' | ') || 'not flagged'}`);
    expect(report.caughtPct, missed.join('\n')).toBeGreaterThanOrEqual(95);
    expect(report.falsePositivePct, missed.join('\n')).toBeLessThanOrEqual(5);
    for (const c of report.categories) {
      if (c.violations) expect(c.caught / c.violations, c.category).toBeGreaterThanOrEqual(0.9);
      if (c.clean) expect(c.flagged / c.clean, c.category).toBeLessThanOrEqual(0.1);
    }
  });

  it('npm run constraints:eval prints the figures per category and exits 0 when the goals are met', () => {
    const out = execFileSync('npx', ['tsx', 'app/constraints-eval.ts'], { encoding: 'utf8' });
    expect(out).toMatch(/\| secret \| \d+ \| \d+ \(\d+(\.\d)?%\) \|/);
    expect(out).toMatch(/\| \*\*all\*\* \| \d+ \| \d+ \(\d+(\.\d)?%\) \| \d+ \| \d+ \(\d+(\.\d)?%\) \|/);
    expect(out).toContain('Goals: >= 95% caught, <= 5% false positives: met');
    const json = JSON.parse(execFileSync('npx', ['tsx', 'app/constraints-eval.ts', '--json'], { encoding: 'utf8' }));
    expect(json).toMatchObject({ met: true, violations: rows.filter((r) => r.expect === 'violation').length });
  });

  it('exits 2 naming the line of a bad row', () => {
    const res = spawnSync('npx', ['tsx', 'app/constraints-eval.ts', '--set', 'package.json'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/package\.json:1: /);
  });
});
