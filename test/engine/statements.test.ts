// Statements per step (issue 12): every SQL statement the engine sends to PostgreSQL while whole workflows run —
// intake, plan, steps, gates and their clicks, the poster, the background sweeps — divided by the steps they ran,
// stays at or below the figure README's Benchmark section gives. Counting statements is behaviour (how the engine
// talks to the database), not timing: the count does not depend on the machine's speed, only on what each step does
// The background loops that run by the clock, not per step (the inbox relay's look, the outbox sweep, the metric
// counters' fold, the role-sync look), are counted apart and left out, so the figure does not depend on how long the
// run took.
// How: every query of a pg client in this process is counted (pg.Client.prototype.query: the driver adapter's pool
// clients, transactions included, so BEGIN and COMMIT count as statements, as pg_stat_statements counts them in
// `npm run bench -- --compare`), except those of the test's own client, which waits for the outcomes.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buttonsOf, engineSuite, type Engine } from '../support/engine';
import { waitFor } from '../support/wait';

/** The figure this test holds the engine to (README: "How a step is written and posted"): 15.3–16.6 measured in this
 *  tree (a step's own path is 5: start, BEGIN, finish, advance, COMMIT), plus a little for the poster, whose count
 *  depends on how posts and edits meet in the outbox and on how its drain jobs overlap (a drain job that finds the
 *  channel already being drained costs nothing; with no overlap at all each costs its claim, about 2.5 more). */
const STATEMENTS_PER_STEP_MAX = 20;
const WORKFLOWS = 4;
const STEPS = 5; // Full feature delivery: 5 steps, gates after the 1st and the 3rd

const suite = engineSuite();

const counted = { n: 0, timed: 0, on: false, byKind: new Map<string, number>() };

/** Statements of the loops that run by the clock (app/runtime.ts starts them), by their text. */
const BY_THE_CLOCK = [/FROM "public"\."InboxJob"/, /SELECT DISTINCT ON \(channel\) channel/, /rolecall_metrics_fold/, /FROM "public"\."RoleDefinition"/];
let watcher: pg.Client | undefined;
const original = pg.Client.prototype.query;

beforeEach(() => {
  // One patch for the file: counts every client's queries but the watcher's, while `counted.on`.
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counted.on && this !== watcher) {
      const first = args[0];
      const text = (typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '').replace(/\s+/g, ' ').trim();
      if (BY_THE_CLOCK.some((r) => r.test(text))) counted.timed++;
      else {
        counted.n++;
        const kind = text.slice(0, 100);
        counted.byKind.set(kind, (counted.byKind.get(kind) ?? 0) + 1);
      }
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query;
});

afterEach(async () => {
  pg.Client.prototype.query = original;
  await watcher?.end();
  watcher = undefined;
});

async function runToEnd(e: Engine, w: pg.Client, text: string): Promise<void> {
  const t = await e.mention(text);
  for (const n of [1, 2]) {
    const gate = await e.waitForGate(t.threadTs, n);
    expect(await e.press('approve', buttonsOf(gate).approve!)).toMatchObject({ kind: 'done' });
  }
  await waitFor(async () => (await w.query(`SELECT status FROM "Workflow" WHERE "channelId" = $1 AND "threadTs" = $2`, [e.channelId, t.threadTs])).rows[0]?.status === 'completed', 'the workflow completed');
}

describe('statements per step', () => {
  it(`whole workflows cost at most ${STATEMENTS_PER_STEP_MAX} statements per step, everything included`, async () => {
    const e = await suite.start();
    watcher = new pg.Client({ connectionString: e.env.DATABASE_URL });
    await watcher.connect();
    const w = watcher;
    // a first workflow warms the process up (roles, prepared caches), uncounted
    await runToEnd(e, w, 'we need a login page with SSO for our customer portal');
    await waitFor(async () => Number((await w.query(`SELECT count(*) AS n FROM "ChatOutbox" WHERE status IN ('pending', 'sending')`)).rows[0].n) === 0, 'the posts sent');

    counted.on = true;
    await Promise.all(Array.from({ length: WORKFLOWS }, (_, i) => runToEnd(e, w, `we need a login page with SSO for our customer portal, part ${i + 1}`)));
    // the poster's last posts, and the output files the roles deliver, belong to these workflows too
    await waitFor(async () => Number((await w.query(`SELECT count(*) AS n FROM "ChatOutbox" WHERE status IN ('pending', 'sending')`)).rows[0].n) === 0, 'the posts sent');
    counted.on = false;

    const perStep = counted.n / (WORKFLOWS * STEPS);
    const top = [...counted.byKind].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, n]) => `${(n / (WORKFLOWS * STEPS)).toFixed(2)}  ${k}`);
    // the breakdown, for whoever lowers (or must raise) the figure
    console.log(`statements per step: ${perStep.toFixed(1)} (and ${counted.timed} by the clock, left out)\n${top.join('\n')}`);
    expect(perStep).toBeLessThanOrEqual(STATEMENTS_PER_STEP_MAX);
    // the working indicator (ChatPort.working, shown by the poster after a status post) was among what was counted
    expect(e.chat.statuses.filter((s) => s.status.startsWith('is working')).length).toBeGreaterThan(0);
  });
});
