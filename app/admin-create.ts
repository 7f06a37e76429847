// `npm run admin:create -- --email x --password y [--role owner|admin|approver|viewer]`: creates a console user (or
// resets an existing one's password and role). Applies pending migrations first, so it works on a fresh database.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { upsertAdminUser } from '../web-admin/auth/bootstrap';
import { ConfigError, loadConfig } from './config';
import { openDatabase } from '../orchestrator/db';
import { RBAC_ROLES } from '../orchestrator/permissions';

const argsSchema = z.object({
  email: z.string().trim().toLowerCase().email(),
  password: z.string().min(12, 'must be at least 12 characters'),
  role: z.enum(RBAC_ROLES).default('owner'),
});

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' }, role: { type: 'string' } } });
  const args = argsSchema.safeParse(values);
  if (!args.success) {
    process.stderr.write(`usage: npm run admin:create -- --email you@example.com --password '<12+ characters>' [--role owner|admin|approver|viewer]\n${args.error.issues.map((i) => `  --${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) { process.stderr.write(`${e.message}\n`); return 2; }
    throw e;
  }
  const db = await openDatabase(config.database);
  try {
    await db.migrate();
    const result = await upsertAdminUser(db.prisma, args.data.email, args.data.password, args.data.role);
    process.stdout.write(`${result === 'created' ? 'Created' : 'Updated'} console user ${args.data.email} (${args.data.role}) in ${db.describe}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

process.exit(await main());
