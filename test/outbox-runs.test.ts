// The poster sends a channel's waiting posts as runs (issue 12): consecutive rows from the channel's head, claimed in
// one statement, sent in order, marked sent together in one statement that claims the next run. Two claimers of one
// channel never hold rows at once (the head rows are locked first), so a thread's order is kept; an edit of a post
// sent earlier in the same run reaches that post; a run stops at a row that is not due, and the rows behind it wait.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { claimRun, drainChannel } from '../orchestrator/outbox';
import { startHarness, waitFor, type Harness } from './support/harness';
import { startThread, waitForGate } from './support/flow';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 240_000);
afterAll(async () => { await h?.close(); });

const original = pg.Client.prototype.query;
const seen: string[] = [];
afterEach(() => { pg.Client.prototype.query = original; });
function countStatements(): void {
  seen.length = 0;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    seen.push((typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '').replace(/\s+/g, ' ').trim());
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof pg.Client.prototype.query;
}

/** Rows of the thread's channel, written as a step would (a copy of its plan row with a new key and text). */
async function addRows(from: string, keys: string[], opts: { notDueKey?: string; editOf?: { key: string; target: string } } = {}): Promise<void> {
  for (const key of keys) {
    await h.prisma.$executeRaw`
      INSERT INTO "ChatOutbox" (key, channel, op, kind, "workflowId", "stepId", "roleId", thread, persona, view, "nextAttemptAt")
      SELECT ${key}::text, channel, 'post', 'files', "workflowId", "stepId", "roleId", thread, persona, jsonb_build_object('text', ${`text of ${key}`}::text),
        CASE WHEN ${key}::text = ${opts.notDueKey ?? ''}::text THEN now() + interval '1 hour' ELSE now() END
      FROM "ChatOutbox" WHERE key = ${from}`;
    if (opts.editOf?.target === key) {
      await h.prisma.$executeRaw`
        INSERT INTO "ChatOutbox" (key, channel, op, "targetKey", kind, "workflowId", "stepId", "roleId", thread, persona, view)
        SELECT ${opts.editOf.key}, channel, 'update', ${key}, 'files', "workflowId", "stepId", "roleId", thread, persona, jsonb_build_object('text', ${`edited ${key}`}::text)
        FROM "ChatOutbox" WHERE key = ${from}`;
    }
  }
}

describe('the poster sends a channel as runs', () => {
  it('claims consecutive rows once, sends them in order with one mark per run, and stops at a row not due', async () => {
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { threadTs: ev.ts } });
    await waitFor(async () => (await h.prisma.chatOutbox.count({ where: { workflowId: wf.id, status: { in: ['pending', 'sending'] } } })) === 0, 'the posts so far');
    const plan = await h.prisma.chatOutbox.findFirstOrThrow({ where: { workflowId: wf.id, kind: 'plan' } });

    // Two claimers at once: one gets the whole run, in order, the other nothing.
    const keys = Array.from({ length: 8 }, (_, i) => `run-a-${i}`);
    await addRows(plan.key, keys, { editOf: { key: 'run-a-2@edit', target: 'run-a-2' } });
    const [x, y] = await Promise.all([claimRun(h.prisma, plan.channel, 'claimer-x', 20), claimRun(h.prisma, plan.channel, 'claimer-y', 20)]);
    const won = x.length ? x : y;
    expect(Math.min(x.length, y.length)).toBe(0);
    expect(won.map((r) => r.key)).toEqual(['run-a-0', 'run-a-1', 'run-a-2', 'run-a-2@edit', 'run-a-3', 'run-a-4', 'run-a-5', 'run-a-6', 'run-a-7']);
    // the winner's claim ran out (as after a crash): the rows go to whoever drains next
    await h.prisma.$executeRaw`UPDATE "ChatOutbox" SET "leaseUntil" = now() - interval '1 second', attempts = 0 WHERE key LIKE 'run-a-%'`;

    // Drained: every post once, in order, the edit reaching its post; one mark for the run (it also claims the next).
    const before = h.threadPosts(ev.ts).length;
    countStatements();
    await drainChannel(h.runtime.deps, plan.channel, 'drainer-1');
    pg.Client.prototype.query = original;
    const calls = h.threadPosts(ev.ts).slice(before);
    const posted = calls.map((c) => String(c.params.text));
    expect(posted).toHaveLength(8);
    expect(posted.map((t) => t.match(/run-a-\d/)?.[0])).toEqual(keys);
    // the edit of a post sent earlier in the same run reaches that post (its id known from the run, not the database)
    const edit = h.slack.callsTo('chat.update').find((c) => String(c.params.text).includes('edited run-a-2'));
    expect(edit?.params.ts).toBe(calls[2]!.response?.ts);
    const marks = seen.filter((t) => t.startsWith('WITH just AS (SELECT m.key'));
    expect(marks.length).toBe(1);
    const rows = await h.prisma.chatOutbox.findMany({ where: { key: { startsWith: 'run-a-' } } });
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    const messages = await h.prisma.agentMessage.findMany({ where: { idempotencyKey: { in: keys } } });
    expect(new Set(messages.map((m) => m.messageTs)).size).toBe(8);

    // A row not due stops the run: what is before it goes out, what is behind it waits (the channel's order).
    const more = ['run-b-0', 'run-b-1', 'run-b-2', 'run-b-3'];
    await addRows(plan.key, more, { notDueKey: 'run-b-2' });
    const mid = h.threadPosts(ev.ts).length;
    await drainChannel(h.runtime.deps, plan.channel, 'drainer-2');
    expect(h.threadPosts(ev.ts).slice(mid).map((c) => String(c.params.text).match(/run-b-\d/)?.[0])).toEqual(['run-b-0', 'run-b-1']);
    const waiting = await h.prisma.chatOutbox.findMany({ where: { key: { in: ['run-b-2', 'run-b-3'] } }, orderBy: { id: 'asc' } });
    expect(waiting.map((r) => r.status)).toEqual(['pending', 'pending']);
  });
});
