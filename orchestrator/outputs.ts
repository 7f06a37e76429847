// Files out: after a step's output is recorded, the files its role declares (role YAML outputs.files) are built from
// the structured output (agents/files/outputs), stored in the file store by hash, recorded (OutputFile) and delivered to
// the thread: uploaded where the platform lets a bot upload (Slack files.uploadV2, the port's `upload`), otherwise
// linked to the console's download (Teams). This runs as its own job (kind 'outputs'), off the step's critical path:
// a file that cannot be made or uploaded is said in the thread and the workflow goes on.
// Invariants: a step revision's files are recorded once (unique step + revision + name) and delivered at most once —
// the rows are claimed by one conditional write whose returned rows decide (a row this job inserts is born claimed,
// 'delivering'; one left 'pending' by an earlier run is claimed pending -> delivering), so neither a re-run job nor a
// crash after the claim uploads twice (a crash between claim and upload leaves the files in the console only); the
// note that goes with them has one post key ({ kind: 'files' }) and goes through the chat outbox.
// Cost (issue 12): a delivery is one read (the step and its thread), one statement that records the built files and
// claims them (Teams: records them and marks them delivered as links, returning the step revision's files), one that
// marks the uploaded files delivered (Slack; or failed), and the note's outbox row. A restart's look is one statement.
import { buildOutputFiles } from '../agents/files/outputs/build';
import { errorMessage } from '../agents/errors';
import { Prisma } from '../generated/prisma/client';
import type { OutgoingFile } from './chat';
import { chatFor, roleOf, type EngineDeps } from './deps';
import type { JobData } from './jobs';
import { queuePosts } from './outbox';
import { threadOf, type ThreadRow } from './threads';
import { personaOf } from './views';

type OutputsJob = Extract<JobData, { kind: 'outputs' }>;

/** Queues the delivery of a step revision's files when its role declares any (the job id makes a repeat a no-op). */
export async function queueOutputFiles(deps: EngineDeps, step: { id: string; roleId: string; revision: number; outputData: unknown }): Promise<void> {
  if (step.outputData === null || step.outputData === undefined) return;
  const role = deps.roles.get(step.roleId);
  if (!role?.outputs.files.length) return;
  await deps.queue.enqueue({ kind: 'outputs', stepId: step.id, revision: step.revision });
}

/** After a restart: the output files of recent finished steps whose job may have been lost (a crash between the
 *  step's commit and the add) are queued again; a step revision that has its files recorded is left alone (repeats
 *  are no-ops anyway: the job id, the unique rows and the claim). One statement: the 500 most recent such steps,
 *  less those with files. */
export async function resumeOutputFiles(deps: EngineDeps, since = new Date(Date.now() - 24 * 3600_000)): Promise<number> {
  const roleIds = deps.roles.ids().filter((id) => (deps.roles.get(id)?.outputs.files.length ?? 0) > 0);
  if (!roleIds.length) return 0;
  const missing = await deps.prisma.$queryRaw<{ id: string; roleId: string; revision: number; outputData: unknown }[]>`
    WITH recent AS (
      SELECT s.id, s."roleId", s.revision, s."outputData", s."finishedAt" FROM "Step" s
      WHERE s."roleId" = ANY(${roleIds}::text[]) AND s.status IN ('completed', 'awaiting_approval') AND s."finishedAt" >= ${since}
        AND s."outputData" IS NOT NULL
      ORDER BY s."finishedAt" DESC LIMIT 500)
    SELECT r.id, r."roleId", r.revision, r."outputData" FROM recent r
    WHERE NOT EXISTS (SELECT 1 FROM "OutputFile" f WHERE f."stepId" = r.id AND f.revision = r.revision)
    ORDER BY r."finishedAt" DESC`;
  for (const s of missing) await queueOutputFiles(deps, s);
  return missing.length;
}

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

/** A step and its thread, as the delivery reads them (one statement). */
interface StepRow extends ThreadRow {
  id: string;
  workflowId: string;
  roleId: string;
  revision: number;
  outputData: unknown;
}

/** An OutputFile row as the delivery uses it. */
interface FileRow {
  id: string;
  name: string;
  mime: string;
  bytes: number;
  sha256: string;
}

/** Records the built files (a repeat inserts nothing: the unique step + revision + name) and, in the same statement,
 *  either claims the step revision's files for upload (`claim`: the rows this statement inserts are born
 *  'delivering', those an earlier run left 'pending' are moved to 'delivering'; the returned rows are the ones this
 *  job claimed, no other job gets them) or marks them delivered as console links (`link`: returns every file of the
 *  step revision, whatever its state). Ordered by name. */
async function recordFiles(deps: EngineDeps, step: StepRow, store: string, files: { name: string; mime: string; bytes: number; sha256: string }[], mode: 'claim' | 'link'): Promise<FileRow[]> {
  const [delivery, ref] = mode === 'claim' ? ['delivering', null] : ['delivered', 'link'];
  // The statement's parts see the table as it was before it: a row inserted here is not seen by the UPDATE (which
  // takes the older 'pending' rows) nor by the read of the existing rows (link), so each row is returned once.
  const rest = mode === 'claim'
    ? Prisma.sql`SELECT id, name, mime, bytes, sha256 FROM moved`
    : Prisma.sql`SELECT id, name, mime, bytes, sha256 FROM "OutputFile" WHERE "stepId" = ${step.id} AND revision = ${step.revision}`;
  return deps.prisma.$queryRaw<FileRow[]>`
    WITH ins AS (
      INSERT INTO "OutputFile" (id, "workflowId", "stepId", revision, "roleId", name, mime, bytes, sha256, store, delivery, "deliveredRef")
      SELECT gen_random_uuid()::text, ${step.workflowId}::text, ${step.id}::text, ${step.revision}::int, ${step.roleId}::text, f.name, f.mime, f.bytes, f.sha256,
        ${store}::text, ${delivery}::text, ${ref}::text
      FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(files)}::jsonb) AS (name text, mime text, bytes int, sha256 text)) WITH ORDINALITY AS f(name, mime, bytes, sha256, n)
      ORDER BY f.n
      ON CONFLICT ("stepId", revision, name) DO NOTHING
      RETURNING id, name, mime, bytes, sha256),
    moved AS (
      UPDATE "OutputFile" SET delivery = ${delivery}::text, "deliveredRef" = COALESCE(${ref}::text, "deliveredRef")
      WHERE "stepId" = ${step.id} AND revision = ${step.revision} AND delivery = 'pending'
      RETURNING id, name, mime, bytes, sha256)
    SELECT id, name, mime, bytes, sha256 FROM ins
    UNION ALL ${rest}
    ORDER BY name`;
}

export async function deliverOutputFiles(deps: EngineDeps, data: OutputsJob): Promise<void> {
  const [step] = await deps.prisma.$queryRaw<StepRow[]>`
    SELECT s.id, s."workflowId", s."roleId", s.revision, s."outputData", w.platform::text AS platform, w."teamId", w."channelId", w."threadTs"
    FROM "Step" s JOIN "Workflow" w ON w.id = s."workflowId"
    WHERE s.id = ${data.stepId}`;
  if (!step || step.revision !== data.revision || !step.outputData || typeof step.outputData !== 'object' || Array.isArray(step.outputData)) return;
  const role = roleOf(deps, step.roleId);
  if (!role.outputs.files.length) return;
  if (!deps.files) return deps.log.warn('a role declares output files but no file store is configured', { stepId: step.id });

  // Built again on every run (cheap, from the recorded output); only the first run's files are recorded.
  const built = await buildOutputFiles(role.outputs.files, step.outputData as Record<string, unknown>, { roleName: role.persona.display_name, maxBytes: deps.files.maxBytes });
  const made: { name: string; mime: string; bytes: number; sha256: string }[] = [];
  for (const f of built.files) {
    const stored = await deps.files.store.put(f.bytes, f.mime);
    made.push({ name: f.name, mime: f.mime, bytes: f.bytes.length, sha256: stored.sha256 });
  }
  const notes = [...built.failures];
  const thread = threadOf(step);
  const persona = personaOf(role);
  const port = chatFor(deps, thread.platform);
  const consoleUrl = deps.files.consoleUrl;
  const consoleWhere = consoleUrl ? 'the links below (sign in to the Rolecall console)' : `the Rolecall console's page of this workflow (${step.workflowId})`;
  const linksOf = (rows: { id: string; name: string; bytes: number }[]) =>
    rows.map((r) => `• ${consoleUrl ? `[${r.name}](${consoleUrl}/admin/workflows/${step.workflowId}/outputs/${r.id})` : r.name} (${size(r.bytes)})`);
  if (!port.upload) {
    // Teams: a bot cannot upload into a channel or group chat (only into a 1:1 chat, after the person accepts a
    // consent card, and then into their OneDrive): the thread gets links to the console's downloads, the files are
    // marked delivered (as links) in the statement that records them. The note's post key makes it once.
    let rows = await recordFiles(deps, step, deps.files.store.id, made, 'link');
    // A job running at the same time inserted some of these files in a statement this one could not see (it waited
    // for it, then inserted nothing): read them now that they are committed (rare: the job id makes jobs one).
    if (made.some((m) => !rows.some((r) => r.name === m.name)))
      rows = await deps.prisma.$queryRaw<FileRow[]>`SELECT id, name, mime, bytes, sha256 FROM "OutputFile" WHERE "stepId" = ${step.id} AND revision = ${step.revision} ORDER BY name`;
    if (rows.length) notes.unshift(`**${role.persona.display_name}** made ${rows.length === 1 ? 'a file' : `${rows.length} files`}; download ${rows.length === 1 ? 'it' : 'them'} from ${consoleWhere}:`, ...linksOf(rows));
  } else {
    const rows = await recordFiles(deps, step, deps.files.store.id, made, 'claim');
    if (rows.length) {
      try {
        const files: OutgoingFile[] = [];
        for (const r of rows) {
          const bytes = await deps.files.store.get(r.sha256);
          if (!bytes) throw new Error(`${r.name} is missing from the file store`);
          files.push({ name: r.name, mime: r.mime, bytes, title: r.name });
        }
        const ids = await port.upload(thread, persona, files, `*${role.persona.display_name}* attached ${rows.length === 1 ? 'a file' : `${rows.length} files`}: ${rows.map((r) => r.name).join(', ')}`);
        // the platform answers with the files in the order they were given; one statement marks them all
        const refs = rows.map((r, i) => ({ id: r.id, ref: (ids.length === rows.length ? ids[i]! : ids.join(',')).slice(0, 1000) }));
        await deps.prisma.$executeRaw`
          UPDATE "OutputFile" o SET delivery = 'delivered', "deliveredRef" = r.ref
          FROM jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) AS r(id text, ref text)
          WHERE o.id = r.id AND o.delivery = 'delivering'`;
      } catch (e) {
        // Not tried again: an upload that failed half-way may have reached the thread (at most once, never twice).
        const why = errorMessage(e).slice(0, 300);
        deps.log.warn('could not upload output files', { stepId: step.id, error: why });
        await deps.prisma.$executeRaw`UPDATE "OutputFile" SET delivery = 'failed', error = ${why} WHERE id = ANY(${rows.map((r) => r.id)}::text[])`;
        notes.push(`The files could not be uploaded here (${why}); they can be downloaded from ${consoleWhere}:`, ...linksOf(rows));
      }
    }
  }
  if (!notes.length) return;
  // The note goes through the chat outbox like every post (sent in order in the channel, once: its key).
  await queuePosts(deps, [{ op: 'post', key: { kind: 'files', stepId: step.id, revision: step.revision }, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread, persona, view: { text: notes.join('\n') } }]);
}
