// Runs a real Slack workflow to completion for admin console tests: approves every gate as it opens, then votes.
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WAIT_MS, waitFor, type Harness } from './harness';
import { startThread } from './flow';
import { buttonClick } from './slack-requests';

/** A copy of roles/ that a test may edit. */
export function rolesCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rolecall-roles-'));
  cpSync('roles', dir, { recursive: true });
  return dir;
}

export async function runWorkflow(h: Harness, text = 'we need a login page with SSO for our customer portal', approver = 'U_ALICE') {
  const ev = await startThread(h, text);
  const wf = await waitFor(() => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts } }), 'the workflow');
  const deadline = Date.now() + 2 * WAIT_MS; // a whole workflow: generous, a slow machine is not a failure
  for (;;) {
    const current = await h.prisma.workflow.findUniqueOrThrow({ where: { id: wf.id } });
    if (current.status === 'completed') break;
    if (Date.now() > deadline) throw new Error(`workflow stuck in ${current.status}`);
    const gate = await h.prisma.approval.findFirst({ where: { workflowId: wf.id, status: 'pending', messageTs: { not: null } } });
    if (gate) await h.post.interaction(buttonClick('approve', gate.id, { messageTs: gate.messageTs!, threadTs: ev.ts, user: approver }));
    else await new Promise((r) => setTimeout(r, 50));
  }
  const rating = await waitFor(() => h.prisma.agentMessage.findFirst({ where: { workflowId: wf.id, kind: 'satisfaction', messageTs: { not: null } } }), 'the satisfaction post');
  await h.post.interaction(buttonClick('satisfaction_up', wf.id, { messageTs: rating.messageTs!, threadTs: ev.ts, user: approver }));
  return { threadTs: ev.ts, workflowId: wf.id };
}
