// Sign-in, sign-out and changing one's own password. Login CSRF: origin check (hono/csrf, on the whole console) plus
// a double-submit token. Every sign-in attempt is counted before its password is checked (auth/rate-limit.ts).
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { consoleEmail, newPassword } from '../auth/email';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../auth/password';
import { clientNetwork, type Attempt } from '../auth/rate-limit';
import { endSession, issueSession, pruneSessions, revokeUserSessions } from '../auth/session';
import { PASSWORD_PAGE, requireCsrfToken, requireUser } from '../auth/guard';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { consoleActor } from '../context';
import { CsrfField, Notice, Page } from '../views/layout';

const LOGIN_CSRF_COOKIE = 'rolecall_login_csrf';

const loginSchema = z.object({
  email: consoleEmail,
  password: z.string().min(1).max(500),
  _csrf: z.string().min(16).max(200),
  next: z.string().max(2000).optional(),
});

const passwordSchema = z
  .object({ current: z.string().min(1, 'enter your current password').max(500), password: newPassword, confirm: z.string().max(500) })
  .refine((v) => v.password === v.confirm, { path: ['confirm'], message: 'the two new passwords differ' })
  .refine((v) => v.password !== v.current, { path: ['password'], message: 'must differ from the current password' });

function LoginPage({ token, next, error, email }: { token: string; next?: string; error?: string; email?: string }) {
  return (
    <Page title="Sign in">
      <form method="post" action="/admin/login" class="login card">
        <Notice kind="error" text={error} />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required value={email ?? ''} />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <input type="hidden" name="_csrf" value={token} />
        {next && <input type="hidden" name="next" value={next} />}
        <p><button type="submit">Sign in</button></p>
      </form>
    </Page>
  );
}

function PasswordPage({ c, error }: { c: Context<ConsoleEnv>; error?: string }) {
  const user = c.get('user');
  return (
    <Page title="Change your password" user={user} csrf={c.get('session').csrf}>
      {user.mustChangePassword && <Notice kind="error" text="You signed in with a one-time password or one someone else set. Choose your own password to go on." />}
      <form method="post" action={PASSWORD_PAGE} class="login card" id="change-password">
        <Notice kind="error" text={error} />
        <CsrfField token={c.get('session').csrf} />
        <input type="email" name="username" autocomplete="username" value={user.email} hidden />
        <label for="current">Current password</label>
        <input id="current" name="current" type="password" autocomplete="current-password" required />
        <label for="new-password">New password (12+ characters)</label>
        <input id="new-password" name="password" type="password" autocomplete="new-password" minlength={12} required />
        <label for="confirm">New password again</label>
        <input id="confirm" name="confirm" type="password" autocomplete="new-password" minlength={12} required />
        <p><button type="submit">Change password</button></p>
        <p>Changing it signs you out everywhere else.</p>
      </form>
    </Page>
  );
}

function loginToken(c: Context): string {
  const token = randomBytes(24).toString('base64url');
  setCookie(c, LOGIN_CSRF_COOKIE, token, { httpOnly: true, sameSite: 'Strict', path: '/admin/login', maxAge: 3600 });
  return token;
}

/** The peer address (no proxy headers are trusted); "local" for in-process requests. */
function clientIp(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'local';
  } catch {
    return 'local';
  }
}

const safeNext = (next?: string) => (next && /^\/admin(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/admin');

const minutes = (seconds: number) => `${Math.max(1, Math.ceil(seconds / 60))} minute${seconds > 60 ? 's' : ''}`;
const tooMany = (a: Extract<Attempt, { allowed: false }>) => `Too many sign-in attempts. Try again in ${minutes(a.retryAfterSeconds)}.`;
const BUSY = 'The server is busy checking other sign-ins. Try again in a moment.';

export function mountLogin(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/login', (c) => c.html(<LoginPage token={loginToken(c)} next={c.req.query('next')} />));

  app.post('/admin/login', async (c) => {
    const parsed = loginSchema.safeParse(await c.req.parseBody());
    if (!parsed.success) return c.html(<LoginPage token={loginToken(c)} error="Enter your email and password." />, 400);
    const { email, password, _csrf, next } = parsed.data;
    if (_csrf !== getCookie(c, LOGIN_CSRF_COOKIE)) {
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error="The form expired. Please try again." />, 403);
    }
    const ip = clientNetwork(clientIp(c));
    const attempt = await deps.limiter.attempt(ip, email);
    if (!attempt.allowed) {
      c.header('Retry-After', String(attempt.retryAfterSeconds));
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error={tooMany(attempt)} />, 429);
    }
    const release = deps.limiter.hashSlot();
    if (!release) {
      c.header('Retry-After', '1');
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error={BUSY} />, 503);
    }
    let user, ok;
    try {
      user = await deps.prisma.adminUser.findUnique({ where: { email } });
      ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    } finally {
      release();
    }
    if (!user || !ok) {
      await deps.limiter.failed(ip, email);
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error="Wrong email or password." />, 401);
    }
    await deps.limiter.succeeded(ip, email);
    await pruneSessions(deps.prisma, deps.session);
    await issueSession(c, deps.session, deps.prisma, user, { ip: clientIp(c), userAgent: c.req.header('user-agent') });
    await deps.prisma.adminUser.update({ where: { id: user.id }, data: { lastSignInAt: new Date() } });
    await audit(deps.prisma, { actor: consoleActor(user), action: 'auth.signin', detail: { ip: clientIp(c), ...(user.mustChangePassword ? { mustChangePassword: true } : {}) } });
    return c.redirect(user.mustChangePassword ? PASSWORD_PAGE : safeNext(next), 303);
  });

  // Open to a user who must change their password (and to nobody signed out).
  const signedIn = [requireUser(deps, { passwordChange: true }), requireCsrfToken()] as const;

  app.post('/admin/logout', ...signedIn, async (c) => {
    await endSession(c, deps.session, deps.prisma, c.get('session').id);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'auth.signout' });
    return c.redirect('/admin/login', 303);
  });

  app.get(PASSWORD_PAGE, ...signedIn, (c) => c.html(<PasswordPage c={c} />));

  app.post(PASSWORD_PAGE, ...signedIn, async (c) => {
    const user = c.get('user');
    const body = passwordSchema.safeParse(await c.req.parseBody());
    if (!body.success) return c.html(<PasswordPage c={c} error={body.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')} />, 400);
    // The current password is a guess like any sign-in: counted first, then checked within the hash limit.
    const ip = clientNetwork(clientIp(c));
    const attempt = await deps.limiter.attempt(ip, user.email);
    if (!attempt.allowed) {
      c.header('Retry-After', String(attempt.retryAfterSeconds));
      return c.html(<PasswordPage c={c} error={tooMany(attempt)} />, 429);
    }
    const release = deps.limiter.hashSlot();
    if (!release) {
      c.header('Retry-After', '1');
      return c.html(<PasswordPage c={c} error={BUSY} />, 503);
    }
    let passwordHash: string | undefined;
    try {
      if (await verifyPassword(body.data.current, user.passwordHash)) passwordHash = await hashPassword(body.data.password);
    } finally {
      release();
    }
    if (!passwordHash) {
      await deps.limiter.failed(ip, user.email);
      return c.html(<PasswordPage c={c} error="Your current password is not right." />, 401);
    }
    await deps.limiter.succeeded(ip, user.email);
    const changed = await deps.prisma.adminUser.update({ where: { id: user.id }, data: { passwordHash, mustChangePassword: false } });
    const sessionsRevoked = await revokeUserSessions(deps.prisma, user.id);
    await issueSession(c, deps.session, deps.prisma, changed, { ip: clientIp(c), userAgent: c.req.header('user-agent') });
    await audit(deps.prisma, { actor: consoleActor(user), action: 'auth.password_changed', target: user.email, detail: { sessionsRevoked } });
    return c.redirect('/admin', 303);
  });
}
