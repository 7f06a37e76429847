// When PostgreSQL refuses connections (too many clients: SQLSTATE 53300), an HTTP route answers 503 with Retry-After,
// not 500. A role with CONNECTION LIMIT 0 makes the machine's PostgreSQL refuse with exactly that error, through the
// same Prisma client and pg driver adapter the app uses.
import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRoot, INFRA_RETRY_AFTER_S } from '../app/http';
import { PrismaClient } from '../generated/prisma/client';
import { createLogger } from '../orchestrator/log';
import { createTestDatabase, withAdminClient } from './support/test-database';

describe('database refusing connections', () => {
  const role = `rc_limited_${randomBytes(4).toString('hex')}`;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
    await withAdminClient((c) => c.query(`CREATE ROLE "${role}" LOGIN CONNECTION LIMIT 0`));
  });
  afterAll(async () => {
    await db?.drop();
    await withAdminClient((c) => c.query(`DROP ROLE IF EXISTS "${role}"`));
  });

  it('answers 503 with Retry-After on an HTTP route, and 500 stays for other errors', async () => {
    const url = new URL(db.url);
    url.username = role;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const edge = new Hono();
    edge.get('/uses-db', async (c) => c.json(await prisma.$queryRaw`SELECT 1 AS one`));
    edge.get('/bug', () => { throw new Error('a bug'); });
    const app = createHttpRoot([], [edge], createLogger('silent'));
    try {
      const refused = await app.request('/uses-db');
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(INFRA_RETRY_AFTER_S);
      expect(await refused.json()).toEqual({ error: 'temporarily unavailable, retry later' });
      expect((await app.request('/bug')).status).toBe(500);
    } finally {
      await prisma.$disconnect();
      await pool.end();
    }
  });
});
