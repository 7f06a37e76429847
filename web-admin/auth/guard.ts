// Request guards: who is signed in, what their role allows, and the per-session CSRF token on every form.
import type { MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie } from 'hono/cookie';
import type { RbacRole } from '../../generated/prisma/client';
import { atLeast } from '../../orchestrator/permissions';
import type { ConsoleDeps, ConsoleEnv } from '../context';
import { readSession, SESSION_COOKIE } from './session';

const isApi = (path: string) => path.startsWith('/admin/api/');

/** Where a user whose password must change is sent; nothing else is open to them until they have changed it. */
export const PASSWORD_PAGE = '/admin/password';

/**
 * Sets `user` and `session` when the cookie names a live session; otherwise HTML is redirected to sign-in and the API
 * answers 401. A user who must change their password gets only the routes mounted with `passwordChange: true`.
 */
export function requireUser(deps: ConsoleDeps, opts: { passwordChange?: boolean } = {}): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const found = await readSession(c, deps.session, deps.prisma);
    if (!found) {
      if (getCookie(c, SESSION_COOKIE)) deleteCookie(c, SESSION_COOKIE, { path: '/admin', secure: deps.session.secure });
      if (isApi(c.req.path)) return c.json({ error: 'unauthenticated', message: 'Sign in at /admin/login' }, 401);
      const next_ = c.req.method === 'GET' ? `?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search))}` : '';
      return c.redirect(`/admin/login${next_}`, 303);
    }
    if (found.user.mustChangePassword && !opts.passwordChange) {
      if (isApi(c.req.path)) return c.json({ error: 'password_change_required', message: `Choose a new password at ${PASSWORD_PAGE} first` }, 403);
      return c.redirect(PASSWORD_PAGE, 303);
    }
    c.set('user', found.user);
    c.set('session', found.session);
    await next();
  };
}

export function requireRole(min: RbacRole): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const user = c.get('user');
    if (!atLeast(user.role, min)) {
      const message = `This needs the ${min} role or above; you are ${user.role}.`;
      return isApi(c.req.path) ? c.json({ error: 'forbidden', message }, 403) : c.html(`<!doctype html><title>Forbidden</title><p>${message}</p><p><a href="/admin">Back</a></p>`, 403);
    }
    await next();
  };
}

/** Every state-changing request must carry the session's CSRF token (form field `_csrf` or header `x-csrf-token`). */
export function requireCsrfToken(): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    if (['GET', 'HEAD', 'OPTIONS'].includes(c.req.method)) return next();
    const type = c.req.header('content-type') ?? '';
    const form = /form/.test(type) ? await c.req.parseBody() : {};
    const token = c.req.header('x-csrf-token') ?? (typeof form._csrf === 'string' ? form._csrf : undefined);
    if (token !== c.get('session').csrf) return c.text('Forbidden: missing or wrong CSRF token. Reload the page and try again.', 403);
    await next();
  };
}
