// Console accounts: the first owner. `npm run admin:create` makes one; if none exists at first start, an owner
// "admin@localhost" is created with a random one-time password that is printed once in the log. Signing in with it
// leads straight to choosing a new password: nothing else is open to that account until it has (guard.ts).
import { audit } from '../../orchestrator/audit';
import type { Db } from '../../orchestrator/db';
import type { Logger } from '../../orchestrator/log';
import type { RbacRole } from '../../generated/prisma/client';
import { hashPassword, randomPassword } from './password';
import { revokeUserSessions } from './session';

export const FIRST_ADMIN_EMAIL = 'admin@localhost';

export async function ensureFirstAdmin(prisma: Db, log: Logger): Promise<void> {
  if ((await prisma.adminUser.count()) > 0) return;
  const password = randomPassword();
  const { count } = await prisma.adminUser.createMany({
    data: [{ email: FIRST_ADMIN_EMAIL, role: 'owner', passwordHash: await hashPassword(password), mustChangePassword: true }],
    skipDuplicates: true,
  });
  if (count !== 1) return; // another server process created it at the same moment
  await audit(prisma, { actor: 'system', action: 'rbac.user_created', target: FIRST_ADMIN_EMAIL, detail: { role: 'owner', reason: 'no console user at first start' } });
  log.warn(`Admin console: no user existed, created owner ${FIRST_ADMIN_EMAIL} with the one-time password ${password} — sign in at /admin with it and choose a new password (it is not shown again)`);
}

/**
 * Creates a console user, or sets the password and role of an existing one (ending all of its sessions). The
 * operator chose this password, so no change is forced at the next sign-in.
 */
export async function upsertAdminUser(prisma: Db, email: string, password: string, role: RbacRole): Promise<'created' | 'updated'> {
  const passwordHash = await hashPassword(password);
  const existing = await prisma.adminUser.findUnique({ where: { email } });
  const user = await prisma.adminUser.upsert({ where: { email }, create: { email, passwordHash, role }, update: { passwordHash, role, mustChangePassword: false } });
  const sessionsRevoked = existing ? await revokeUserSessions(prisma, user.id) : 0;
  await audit(prisma, { actor: 'cli', action: existing ? 'rbac.user_reset' : 'rbac.user_created', target: email, detail: { role, ...(existing ? { sessionsRevoked } : {}) } });
  return existing ? 'updated' : 'created';
}
