// The chat outbox (issue 12): the posts and edits a step (or a gate decision, a button) decides are rows of
// ChatOutbox written in the same transaction as the state they show, and the poster sends them afterwards, off the
// step's critical path. Invariants:
// - a row's key is the post's idempotency key (jobs.ts postKey / updateKey): writing it again inserts nothing;
// - a channel's rows are sent in id order, one sender at a time: a claim takes a run of consecutive rows from the
//   channel's head (its lowest unsent row), each due and held by nobody (or its claim ran out, or it is held by this
//   same drain job, re-run by BullMQ after its worker died), locking the head rows first so that a second claimer waits
//   and then finds them held; so a thread sees its posts in the order they were decided. A run is marked sent in one
//   statement, which claims the next run (where the platform can look a post up, Slack; elsewhere a run is one row);
// - a post's AgentMessage row gets its messageTs only once the platform has accepted it (as posts.ts). The write
//   that records it is tried again while the database is unreachable (for most of the claim), and a row tried before
//   whose outcome is unknown (a crash, or an outage longer than that, between the platform's answer and the write) is
//   first looked up in its thread by its key (ChatPort.findPosted: Slack message metadata) and adopted when found,
//   not posted again. Where the platform cannot look a post up (Teams), such a row is posted again;
// - a post the platform refuses for good is recorded on its AgentMessage row and audited once (posts.ts postRefused),
//   and the channel goes on with its next row; a passing failure (rate limit after the client's own Retry-After waits,
//   5xx, network) puts the row back, due after what the platform asked, and the drain job is delayed (queue.ts);
// - every write is followed, after commit, by a drain job for its channel (deterministic id: a repeat adds nothing);
//   a drain job that was lost (a crash between commit and add, Redis down and the inbox too) is made up for by the
//   sweep, which adds one for every channel whose head has waited too long.
// - a row's persona is the arm's when its workflow is in an experiment arm that varies that role's persona
//   (orchestrator/experiments/assign.ts variantPersonas): every post of that role in the thread, on every platform.
// - once a message saying its role is working went out, the platform's own working indicator is shown in the thread
//   (showWorking: Slack's assistant thread status), best effort and without a database statement.
import { createHash } from 'node:crypto';
import { Prisma } from '../generated/prisma/client';
import { errorMessage } from '../agents/errors';
import { isPostRefused, type ChatPort, type MessageView, type Persona, type ThreadRef } from './chat';
import type { PlatformName } from './contract';
import type { Db } from './db';
import { chatFor, type EngineDeps } from './deps';
import { waitAtMost } from './deadline';
import { asInfraError } from './infra';
import { partKeyOf, postKey, updateKey, type JobData, type JobQueue, type PostKey } from './jobs';
import type { Logger } from './log';
import { postRefused } from './posts';
import type { Writer } from './workflow/transitions';
import { sealerFor, type AtRest, type Sealer } from './privacy/at-rest';
import { variantPersona, variantPersonas } from './experiments/assign';

/** One post or edit to send. */
export type OutboxItem = {
  workflowId: string;
  stepId?: string | null;
  roleId: string;
  thread: ThreadRef;
  persona: Persona;
  view: MessageView;
} & (
  /** A new post under its key. */
  | { op: 'post'; key: PostKey }
  /** An edit of the post `target`, named by `tag` (its row key is updateKey(target, tag)); posted anew when the target
   *  was never posted. With `as`, the edited post also counts as the post `as` (a status message that becomes the
   *  step's output is then the step's output message too). */
  | { op: 'update'; target: PostKey; tag: string; as?: PostKey }
);

/** The unit of ordering: one channel of one workspace. */
export const channelOf = (t: ThreadRef): string => `${t.platform}:${t.teamId}:${t.channelId}`;

/** The drain jobs to add once the rows are committed: one per channel, named by the first row written for it. */
export function drainJobs(items: OutboxItem[]): Extract<JobData, { kind: 'drain' }>[] {
  const first = new Map<string, string>();
  for (const i of items) if (!first.has(channelOf(i.thread))) first.set(channelOf(i.thread), rowKey(i));
  return [...first].map(([channel, key]) => ({ kind: 'drain', channel, from: createHash('sha256').update(key).digest('hex').slice(0, 20) }));
}

/** A drain job for a thread's channel outside a write (a recovery): `seed` names it. */
export const drainJobFor = (thread: ThreadRef, seed: string): Extract<JobData, { kind: 'drain' }> =>
  ({ kind: 'drain', channel: channelOf(thread), from: createHash('sha256').update(seed).digest('hex').slice(0, 20) });

const rowKey = (i: OutboxItem): string => (i.op === 'post' ? postKey(i.key) : i.as ? postKey(i.as) : updateKey(i.target, i.tag));

/** Writes the rows in one statement (in the caller's transaction when it passes one); repeats insert nothing. The
 *  views (post text) are sealed under their workspace's key when `deps.atRest` is on (privacy/at-rest.ts). */
export async function writeOutbox(db: Writer, items: OutboxItem[], deps: { atRest?: AtRest } = {}): Promise<void> {
  if (!items.length) return;
  await db.$executeRaw`${outboxInsert(await outboxRows(db, items, deps))}`;
}

/** The rows of `items` as outboxInsert takes them (sealed, with an arm's persona where one applies). */
export async function outboxRows(db: Writer, items: OutboxItem[], deps: { atRest?: AtRest } = {}): Promise<string> {
  const seals = await Promise.all(items.map((i) => sealerFor(deps, i.thread)));
  // a workflow in an experiment arm that varies a role's persona: its posts carry the arm's (orchestrator/experiments);
  // looked up once per workflow and process (plainWorkflows)
  const unknown = [...new Set(items.map((i) => i.workflowId))].filter((id) => !plainWorkflows.has(id));
  const variants = unknown.length ? await variantPersonas(db, unknown) : new Map<string, never>();
  for (const id of unknown) if (![...variants.keys()].some((k) => k.startsWith(`${id} `))) noPersonaVariants(id);
  const rows = items.map((i, n) => ({
    key: rowKey(i),
    channel: channelOf(i.thread),
    op: i.op,
    targetKey: i.op === 'update' ? postKey(i.target) : null,
    kind: i.op === 'post' ? i.key.kind : (i.as ?? i.target).kind,
    workflowId: i.workflowId,
    stepId: i.stepId ?? null,
    roleId: i.roleId,
    thread: i.thread,
    persona: variantOf(variants, i),
    view: seals[n]!.json(i.view),
  }));
  return JSON.stringify(rows);
}

/** The INSERT of outboxRows' rows, in their order (their ids keep it), repeats inserting nothing; `where`: a guard
 *  (e.g. only when the step run that writes them finished: workflow/transitions.ts FINISHED). */
export const outboxInsert = (rows: string, where: Prisma.Sql = Prisma.empty): Prisma.Sql => Prisma.sql`
    INSERT INTO "ChatOutbox" (key, channel, op, "targetKey", kind, "workflowId", "stepId", "roleId", thread, persona, view)
    SELECT r.key, r.channel, r.op, r."targetKey", r.kind, r."workflowId", r."stepId", r."roleId", r.thread, r.persona, r.view
    FROM ROWS FROM (jsonb_to_recordset(${rows}::jsonb)
      AS (key text, channel text, op text, "targetKey" text, kind text, "workflowId" text, "stepId" text, "roleId" text, thread jsonb, persona jsonb, view jsonb))
      WITH ORDINALITY AS r(key, channel, op, "targetKey", kind, "workflowId", "stepId", "roleId", thread, persona, view, n)
    ${where}
    ORDER BY r.n
    ON CONFLICT (key) DO NOTHING`;

/** Workflows known to vary no persona. A workflow's experiment assignments are written with it (start.ts, in the
 *  transaction that creates it) and an experiment's definition never changes after it is created, so a workflow that
 *  has no persona variation when its first post is written never gets one: remembered per process (bounded), and the
 *  outbox then writes its posts without a lookup (issue 12). */
const plainWorkflows = new Set<string>();
const PLAIN_WORKFLOWS_MAX = 20_000;

/** Remembers that a workflow varies no persona (a step that read it has no experiment assignment: steps.ts). */
export function noPersonaVariants(workflowId: string): void {
  if (plainWorkflows.has(workflowId)) return;
  if (plainWorkflows.size >= PLAIN_WORKFLOWS_MAX) plainWorkflows.delete(plainWorkflows.values().next().value!);
  plainWorkflows.add(workflowId);
}

const variantOf = (variants: Awaited<ReturnType<typeof variantPersonas>>, i: OutboxItem): Persona => {
  const v = variants.get(`${i.workflowId} ${i.roleId}`);
  return v ? variantPersona(i.persona, v) : i.persona;
};

/** Adds the drain jobs of rows already committed (a failure is logged: the sweep adds them later). */
export async function kickDrains(deps: Pick<EngineDeps, 'queue' | 'log'>, items: OutboxItem[]): Promise<void> {
  await Promise.all(drainJobs(items).map((j) => deps.queue.enqueue(j).catch((e: unknown) => deps.log.warn('could not add a drain job (the outbox sweep will)', { channel: j.channel, error: errorMessage(e) }))));
}

/** Writes the rows (autocommit) and adds their drain jobs: for posts that change no other state. */
export async function queuePosts(deps: EngineDeps, items: OutboxItem[]): Promise<void> {
  await writeOutbox(deps.prisma, items, deps);
  await kickDrains(deps, items);
}

// ---- the poster ----

/** Rows one drain job sends before it hands the channel to a new job (other jobs get their turn). */
const ROWS_PER_DRAIN = 50;
/** How long a claim holds a row: longer than any send (the chat clients wait out Retry-After within it). */
const LEASE_SECONDS = 120;
/** How long the write recording a sent row is tried again while the database is unreachable: well within the claim,
 *  so nobody else has claimed the row meanwhile. */
const RECORD_RETRY_MS = (LEASE_SECONDS - 30) * 1000;
/** Tries of a row that keeps failing with an error that is neither a refusal nor passing. */
const MAX_ROW_ATTEMPTS = 5;

interface Claimed {
  id: bigint;
  key: string;
  op: 'post' | 'update';
  targetKey: string | null;
  kind: string;
  workflowId: string;
  stepId: string | null;
  roleId: string;
  thread: ThreadRef;
  persona: Persona;
  view: MessageView;
  attempts: number;
  targetTs: string | null;
  /** Edits of this post written after it, not sent yet: sent as part of the post (the latest view goes out). */
  later: { id: string; key: string; kind: string; view: MessageView }[] | null;
}

/** Rows one claim takes at most: consecutive rows from the head of a channel, sent in order and marked sent together
 *  (one statement for the run, which also claims the next run), where a post whose outcome was lost can be found in
 *  its thread (ChatPort.findPosted: Slack). Elsewhere (Teams) one at a time, so that a crash between a post and its
 *  mark leaves at most that one post's outcome unknown. */
const RUN_MAX = 20;
/** A run sends no further row this long after its claim (it marks what it sent and claims again), well within the
 *  lease, so a slow platform (Retry-After waits) never lets a claim run out while its rows are being sent. */
const RUN_SEND_MS = 60_000;

const runSizeOf = (deps: Pick<EngineDeps, 'chat'>, channel: string): number =>
  (deps.chat[channel.slice(0, channel.indexOf(':')) as PlatformName]?.findPosted ? RUN_MAX : 1);

/** A row the holder may claim: pending and due, or sent by nobody alive (claim ran out), or its own (a re-run). */
const claimable = (o: Prisma.Sql, holder: string) => Prisma.sql`((${o}.status = 'pending' AND ${o}."nextAttemptAt" <= now()) OR (${o}.status = 'sending' AND (${o}."leaseUntil" < now() OR ${o}."leaseBy" = ${holder})))`;

/** CTEs that claim a channel's run: its first `max` unsent rows (but `exclude`), locked in id order, of which the ones
 *  before the first that cannot be claimed (not due, or held by another sender). Locking the head rows first makes a
 *  second claimer wait, then see them held: two senders never hold rows of one channel at once, so the channel's order
 *  is kept. The claimed rows come back as `claimed`, with their targets' message ids and the edits waiting behind. */
const runClaim = (channel: string, holder: string, max: number, exclude: string[]) => Prisma.sql`
    head AS (
      SELECT h.id, ${claimable(Prisma.raw('h'), holder)} AS ok FROM "ChatOutbox" h
      WHERE h.channel = ${channel} AND h.status IN ('pending', 'sending') AND h.id <> ALL(${exclude}::bigint[])
      ORDER BY h.id LIMIT ${max} FOR UPDATE),
    run AS (SELECT f.id FROM head f WHERE f.ok AND NOT EXISTS (SELECT 1 FROM head b WHERE NOT b.ok AND b.id < f.id)),
    claimed AS (
      UPDATE "ChatOutbox" o SET status = 'sending', "leaseUntil" = now() + make_interval(secs => ${LEASE_SECONDS}), "leaseBy" = ${holder}, attempts = o.attempts + 1
      FROM run WHERE o.id = run.id AND ${claimable(Prisma.raw('o'), holder)}
      RETURNING ${CLAIMED})`;

/** Claims the channel's next run (see runClaim), in id order (exported for tests). */
export async function claimRun(db: Db, channel: string, holder: string, max: number): Promise<Claimed[]> {
  const rows = await db.$queryRaw<Claimed[]>`
    WITH just AS (SELECT NULL::text AS key, NULL::text AS ts WHERE false),
    ${runClaim(channel, holder, max, [])}
    SELECT * FROM claimed`;
  return inOrder(rows);
}

const inOrder = (rows: Claimed[]): Claimed[] => rows.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));

/** What a claim returns: the row, its target's message id (also when the target was sent by this very statement:
 *  `just`), and the edits of it that wait behind it. */
const CLAIMED = Prisma.sql`o.id, o.key, o.op, o."targetKey", o.kind, o."workflowId", o."stepId", o."roleId", o.thread, o.persona, o.view, o.attempts,
      COALESCE((SELECT j.ts FROM just j WHERE j.key = o."targetKey"), (SELECT m."messageTs" FROM "AgentMessage" m WHERE m."idempotencyKey" = o."targetKey")) AS "targetTs",
      (SELECT json_agg(json_build_object('id', u.id::text, 'key', u.key, 'kind', u.kind, 'view', u.view) ORDER BY u.id) FROM "ChatOutbox" u
        WHERE o.op = 'post' AND u.channel = o.channel AND u."targetKey" = o.key AND u.status = 'pending' AND u.id > o.id) AS later`;

/** A message the platform accepted (or edited): its AgentMessage row, by key. */
interface Sent {
  key: string;
  kind: string;
  ts: string;
  text: string;
  /** The row the message belongs to (a run's rows may be of several workflows); absent: the row markSentOnce is given. */
  of?: { workflowId: string; stepId: string | null; roleId: string; channelId: string };
}

/** Marks rows sent and records the messages (a gate's card id also on its Approval) and, with `next`, claims the
 *  channel's next run in the same statement (the poster then costs one statement per run of posts and edits). */
async function markSentOnce(db: Db, seal: Sealer, ids: (bigint | string)[], row: Claimed, sent: Sent[], next?: { channel: string; holder: string; max: number }): Promise<Claimed[]> {
  const gates = sent.filter((s) => s.kind === 'gate' && s.key.startsWith('gate:') && !s.key.includes('#')).map((s) => ({ id: s.key.slice('gate:'.length), ts: s.ts }));
  // a message sent and then edited in the same run is recorded once, as it reads last
  const last = [...new Map(sent.map((s) => [s.key, s])).values()];
  const messages = last.map((s) => ({ ...s, text: seal.text(s.text), workflowId: row.workflowId, stepId: row.stepId, roleId: row.roleId, channelId: row.thread.channelId, ...(s.of ?? {}) }));
  const done = ids.map(String);
  // The rows marked here still read as unsent within this statement: the next run is looked for among the others.
  const claim = next ? Prisma.sql`, ${runClaim(next.channel, next.holder, next.max, done)}` : Prisma.sql`, claimed AS (SELECT NULL WHERE false)`;
  const rows = await db.$queryRaw<Claimed[]>`
    WITH just AS (SELECT m.key, m.ts FROM jsonb_to_recordset(${JSON.stringify(messages)}::jsonb) AS m(key text, ts text)),
    done AS (
      UPDATE "ChatOutbox" SET status = 'sent', "sentAt" = now(), "leaseUntil" = NULL, "leaseBy" = NULL, error = NULL
      WHERE id = ANY(${done}::bigint[])),
    msg AS (
      INSERT INTO "AgentMessage" (id, "idempotencyKey", "workflowId", "stepId", "roleId", kind, "channelId", "messageTs", text, "postedAt")
      SELECT gen_random_uuid()::text, m.key, m."workflowId", m."stepId", m."roleId", m.kind, m."channelId", m.ts, m.text, now()
      FROM jsonb_to_recordset(${JSON.stringify(messages)}::jsonb) AS m(key text, kind text, ts text, text text, "workflowId" text, "stepId" text, "roleId" text, "channelId" text)
      ON CONFLICT ("idempotencyKey") DO UPDATE SET "messageTs" = EXCLUDED."messageTs", text = EXCLUDED.text,
        "postedAt" = COALESCE("AgentMessage"."postedAt", EXCLUDED."postedAt"), error = NULL, "failedAt" = NULL)${claim},
    gate AS (UPDATE "Approval" a SET "messageTs" = g.ts FROM jsonb_to_recordset(${JSON.stringify(gates)}::jsonb) AS g(id text, ts text) WHERE a.id = g.id)
    SELECT * FROM claimed`;
  return next ? inOrder(rows) : [];
}

/** Puts claimed rows that were not sent back, as they were before the claim (a run that stopped at a failure). */
async function unclaim(db: Db, ids: bigint[], holder: string): Promise<void> {
  if (!ids.length) return;
  await db.$executeRaw`
    UPDATE "ChatOutbox" SET status = 'pending', "leaseUntil" = NULL, "leaseBy" = NULL, attempts = greatest(attempts - 1, 0)
    WHERE id = ANY(${ids.map(String)}::bigint[]) AND status = 'sending' AND "leaseBy" = ${holder}`;
}

/** Puts a claimed row back, due after `delayMs` (a passing failure), or gives it up (`failed`). */
async function release(db: Db, id: bigint, error: string, delayMs: number, failed = false): Promise<void> {
  await db.$executeRaw`
    UPDATE "ChatOutbox" SET status = ${failed ? 'failed' : 'pending'}, "leaseUntil" = NULL, "leaseBy" = NULL, error = ${error.slice(0, 2000)},
      "nextAttemptAt" = now() + make_interval(secs => ${delayMs / 1000})
    WHERE id = ${id}`;
}

const kindOfKey = (key: string) => key.slice(0, key.indexOf(':'));

/** The channels this process is draining now, each with whether a drain job for it came meanwhile. */
const draining = new Map<string, { again: boolean }>();

/** Job: sends the channel's due rows in order, until none is left (or another sender holds the head). A drain job for
 *  a channel this process is already draining costs no statement: it leaves a note, and the drain under way, which
 *  would otherwise end when it finds nothing left, looks once more (its rows were committed before the job was added,
 *  so that look finds them, unless the drain under way already sent them). */
export async function drainChannel(deps: EngineDeps, channel: string, holder: string): Promise<void> {
  const running = draining.get(channel);
  if (running) return void (running.again = true);
  const me = { again: false };
  draining.set(channel, me);
  try {
    do {
      me.again = false;
      if ((await drainRows(deps, channel, holder)) === 'handed-on') return;
    } while (me.again);
  } finally {
    draining.delete(channel);
  }
}

async function drainRows(deps: EngineDeps, channel: string, holder: string): Promise<'done' | 'handed-on'> {
  const max = runSizeOf(deps, channel);
  let rows = await claimRun(deps.prisma, channel, holder, max);
  for (let n = 0; rows.length; ) {
    n += rows.length;
    const last = n >= ROWS_PER_DRAIN;
    const next = await sendRun(deps, rows, holder, last ? undefined : { channel, holder, max });
    if (last) {
      await deps.queue.enqueue({ kind: 'drain', channel, from: `c${Date.now().toString(36)}` });
      return 'handed-on';
    }
    // the next run was claimed with the mark (or none is due); nothing sent (every row refused): claim the next one
    rows = next ?? (await claimRun(deps.prisma, channel, holder, max));
  }
  return 'done';
}

/** Sends a claimed run in order and marks what went out in one statement, which claims the next run when asked (its
 *  rows returned; undefined when nothing was sent to mark). A row the platform refuses for good is recorded and the run
 *  goes on; a passing failure marks what was sent, puts the row back due later and the rest back as they were, and
 *  throws. */
async function sendRun(deps: EngineDeps, rows: Claimed[], holder: string, next?: { channel: string; holder: string; max: number }): Promise<Claimed[] | undefined> {
  const first = rows[0]!;
  const port = chatFor(deps, first.thread.platform);
  const seal = await sealerFor(deps, first.thread); // AgentMessage.text at rest (cached after the first row of a workspace)
  const claimedAt = Date.now();
  const markSent = (...args: Parameters<typeof markSentOnce>) => recording(deps, first, claimedAt, () => markSentOnce(...args));
  const ids: (bigint | string)[] = [];
  const sent: Sent[] = [];
  const known = new Map<string, string>(); // message key → id, for posts of this run that later rows of it edit
  const settled = new Set<string>(); // rows sent, on their own or as part of an earlier post of the run
  let i = 0;
  try {
    for (; i < rows.length; i++) {
      const row = rows[i]!;
      if (settled.has(String(row.id))) continue;
      if (i > 0 && Date.now() - claimedAt > RUN_SEND_MS) {
        // the rest goes back as it was, and the mark claims it again (or the next drain job does)
        await unclaim(deps.prisma, rows.slice(i).filter((r) => !settled.has(String(r.id))).map((r) => r.id), holder);
        break;
      }
      const out = await sendRow(deps, port, seal, row, known, markSent);
      if (!out) continue; // refused for good: recorded
      ids.push(...out.ids);
      for (const id of out.ids) settled.add(String(id));
      for (const m of out.sent) {
        known.set(m.key, m.ts);
        sent.push({ ...m, of: { workflowId: row.workflowId, stepId: row.stepId, roleId: row.roleId, channelId: row.thread.channelId } });
      }
    }
  } catch (e) {
    // the row at `i` was put back (sendRow); what was sent is recorded, what was not is put back as it was
    if (ids.length) await markSent(deps.prisma, seal, ids, first, sent);
    await unclaim(deps.prisma, rows.slice(i + 1).filter((r) => !settled.has(String(r.id))).map((r) => r.id), holder);
    throw e;
  }
  if (!ids.length) return undefined;
  return markSent(deps.prisma, seal, ids, first, sent, next);
}

/** Sends one claimed row: the ids it settles (its own and edits merged into a post) and the messages to record;
 *  undefined when the platform refused it for good (recorded). Passing failures put the row back and throw. `known`:
 *  message ids of posts sent earlier in the same run (an edit of one of them has no targetTs from the claim). */
async function sendRow(
  deps: EngineDeps, port: ChatPort, seal: Sealer, row: Claimed, known: Map<string, string>,
  markSent: (...args: Parameters<typeof markSentOnce>) => Promise<Claimed[]>,
): Promise<{ ids: (bigint | string)[]; sent: Sent[] } | undefined> {
  // the message the platform knows this row by: a post's own key, an edit's target
  const messageKey = row.op === 'post' ? row.key : row.targetKey!;
  const asOutput = row.op === 'update' && row.key !== row.targetKey && !row.key.includes('@') ? row.key : undefined;
  const targetTs = row.targetTs ?? (row.targetKey ? known.get(row.targetKey) : undefined);
  try {
    if (row.op === 'update' && targetTs) {
      await port.update(row.thread, targetTs, row.persona, row.view);
      const sent: Sent[] = [{ key: messageKey, kind: kindOfKey(messageKey), ts: targetTs, text: row.view.text }];
      if (asOutput) sent.push({ key: asOutput, kind: row.kind, ts: targetTs, text: row.view.text });
      await showWorking(deps, port, row, row.view);
      return { ids: [row.id], sent };
    }
    // A post, or an edit of a post that never went out (refused, or its row failed): posted now. Edits waiting behind
    // a post go out with it (its latest view), when that fits one message.
    const later = row.later ?? [];
    const last = later.at(-1);
    const view = last && (port.split?.(last.view) ?? [last.view]).length === 1 ? last.view : row.view;
    const merged = view === row.view ? [] : later;
    const ts = await postParts(deps, port, seal, row, messageKey, view, markSent);
    const sent: Sent[] = [{ key: messageKey, kind: kindOfKey(messageKey), ts, text: view.text }];
    if (asOutput) sent.push({ key: asOutput, kind: row.kind, ts, text: view.text });
    for (const u of merged) if (!u.key.includes('@')) sent.push({ key: u.key, kind: u.kind, ts, text: u.view.text });
    await showWorking(deps, port, row, view);
    return { ids: [row.id, ...merged.map((u) => u.id)], sent };
  } catch (e) {
    if (isPostRefused(e)) {
      await release(deps.prisma, row.id, e.message, 0, true);
      await deps.prisma.agentMessage.createMany({
        data: [{ idempotencyKey: messageKey, workflowId: row.workflowId, stepId: row.stepId, roleId: row.roleId, kind: kindOfKey(messageKey), channelId: row.thread.channelId, text: seal.text(row.view.text) }],
        skipDuplicates: true,
      });
      await postRefused(deps, { workflowId: row.workflowId, stepId: row.stepId, thread: row.thread, kind: kindOfKey(messageKey) }, messageKey, e);
      return undefined;
    }
    const infra = asInfraError(e);
    if (infra) {
      await release(deps.prisma, row.id, errorMessage(e), infra.retryAfterMs ?? 0);
      throw infra; // the job is delayed without using an attempt (queue.ts)
    }
    const giveUp = row.attempts >= MAX_ROW_ATTEMPTS;
    await release(deps.prisma, row.id, errorMessage(e), 1000 * 2 ** Math.min(row.attempts, 6), giveUp);
    if (!giveUp) throw e;
    deps.log.error('gave up a chat post', { workflowId: row.workflowId, post: row.key, error: errorMessage(e) });
    return undefined;
  }
}

/** How long the poster waits for the platform's working indicator before it goes on with the channel. */
const WORKING_WAIT_MS = 5_000;

/** After a message saying its role is working went out (a step's status post, or its edit for a new attempt): the
 *  platform's own working indicator in the thread too (ChatPort.working: Slack's assistant thread status). Here, and
 *  not where the step starts, because Slack clears that status when the app posts in the thread: set before the
 *  status post went out, the post itself would clear it. A sent view that no longer says "working" (a status post
 *  merged with its output) shows none. Best effort: no database statement, an error is logged (info) and the channel
 *  goes on, and a slow platform is waited for at most WORKING_WAIT_MS. */
async function showWorking(deps: EngineDeps, port: ChatPort, row: Claimed, view: MessageView): Promise<void> {
  if (!view.working || !port.working) return;
  const shown = port.working(row.thread, row.persona, view.working).catch((e: unknown) => {
    deps.log.info('could not show the working status in the thread (the status post says it)', { workflowId: row.workflowId, post: row.key, error: errorMessage(e) });
  });
  await waitAtMost(shown, WORKING_WAIT_MS);
}

/** Posts a view (cut into several posts where the platform needs it: each part keyed, the last under the message's
 *  own key, parts already accepted before a crash not posted again). */
async function postParts(deps: EngineDeps, port: ChatPort, seal: Sealer, row: Claimed, key: string, view: MessageView, markSent: (...args: Parameters<typeof markSentOnce>) => Promise<Claimed[]>): Promise<string> {
  const parts = port.split?.(view) ?? [view];
  if (parts.length === 1) return postKeyed(deps, port, row, key, view);
  const keys = parts.slice(0, -1).map((_, i) => partKeyOf(key, i + 1));
  const posted = new Map((await deps.prisma.agentMessage.findMany({ where: { idempotencyKey: { in: keys }, messageTs: { not: null } }, select: { idempotencyKey: true, messageTs: true } })).map((m) => [m.idempotencyKey, m.messageTs!]));
  for (const [i, part] of parts.slice(0, -1).entries()) {
    if (posted.has(keys[i]!)) continue;
    const ts = await postKeyed(deps, port, row, keys[i]!, part);
    await markSent(deps.prisma, seal, [], row, [{ key: keys[i]!, kind: kindOfKey(key), ts, text: part.text }]);
  }
  return postKeyed(deps, port, row, key, parts.at(-1)!);
}

/** Posts one message under `key`. A row tried before may have been posted without that being recorded: it is looked
 *  up in the thread first, where the platform can (a lookup the platform refuses, e.g. an install from before the
 *  history scopes, is logged and the message posted). */
async function postKeyed(deps: EngineDeps, port: ChatPort, row: Claimed, key: string, view: MessageView): Promise<string> {
  if (row.attempts > 1 && port.findPosted) {
    try {
      const found = await port.findPosted(row.thread, key);
      if (found) {
        deps.log.info('a post whose outcome was lost was found in its thread: not posted again', { workflowId: row.workflowId, post: key });
        return found;
      }
    } catch (e) {
      if (!isPostRefused(e)) throw e;
      deps.log.warn('could not look up whether a post was already made; posting it (it may show twice)', { workflowId: row.workflowId, post: key, error: errorMessage(e) });
    }
  }
  return port.post(row.thread, row.persona, view, { key });
}

/** Records what the platform accepted: the write is tried again while the database is unreachable (for at most
 *  RECORD_RETRY_MS after the claim), so an outage right after a post does not leave its outcome unknown. */
async function recording<T>(deps: EngineDeps, row: Claimed, claimedAt: number, write: () => Promise<T>): Promise<T> {
  for (let wait = 500; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await write();
    } catch (e) {
      const infra = asInfraError(e);
      if (infra?.dependency !== 'database' || Date.now() + wait > claimedAt + RECORD_RETRY_MS) throw e;
      deps.log.warn('database unavailable: recording a sent post again shortly', { workflowId: row.workflowId, post: row.key, error: errorMessage(e).split('\n').at(-1) });
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

// ---- the sweep ----

export interface OutboxSweep {
  /** Adds a drain job for every channel whose head waited longer than `staleMs`; returns how many. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Every `intervalMs`: drain jobs for channels whose rows wait although nobody sends them (a lost drain job, a
 *  claim that ran out after a crash, a delayed drain job that came back before the row was due). Added straight to
 *  Redis: while it is unreachable the sweep waits (the rows are safe in PostgreSQL). */
export function startOutboxSweep(queue: JobQueue, prisma: Db, log: Logger, opts: { intervalMs?: number; staleMs?: number } = {}): OutboxSweep {
  const intervalMs = opts.intervalMs ?? 5_000;
  const staleMs = opts.staleMs ?? 15_000;
  let stopped = false;
  let running: Promise<number> | undefined;
  const runOnce = async (): Promise<number> => {
    const heads = await prisma.$queryRaw<{ channel: string }[]>`
      SELECT channel FROM (
        SELECT DISTINCT ON (channel) channel, status, "nextAttemptAt", "leaseUntil", "createdAt"
        FROM "ChatOutbox" WHERE status IN ('pending', 'sending') ORDER BY channel, id) h
      WHERE (status = 'pending' AND "nextAttemptAt" <= now() AND "createdAt" < now() - make_interval(secs => ${staleMs / 1000}))
         OR (status = 'sending' AND "leaseUntil" < now())`;
    const tick = Math.floor(Date.now() / intervalMs).toString(36);
    await Promise.all(heads.map((h) => queue.enqueue({ kind: 'drain', channel: h.channel, from: `s${tick}` })));
    return heads.length;
  };
  const tick = async () => {
    if (stopped) return;
    running = runOnce();
    try {
      const n = await running;
      if (n) log.info(`outbox sweep: drain jobs for ${n} channel(s) whose posts waited`);
    } catch (e) {
      log.warn('outbox sweep: could not run (retrying)', { error: errorMessage(e).split('\n').at(-1) });
    } finally {
      running = undefined;
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  let timer: NodeJS.Timeout | undefined = setTimeout(tick, intervalMs);
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => undefined);
    },
  };
}

/** Rows of a workflow not sent yet (tests and the console: "posts still to go out"). */
export const unsentCount = (db: Db, where: Prisma.ChatOutboxWhereInput = {}) => db.chatOutbox.count({ where: { ...where, status: { in: ['pending', 'sending'] } } });
