import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One migrated PostgreSQL template per run; each test's database is a clone of it (test/support/test-database.ts).
    globalSetup: ['test/support/pg-template.ts'],
    // Well above the longest single wait (WAIT_MS = 60 s, test/support/wait.ts; a whole workflow in admin-flow.ts:
    // 120 s): tests wait for outcomes, not for speed, so a slow or busy machine is not a failure. Speed: bench/.
    testTimeout: 180_000,
    expect: { poll: { timeout: 60_000 } },
    hookTimeout: 300_000, // admin tests run two whole workflows in beforeAll
    pool: 'forks',
    maxWorkers: 2,
  },
});
