// Console sessions: an HS256 JWT in an HttpOnly, SameSite=Lax cookie (Secure in production), backed by a
// ConsoleSession row that every request must find. The token carries a random session id (only its SHA-256 is
// stored), the user id and the per-session CSRF token. It is re-issued (same session, same CSRF token) once older than
// half its idle lifetime (ttlSeconds), but never past the session's absolute lifetime (maxAgeSeconds from sign-in).
// Sign-out, password change, role change and user removal delete the rows, so a copied cookie stops working at once.
import { createHash, randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sign, verify } from 'hono/jwt';
import { z } from 'zod';
import type { AdminUser } from '../../generated/prisma/client';
import type { Db } from '../../orchestrator/db';

export const SESSION_COOKIE = 'rolecall_session';
const COOKIE_PATH = '/admin';
/** lastSeenAt is written at most this often per session (it is shown on the sessions page). */
const SEEN_RESOLUTION_MS = 60_000;

export interface SessionSettings {
  secret: string;
  /** Idle lifetime: the cookie lasts this long after it was last (re-)issued. */
  ttlSeconds: number;
  /** Absolute lifetime from sign-in (ADMIN_SESSION_MAX_HOURS). */
  maxAgeSeconds: number;
  secure: boolean;
}

export interface Session {
  /** The ConsoleSession row id (SHA-256 of the id in the cookie). */
  id: string;
  userId: string;
  csrf: string;
  createdAt: Date;
}

const claimsSchema = z.object({ sub: z.string().min(1), sid: z.string().min(32).max(128), csrf: z.string().min(16), iat: z.number(), exp: z.number() });

const sessionRowId = (sid: string) => createHash('sha256').update(sid).digest('hex');

async function setToken(c: Context, s: SessionSettings, claims: { sub: string; sid: string; csrf: string }, createdAt: Date): Promise<void> {
  const iat = Math.floor(Date.now() / 1000);
  const end = Math.floor(createdAt.getTime() / 1000) + s.maxAgeSeconds;
  const exp = Math.min(iat + s.ttlSeconds, end);
  const token = await sign({ ...claims, iat, exp }, s.secret, 'HS256');
  setCookie(c, SESSION_COOKIE, token, { httpOnly: true, sameSite: 'Lax', secure: s.secure, path: COOKIE_PATH, maxAge: Math.max(1, exp - iat) });
}

/** Starts a session for `user`: a new row and a new cookie. */
export async function issueSession(c: Context, s: SessionSettings, prisma: Db, user: AdminUser, meta: { ip?: string; userAgent?: string } = {}): Promise<Session> {
  const sid = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const now = new Date();
  const row = await prisma.consoleSession.create({
    data: { id: sessionRowId(sid), userId: user.id, createdAt: now, lastSeenAt: now, ip: meta.ip?.slice(0, 100) ?? null, userAgent: meta.userAgent?.slice(0, 300) ?? null },
  });
  await setToken(c, s, { sub: user.id, sid, csrf }, now);
  return { id: row.id, userId: user.id, csrf, createdAt: now };
}

/**
 * The request's session and its user, or null: no cookie, a bad or expired token, no session row (signed out or
 * revoked), or a session past its absolute or idle lifetime. Re-issues the cookie when past half its idle lifetime.
 */
export async function readSession(c: Context, s: SessionSettings, prisma: Db): Promise<{ session: Session; user: AdminUser } | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return null;
  let claims;
  try {
    claims = claimsSchema.parse(await verify(token, s.secret, 'HS256'));
  } catch {
    return null;
  }
  const id = sessionRowId(claims.sid);
  const row = await prisma.consoleSession.findUnique({ where: { id }, include: { user: true } });
  if (!row || row.userId !== claims.sub) return null;
  const now = Date.now();
  if (now >= row.createdAt.getTime() + s.maxAgeSeconds * 1000 || now >= row.lastSeenAt.getTime() + s.ttlSeconds * 1000) {
    await prisma.consoleSession.deleteMany({ where: { id } });
    return null;
  }
  const age = Math.floor(now / 1000) - claims.iat;
  if (age > s.ttlSeconds / 2) await setToken(c, s, { sub: claims.sub, sid: claims.sid, csrf: claims.csrf }, row.createdAt);
  if (now - row.lastSeenAt.getTime() > SEEN_RESOLUTION_MS) {
    await prisma.consoleSession.updateMany({ where: { id }, data: { lastSeenAt: new Date(now) } });
  }
  const { user, ...session } = row;
  return { session: { id: session.id, userId: session.userId, csrf: claims.csrf, createdAt: session.createdAt }, user };
}

/** Signs out: deletes this session's row and the cookie. */
export async function endSession(c: Context, s: SessionSettings, prisma: Db, sessionId: string): Promise<void> {
  await prisma.consoleSession.deleteMany({ where: { id: sessionId } });
  deleteCookie(c, SESSION_COOKIE, { path: COOKIE_PATH, secure: s.secure });
}

/** Ends every session of a user (password, role or account change). Returns how many there were. */
export async function revokeUserSessions(prisma: Db, userId: string): Promise<number> {
  return (await prisma.consoleSession.deleteMany({ where: { userId } })).count;
}

/** Deletes sessions past their absolute or idle lifetime (called at sign-in; expired ones are refused anyway). */
export async function pruneSessions(prisma: Db, s: SessionSettings): Promise<void> {
  const now = Date.now();
  await prisma.consoleSession.deleteMany({
    where: { OR: [{ createdAt: { lt: new Date(now - s.maxAgeSeconds * 1000) } }, { lastSeenAt: { lt: new Date(now - s.ttlSeconds * 1000) } }] },
  });
}
