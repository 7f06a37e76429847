import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One migrated PostgreSQL template per run; each test's database is a clone of it (test/support/test-database.ts).
    globalSetup: ['test/support/pg-template.ts'],
    // Well above the longest single wait (WAIT_MS = 120 s, test/support/wait.ts; a whole workflow in admin-flow.ts:
    // 120 s): tests wait for outcomes, not for speed, so a slow or busy machine is not a failure. Speed: bench/.
    testTimeout: 360_000,
    expect: { poll: { timeout: 120_000 } },
    hookTimeout: 480_000, // admin tests run two whole workflows in beforeAll
    pool: 'forks',
    maxWorkers: 2,
  },
});
