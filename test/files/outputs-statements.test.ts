// Files out, by the statements they cost (issue 12) and by the invariants those few statements keep: a delivery reads
// the step and its thread in one statement, records and claims the files in one, marks the uploads delivered in one
// (Slack); a repeat costs the read and the record, uploads nothing; files an earlier run left 'pending' are claimed
// once even by two jobs at the same time (the returned rows decide: each file uploaded once); where the platform
// takes no upload (Teams) the same statement that records the files marks them delivered as console links.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deliverOutputFiles } from '../../orchestrator/outputs';
import type { ChatPort } from '../../orchestrator/chat';
import { approvedThread } from '../support/flow';
import { startHarness, waitFor, type Harness } from '../support/harness';

let h: Harness;
const original = pg.Client.prototype.query;
const seen: { text: string; values: string }[] = [];
let counting = false;

beforeEach(async () => {
  h = await startHarness();
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    if (counting) {
      const first = args[0];
      const values = typeof first === 'string' ? args[1] : (first as { values?: unknown } | undefined)?.values;
      seen.push({ text: (typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '').replace(/\s+/g, ' ').trim(), values: JSON.stringify(values ?? null) });
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query;
});
afterEach(async () => {
  pg.Client.prototype.query = original;
  await h.close();
});

/** The statements `run` sends about the output files of step `stepId`, the step they come from and the note's outbox
 *  row (the harness's loops by the clock, such as the outbox sweep, and other steps' deliveries left out). */
async function statementsOf(stepId: string, run: () => Promise<unknown>): Promise<string[]> {
  seen.length = 0;
  counting = true;
  try {
    await run();
  } finally {
    counting = false;
  }
  // a statement of this delivery names the step or one of its files (the upload marks name only the files)
  const files = (await h.prisma.outputFile.findMany({ where: { stepId }, select: { id: true } })).map((f) => f.id);
  return seen
    .filter((q) => (q.values.includes(stepId) || files.some((id) => q.values.includes(id))) && /"OutputFile"|FROM "Step" s JOIN "Workflow" w|^INSERT INTO "ChatOutbox"/.test(q.text))
    .map((q) => q.text);
}

const runWorkflow = (text: string): Promise<string> => approvedThread(h, text);

describe('delivering a role\'s files', () => {
  it('costs a read, a record-and-claim and a mark; a repeat uploads nothing; pending files are claimed once by racing jobs; Teams marks links in the record', async () => {
    const threadTs = await runWorkflow('add an export of invoices as CSV');
    await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs, status: 'completed' } }), 'the completed workflow');
    const all = await waitFor(async () => {
      const rows = await h.prisma.outputFile.findMany({ where: { workflow: { threadTs } }, orderBy: { name: 'asc' } });
      return rows.length && rows.every((f) => f.delivery === 'delivered') ? rows : undefined;
    }, 'the files delivered');
    const qa = all.filter((r) => r.roleId === 'qa_tester');
    expect(qa.map((r) => r.name)).toEqual(['test-cases.csv', 'test-cases.xlsx']);
    const job = { kind: 'outputs' as const, stepId: qa[0]!.stepId, revision: qa[0]!.revision };
    const uploadsOf = () => h.slack.uploads.filter((u) => u.threadTs === threadTs && qa.some((r) => r.name === u.filename)).length;
    expect(uploadsOf()).toBe(2);

    // A repeat: the read and the record (which inserts and claims nothing); nothing uploaded.
    const repeat = await statementsOf(job.stepId, () => deliverOutputFiles(h.runtime.deps, job));
    expect(repeat).toHaveLength(2);
    expect(uploadsOf()).toBe(2);

    // A first delivery (the rows gone): read, record-and-claim, mark delivered. The rows are new and delivered once.
    await h.prisma.outputFile.deleteMany({ where: { stepId: job.stepId, revision: job.revision } });
    const first = await statementsOf(job.stepId, () => deliverOutputFiles(h.runtime.deps, job));
    expect(first).toHaveLength(3);
    expect(uploadsOf()).toBe(4);
    const fresh = await h.prisma.outputFile.findMany({ where: { stepId: job.stepId, revision: job.revision }, orderBy: { name: 'asc' } });
    expect(fresh.map((r) => [r.name, r.delivery])).toEqual([['test-cases.csv', 'delivered'], ['test-cases.xlsx', 'delivered']]);
    for (const r of fresh) expect(h.slack.uploads.find((u) => u.id === r.deliveredRef)?.filename).toBe(r.name);
    expect(new Set(fresh.map((r) => r.id)).size).toBe(2);
    expect(fresh.some((r) => qa.some((q) => q.id === r.id))).toBe(false);

    // Rows an earlier run left pending (recorded, never claimed): two jobs at once claim them once between them.
    await h.prisma.outputFile.updateMany({ where: { stepId: job.stepId, revision: job.revision }, data: { delivery: 'pending', deliveredRef: null } });
    await Promise.all([deliverOutputFiles(h.runtime.deps, job), deliverOutputFiles(h.runtime.deps, job)]);
    expect(uploadsOf()).toBe(6);
    const again = await h.prisma.outputFile.findMany({ where: { stepId: job.stepId, revision: job.revision }, orderBy: { name: 'asc' } });
    expect(again.map((r) => [r.name, r.delivery])).toEqual([['test-cases.csv', 'delivered'], ['test-cases.xlsx', 'delivered']]);
    for (const r of again) expect(h.slack.uploads.find((u) => u.id === r.deliveredRef)?.filename).toBe(r.name);

    // Where the port takes no upload (Teams): the record marks the pending files delivered as links, and the note
    // lists every file of the step revision; the cost is the read, the record and the note's outbox row.
    await h.prisma.outputFile.updateMany({ where: { stepId: job.stepId, revision: job.revision, name: 'test-cases.xlsx' }, data: { delivery: 'pending', deliveredRef: null } });
    const slack = h.runtime.deps.chat.slack!;
    const linking: ChatPort = Object.assign(Object.create(slack) as ChatPort, { upload: undefined });
    const deps = { ...h.runtime.deps, chat: { ...h.runtime.deps.chat, slack: linking } };
    const posts = h.threadPosts(threadTs).length;
    const linked = await statementsOf(job.stepId, () => deliverOutputFiles(deps, job));
    expect(linked).toHaveLength(3);
    expect(linked[2]).toMatch(/^INSERT INTO "ChatOutbox"/);
    const rows = await h.prisma.outputFile.findMany({ where: { stepId: job.stepId, revision: job.revision }, orderBy: { name: 'asc' } });
    expect(rows.map((r) => [r.name, r.delivery, r.deliveredRef === 'link'])).toEqual([['test-cases.csv', 'delivered', false], ['test-cases.xlsx', 'delivered', true]]);
    const note = await waitFor(() => h.threadPosts(threadTs).slice(posts).find((c) => /made 2 files/.test(c.params.text)), 'the links note');
    expect(note.params.text).toContain('test-cases.csv');
    expect(note.params.text).toContain('test-cases.xlsx');
    expect(uploadsOf()).toBe(6);
  });
});
