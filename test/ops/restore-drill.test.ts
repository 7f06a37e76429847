// The disaster-recovery drill, as an operator would run it: Rolecall (the compiled server and worker, separate
// processes) runs two workflows up to their first gate on a fresh database; scripts/backup.sh backs the database up
// while they wait; scripts/restore.sh restores it into a new, empty database; Rolecall starts on the restored one
// with a new queue prefix (an empty queue, as after losing Redis); and the workflows resume: approving a gate that was
// posted before the backup moves its workflow on to the next gate, and the other workflow still waits for its own.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { buildTo } from '../../scripts/build';
import { baseEnv, freePort, killAllApps, REPO_ROOT, startApp, type AppProcess } from '../support/app-process';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { startFakeSlack, type FakeSlack, type SlackCall } from '../support/fake-slack';
import { buttonsOf, deleteQueueKeys, REDIS_URL, waitFor } from '../support/harness';
import { buttonClick, mention, SIGNING_SECRET, slackPoster } from '../support/slack-requests';
import { databaseUrl, withAdminClient } from '../support/test-database';

const root = mkdtempSync(path.join(os.tmpdir(), 'rolecall-drill-'));
const tag = randomBytes(4).toString('hex');
const [dbBefore, dbAfter] = [`rolecall_test_drill_a_${tag}`, `rolecall_test_drill_b_${tag}`];
const [prefixBefore, prefixAfter] = [`t_drill_a_${tag}`, `t_drill_b_${tag}`];
let slack: FakeSlack;
let openai: FakeOpenAI;

beforeAll(async () => {
  [slack, openai] = await Promise.all([startFakeSlack(), startFakeOpenAI()]);
  await buildTo(path.join(root, 'dist'));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  cpSync(path.join(REPO_ROOT, 'roles'), path.join(root, 'roles'), { recursive: true });
  await withAdminClient(async (c) => {
    await c.query(`CREATE DATABASE "${dbBefore}"`);
    await c.query(`CREATE DATABASE "${dbAfter}"`);
  });
});

afterAll(async () => {
  await killAllApps();
  await Promise.all([slack?.close(), openai?.close(), deleteQueueKeys(prefixBefore), deleteQueueKeys(prefixAfter)]);
  await withAdminClient(async (c) => {
    for (const db of [dbBefore, dbAfter]) await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  });
  rmSync(root, { recursive: true, force: true });
});

async function startRolecall(db: string, prefix: string): Promise<{ server: AppProcess; worker: AppProcess; base: string }> {
  const port = await freePort();
  const env = {
    ...baseEnv(), NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: path.join(root, 'data'),
    DATABASE_URL: databaseUrl(db), REDIS_URL, QUEUE_PREFIX: prefix, ADMIN_SESSION_SECRET: 'drill-session-secret-0123456789abcdefgh',
    SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-drill', SLACK_API_URL: slack.url,
    OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_BACKOFF_MS: '50', PORT: String(port),
  };
  const server = startApp(path.join(root, 'dist/server.js'), env, { compiled: true, cwd: root });
  await server.waitForOutput(/HTTP: listening on/);
  const worker = startApp(path.join(root, 'dist/worker.js'), env, { compiled: true, cwd: root });
  await worker.waitForOutput(/Workers: concurrency/);
  return { server, worker, base: `http://127.0.0.1:${port}` };
}

async function stop(...apps: AppProcess[]): Promise<void> {
  for (const a of apps) {
    a.signal('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  }
}

const gates = (threadTs: string): SlackCall[] =>
  slack.callsTo('chat.postMessage').filter((c) => c.params.thread_ts === threadTs && 'approve' in buttonsOf(c));

const run = (script: string, args: string[], env: Record<string, string>) =>
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts', script), ...args], { env: { ...baseEnv(), ...env }, encoding: 'utf8' });

async function workflowStatuses(db: string): Promise<Record<string, string>> {
  const c = new pg.Client({ connectionString: databaseUrl(db) });
  await c.connect();
  try {
    const { rows } = await c.query<{ threadTs: string; status: string }>('SELECT "threadTs", status::text FROM "Workflow"');
    return Object.fromEntries(rows.map((r) => [r.threadTs, r.status]));
  } finally {
    await c.end();
  }
}

describe('backup and restore', () => {
  it('restores a database with running workflows into a new one, and the workflows resume there', async () => {
    // 1. Two workflows wait at their first gate.
    const before = await startRolecall(dbBefore, prefixBefore);
    const [a, b] = [mention('we need a login page with SSO for our customer portal'), mention('we need an audit log export for admins')];
    for (const ev of [a, b]) expect((await slackPoster(before.base).event(ev)).status).toBe(200);
    for (const ev of [a, b]) await waitFor(() => gates(ev.ts)[0], `the first gate of ${ev.ts}`);

    // 2. Back up while Rolecall runs.
    const backup = path.join(root, 'backup');
    run('backup.sh', [backup], { DATABASE_URL: databaseUrl(dbBefore) });
    expect(existsSync(path.join(backup, 'rolecall.dump'))).toBe(true);
    expect(readFileSync(path.join(backup, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}rolecall\.dump$/m);
    await stop(before.worker, before.server);

    // 3. Restore into a new, empty database; a second restore into it is refused (not empty).
    run('restore.sh', [backup], { DATABASE_URL: databaseUrl(dbAfter) });
    expect(await workflowStatuses(dbAfter)).toEqual({ [a.ts]: 'awaiting_approval', [b.ts]: 'awaiting_approval' });
    expect(() => run('restore.sh', [backup], { DATABASE_URL: databaseUrl(dbAfter) })).toThrow(/not empty/);

    // 4. Rolecall on the restored database, with an empty queue: approving A's gate (posted before the backup) runs
    //    A's next step to its gate; B still waits for its own decision.
    const after = await startRolecall(dbAfter, prefixAfter);
    await after.worker.waitForOutput(/resumed 2 running workflow\(s\) from the database/);
    const gateA = gates(a.ts)[0]!;
    const click = buttonClick('approve', buttonsOf(gateA).approve!, { messageTs: gateA.response!.ts, threadTs: a.ts });
    expect((await slackPoster(after.base).interaction(click)).status).toBe(200);
    const gateA2 = await waitFor(() => gates(a.ts)[1], 'the second gate of the resumed workflow');
    expect(gateA2.params.username).toBe('Technical Architect');
    const statuses = await workflowStatuses(dbAfter);
    expect(statuses[b.ts]).toBe('awaiting_approval');
    expect(gates(b.ts)).toHaveLength(1); // the resumed workflow's gate was not posted again
    expect(await workflowStatuses(dbBefore)).toEqual({ [a.ts]: 'awaiting_approval', [b.ts]: 'awaiting_approval' }); // the original is untouched
    await stop(after.worker, after.server);
  }, 300_000);
});
