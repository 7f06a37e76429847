// Files out: after a step's output is recorded, the files its role declares (role YAML outputs.files) are built from
// the structured output (agents/files/outputs), stored in the file store by hash, recorded (OutputFile) and delivered to
// the thread: uploaded where the platform lets a bot upload (Slack files.uploadV2, the port's `upload`), otherwise
// linked to the console's download (Teams). This runs as its own job (kind 'outputs'), off the step's critical path:
// a file that cannot be made or uploaded is said in the thread and the workflow goes on.
// Invariants: a step revision's files are recorded once (unique step + revision + name) and delivered at most once —
// the rows are claimed pending -> delivering by one conditional write whose row count decides, so neither a re-run job
// nor a crash after the claim uploads twice (a crash between claim and upload leaves the files in the console only);
// the note that goes with them has one post key ({ kind: 'files' }) and goes through the chat outbox.
import { buildOutputFiles } from '../agents/files/outputs/build';
import { errorMessage } from '../agents/errors';
import { Prisma } from '../generated/prisma/client';
import type { OutgoingFile } from './chat';
import { chatFor, roleOf, type EngineDeps } from './deps';
import type { JobData } from './jobs';
import { queuePosts } from './outbox';
import { threadOf } from './threads';
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
 *  are no-ops anyway: the job id, the unique rows and the claim). */
export async function resumeOutputFiles(deps: EngineDeps, since = new Date(Date.now() - 24 * 3600_000)): Promise<number> {
  const roleIds = deps.roles.ids().filter((id) => (deps.roles.get(id)?.outputs.files.length ?? 0) > 0);
  if (!roleIds.length) return 0;
  const steps = await deps.prisma.step.findMany({
    where: { roleId: { in: roleIds }, status: { in: ['completed', 'awaiting_approval'] }, finishedAt: { gte: since }, NOT: { outputData: { equals: Prisma.DbNull } } },
    select: { id: true, roleId: true, revision: true, outputData: true }, take: 500, orderBy: { finishedAt: 'desc' },
  });
  if (!steps.length) return 0;
  const done = await deps.prisma.outputFile.findMany({ where: { stepId: { in: steps.map((s) => s.id) } }, select: { stepId: true, revision: true }, distinct: ['stepId', 'revision'] });
  const have = new Set(done.map((d) => `${d.stepId}:${d.revision}`));
  const missing = steps.filter((s) => !have.has(`${s.id}:${s.revision}`));
  for (const s of missing) await queueOutputFiles(deps, s);
  return missing.length;
}

const size = (n: number) => (n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${Math.round(n / 1024)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`);

export async function deliverOutputFiles(deps: EngineDeps, data: OutputsJob): Promise<void> {
  const step = await deps.prisma.step.findUnique({ where: { id: data.stepId }, include: { workflow: true } });
  if (!step || step.revision !== data.revision || !step.outputData || typeof step.outputData !== 'object' || Array.isArray(step.outputData)) return;
  const role = roleOf(deps, step.roleId);
  if (!role.outputs.files.length) return;
  if (!deps.files) return deps.log.warn('a role declares output files but no file store is configured', { stepId: step.id });

  // Built again on every run (cheap, from the recorded output); only the first run's files are recorded and stored.
  const built = await buildOutputFiles(role.outputs.files, step.outputData as Record<string, unknown>, { roleName: role.persona.display_name, maxBytes: deps.files.maxBytes });
  for (const f of built.files) {
    const stored = await deps.files.store.put(f.bytes, f.mime);
    await deps.prisma.outputFile.createMany({
      data: [{ workflowId: step.workflowId, stepId: step.id, revision: step.revision, roleId: step.roleId, name: f.name, mime: f.mime, bytes: f.bytes.length, sha256: stored.sha256, store: deps.files.store.id }],
      skipDuplicates: true,
    });
  }
  const notes = [...built.failures];
  const thread = threadOf(step.workflow);
  const persona = personaOf(role);
  const port = chatFor(deps, thread.platform);
  const consoleUrl = deps.files.consoleUrl;
  const consoleWhere = consoleUrl ? 'the links below (sign in to the Rolecall console)' : `the Rolecall console's page of this workflow (${step.workflowId})`;
  const linksOf = (rows: { id: string; name: string; bytes: number }[]) =>
    rows.map((r) => `• ${consoleUrl ? `[${r.name}](${consoleUrl}/admin/workflows/${step.workflowId}/outputs/${r.id})` : r.name} (${size(r.bytes)})`);
  if (!port.upload) {
    // Teams: a bot cannot upload into a channel or group chat (only into a 1:1 chat, after the person accepts a
    // consent card, and then into their OneDrive): the thread gets links to the console's downloads. The note's post
    // key makes it once.
    const rows = await deps.prisma.outputFile.findMany({ where: { stepId: step.id, revision: step.revision }, orderBy: { name: 'asc' } });
    if (rows.length) {
      await deps.prisma.outputFile.updateMany({ where: { id: { in: rows.map((r) => r.id) }, delivery: 'pending' }, data: { delivery: 'delivered', deliveredRef: 'link' } });
      notes.unshift(`**${role.persona.display_name}** made ${rows.length === 1 ? 'a file' : `${rows.length} files`}; download ${rows.length === 1 ? 'it' : 'them'} from ${consoleWhere}:`, ...linksOf(rows));
    }
  } else {
    const claim = await deps.prisma.outputFile.updateMany({ where: { stepId: step.id, revision: step.revision, delivery: 'pending' }, data: { delivery: 'delivering' } });
    const rows = claim.count > 0 ? await deps.prisma.outputFile.findMany({ where: { stepId: step.id, revision: step.revision, delivery: 'delivering' }, orderBy: { name: 'asc' } }) : [];
    if (rows.length) {
      try {
        const files: OutgoingFile[] = [];
        for (const r of rows) {
          const bytes = await deps.files.store.get(r.sha256);
          if (!bytes) throw new Error(`${r.name} is missing from the file store`);
          files.push({ name: r.name, mime: r.mime, bytes, title: r.name });
        }
        const ids = await port.upload(thread, persona, files, `*${role.persona.display_name}* attached ${rows.length === 1 ? 'a file' : `${rows.length} files`}: ${rows.map((r) => r.name).join(', ')}`);
        // the platform answers with the files in the order they were given
        for (const [i, r] of rows.entries()) await deps.prisma.outputFile.updateMany({ where: { id: r.id, delivery: 'delivering' }, data: { delivery: 'delivered', deliveredRef: (ids.length === rows.length ? ids[i]! : ids.join(',')).slice(0, 1000) } });
      } catch (e) {
        // Not tried again: an upload that failed half-way may have reached the thread (at most once, never twice).
        const why = errorMessage(e).slice(0, 300);
        deps.log.warn('could not upload output files', { stepId: step.id, error: why });
        await deps.prisma.outputFile.updateMany({ where: { id: { in: rows.map((r) => r.id) } }, data: { delivery: 'failed', error: why } });
        notes.push(`The files could not be uploaded here (${why}); they can be downloaded from ${consoleWhere}:`, ...linksOf(rows));
      }
    }
  }
  if (!notes.length) return;
  // The note goes through the chat outbox like every post (sent in order in the channel, once: its key).
  await queuePosts(deps, [{ op: 'post', key: { kind: 'files', stepId: step.id, revision: step.revision }, workflowId: step.workflowId, stepId: step.id, roleId: step.roleId, thread, persona, view: { text: notes.join('\n') } }]);
}
