// RBAC for chat users at approval gates. A GatePolicy row names the lowest RBAC role that may decide the gate after a
// workflow role's output; without a row anyone may decide. Chat users get their RBAC role from ChatUserRole; on the
// playground (platform web) the chat user is a console user (userId = AdminUser.id) and has their console role.
import type { RbacRole } from '../generated/prisma/client';
import type { PlatformName } from './chat';
import type { Db } from './db';

export const RBAC_ROLES = ['viewer', 'approver', 'admin', 'owner'] as const satisfies readonly RbacRole[];
export type { RbacRole };

/** True when `role` is `min` or above it (viewer < approver < admin < owner). */
export const atLeast = (role: RbacRole, min: RbacRole): boolean => RBAC_ROLES.indexOf(role) >= RBAC_ROLES.indexOf(min);

export type MayDecide = { ok: true } | { ok: false; reason: string };

/** `roleFileMin` is the role file's own `approval: { policy: rbac_role }`; a GatePolicy row from the console overrides it. */
export async function mayDecide(prisma: Db, platform: PlatformName, userId: string, gateRoleId: string, roleFileMin?: RbacRole): Promise<MayDecide> {
  const row = await prisma.gatePolicy.findUnique({ where: { roleId: gateRoleId } });
  const min = row?.minRole ?? roleFileMin;
  if (!min) return { ok: true };
  const mapping = platform === 'web'
    ? await prisma.adminUser.findUnique({ where: { id: userId }, select: { role: true } })
    : await prisma.chatUserRole.findUnique({ where: { platform_userId: { platform, userId } } });
  return policyAllows(min, mapping?.role);
}

/** The rule itself, on what was read: `min` the gate's minimum Rolecall role (none: anyone), `mine` the person's. */
export function policyAllows(min: RbacRole | undefined, mine: RbacRole | null | undefined): MayDecide {
  if (!min) return { ok: true };
  if (!mine) return { ok: false, reason: `this gate needs the ${min} role or above, and you have no Rolecall role` };
  if (!atLeast(mine, min)) return { ok: false, reason: `this gate needs the ${min} role or above, and you are ${mine}` };
  return { ok: true };
}
