// Applies prisma/migrations/*/migration.sql in order and records them in Prisma's "_prisma_migrations" table
// (same checksum and lock id as Prisma Migrate), so `prisma migrate status` agrees. Works on pg and on PGlite.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../agents/errors';

export interface SqlRunner {
  exec(sql: string): Promise<unknown>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
}

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../prisma/migrations');
const LOCK_ID = 72707369;

export async function applyMigrations(db: SqlRunner, dir = MIGRATIONS_DIR): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
  await db.query(`SELECT pg_advisory_lock(${LOCK_ID})`);
  try {
    const rows = await db.query<{ migration_name: string; finished_at: unknown }>(
      `SELECT migration_name, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    );
    const failed = rows.filter((r) => !r.finished_at).map((r) => r.migration_name);
    if (failed.length) throw new Error(`failed migrations recorded in the database: ${failed.join(', ')}`);
    const done = new Set(rows.map((r) => r.migration_name));
    const applied: string[] = [];
    for (const name of migrationNames(dir)) {
      if (done.has(name)) continue;
      await applyOne(db, dir, name);
      applied.push(name);
    }
    return applied;
  } finally {
    await db.query(`SELECT pg_advisory_unlock(${LOCK_ID})`);
  }
}

/** The migrations in `dir` that the database has not finished applying (all of them when it has no migrations table
 *  yet). A worker waits until this is empty: the server applies migrations, workers never do. */
export async function pendingMigrations(db: SqlRunner, dir = MIGRATIONS_DIR): Promise<string[]> {
  const [table] = await db.query<{ exists: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`);
  const expected = migrationNames(dir);
  if (!table?.exists) return expected;
  const rows = await db.query<{ migration_name: string }>(
    `SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  );
  const done = new Set(rows.map((r) => r.migration_name));
  return expected.filter((name) => !done.has(name));
}

function migrationNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

async function applyOne(db: SqlRunner, dir: string, name: string): Promise<void> {
  const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
  const checksum = createHash('sha256').update(sql).digest('hex');
  const id = randomUUID();
  await db.query(`INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)`, [id, checksum, name]);
  try {
    await db.exec(`BEGIN;\n${sql}\n;COMMIT;`);
  } catch (e) {
    await db.exec('ROLLBACK').catch(() => undefined);
    await db.query(`DELETE FROM "_prisma_migrations" WHERE id = $1`, [id]);
    throw new Error(`migration ${name} failed: ${errorMessage(e)}`);
  }
  await db.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
}
