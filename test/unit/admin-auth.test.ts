import { describe, expect, it } from 'vitest';
import { atLeast } from '../../orchestrator/permissions';
import { hashPassword, verifyPassword } from '../../web-admin/auth/password';
import { createLoginLimiter, limiterKey } from '../../web-admin/auth/rate-limit';

describe('admin auth helpers', () => {
  it('hashes passwords with a salt and verifies them', async () => {
    const [a, b] = await Promise.all([hashPassword('secret password'), hashPassword('secret password')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('secret password', a)).toBe(true);
    expect(await verifyPassword('secret passwore', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$nope')).toBe(false);
  });

  it('blocks an IP+email after the allowed failures until they leave the window; success clears them', () => {
    let now = 0;
    const limiter = createLoginLimiter({ maxFailures: 2, windowMs: 1000 }, () => now);
    const key = limiterKey('1.2.3.4', ' Alice@Example.com ');
    expect(key).toBe('1.2.3.4|alice@example.com');
    limiter.failed(key);
    now = 500;
    limiter.failed(key);
    expect(limiter.blocked(key)).toBe(true);
    expect(limiter.blocked(limiterKey('1.2.3.4', 'bob@example.com'))).toBe(false);
    now = 1001; // the first failure left the window
    expect(limiter.blocked(key)).toBe(false);
    limiter.failed(key);
    expect(limiter.blocked(key)).toBe(true);
    limiter.succeeded(key);
    expect(limiter.blocked(key)).toBe(false);
  });

  it('orders RBAC roles viewer < approver < admin < owner', () => {
    expect(atLeast('owner', 'admin')).toBe(true);
    expect(atLeast('approver', 'approver')).toBe(true);
    expect(atLeast('viewer', 'approver')).toBe(false);
  });
});
