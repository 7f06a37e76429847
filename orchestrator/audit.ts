// The append-only audit trail (AuditLog): approvals, refusals, RBAC changes, config changes, sign-ins.
import type { Db } from './db';

export interface AuditEntry {
  /** Who did it: "slack:U123", "teams:…", "console:alice@example.com" or "system". */
  actor: string;
  /** What: e.g. "gate.approved", "gate.refused", "rbac.chat_user", "config.role", "auth.signin". */
  action: string;
  target?: string;
  detail?: Record<string, unknown>;
}

export async function audit(prisma: Db, entry: AuditEntry): Promise<void> {
  await prisma.auditLog.create({
    data: { actor: entry.actor, action: entry.action, target: entry.target ?? null, detail: (entry.detail ?? undefined) as object | undefined },
  });
}
