// The first admin account on `npm start` (embedded PGlite), as real processes over HTTP: the printed one-time
// password signs in as admin@localhost and leads only to choosing a new password; `admin:create` refuses to write
// beside a running server that holds the PGlite database, and takes its password from stdin instead of argv.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { baseEnv, freePort, killAllApps, REPO_ROOT, startApp, type AppProcess } from '../support/app-process';
import { deleteQueueKeys, REDIS_URL } from '../support/harness';
import { cookieHeader, keepCookies } from '../support/cookies';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'rolecall-bootstrap-'));
const prefix = `t_${randomBytes(5).toString('hex')}`;
let env: Record<string, string>;

afterEach(async () => { await killAllApps(); });
afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await deleteQueueKeys(prefix);
});

async function startServer(): Promise<{ app: AppProcess; base: string }> {
  env ??= { ...baseEnv(), PORT: String(await freePort()), DATA_DIR: dataDir, REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info' };
  const app = startApp('app/all.ts', env);
  await app.waitForOutput(/HTTP: listening on http:\/\/127\.0\.0\.1:\d+/, 300_000);
  return { app, base: `http://127.0.0.1:${env.PORT}` };
}

async function stop(app: AppProcess): Promise<void> {
  app.signal('SIGTERM');
  expect(await app.exited).toEqual({ code: 0, signal: null });
}

/** Runs `npm run admin:create -- …args` (as tsx does), writing `stdin` to it. */
function adminCreate(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'app/admin-create.ts', ...args], { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdin.end(stdin ?? '');
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A minimal browser: cookies, and the console's Origin on posts. */
function browser(base: string) {
  const cookies = new Map<string, string>();
  const request = async (method: string, p: string, form?: Record<string, string>) => {
    const headers: Record<string, string> = {};
    if (cookies.size) headers.cookie = cookieHeader(cookies)!;
    if (form) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', origin: base });
    const res = await fetch(base + p, { method, headers, body: form ? new URLSearchParams(form) : undefined, redirect: 'manual' });
    keepCookies(cookies, res);
    return res;
  };
  const token = async (p: string) => /name="_csrf" value="([^"]+)"/.exec(await (await request('GET', p)).text())?.[1] ?? '';
  return {
    cookies,
    get: (p: string) => request('GET', p),
    post: async (p: string, form: Record<string, string>) => request('POST', p, { ...form, _csrf: await token('/admin/password') }),
    signIn: async (email: string, password: string) => request('POST', '/admin/login', { email, password, _csrf: await token('/admin/login') }),
  };
}

describe('first admin on embedded PGlite', () => {
  it('signs in with the printed one-time password, must change it first, and admin:create refuses while the server runs', async () => {
    const { app, base } = await startServer();
    const [, email, oneTime] = (await app.waitForOutput(/created owner (\S+) with the one-time password (\S+)/))!;
    expect(email).toBe('admin@localhost');

    // The sign-in form takes admin@localhost (it used to answer 400 "Enter your email and password.")
    const b = browser(base);
    const signedIn = await b.signIn(email!, oneTime!);
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/admin/password');
    // Nothing else is open until the password is changed
    for (const p of ['/admin', '/admin/rbac', '/admin/workflows', '/admin/sessions']) {
      const res = await b.get(p);
      expect(res.status, p).toBe(303);
      expect(res.headers.get('location'), p).toBe('/admin/password');
    }
    expect((await b.get('/admin/api/rbac')).status).toBe(403);
    const sneaky = await b.post('/admin/rbac/users', { email: 'sneaky@example.com', password: 'a long enough password', role: 'owner' });
    expect(sneaky.headers.get('location')).toBe('/admin/password');
    const captured = new Map(b.cookies);

    expect((await b.post('/admin/password', { current: oneTime!, password: 'short', confirm: 'short' })).status).toBe(400);
    expect((await b.post('/admin/password', { current: 'not the one-time password', password: 'my own password 123', confirm: 'my own password 123' })).status).toBe(401);
    const changed = await b.post('/admin/password', { current: oneTime!, password: 'my own password 123', confirm: 'my own password 123' });
    expect(changed.status).toBe(303);
    expect(changed.headers.get('location')).toBe('/admin');
    expect((await b.get('/admin')).status).toBe(200);
    const rbac = await (await b.get('/admin/api/rbac')).json() as { users: { email: string }[] };
    expect(rbac.users.map((u) => u.email)).toEqual(['admin@localhost']);
    // the session from before the change is gone, and the one-time password no longer works
    const old = browser(base);
    for (const [k, v] of captured) old.cookies.set(k, v);
    expect((await old.get('/admin/api/rbac')).status).toBe(401);
    expect((await browser(base).signIn(email!, oneTime!)).status).toBe(401);

    // admin:create while the server holds the PGlite database: refused, clearly, and nothing written
    const refused = await adminCreate(['--email', 'ops@example.com', '--password-stdin'], 'ops password 12345\n');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The embedded database in ${dataDir}/pglite is open in another process`);
    expect(refused.stdout).not.toMatch(/Created/);
    await stop(app);

    // with the server stopped: no password anywhere is a usage error; --password-stdin works and is not echoed
    const noPassword = await adminCreate(['--email', 'ops@example.com']);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain('No password');
    const created = await adminCreate(['--email', 'ops@example.com', '--role', 'admin', '--password-stdin'], 'ops password 12345\n');
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/^Created console user ops@example.com \(admin\) in embedded PGlite/);
    expect(created.stdout + created.stderr).not.toContain('ops password 12345');
    const argv = await adminCreate(['--email', 'ops@example.com', '--password', 'too short']);
    expect(argv.code).toBe(2);
    expect(argv.stderr).toMatch(/--password is visible to other users in `ps`/);

    // the user written after the server stopped is there when it starts again
    const again = await startServer();
    const ops = browser(again.base);
    const res = await ops.signIn('ops@example.com', 'ops password 12345');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin');
    await stop(again.app);
  }, 900_000); // two server starts that compile the app with tsx and open PGlite: minutes on a busy machine
});
