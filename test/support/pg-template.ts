// vitest globalSetup: one migrated PostgreSQL template database per test run, which createTestDatabase
// (test-database.ts) clones with CREATE DATABASE ... TEMPLATE instead of migrating a fresh database for every test.
// The migrations are applied by the product's own migrator (orchestrator/db.ts openDatabase().migrate()), so the
// runtime's migrate step then finds nothing to apply. The name is unique per run (pid + random): concurrent runs on
// one machine don't collide. Dropped in teardown.
import { randomBytes } from 'node:crypto';
import { openDatabase } from '../../orchestrator/db';
import { databaseUrl, PG_ADMIN_URL, PG_TEMPLATE_ENV, withAdminClient } from './test-database';

export default async function setup(): Promise<() => Promise<void>> {
  await dropStaleTemplates();
  const name = `rolecall_tpl_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`));
  try {
    const db = await openDatabase({ kind: 'postgres', url: databaseUrl(name), poolMax: 1 });
    try {
      await db.migrate();
    } finally {
      await db.close();
    }
    // Nobody may connect to it (not even autovacuum), so cloning never finds it "being accessed by other users".
    await withAdminClient((c) => c.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`));
  } catch (e) {
    await drop(name);
    throw e;
  }
  process.env[PG_TEMPLATE_ENV] = name; // the test workers inherit it
  return () => drop(name);
}

function drop(name: string): Promise<void> {
  return withAdminClient(async (c) => {
    await c.query(`ALTER DATABASE "${name}" WITH IS_TEMPLATE false`).catch(() => undefined);
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

/** Templates left by runs on this machine that were killed before their teardown (their process is gone). */
async function dropStaleTemplates(): Promise<void> {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(new URL(PG_ADMIN_URL).hostname)) return; // pids of another machine
  const { rows } = await withAdminClient((c) => c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'rolecall\\_tpl\\_%'`));
  for (const { datname } of rows) {
    const pid = Number(/^rolecall_tpl_(\d+)_/.exec(datname)?.[1]);
    if (pid && !alive(pid)) await drop(datname).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
