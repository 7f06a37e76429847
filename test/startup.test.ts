// Start-up while a dependency is missing: a server whose Redis is unreachable says so in one line, retries for
// STARTUP_WAIT_S and exits non-zero (no stack traces, no "Unhandled error event"); a worker started before any server
// has migrated the database waits for the schema, then runs once a server has migrated it.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, freePort, killAllApps, startApp } from './support/app-process';
import { startFakeOpenAI, type FakeOpenAI } from './support/fake-openai';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { deleteQueueKeys, REDIS_URL, waitFor } from './support/harness';
import { mention, SIGNING_SECRET, slackPoster } from './support/slack-requests';
import { createTestDatabase, databaseUrl, withAdminClient } from './support/test-database';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await killAllApps();
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const STACK_LINE = /^\s+at .+\(?.*:\d+:\d+\)?$/m;

describe('start-up with a dependency missing', () => {
  it('a server whose Redis is unreachable says so in one line, retries for STARTUP_WAIT_S and exits non-zero', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const closedPort = await freePort(); // nothing listens here
    const app = startApp('app/server.ts', {
      ...baseEnv(), NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: String(await freePort()), DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:${closedPort}`, QUEUE_PREFIX: `t_${randomBytes(5).toString('hex')}`, STARTUP_WAIT_S: '3',
    });
    const exit = await Promise.race([app.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 90_000))]);
    expect(exit).not.toBe('hung');
    expect(exit).toMatchObject({ code: expect.any(Number) });
    expect((exit as { code: number }).code).not.toBe(0);
    const out = app.stdout() + app.stderr();
    const stderr = app.stderr().trim().split('\n').filter(Boolean);
    expect(stderr).toHaveLength(1);
    expect(stderr[0]).toMatch(new RegExp(`^Rolecall could not start: Redis at redis://127\\.0\\.0\\.1:${closedPort}: unreachable \\(.*ECONNREFUSED.*\\) \\(gave up after 3 s; STARTUP_WAIT_S`));
    expect(out.match(/retrying for up to 3 s/g)).toHaveLength(1); // said once, not once per reconnect
    expect(out).not.toContain('Unhandled error event');
    expect(out).not.toMatch(STACK_LINE);
  });

  it('a worker started on an empty database waits for the schema, then runs once a server has migrated it', async () => {
    const name = `rolecall_test_${randomBytes(6).toString('hex')}`;
    await withAdminClient((c) => c.query(`CREATE DATABASE "${name}"`)); // empty: no migrations applied
    cleanups.push(() => withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
    const [slack, openai]: [FakeSlack, FakeOpenAI] = await Promise.all([startFakeSlack(), startFakeOpenAI()]);
    cleanups.push(() => slack.close(), () => openai.close());
    const prefix = `t_${randomBytes(5).toString('hex')}`;
    cleanups.push(() => deleteQueueKeys(prefix));
    const env = {
      ...baseEnv(), NODE_ENV: 'test', LOG_LEVEL: 'info', DATABASE_URL: databaseUrl(name), REDIS_URL, QUEUE_PREFIX: prefix,
      SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url,
      OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STARTUP_WAIT_S: '300',
    };
    const worker = startApp('app/worker.ts', env);
    await worker.waitForOutput(/Database schema: waiting for a server to apply \d+ migrations/);
    expect(worker.stdout() + worker.stderr()).not.toMatch(/does not exist/);

    const port = await freePort();
    const server = startApp('app/server.ts', { ...env, PORT: String(port) });
    await server.waitForOutput(/HTTP: listening on/);
    await worker.waitForOutput(/Database schema: available, going on/);
    await worker.waitForOutput(/Workers: concurrency/);

    // the worker runs jobs: a mention becomes a workflow whose plan is posted in the thread
    const ev = mention('we need a login page with SSO for our customer portal');
    expect((await slackPoster(`http://127.0.0.1:${port}`).event(ev)).status).toBe(200);
    await waitFor(() => slack.callsTo('chat.postMessage').find((c) => c.params.thread_ts === ev.ts && /Plan: /.test(c.params.text)), 'the plan posted by the worker');
    const out = worker.stdout() + worker.stderr();
    expect(out).not.toMatch(/does not exist/);
    expect(out).not.toMatch(STACK_LINE);
  });
});
