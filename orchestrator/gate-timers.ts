// What happens while nobody decides a gate (issue 14): every approval.remind_after a reminder in the thread mentions
// the people who may decide again; after approval.expire_after the gate expires: the workflow is cancelled, or
// (on_expire: escalate) the escalation people are called on and the gate stays open. Timers are BullMQ delayed jobs,
// one per due moment, with deterministic ids (jobs.ts jobId; scheduled by gate-people.ts): no polling.
// Invariants: each reminder, the expiry and the escalation is ONE conditional write on the Approval row (pending, the
// workflow still under way, not done before: workflow/transitions.ts), and its post goes to the outbox in the same
// transaction: a click and an expiry cannot both win (decide() writes the same row conditionally), and a timer that
// runs twice posts nothing new.
import { audit } from './audit';
import type { EngineDeps } from './deps';
import type { JobData } from './jobs';
import { kickDrains, writeOutbox, type OutboxItem } from './outbox';
import { approverMentions, dueTimers, escalationMentions, gateTimersOf } from './gate-people';
import { edit, post } from './steps';
import type { ThreadRef } from './chat';
import { threadOf, type ThreadRow } from './threads';
import { cancelWorkflow, escalateGate, expireGate, remindGate } from './workflow/transitions';
import { escalatedView, expiredGateView, expiredView, reminderView } from './views';

type TimerJob = Extract<JobData, { kind: 'gate_timer' }>;

interface GateRow {
  status: string;
  reminders: number;
  createdAt: Date;
  escalatedAt: Date | null;
  requestedBy: string;
  /** The gate's step (its current run) and its thread, where the timer posts. */
  step: { id: string; workflowId: string; roleId: string; revision: number; runCount: number; thread: ThreadRef };
}

/** The gate, its step and its thread, in one statement (issue 12); undefined when its workflow is no longer under way. */
async function gateRow(deps: EngineDeps, approvalId: string): Promise<GateRow | undefined> {
  const rows = await deps.prisma.$queryRaw<(Omit<GateRow, 'step'> & GateRow['step'] & ThreadRow)[]>`
    SELECT a.status::text AS status, a.reminders, a."createdAt", a."escalatedAt", w."requestedBy",
      s.id, s."workflowId", s."roleId", s.revision, s."runCount", w.platform::text AS platform, w."teamId", w."channelId", w."threadTs"
    FROM "Approval" a JOIN "Workflow" w ON w.id = a."workflowId" JOIN "Step" s ON s.id = a."stepId"
    WHERE a.id = ${approvalId} AND w.status IN ('running', 'awaiting_approval', 'step_failed')`;
  const r = rows[0];
  return r && {
    status: r.status, reminders: r.reminders, createdAt: r.createdAt, escalatedAt: r.escalatedAt, requestedBy: r.requestedBy,
    step: { id: r.id, workflowId: r.workflowId, roleId: r.roleId, revision: r.revision, runCount: r.runCount, thread: threadOf(r) },
  };
}

/** Job: a gate's timer is due. Safe to repeat: every write is conditional, every post keyed. */
export async function runGateTimer(deps: EngineDeps, job: TimerJob): Promise<void> {
  const gate = await gateRow(deps, job.approvalId);
  if (!gate || gate.status !== 'pending' || gate.escalatedAt) return; // decided, expired, escalated or no longer under way
  const step = gate.step;
  const role = deps.roles.get(step.roleId);
  if (!role) return;
  const t = gateTimersOf(role);
  const waited = Date.now() - gate.createdAt.getTime();
  if (job.due === 'remind') {
    if (!t.remindMs || job.n <= gate.reminders) return;
    const who = await approverMentions(deps, role, step.thread, gate.requestedBy);
    const posts = [post(deps, step, { kind: 'reminder', approvalId: job.approvalId, n: job.n }, reminderView(role, who, waited))];
    const sent = await deps.prisma.$transaction(async (tx) => {
      if (!(await remindGate(tx, job.approvalId, job.n))) return false;
      await writeOutbox(tx, posts);
      return true;
    });
    if (!sent) return;
    deps.log.info('gate reminder posted', { approvalId: job.approvalId, n: job.n });
    await kickDrains(deps, posts);
    await Promise.all(dueTimers(role, job.approvalId, gate.createdAt, job.n).filter((j) => j.due === 'remind').map((j) => deps.queue.enqueue(j)));
    return;
  }
  if (!t.expireMs) return;
  if (t.onExpire === 'escalate') {
    const who = await escalationMentions(deps, role, step.thread, gate.requestedBy);
    const posts = [post(deps, step, { kind: 'expiry', approvalId: job.approvalId }, escalatedView(role, who, waited))];
    const escalated = await deps.prisma.$transaction(async (tx) => {
      if (!(await escalateGate(tx, job.approvalId))) return false;
      await writeOutbox(tx, posts);
      return true;
    });
    if (!escalated) return;
    deps.log.info('gate escalated', { approvalId: job.approvalId });
    await audit(deps.prisma, { actor: 'system', action: 'gate.escalated', target: step.workflowId, detail: { approvalId: job.approvalId, roleId: role.role_id } });
    return kickDrains(deps, posts);
  }
  const posts: OutboxItem[] = [
    edit(deps, step, { kind: 'gate', approvalId: job.approvalId }, 'expired', expiredGateView(role, waited)),
    post(deps, step, { kind: 'expiry', approvalId: job.approvalId }, expiredView(role, await approverMentions(deps, role, step.thread, gate.requestedBy), waited)),
  ];
  const expired = await deps.prisma.$transaction(async (tx) => {
    // the same row a click writes (decideApprovalReading: WHERE status = 'pending'): exactly one of them wins
    if (!(await expireGate(tx, job.approvalId))) return false;
    await cancelWorkflow(tx, step.workflowId);
    await writeOutbox(tx, posts);
    return true;
  });
  if (!expired) return;
  deps.log.info('gate expired: workflow cancelled', { approvalId: job.approvalId, workflowId: step.workflowId });
  await audit(deps.prisma, { actor: 'system', action: 'gate.expired', target: step.workflowId, detail: { approvalId: job.approvalId, roleId: role.role_id } });
  await kickDrains(deps, posts);
}
