// Starts Rolecall in-process against the machine's real Postgres (a fresh database, see test-database.ts) and Redis
// (a fresh queue prefix), with local stand-ins for Slack and the OpenAI API.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../../app/config';
import { createLogger, type Logger } from '../../orchestrator/log';
import { startRuntime, type Runtime } from '../../app/runtime';
import { startFakeOpenAI, type FakeOpenAI, type Script } from './fake-openai';
import { startFakeSlack, type FakeSlack, type SlackCall } from './fake-slack';
import { SIGNING_SECRET, slackPoster, type SlackPoster } from './slack-requests';
import { createTestDatabase } from './test-database';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export { WAIT_MS, waitFor } from './wait';

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
  /** Where the app logs (default: stdout at LOG_LEVEL); tests that check what was logged pass createLogger(level, write). */
  log?: Logger;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const [slack, openai, db] = await Promise.all([startFakeSlack(), startFakeOpenAI(opts.script), createTestDatabase()]);
  const prefix = `t_${randomBytes(5).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test', PORT: '0', LOG_LEVEL: 'error', DATABASE_URL: db.url, REDIS_URL, QUEUE_PREFIX: prefix,
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-test', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_ATTEMPTS: '3', STEP_BACKOFF_MS: '50',
    LLM_TIMEOUT_MS: '30000', // the local fake answers at once: only a busy machine could make it late
    FILES_DIR: path.join(os.tmpdir(), `rolecall-files-${prefix}`), // shared files' bytes, removed at close
    ...opts.env,
  };
  const config = loadConfig(env);
  const runtime = await startRuntime(config, { server: true, worker: opts.worker ?? true, migrate: true }, opts.log ?? createLogger(config.logLevel));
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
      await Promise.all([slack.close(), openai.close(), db.drop(), deleteQueueKeys(prefix), rm(path.join(os.tmpdir(), `rolecall-files-${prefix}`), { recursive: true, force: true })]);
    },
  };
}

/** The buttons of a posted message, by action id. */
export function buttonsOf(call: SlackCall): Record<string, string> {
  const actions = (call.params.blocks as any[] | undefined)?.find((b) => b.type === 'actions');
  return Object.fromEntries((actions?.elements ?? []).map((e: any) => [e.action_id, e.value]));
}
