// Databases for tests on the machine's real PostgreSQL: each test gets its own, cloned from the run's migrated
// template (made by pg-template.ts, the vitest globalSetup) or, outside vitest (e.g. bench/), created empty for the
// runtime to migrate.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Names the template database of this test run (set by pg-template.ts, inherited by the test workers). */
export const PG_TEMPLATE_ENV = 'ROLECALL_TEST_PG_TEMPLATE';

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rolecall_test_${randomBytes(6).toString('hex')}`;
  const template = process.env[PG_TEMPLATE_ENV];
  await withAdminClient(async (c) => {
    if (!template) return c.query(`CREATE DATABASE "${name}"`);
    // PostgreSQL refuses to copy a template while another session is connected to it (55006); the template allows
    // no connections, but retry anyway rather than fail a test over it.
    for (let attempt = 1; ; attempt++) {
      try {
        return await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      } catch (e) {
        if ((e as { code?: string }).code !== '55006' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  });
  return {
    url: databaseUrl(name),
    drop: () => withAdminClient(async (c) => {
      // Let closing pools finish their goodbyes first: forcing them off would surface as errors in the app's clients.
      for (let i = 0; i < 40; i++) {
        const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    }),
  };
}
