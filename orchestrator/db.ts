// Opens the database named by the config: PostgreSQL through @prisma/adapter-pg, or embedded PGlite. Every query
// goes through the encryption-at-rest adapter (privacy/sealed.ts), which opens sealed values on the way out.
import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client';
import { applyMigrations, pendingMigrations, type SqlRunner } from './migrate';
import { atRestAdapter, KeyRing } from './privacy/sealed';

export type Db = PrismaClient;

export interface Database {
  prisma: Db;
  describe: string;
  migrate(): Promise<string[]>;
  /** Migrations of this build that the database does not have yet (see migrate.ts). */
  pendingMigrations(): Promise<string[]>;
  close(): Promise<void>;
}

/** Which database: a PostgreSQL URL with a pool size, or an embedded PGlite directory. */
export type DatabaseOptions = { kind: 'postgres'; url: string; poolMax: number } | { kind: 'pglite'; dir: string };

/** `ring`: the data keys that open sealed values (absent: encryption off; a sealed value read is then an error). */
export async function openDatabase(cfg: DatabaseOptions, ring: KeyRing = new KeyRing(undefined)): Promise<Database> {
  return cfg.kind === 'postgres' ? openPostgres(cfg.url, cfg.poolMax, ring) : openPglite(cfg.dir, ring);
}

function openPostgres(url: string, max: number, ring: KeyRing): Database {
  const pool = new pg.Pool({ connectionString: url, max });
  const prisma = new PrismaClient({ adapter: atRestAdapter(new PrismaPg(pool), ring) });
  const runner: SqlRunner = {
    exec: (sql) => pool.query(sql),
    query: async (sql, params) => (await pool.query(sql, params as unknown[])).rows,
  };
  return {
    prisma,
    describe: `PostgreSQL ${redactUrl(url)}`,
    migrate: () => applyMigrations(runner),
    pendingMigrations: () => pendingMigrations(runner),
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dir: string, ring: KeyRing): Promise<Database> {
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const prisma = new PrismaClient({ adapter: atRestAdapter(new PrismaPGlite(db), ring) });
  const runner: SqlRunner = {
    exec: (sql) => db.exec(sql),
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params as unknown[])).rows,
  };
  return {
    prisma,
    describe: `embedded PGlite in ${dir}`,
    migrate: () => applyMigrations(runner),
    pendingMigrations: () => pendingMigrations(runner),
    close: async () => {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
