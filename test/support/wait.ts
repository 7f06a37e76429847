// Tests wait for outcomes, not for speed: every wait is generous, so that a slow or busy machine is not a failure
// (speed goals belong in bench/). vitest's testTimeout (vitest.config.ts) stays above the longest single wait.

/** How long a test waits for an outcome by default. */
export const WAIT_MS = 120_000;

export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what} (last value: ${JSON.stringify(last)})`);
}
