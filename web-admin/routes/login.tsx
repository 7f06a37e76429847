// Sign-in and sign-out. Login CSRF: origin check (hono/csrf, on the whole console) plus a double-submit token.
import { randomBytes } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import { audit } from '../../orchestrator/audit';
import { DUMMY_HASH, verifyPassword } from '../auth/password';
import { limiterKey } from '../auth/rate-limit';
import { endSession, issueSession } from '../auth/session';
import { requireCsrfToken, requireUser } from '../auth/guard';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { consoleActor } from '../context';
import { Notice, Page } from '../views/layout';

const LOGIN_CSRF_COOKIE = 'rolecall_login_csrf';

const loginSchema = z.object({
  email: z.string().trim().toLowerCase().email().max(200),
  password: z.string().min(1).max(500),
  _csrf: z.string().min(16),
  next: z.string().optional(),
});

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

export function mountLogin(app: Hono<ConsoleEnv>, deps: ConsoleDeps): void {
  app.get('/admin/login', (c) => c.html(<LoginPage token={loginToken(c)} next={c.req.query('next')} />));

  app.post('/admin/login', async (c) => {
    const parsed = loginSchema.safeParse(await c.req.parseBody());
    if (!parsed.success) return c.html(<LoginPage token={loginToken(c)} error="Enter your email and password." />, 400);
    const { email, password, _csrf, next } = parsed.data;
    if (_csrf !== getCookie(c, LOGIN_CSRF_COOKIE)) {
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error="The form expired. Please try again." />, 403);
    }
    const key = limiterKey(clientIp(c), email);
    if (deps.limiter.blocked(key)) {
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error="Too many failed sign-ins. Wait 15 minutes and try again." />, 429);
    }
    const user = await deps.prisma.adminUser.findUnique({ where: { email } });
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      deps.limiter.failed(key);
      await audit(deps.prisma, { actor: `console:${email}`, action: 'auth.signin_failed', detail: { ip: clientIp(c) } });
      return c.html(<LoginPage token={loginToken(c)} email={email} next={next} error="Wrong email or password." />, 401);
    }
    deps.limiter.succeeded(key);
    await issueSession(c, deps.session, user.id);
    await deps.prisma.adminUser.update({ where: { id: user.id }, data: { lastSignInAt: new Date() } });
    await audit(deps.prisma, { actor: consoleActor(user), action: 'auth.signin', detail: { ip: clientIp(c) } });
    return c.redirect(safeNext(next), 303);
  });

  app.post('/admin/logout', requireUser(deps), requireCsrfToken(), async (c) => {
    endSession(c, deps.session);
    await audit(deps.prisma, { actor: consoleActor(c.get('user')), action: 'auth.signout' });
    return c.redirect('/admin/login', 303);
  });
}
