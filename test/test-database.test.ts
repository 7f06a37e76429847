// Each test's database is a clone of the run's template, migrated once by the product's migrator (vitest globalSetup
// test/support/pg-template.ts): the runtime's migrate step finds nothing left to apply.
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../orchestrator/db';
import { createTestDatabase, PG_TEMPLATE_ENV } from './support/test-database';

describe('test databases', () => {
  it('are cloned from a fully migrated template', async () => {
    expect(process.env[PG_TEMPLATE_ENV]).toMatch(/^rolecall_tpl_/);
    const test = await createTestDatabase();
    const db = await openDatabase({ kind: 'postgres', url: test.url, poolMax: 1 });
    try {
      expect(await db.migrate()).toEqual([]);
      expect(await db.prisma.workflow.count()).toBe(0);
    } finally {
      await db.close();
      await test.drop();
    }
  });
});
