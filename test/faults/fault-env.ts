// The fault-injection environment: Rolecall's server and worker as separate child processes (as in production),
// against a redis-server and a PostgreSQL cluster of the test's own (so the test may stop and restart them), the fake
// Slack Web API and the fake OpenAI server. `deliver` plays Slack's Events API: it retries a delivery that did not
// get a 2xx (with X-Slack-Retry-Num), as Slack does. The checks are the three promises: every event that got
// a 2xx becomes exactly one workflow, every workflow completes once the fault ends, and no post is made twice.
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { openDatabase, type Database } from '../../orchestrator/db';
import { baseEnv, freePort, killAllApps, startApp, type AppProcess } from '../support/app-process';
import { startFakeOpenAI, type FakeOpenAI, type Script } from '../support/fake-openai';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../support/fake-slack';
import { startOwnPostgres, type OwnPostgres } from '../support/pg-cluster';
import { startOwnRedis, type OwnRedis } from '../support/redis-server';
import { mention, SIGNING_SECRET, slackPoster } from '../support/slack-requests';
import { waitFor } from '../support/wait';

/** A request the status-report template answers with one Project Manager step and no gate. */
export const REQUEST = 'give me a status update on the migration project';

/** Generous: the machine is busy and two tsx processes compile the app. */
export const LONG_WAIT_MS = 150_000;

export interface FaultEnv {
  redis: OwnRedis;
  pg: OwnPostgres;
  slack: FakeSlack;
  openai: FakeOpenAI;
  env: Record<string, string>;
  server?: AppProcess;
  worker?: AppProcess;
  /** The server's base URL (the port stays the same across restarts). */
  base: string;
  /** The test's own connection to the app's database (its queries fail while PostgreSQL is down). */
  db: Database;
  startServer(): Promise<AppProcess>;
  startWorker(): Promise<AppProcess>;
  close(): Promise<void>;
}

export async function startFaultEnv(opts: { script?: Script; env?: Record<string, string> } = {}): Promise<FaultEnv> {
  const [redis, pg, slack, openai] = await Promise.all([startOwnRedis(), startOwnPostgres(), startFakeSlack(), startFakeOpenAI(opts.script)]);
  const dbUrl = await pg.createDatabase(`rolecall_faults_${randomBytes(4).toString('hex')}`);
  const port = await freePort();
  const env: Record<string, string> = {
    ...baseEnv(), NODE_ENV: 'test', LOG_LEVEL: 'info', PORT: String(port), DATABASE_URL: dbUrl, DATABASE_POOL_MAX: '15',
    REDIS_URL: redis.url, QUEUE_PREFIX: 'faults', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-faults', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_ATTEMPTS: '3', STEP_BACKOFF_MS: '200', LLM_TIMEOUT_MS: '60000',
    WORKER_LOCK_MS: '5000', WORKER_STALLED_INTERVAL_MS: '2000', INFRA_RETRY_MAX_DELAY_MS: '2000',
    ...opts.env,
  };
  const db = await openDatabase({ kind: 'postgres', url: dbUrl, poolMax: 3 });
  const fault: FaultEnv = {
    redis, pg, slack, openai, env, db, base: `http://127.0.0.1:${port}`,
    async startServer() {
      const server = startApp('app/server.ts', env);
      await server.waitForOutput(/HTTP: listening on/, LONG_WAIT_MS);
      fault.server = server;
      return server;
    },
    async startWorker() {
      const worker = startApp('app/worker.ts', env);
      await worker.waitForOutput(/Workers: concurrency/, LONG_WAIT_MS);
      fault.worker = worker;
      return worker;
    },
    async close() {
      await killAllApps();
      await db.close().catch(() => undefined);
      await Promise.all([slack.close(), openai.close(), redis.close()]);
      pg.close();
    },
  };
  return fault;
}

/** startFaultEnv with the server and the worker up, as each fault test's beforeAll wants them; when one fails to
 *  start, what did start is closed again before the error is thrown. */
export async function startRunningFaultEnv(opts: Parameters<typeof startFaultEnv>[0] = {}): Promise<FaultEnv> {
  const fault = await startFaultEnv(opts);
  try {
    await fault.startServer();
    await fault.startWorker();
    return fault;
  } catch (err) {
    await fault.close().catch(() => undefined);
    throw err;
  }
}

export interface Delivery {
  event: ReturnType<typeof mention>;
  /** Every answer Slack got, in order (0: no answer: connection refused or reset). */
  statuses: number[];
  accepted: Promise<boolean>;
}

/** Slack's Events API: delivers `event` and retries (every `retryEveryMs`, X-Slack-Retry-Num) until a 2xx, for up to
 *  `forMs`. Slack itself gives up after 3 retries over about 5 minutes; the test compresses that. */
export function deliver(env: FaultEnv, event: ReturnType<typeof mention>, opts: { retryEveryMs?: number; forMs?: number } = {}): Delivery {
  const statuses: number[] = [];
  const eventId = `Ev${randomBytes(6).toString('hex')}`;
  const post = slackPoster(env.base);
  const accepted = (async () => {
    const deadline = Date.now() + (opts.forMs ?? LONG_WAIT_MS);
    for (let n = 0; Date.now() < deadline; n++) {
      const headers: Record<string, string> = n ? { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': 'http_error' } : {};
      const status = await post.event(event, { eventId, headers }).then(async (r) => { await r.text(); return r.status; }, () => 0);
      statuses.push(status);
      if (status >= 200 && status < 300) return true;
      await new Promise((r) => setTimeout(r, opts.retryEveryMs ?? 1_000));
    }
    return false;
  })();
  return { event, statuses, accepted };
}

/** Mentions arriving during an outage: each event delivered a second after the one before (each delivery goes on
 *  retrying as Slack does); the deliveries in the events' order. */
export async function deliverOneASecond(env: FaultEnv, events: ReturnType<typeof mention>[]): Promise<Delivery[]> {
  const deliveries: Delivery[] = [];
  for (const e of events) {
    deliveries.push(deliver(env, e));
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return deliveries;
}

export const mentionIn = (channel: string, n: number) => mention(`${REQUEST} (${channel} #${n})`, { channel });

/** A query against the app's database that answers undefined while it is unreachable. */
async function quietly<T>(q: () => Promise<T>): Promise<T | undefined> {
  try {
    return await q();
  } catch {
    return undefined;
  }
}

/** The promises for these events (each must have got a 2xx): one workflow each, all completed, and no post
 *  made twice in any thread. */
export async function expectExactlyOnceAndCompleted(env: FaultEnv, events: ReturnType<typeof mention>[]): Promise<void> {
  const prisma = env.db.prisma;
  const keys = events.map((e) => `slack:${e.channel}:${e.ts}`);
  await waitFor(async () => {
    const done = await quietly(() => prisma.workflow.count({ where: { sourceEventId: { in: keys }, status: 'completed' } }));
    return done === keys.length;
  }, `all ${keys.length} workflows to complete`, LONG_WAIT_MS);
  const workflows = await prisma.workflow.findMany({ where: { channelId: { in: [...new Set(events.map((e) => e.channel))] } } });
  // exactly one workflow per event, and none for anything else in these channels
  expect(workflows.map((w) => w.sourceEventId).sort()).toEqual([...keys].sort());
  // posting is off the critical path (orchestrator/outbox.ts): a completed workflow's posts may still be on their way;
  // wait until the poster has sent every one (none may end "failed": that would be a lost post)
  const ids = workflows.map((w) => w.id);
  await waitFor(async () => (await quietly(() => prisma.chatOutbox.count({ where: { workflowId: { in: ids }, status: { in: ['pending', 'sending'] } } }))) === 0, 'every post to be sent', LONG_WAIT_MS);
  expect(await prisma.chatOutbox.count({ where: { workflowId: { in: ids }, status: 'failed' } })).toBe(0);
  for (const e of events) expectNoPostTwice(env.slack, e.ts);
}

/** Posts Slack accepted in a thread: no two with the same persona and text. */
export function expectNoPostTwice(slack: FakeSlack, threadTs: string): void {
  const posted = slack.callsTo('chat.postMessage').filter((c: SlackCall) => c.params.thread_ts === threadTs && c.response?.ok);
  const seen = posted.map((c) => `${c.params.username}: ${c.params.text}`);
  expect(seen.length, `posts in thread ${threadTs}`).toBeGreaterThan(0);
  expect(seen, `a post made twice in thread ${threadTs}`).toEqual([...new Set(seen)]);
}
