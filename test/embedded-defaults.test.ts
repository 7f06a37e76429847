// `npm start` with nothing but Slack configured: embedded PGlite, an embedded redis-server and the offline demo
// model, in one real process. Also: bad configuration and bad role files stop start-up with a precise message.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseEnv, freePort, killAllApps, portOpen, REPO_ROOT, startApp } from './support/app-process';
import { startFakeSlack, type FakeSlack, type SlackCall } from './support/fake-slack';
import { buttonsOf, WAIT_MS, waitFor } from './support/harness';
import { mention, SIGNING_SECRET, slackPoster } from './support/slack-requests';

const ALL = 'app/all.ts';
const cleanups: (() => unknown)[] = [];
const tempDir = (name: string) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rolecall-${name}-`));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

afterEach(async () => {
  await killAllApps();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('npm start on embedded defaults', () => {
  it('starts PGlite, redis-server and the demo model, runs a Slack mention, and stops cleanly on SIGTERM', async () => {
    const slack: FakeSlack = await startFakeSlack();
    cleanups.push(() => slack.close());
    const port = await freePort();
    const dataDir = tempDir('data');
    const app = startApp(ALL, {
      ...baseEnv(), PORT: String(port), DATA_DIR: dataDir,
      SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_BOT_TOKEN: 'xoxb-embedded', SLACK_API_URL: slack.url,
    });

    await app.waitForOutput(/HTTP: listening on http:\/\/127\.0\.0\.1:\d+/, 240_000); // PGlite's initdb and tsx: minutes on a busy machine
    const log = app.stdout();
    expect(log).toContain(`Database: embedded PGlite in ${dataDir}/pglite`);
    const redisPort = Number(log.match(/Redis: embedded redis-server at redis:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    expect(redisPort).toBeGreaterThan(0);
    expect(log).toMatch(/LLM: offline demo model/);
    expect(log).toContain(`HTTP: listening on http://127.0.0.1:${port}`);

    const base = `http://127.0.0.1:${port}`;
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
    expect(await portOpen(redisPort)).toBe(true);

    const ev = mention('a password reset page');
    expect((await slackPoster(base).event(ev)).status).toBe(200);
    // the Business Analyst's output: its status message, edited into the output (or posted with it), not the gate
    const isOwn = (c: SlackCall) => c.params.thread_ts === ev.ts && c.params.username === 'Business Analyst' && !('approve' in buttonsOf(c));
    const readsAsOutput = (c: SlackCall) => [c, ...slack.callsTo('chat.update').filter((u) => u.params.ts === c.response?.ts)].some((x) => JSON.stringify(x.params).includes('Offline demo model'));
    const output = await waitFor(() => slack.callsTo('chat.postMessage').find((c) => isOwn(c) && readsAsOutput(c)), 'the Business Analyst output', 180_000);
    expect(slack.callsTo('chat.postMessage').filter(isOwn)).toHaveLength(1);
    expect(output.auth).toBe('Bearer xoxb-embedded');

    app.signal('SIGTERM');
    const exit = await Promise.race([app.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), WAIT_MS).unref())]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(app.stdout()).toContain('SIGTERM: shutting down');
    // its redis-server went with it
    await waitFor(async () => !(await portOpen(redisPort)), 'the embedded redis-server to stop');
  }, 600_000); // PGlite's first start (initdb) alone takes 5-15 s, more on a loaded machine

  it('exits with code 2 naming the variable when Slack is half configured', async () => {
    const app = startApp(ALL, { ...baseEnv(), PORT: String(await freePort()), DATA_DIR: tempDir('data'), SLACK_SIGNING_SECRET: SIGNING_SECRET });
    expect(await app.exited).toEqual({ code: 2, signal: null });
    expect(app.stderr()).toMatch(/^Invalid configuration:\n {2}SLACK_BOT_TOKEN: is required when Slack is configured/);
  });

  it('exits with code 2 naming the variable when PORT is not a number', async () => {
    const app = startApp(ALL, { ...baseEnv(), PORT: 'abc', DATA_DIR: tempDir('data') });
    expect(await app.exited).toEqual({ code: 2, signal: null });
    expect(app.stderr()).toMatch(/^Invalid configuration:\n {2}PORT: /);
    expect(app.stdout()).toBe('');
  });

  // Known bug: with PORT=abc the cross-field checks (superRefine in app/config.ts) are skipped, so only PORT
  // is named although ConfigError promises to name every bad variable. Fix: pass `{ when: () => true }` to superRefine.
  // Drop `.fails` once fixed.
  it('names every bad variable at once (PORT=abc and SLACK_BOT_TOKEN missing)', async () => {
    const app = startApp(ALL, { ...baseEnv(), PORT: 'abc', DATA_DIR: tempDir('data'), SLACK_SIGNING_SECRET: SIGNING_SECRET });
    expect(await app.exited).toEqual({ code: 2, signal: null });
    expect(app.stderr()).toContain('PORT: ');
    expect(app.stderr()).toContain('SLACK_BOT_TOKEN: is required');
  });

  it('exits non-zero naming the file and the field when a role file is broken', async () => {
    const rolesDir = tempDir('roles');
    cpSync(path.join(REPO_ROOT, 'roles'), rolesDir, { recursive: true });
    const file = path.join(rolesDir, 'developer.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^ {2}display_name:.*\n/m, ''));
    expect(readFileSync(file, 'utf8')).not.toContain('display_name');

    const app = startApp(ALL, { ...baseEnv(), PORT: String(await freePort()), DATA_DIR: tempDir('data'), ROLES_DIR: rolesDir });
    const exit = await app.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.code).toBe(2);
    expect(app.stderr()).toContain(file);
    expect(app.stderr()).toContain('persona.display_name');
    expect(app.stderr().split('\n').length).toBeLessThanOrEqual(3); // a message, not a stack trace
  });
});
