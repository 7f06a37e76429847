// Login rate limiting: after maxFailures failed sign-ins for one IP+email within windowMs, further tries get 429
// until the oldest failure leaves the window. In memory, per server process.
export interface LoginLimiter {
  blocked(key: string): boolean;
  failed(key: string): void;
  succeeded(key: string): void;
}

export function createLoginLimiter(opts: { maxFailures: number; windowMs: number }, now: () => number = Date.now): LoginLimiter {
  const failures = new Map<string, number[]>();
  const recent = (key: string) => {
    const list = (failures.get(key) ?? []).filter((t) => t > now() - opts.windowMs);
    if (list.length) failures.set(key, list);
    else failures.delete(key);
    return list;
  };
  return {
    blocked: (key) => recent(key).length >= opts.maxFailures,
    failed: (key) => void failures.set(key, [...recent(key), now()]),
    succeeded: (key) => void failures.delete(key),
  };
}

export const limiterKey = (ip: string, email: string) => `${ip}|${email.trim().toLowerCase()}`;
