import { describe, expect, it } from 'vitest';
import { atLeast } from '../../orchestrator/permissions';
import { hashPassword, verifyPassword } from '../../web-admin/auth/password';
import { clientNetwork, createLoginLimiter } from '../../web-admin/auth/rate-limit';

describe('admin auth helpers', () => {
  it('hashes passwords with a salt and verifies them', async () => {
    const [a, b] = await Promise.all([hashPassword('secret password'), hashPassword('secret password')]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('secret password', a)).toBe(true);
    expect(await verifyPassword('secret passwore', a)).toBe(false);
    expect(await verifyPassword('x', 'md5$nope')).toBe(false);
  });

  // The sign-in limits themselves are counted in PostgreSQL: test/security/console-auth.test.ts attacks them over HTTP.
  it('counts IPv4 clients per address and IPv6 clients per /64', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:DB8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
  });

  it('hands out at most maxConcurrentHashes password-hash slots at once', () => {
    const limiter = createLoginLimiter({} as never, { maxFailures: 5, maxPerIp: 20, maxPerAccount: 50, windowMs: 60_000, maxConcurrentHashes: 2 });
    const a = limiter.hashSlot();
    const b = limiter.hashSlot();
    expect(a && b).toBeTruthy();
    expect(limiter.hashSlot()).toBeNull();
    a!();
    a!(); // freeing twice frees one slot only
    const c = limiter.hashSlot();
    expect(c).toBeTruthy();
    expect(limiter.hashSlot()).toBeNull();
  });

  it('orders RBAC roles viewer < approver < admin < owner', () => {
    expect(atLeast('owner', 'admin')).toBe(true);
    expect(atLeast('approver', 'approver')).toBe(true);
    expect(atLeast('viewer', 'approver')).toBe(false);
  });
});
