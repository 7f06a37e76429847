// Who a gate calls on and when its timers are due (issue 14): the people who may decide (the role's
// approval.approvers, else the people whose RBAC role may decide, else the requester), the escalation people, and the
// BullMQ delayed jobs of a gate's reminders and expiry (deterministic ids: jobs.ts jobId). The timers themselves run in
// gate-timers.ts. Invariant: reads only; nothing here changes a row.
import { durationMs } from '../agents/role-schema';
import type { Role } from '../agents/roles';
import { Prisma, type RbacRole } from '../generated/prisma/client';
import type { ThreadRef } from './chat';
import { chatFor, type EngineDeps } from './deps';
import type { JobData } from './jobs';
import { RBAC_ROLES } from './permissions';

/** At most this many people are mentioned by a gate (a long RBAC list is cut; the console lists everyone). */
export const MAX_MENTIONS = 10;

/** A role's gate timers in milliseconds (absent: none), and what an expiry does. */
export interface GateTimers {
  remindMs?: number;
  expireMs?: number;
  onExpire: 'cancel' | 'escalate';
}

export function gateTimersOf(role: Role): GateTimers {
  const a = role.approval;
  if (a.policy === 'none') return { onExpire: 'cancel' };
  return {
    ...(a.remind_after ? { remindMs: durationMs(a.remind_after) } : {}),
    ...(a.expire_after ? { expireMs: durationMs(a.expire_after) } : {}),
    onExpire: a.on_expire ?? 'cancel',
  };
}

type TimerJob = Extract<JobData, { kind: 'gate_timer' }>;

/** The timers still due for a gate opened at `openedAt` that has had `reminders` reminders: the next reminder (when it
 *  comes before the expiry) and the expiry. */
export function dueTimers(role: Role, approvalId: string, openedAt: Date, reminders: number): TimerJob[] {
  const t = gateTimersOf(role);
  const at = (ms: number) => new Date(openedAt.getTime() + ms).toISOString();
  const jobs: TimerJob[] = [];
  const n = reminders + 1;
  if (t.remindMs && (!t.expireMs || n * t.remindMs < t.expireMs)) jobs.push({ kind: 'gate_timer', approvalId, due: 'remind', n, at: at(n * t.remindMs) });
  if (t.expireMs) jobs.push({ kind: 'gate_timer', approvalId, due: 'expire', n: 0, at: at(t.expireMs) });
  return jobs;
}

/** Adds a gate's timers (after the commit that opened it, and again on resume: the job ids make repeats no-ops). */
export async function scheduleGateTimers(deps: EngineDeps, approvalId: string, roleId: string): Promise<void> {
  const role = deps.roles.get(roleId);
  if (!role) return;
  const t = gateTimersOf(role);
  if (!t.remindMs && !t.expireMs) return;
  const gate = await deps.prisma.approval.findUnique({ where: { id: approvalId }, select: { status: true, createdAt: true, reminders: true, escalatedAt: true } });
  if (!gate || gate.status !== 'pending' || gate.escalatedAt) return;
  await Promise.all(dueTimers(role, approvalId, gate.createdAt, gate.reminders).map((j) => deps.queue.enqueue(j)));
}

/** Who may decide a gate of `role`, in one statement (issue 12): the RBAC role the gate needs (the console's GatePolicy
 *  row, else the role file's rbac_role; null: anyone), the first MAX_MENTIONS people with that role or above on the
 *  platform (as peopleAtLeast; none read when no role is needed) and the requester (read only when not given). */
async function mayDecideOf(deps: EngineDeps, role: Role, platform: ThreadRef['platform'], requester: Requester): Promise<{ min: RbacRole | null; people: string[]; requestedBy: string | null }> {
  const fileMin = role.approval.policy === 'rbac_role' ? role.approval.rbac_role : null;
  const requestedBy = typeof requester === 'string' ? Prisma.sql`${requester}::text` : Prisma.sql`(SELECT w."requestedBy" FROM "Workflow" w WHERE w.id = ${requester.workflowId})`;
  const [r] = await deps.prisma.$queryRaw<{ min: RbacRole | null; people: string[] | null; requestedBy: string | null }[]>`
    WITH g AS (SELECT coalesce((SELECT p."minRole"::text FROM "GatePolicy" p WHERE p."roleId" = ${role.role_id}), ${fileMin}::text) AS min)
    SELECT g.min, ${requestedBy} AS "requestedBy",
      CASE WHEN g.min IS NULL THEN NULL ELSE (SELECT json_agg(x.id ORDER BY x."createdAt") FROM (${peopleAtLeastSql(platform, Prisma.sql`g.min`)}) x) END AS people
    FROM g`;
  return { min: r?.min ?? null, people: r?.people ?? [], requestedBy: r?.requestedBy ?? null };
}

/** People with at least `min` on the thread's platform (chat users; console users on the playground). */
async function peopleAtLeast(deps: EngineDeps, platform: ThreadRef['platform'], min: RbacRole): Promise<string[]> {
  return (await deps.prisma.$queryRaw<{ id: string }[]>`${peopleAtLeastSql(platform, Prisma.sql`${min}::text`)}`).map((u) => u.id);
}

/** The query of peopleAtLeast, for `min` an SQL text expression (a role name, or a column read in the same statement):
 *  (id, createdAt) of the first MAX_MENTIONS such people, oldest first. Ranks in RBAC_ROLES' order (permissions.ts). */
function peopleAtLeastSql(platform: ThreadRef['platform'], min: Prisma.Sql): Prisma.Sql {
  const ranks = Prisma.sql`ARRAY[${Prisma.join(RBAC_ROLES)}]::text[]`;
  const atLeastMin = (col: Prisma.Sql) => Prisma.sql`array_position(${ranks}, ${col}::text) >= array_position(${ranks}, ${min})`;
  return platform === 'web'
    ? Prisma.sql`SELECT u.id, u."createdAt" FROM "AdminUser" u WHERE ${atLeastMin(Prisma.sql`u.role`)} ORDER BY u."createdAt" ASC LIMIT ${MAX_MENTIONS}`
    : Prisma.sql`SELECT c."userId" AS id, c."createdAt" FROM "ChatUserRole" c WHERE c.platform = ${platform}::"Platform" AND ${atLeastMin(Prisma.sql`c.role`)} ORDER BY c."createdAt" ASC LIMIT ${MAX_MENTIONS}`;
}

/** Configured people as mentions: Slack user groups (S…) through the port's group mention, only where it has one. */
function mentionsOf(deps: EngineDeps, platform: ThreadRef['platform'], ids: string[]): string[] {
  const port = chatFor(deps, platform);
  return ids.slice(0, MAX_MENTIONS).flatMap((id) => {
    if (platform === 'slack' && /^S/.test(id)) return port.mentionGroup ? [port.mentionGroup(id)] : [];
    return [port.mention(id)];
  });
}

const configured = (people: { slack: string[]; teams: string[] } | undefined, platform: ThreadRef['platform']): string[] =>
  platform === 'web' ? [] : (people?.[platform] ?? []);

/** Who the gate after `role`'s output calls on, as mentions joined for a sentence ("" when nobody can be named). */
export async function approverMentions(deps: EngineDeps, role: Role, thread: ThreadRef, requester: Requester): Promise<string> {
  const a = role.approval;
  const listed = a.policy === 'none' ? [] : configured(a.approvers, thread.platform);
  if (listed.length) return mentionsOf(deps, thread.platform, listed).join(' ');
  const { min, people, requestedBy } = await mayDecideOf(deps, role, thread.platform, requester);
  if (min) return mentionsOf(deps, thread.platform, people).join(' ');
  return requestedBy ? chatFor(deps, thread.platform).mention(requestedBy) : '';
}

/** The requester's id, or the workflow to read it from (read with the gate policy, in the same statement). */
export type Requester = string | { workflowId: string };

/** Who an escalation calls on: approval.escalate_to, else the admins and owners, else the requester. */
export async function escalationMentions(deps: EngineDeps, role: Role, thread: ThreadRef, requestedBy: string): Promise<string> {
  const listed = role.approval.policy === 'none' ? [] : configured(role.approval.escalate_to, thread.platform);
  if (listed.length) return mentionsOf(deps, thread.platform, listed).join(' ');
  const admins = await peopleAtLeast(deps, thread.platform, 'admin');
  return (admins.length ? mentionsOf(deps, thread.platform, admins) : [chatFor(deps, thread.platform).mention(requestedBy)]).join(' ');
}

