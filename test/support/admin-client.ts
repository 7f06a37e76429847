// A cookie-keeping client for the admin console that calls the Hono app in-process (app.request), like a browser would.
import type { Hono } from 'hono';
import { cookieHeader, keepCookies } from './cookies';

export const ORIGIN = 'http://rolecall.test';

export interface AdminClient {
  get(path: string, headers?: Record<string, string>): Promise<Response>;
  /** Posts a form with the page's Origin and, unless given, the session's CSRF token. */
  post(path: string, form: Record<string, string>, opts?: { csrf?: string | null; origin?: string | null }): Promise<Response>;
  signIn(email: string, password: string): Promise<Response>;
  csrf(): Promise<string>;
  /** Any request with the session's cookies (JSON, multipart, streams): the caller sets the headers it needs. */
  request(path: string, init: RequestInit): Promise<Response>;
  cookies: Map<string, string>;
}

export const tokenIn = (html: string): string => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

export function adminClient(app: Hono): AdminClient {
  const cookies = new Map<string, string>();
  const request = async (path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', cookieHeader(cookies)!);
    const res = await app.request(`${ORIGIN}${path}`, { ...init, headers, redirect: 'manual' });
    keepCookies(cookies, res);
    return res;
  };
  const client: AdminClient = {
    cookies,
    request,
    get: (path, headers) => request(path, { method: 'GET', headers }),
    post: async (path, form, opts = {}) => {
      const csrf = opts.csrf === undefined ? await client.csrf() : opts.csrf;
      const body = new URLSearchParams({ ...form, ...(csrf === null ? {} : { _csrf: csrf }) });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      if (opts.origin !== null) headers.origin = opts.origin ?? ORIGIN;
      return request(path, { method: 'POST', headers, body });
    },
    signIn: async (email, password) => {
      const page = await request('/admin/login', { method: 'GET' });
      return client.post('/admin/login', { email, password }, { csrf: tokenIn(await page.text()) });
    },
    csrf: async () => tokenIn(await (await request('/admin/rbac', { method: 'GET' })).text()),
  };
  return client;
}
