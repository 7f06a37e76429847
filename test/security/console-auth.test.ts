// Attacks on the admin console's sign-in and sessions, over real HTTP against the running server (real PostgreSQL):
// parallel and email-rotating password guessing, the concurrent-hash cap, audit flooding, and sessions that should
// have ended (sign-out, role change, removal, password change, absolute lifetime). Each test fails if its attack works.
// Requests come from distinct loopback addresses (127.0.x.y) so each attack has its own client IP.
import http from 'node:http';
import { sign } from 'hono/jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config';
import { startRuntime, type Runtime } from '../../app/runtime';
import { createLogger } from '../../orchestrator/log';
import { upsertAdminUser } from '../../web-admin/auth/bootstrap';
import { SESSION_COOKIE } from '../../web-admin/auth/session';
import { startHarness, type Harness } from '../support/harness';

const SECRET = 'security-test-session-secret-0123456789abcdef';
const PASSWORD = 'the right password, long enough';
const TTL_MINUTES = 60;
const MAX_HOURS = 24;
const LIMITS = { perIpAndAccount: 5, perIp: 20 }; // the defaults (ADMIN_LOGIN_MAX_FAILURES, ADMIN_LOGIN_MAX_PER_IP)

interface Res { status: number; location?: string; retryAfter?: string; text: string; ms: number }

/** A browser: keeps cookies, sends the console's Origin on posts, and connects from its own loopback address. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string, readonly ip = '127.0.0.1') {}

  request(method: string, path: string, form?: Record<string, string>): Promise<Res> {
    const url = new URL(path, this.base);
    const body = form ? new URLSearchParams(form).toString() : undefined;
    const headers: Record<string, string> = { 'user-agent': 'security-test' };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) Object.assign(headers, { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), origin: url.origin });
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers, localAddress: this.ip, agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          for (const c of res.headers['set-cookie'] ?? []) {
            const [pair, ...attrs] = c.split(';');
            const name = pair!.slice(0, pair!.indexOf('='));
            const value = pair!.slice(pair!.indexOf('=') + 1);
            if (!value || attrs.some((a) => /max-age=0\b/i.test(a.trim()))) this.cookies.delete(name);
            else this.cookies.set(name, value);
          }
          resolve({ status: res.statusCode!, location: res.headers.location, retryAfter: res.headers['retry-after'] as string | undefined, text, ms: performance.now() - started });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get = (path: string) => this.request('GET', path);

  /** Posts a form with the session's CSRF token (taken from a page) unless one is given. */
  async post(path: string, form: Record<string, string>, csrf?: string): Promise<Res> {
    return this.request('POST', path, { ...form, _csrf: csrf ?? (await this.csrf()) });
  }

  async csrf(): Promise<string> {
    return tokenIn((await this.get('/admin/password')).text);
  }

  async loginToken(): Promise<string> {
    return tokenIn((await this.get('/admin/login')).text);
  }

  async signIn(email: string, password: string): Promise<Res> {
    return this.request('POST', '/admin/login', { email, password, _csrf: await this.loginToken() });
  }

  /** A copy of this browser's cookies in another browser: what an attacker who captured them holds. */
  clone(): Browser {
    const b = new Browser(this.base, this.ip);
    for (const [k, v] of this.cookies) b.cookies.set(k, v);
    return b;
  }

  claims(): { sub: string; sid: string; csrf: string; iat: number; exp: number } {
    return JSON.parse(Buffer.from(this.cookies.get(SESSION_COOKIE)!.split('.')[1]!, 'base64url').toString());
  }
}

const tokenIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
const tally = (rs: Res[]) => rs.reduce<Record<number, number>>((t, r) => ({ ...t, [r.status]: (t[r.status] ?? 0) + 1 }), {});
/** Whether a captured cookie is still a live session (the password page opens for every signed-in user, even one who must change it). */
const stillWorks = async (b: Browser) => {
  const res = await b.get('/admin/password');
  if (res.status !== 200 && !res.location?.startsWith('/admin/login')) throw new Error(`unexpected answer ${res.status} ${res.location}`);
  return res.status === 200;
};

let h: Harness;
let second: Runtime;
const users: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { ADMIN_SESSION_SECRET: SECRET, ADMIN_SESSION_TTL_MINUTES: String(TTL_MINUTES), ADMIN_SESSION_MAX_HOURS: String(MAX_HOURS) } });
  // A second server process on the same database, allowed one password hash at a time.
  const config = loadConfig({ ...h.env, ADMIN_LOGIN_MAX_CONCURRENT_HASHES: '1' });
  second = await startRuntime(config, { server: true, worker: false, migrate: false }, createLogger('error'));
  for (const [email, role] of [
    ['owner@example.com', 'owner'], ['admin@example.com', 'admin'], ['viewer@example.com', 'viewer'], ['target@example.com', 'viewer'],
    ['shared@example.com', 'viewer'], ['signout@example.com', 'approver'], ['demote@example.com', 'admin'], ['remove@example.com', 'viewer'],
    ['pwchange@example.com', 'viewer'], ['reset@example.com', 'viewer'], ['lifetime@example.com', 'viewer'], ['revoked@example.com', 'viewer'],
  ] as const) {
    await upsertAdminUser(h.prisma, email, PASSWORD, role);
    users[email] = (await h.prisma.adminUser.findUniqueOrThrow({ where: { email } })).id;
  }
}, 120_000);
afterAll(async () => {
  await second?.close();
  await h?.close();
});

const signedIn = async (email: string, ip: string, base = h.url) => {
  const b = new Browser(base, ip);
  expect((await b.signIn(email, PASSWORD)).status).toBe(303);
  return b;
};

describe('sign-in limits (counted before the password is checked, shared by every server)', () => {
  it('checks at most 5 of 40 parallel wrong guesses for one account from one IP; the rest answer 429', async () => {
    const attacker = new Browser(h.url, '127.0.1.1');
    const token = await attacker.loginToken(); // one form token serves every guess
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      attacker.request('POST', '/admin/login', { email: 'target@example.com', password: `guess number ${i}`, _csrf: token })));
    const t = tally(guesses);
    expect((t[401] ?? 0) + (t[429] ?? 0) + (t[503] ?? 0)).toBe(40);
    expect(t[401] ?? 0).toBeLessThanOrEqual(LIMITS.perIpAndAccount);
    expect(t[401] ?? 0).toBeGreaterThan(0);
    expect(t[429]).toBeGreaterThanOrEqual(40 - LIMITS.perIpAndAccount);
    expect(guesses.find((r) => r.status === 429)!.retryAfter).toMatch(/^\d+$/);
    // however many guesses came in, the audit log holds one row for them, counting the passwords checked
    const failed = await h.prisma.auditLog.findMany({ where: { action: 'auth.signin_failed', actor: 'console:target@example.com' } });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.detail).toMatchObject({ ip: '127.0.1.1', count: t[401] });
    // the right password from that IP is refused too until the window ends; another IP is not affected
    expect((await attacker.signIn('target@example.com', PASSWORD)).status).toBe(429);
    expect((await new Browser(h.url, '127.0.1.2').signIn('target@example.com', PASSWORD)).status).toBe(303);
  });

  it('limits an IP that rotates the email on every guess', async () => {
    const attacker = new Browser(h.url, '127.0.2.1');
    const token = await attacker.loginToken();
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
      attacker.request('POST', '/admin/login', { email: `someone${i}@example.com`, password: 'a guess', _csrf: token })));
    const t = tally(guesses);
    expect(t[401] ?? 0).toBeLessThanOrEqual(LIMITS.perIp);
    expect(t[429]).toBeGreaterThanOrEqual(40 - LIMITS.perIp);
    // a real account's right password from that IP: refused, no scrypt work for this address any more
    expect((await attacker.signIn('viewer@example.com', PASSWORD)).status).toBe(429);
    expect(await h.prisma.auditLog.count({ where: { action: 'auth.signin_throttled', detail: { path: ['ip'], equals: '127.0.2.1' } } })).toBeGreaterThanOrEqual(1);
  });

  it('shares the count between server processes', async () => {
    const onA = new Browser(h.url, '127.0.3.1');
    for (let i = 0; i < LIMITS.perIpAndAccount; i++) expect((await onA.signIn('shared@example.com', `wrong ${i}`)).status).toBe(401);
    const onB = new Browser(second.url!, '127.0.3.1');
    expect((await onB.signIn('shared@example.com', PASSWORD)).status).toBe(429);
    // and a parallel burst split over both servers gets no more checks than one server would give
    const [a, b] = [new Browser(h.url, '127.0.3.2'), new Browser(second.url!, '127.0.3.2')];
    const [tokenA, tokenB] = [await a.loginToken(), await b.loginToken()];
    const guesses = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2
      ? a.request('POST', '/admin/login', { email: 'shared2@example.com', password: `g${i}`, _csrf: tokenA })
      : b.request('POST', '/admin/login', { email: 'shared2@example.com', password: `g${i}`, _csrf: tokenB }))));
    expect(tally(guesses)[401] ?? 0).toBeLessThanOrEqual(LIMITS.perIpAndAccount);
  });

  it('caps concurrent password hashes per process: the excess answers 503 at once', async () => {
    // 30 clients, each its own IP and email, so no count limit applies: only the hash cap (1 on the second server).
    const clients = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
      const b = new Browser(second.url!, `127.0.4.${i + 1}`);
      return { b, token: await b.loginToken() };
    }));
    const res = await Promise.all(clients.map(({ b, token }, i) => b.request('POST', '/admin/login', { email: `hash${i}@example.com`, password: 'a guess', _csrf: token })));
    const t = tally(res);
    expect((t[401] ?? 0) + (t[503] ?? 0)).toBe(30);
    expect(t[503]).toBeGreaterThan(0);
    const busy = res.filter((r) => r.status === 503);
    expect(busy.every((r) => r.retryAfter === '1')).toBe(true);
    expect(await h.prisma.auditLog.count({ where: { action: 'auth.signin_failed', actor: { startsWith: 'console:hash' } } })).toBe(t[401] ?? 0);
  });

  it('writes one audit row per IP and account per window, however many failures', async () => {
    const b = new Browser(h.url, '127.0.5.1');
    for (let i = 0; i < 15; i++) await b.signIn('nobody@example.com', `guess ${i}`);
    const rows = await h.prisma.auditLog.findMany({ where: { actor: 'console:nobody@example.com' } });
    expect(rows.map((r) => r.action).sort()).toEqual(['auth.signin_failed', 'auth.signin_throttled']);
    expect(rows.find((r) => r.action === 'auth.signin_failed')!.detail).toMatchObject({ ip: '127.0.5.1', count: LIMITS.perIpAndAccount });
  });
});

describe('sessions end on the server', () => {
  it('refuses a cookie captured before sign-out', async () => {
    const b = await signedIn('signout@example.com', '127.0.6.1');
    const captured = b.clone();
    expect(await stillWorks(captured)).toBe(true);
    expect((await b.post('/admin/logout', {})).location).toBe('/admin/login');
    expect(await stillWorks(captured)).toBe(false);
    expect((await captured.get('/admin')).location).toBe('/admin/login?next=%2Fadmin');
  });

  it('refuses a cookie captured before a role change', async () => {
    const victim = await signedIn('demote@example.com', '127.0.6.2');
    const captured = victim.clone();
    const owner = await signedIn('owner@example.com', '127.0.6.3');
    expect((await owner.post(`/admin/rbac/users/${users['demote@example.com']}/role`, { role: 'viewer' })).status).toBe(303);
    expect(await stillWorks(captured)).toBe(false);
    expect(await stillWorks(victim)).toBe(false);
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'rbac.user_role', target: 'demote@example.com' } })).toMatchObject({ detail: { sessionsRevoked: 1 } });
  });

  it('refuses a cookie captured before the user was removed', async () => {
    const captured = (await signedIn('remove@example.com', '127.0.6.4')).clone();
    const admin = await signedIn('admin@example.com', '127.0.6.5');
    expect((await admin.post(`/admin/rbac/users/${users['remove@example.com']}/delete`, {})).status).toBe(303);
    expect(await h.prisma.adminUser.findUnique({ where: { email: 'remove@example.com' } })).toBeNull();
    expect(await stillWorks(captured)).toBe(false);
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'rbac.user_removed', target: 'remove@example.com' } })).not.toBeNull();
    // an admin cannot remove an owner, nobody removes themselves
    expect((await admin.post(`/admin/rbac/users/${users['owner@example.com']}/delete`, {})).status).toBe(403);
    expect((await admin.post(`/admin/rbac/users/${users['admin@example.com']}/delete`, {})).status).toBe(400);
  });

  it('ends every other session when a user changes their password', async () => {
    const a = await signedIn('pwchange@example.com', '127.0.6.6');
    const elsewhere = await signedIn('pwchange@example.com', '127.0.6.7');
    const newPassword = 'a brand new password here';
    expect((await a.post('/admin/password', { current: 'not the password', password: newPassword, confirm: newPassword })).status).toBe(401);
    const changed = await a.post('/admin/password', { current: PASSWORD, password: newPassword, confirm: newPassword });
    expect(changed.status).toBe(303);
    expect(await stillWorks(elsewhere)).toBe(false);
    expect(await stillWorks(a)).toBe(true); // this browser got a new session
    expect((await new Browser(h.url, '127.0.6.8').signIn('pwchange@example.com', newPassword)).status).toBe(303);
  });

  it('ends the sessions of a user whose password an admin sets, and makes them choose their own', async () => {
    const captured = (await signedIn('reset@example.com', '127.0.6.9')).clone();
    const admin = await signedIn('admin@example.com', '127.0.6.10');
    const chosen = 'set by the admin, 12+ chars';
    expect((await admin.post(`/admin/rbac/users/${users['reset@example.com']}/password`, { password: chosen })).status).toBe(303);
    expect(await stillWorks(captured)).toBe(false);
    const again = new Browser(h.url, '127.0.6.11');
    expect((await again.signIn('reset@example.com', chosen)).location).toBe('/admin/password');
    expect((await again.get('/admin/api/rbac')).status).toBe(403);
  });

  it('refuses a session past its absolute lifetime even with a freshly renewed cookie', async () => {
    const b = await signedIn('lifetime@example.com', '127.0.6.12');
    const { sub, sid, csrf } = b.claims();
    const rowId = (await h.prisma.consoleSession.findFirstOrThrow({ where: { userId: users['lifetime@example.com'] } })).id;
    const renewed = async () => {
      const now = Math.floor(Date.now() / 1000);
      const c = new Browser(h.url, '127.0.6.12');
      c.cookies.set(SESSION_COOKIE, await sign({ sub, sid, csrf, iat: now, exp: now + TTL_MINUTES * 60 }, SECRET, 'HS256'));
      return c;
    };
    expect(await stillWorks(await renewed())).toBe(true);
    // 10 minutes before the end: a renewal (the cookie is past half its lifetime) does not reach past the end
    const maxMs = MAX_HOURS * 3600_000;
    await h.prisma.consoleSession.update({ where: { id: rowId }, data: { createdAt: new Date(Date.now() - maxMs + 600_000), lastSeenAt: new Date() } });
    const old = new Browser(h.url, '127.0.6.12');
    const iat = Math.floor(Date.now() / 1000) - 31 * 60;
    old.cookies.set(SESSION_COOKIE, await sign({ sub, sid, csrf, iat, exp: iat + TTL_MINUTES * 60 }, SECRET, 'HS256'));
    expect(await stillWorks(old)).toBe(true);
    expect(old.claims().iat).toBeGreaterThan(iat);
    expect(old.claims().exp).toBeLessThanOrEqual(Math.ceil((Date.now() + 600_000) / 1000));
    // past the end, in use all along (last seen just now): refused however fresh the cookie
    await h.prisma.consoleSession.update({ where: { id: rowId }, data: { createdAt: new Date(Date.now() - maxMs - 1000), lastSeenAt: new Date() } });
    expect(await stillWorks(await renewed())).toBe(false);
    expect(await h.prisma.consoleSession.findUnique({ where: { id: rowId } })).toBeNull();
  });

  it('lets owners, and only owners, see and end sessions, audited', async () => {
    const victim = await signedIn('revoked@example.com', '127.0.6.13');
    const viewer = await signedIn('viewer@example.com', '127.0.6.14');
    const admin = await signedIn('admin@example.com', '127.0.6.15');
    const owner = await signedIn('owner@example.com', '127.0.6.16');
    expect((await viewer.get('/admin/sessions')).status).toBe(403);
    expect((await admin.get('/admin/api/sessions')).status).toBe(403);
    const list = JSON.parse((await owner.get('/admin/api/sessions')).text) as { id: string; email: string; ip: string }[];
    const target = list.find((s) => s.email === 'revoked@example.com')!;
    expect(target.ip).toBe('127.0.6.13');
    expect((await owner.get('/admin/sessions')).text).toContain('revoked@example.com');
    expect((await admin.post(`/admin/sessions/${target.id}/revoke`, {})).status).toBe(403);
    expect(await stillWorks(victim)).toBe(true);
    expect((await owner.post(`/admin/sessions/${target.id}/revoke`, {}, 'not-the-csrf-token-at-all')).status).toBe(403);
    expect((await owner.post(`/admin/sessions/${target.id}/revoke`, {})).status).toBe(303);
    expect(await stillWorks(victim)).toBe(false);
    expect(await h.prisma.auditLog.findFirst({ where: { action: 'auth.session_revoked', actor: 'console:owner@example.com', target: 'revoked@example.com' } })).not.toBeNull();
    expect((await owner.post(`/admin/sessions/${'0'.repeat(64)}/revoke`, {})).status).toBe(404);
  });
});
