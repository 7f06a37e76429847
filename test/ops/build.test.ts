// The production build: `scripts/build.ts` compiles into a temporary directory laid out like the container image
// (the output, node_modules and roles/ only: no TypeScript sources, no generated/), and the compiled server and
// worker run there as separate node processes on a fresh, empty PostgreSQL database (the server applies every
// migration from the build's copy), the shared Redis under a new queue prefix, the fake Slack and the fake OpenAI. A
// Slack mention runs to the first gate; both processes log JSON lines and serve their health and metrics.
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTo, ENTRIES } from '../../scripts/build';
import { baseEnv, freePort, killAllApps, REPO_ROOT, startApp } from '../support/app-process';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { buttonsOf, deleteQueueKeys, REDIS_URL, waitFor } from '../support/harness';
import { mention, SIGNING_SECRET, slackPoster } from '../support/slack-requests';
import { databaseUrl, withAdminClient } from '../support/test-database';

const METRICS_TOKEN = 'build-test-metrics-token-0123456789';
const root = mkdtempSync(path.join(os.tmpdir(), 'rolecall-build-'));
const outDir = path.join(root, 'dist');
const dbName = `rolecall_test_build_${randomBytes(5).toString('hex')}`;
const prefix = `t_${randomBytes(5).toString('hex')}`;
let slack: FakeSlack;
let openai: FakeOpenAI;

beforeAll(async () => {
  [slack, openai] = await Promise.all([startFakeSlack(), startFakeOpenAI()]);
  await withAdminClient((c) => c.query(`CREATE DATABASE "${dbName}"`)); // empty: the compiled server migrates it
});

afterAll(async () => {
  await killAllApps();
  await Promise.all([slack?.close(), openai?.close(), deleteQueueKeys(prefix)]);
  await withAdminClient((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  rmSync(root, { recursive: true, force: true });
});

/** Every stdout line of a process is one JSON object. */
const jsonLines = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('npm run build', () => {
  it('compiles every entry point and copies the files read at run time', async () => {
    const r = await buildTo(outDir);
    for (const e of ENTRIES) expect(existsSync(path.join(outDir, `${e}.js`)), e).toBe(true);
    const migrations = readdirSync(path.join(REPO_ROOT, 'prisma/migrations')).filter((d) => !d.endsWith('.toml'));
    expect(readdirSync(path.join(outDir, 'prisma/migrations')).filter((d) => !d.endsWith('.toml')).sort()).toEqual(migrations.sort());
    expect(readdirSync(path.join(outDir, 'orchestrator/templates')).filter((f) => f.endsWith('.yaml')).length).toBeGreaterThan(0);
    expect(existsSync(path.join(outDir, 'web-admin/assets/admin.css'))).toBe(true);
    // A second build writes nothing: unchanged files are left alone (running processes may be reading them).
    expect(r.files).toBeGreaterThan(0);
    expect((await buildTo(outDir)).files).toBe(0);
  });

  it('runs the compiled server and worker as separate processes through to the first gate', async () => {
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    cpSync(path.join(REPO_ROOT, 'roles'), path.join(root, 'roles'), { recursive: true });
    const [port, workerPort] = [await freePort(), await freePort()];
    const env = {
      ...baseEnv(), NODE_ENV: 'production', HOST: '127.0.0.1', LOG_LEVEL: 'info', DATA_DIR: path.join(root, 'data'),
      DATABASE_URL: databaseUrl(dbName), REDIS_URL, QUEUE_PREFIX: prefix, METRICS_TOKEN,
      ADMIN_SESSION_SECRET: 'build-test-session-secret-0123456789abcdef',
      SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-build', SLACK_API_URL: slack.url,
      OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.baseURL, STEP_BACKOFF_MS: '50',
    };
    const server = startApp(path.join(outDir, 'server.js'), { ...env, PORT: String(port) }, { compiled: true, cwd: root });
    await server.waitForOutput(/HTTP: listening on/);
    const worker = startApp(path.join(outDir, 'worker.js'), { ...env, WORKER_HEALTH_PORT: String(workerPort) }, { compiled: true, cwd: root });
    await worker.waitForOutput(/Worker health: /);

    // The server applied every migration from the build's copy to the empty database.
    const migrations = readdirSync(path.join(REPO_ROOT, 'prisma/migrations')).filter((d) => !d.endsWith('.toml'));
    const applied = jsonLines(server.stdout()).find((l) => String(l.msg).startsWith('Database: applied migrations'));
    expect(String(applied?.msg).split(', ')).toHaveLength(migrations.length);

    const base = `http://127.0.0.1:${port}`;
    expect(await (await fetch(`${base}/ready`)).json()).toMatchObject({ status: 'ready' });
    expect((await fetch(`${base}/admin/assets/admin.css`)).status).toBe(200); // a shipped asset, found next to the bundle
    const workerBase = `http://127.0.0.1:${workerPort}`;
    expect((await fetch(`${workerBase}/health`)).status).toBe(200);
    expect(await (await fetch(`${workerBase}/ready`)).json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });

    const ev = mention('we need a login page with SSO for our customer portal');
    expect((await slackPoster(base).event(ev)).status).toBe(200);
    const gate = await waitFor(
      () => slack.callsTo('chat.postMessage').find((c) => c.params.thread_ts === ev.ts && 'approve' in buttonsOf(c)),
      'the first gate, posted by the compiled worker',
    ).catch((e) => { throw new Error(`${e}\nserver:\n${server.stdout()}${server.stderr()}\nworker:\n${worker.stdout()}${worker.stderr()}`); });
    expect(gate.params.username).toBe('Business Analyst');
    expect(openai.requests.length).toBeGreaterThan(0);

    // Logs: JSON lines, the workflow's id on its lines.
    const started = jsonLines(worker.stdout()).find((l) => l.msg === 'workflow started');
    expect(started).toMatchObject({ level: 'info', workflowId: expect.any(String) });
    expect(jsonLines(server.stdout()).every((l) => typeof l.time === 'string' && typeof l.level === 'string')).toBe(true);

    // Metrics: the server's (database gauges, HTTP requests) and the worker's own (jobs it ran), both behind the token.
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const auth = { headers: { authorization: `Bearer ${METRICS_TOKEN}` } };
    // A loaded machine may make one scrape leave a gauge out (its source has a time bound): scrape until complete.
    const serverMetrics = await waitFor(async () => {
      const text = await (await fetch(`${base}/metrics`, auth)).text();
      return /^rolecall_queue_workers 1$/m.test(text) && /^rolecall_approvals\{status="pending"\} 1$/m.test(text) ? text : undefined;
    }, 'a complete scrape of the server');
    expect(serverMetrics).toMatch(/^rolecall_http_requests_total\{method="POST",route="\/slack\/events",status="200",ok="true"\} [1-9]/m);
    expect((await fetch(`${workerBase}/metrics`)).status).toBe(401);
    const workerMetrics = await (await fetch(`${workerBase}/metrics`, auth)).text();
    expect(workerMetrics).toMatch(/^rolecall_jobs_total\{kind="step",outcome="completed"\} [1-9]/m);
    expect(workerMetrics).toMatch(/^rolecall_process_info\{kind="worker"\} 1$/m);

    // Both stop cleanly on SIGTERM (what tini forwards in the container).
    for (const p of [worker, server]) {
      p.signal('SIGTERM');
      expect(await p.exited).toEqual({ code: 0, signal: null });
    }
  }, 300_000);
});
