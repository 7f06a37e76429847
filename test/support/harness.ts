// Starts Rolecall in-process against the machine's real Postgres (a fresh database) and Redis (a fresh queue
// prefix), with local stand-ins for Slack and the OpenAI API.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../../app/config';
import { createLogger } from '../../orchestrator/log';
import { startRuntime, type Runtime } from '../../app/runtime';
import { startFakeOpenAI, type FakeOpenAI, type Script } from './fake-openai';
import { startFakeSlack, type FakeSlack, type SlackCall } from './fake-slack';
import { SIGNING_SECRET, slackPoster, type SlackPoster } from './slack-requests';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `rolecall_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      // Let closing pools finish their goodbyes first: forcing them off would surface as errors in the app's clients.
      for (let i = 0; i < 40; i++) {
        const { rows } = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
        if (rows[0].n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function deleteQueueKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

export interface Harness {
  url: string;
  env: Record<string, string>;
  slack: FakeSlack;
  openai: FakeOpenAI;
  post: SlackPoster;
  runtime: Runtime;
  prisma: Runtime['deps']['prisma'];
  /** Persona posts in a thread, in order. */
  threadPosts(threadTs: string): SlackCall[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  script?: Script;
  worker?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const [slack, openai, db] = await Promise.all([startFakeSlack(), startFakeOpenAI(opts.script), createTestDatabase()]);
  const prefix = `t_${randomBytes(5).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'error', DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix,
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_ATTEMPTS: '3', STEP_BACKOFF_MS: '50', LLM_TIMEOUT_MS: '5000',
    ...opts.env,
  };
  const config = loadConfig(env);
  const runtime = await startRuntime(config, { server: true, worker: opts.worker ?? true, migrate: true }, createLogger(config.logLevel));
  return {
    url: runtime.url!,
    env,
    slack,
    openai,
    post: slackPoster(runtime.url!),
    runtime,
    prisma: runtime.deps.prisma,
    threadPosts: (threadTs) => slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === threadTs),
    close: async () => {
      await runtime.close();
      await Promise.all([slack.close(), openai.close(), db.drop(), deleteQueueKeys(prefix)]);
    },
  };
}

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what} (last value: ${JSON.stringify(last)})`);
}

/** The buttons of a posted message, by action id. */
export function buttonsOf(call: SlackCall): Record<string, string> {
  const actions = (call.params.blocks as any[] | undefined)?.find((b) => b.type === 'actions');
  return Object.fromEntries((actions?.elements ?? []).map((e: any) => [e.action_id, e.value]));
}
