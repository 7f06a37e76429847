// A browser's cookie jar, for the HTTP clients of tests and benches that sign in to the console: what a response sets
// is kept, what it clears (an empty value, Max-Age=0) is dropped, and the jar is sent back as one Cookie header.

/** Keeps the cookies `res` sets (and drops those it clears) in `jar`. */
export function keepCookies(jar: Map<string, string>, res: Response): void {
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';');
    const [name, value] = [pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1)];
    if (!value || attrs.some((a) => /max-age=0\b/i.test(a.trim()))) jar.delete(name);
    else jar.set(name, value);
  }
}

/** The Cookie header for the jar (undefined when it is empty). */
export const cookieHeader = (jar: Map<string, string>): string | undefined =>
  jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
