// Console sessions: an HS256 JWT in an HttpOnly, SameSite=Lax cookie (Secure in production). The token carries the
// user id and the per-session CSRF token; it is re-issued (same CSRF token) once older than half its lifetime.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sign, verify } from 'hono/jwt';
import { z } from 'zod';

export const SESSION_COOKIE = 'rolecall_session';
const COOKIE_PATH = '/admin';

export interface SessionSettings {
  secret: string;
  ttlSeconds: number;
  secure: boolean;
}

export interface Session {
  userId: string;
  csrf: string;
}

const claimsSchema = z.object({ sub: z.string().min(1), csrf: z.string().min(16), iat: z.number(), exp: z.number() });

export async function issueSession(c: Context, s: SessionSettings, userId: string, csrf = randomBytes(24).toString('base64url')): Promise<Session> {
  const iat = Math.floor(Date.now() / 1000);
  const token = await sign({ sub: userId, csrf, iat, exp: iat + s.ttlSeconds }, s.secret, 'HS256');
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', secure: s.secure, path: COOKIE_PATH, maxAge: s.ttlSeconds });
  return { userId, csrf };
}

/** The request's session, or null. Re-issues the cookie when the token is past half its lifetime. */
export async function readSession(c: Context, s: SessionSettings): Promise<Session | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  let claims;
  try {
    claims = claimsSchema.parse(await verify(token, s.secret, 'HS256'));
  } catch {
    return null;
  }
  const age = Math.floor(Date.now() / 1000) - claims.iat;
  if (age > s.ttlSeconds / 2) return issueSession(c, s, claims.sub, claims.csrf);
  return { userId: claims.sub, csrf: claims.csrf };
}

export function endSession(c: Context, s: SessionSettings): void {
  deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: s.secure });
}
