// Time limits that measure the other side, not this process's own busyness. A plain setTimeout race fires as soon as
// the timers phase comes round, which under load (a burst of requests, a starved CPU) can be after answers have been
// sitting unread in this process's sockets for a while: a busy server would then count Redis or PostgreSQL as
// unreachable and fall back to slower paths, making itself busier still. Invariant: a deadline here ends only after
// its time has passed AND the event loop has since polled for I/O once (setImmediate runs after the poll phase), so
// every answer that had arrived by then has been read.

/** A timer that resolves `elapsed` once `ms` have passed and the event loop has polled for I/O after that. */
export function lagTolerantTimer(ms: number): { elapsed: Promise<void>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(() => { immediate = setImmediate(resolve); }, ms);
  });
  return {
    elapsed,
    clear: () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}

/** `work`, or a rejection with `late()` once the deadline has passed (the work itself is left to finish or fail). */
export function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let immediate: NodeJS.Immediate | undefined;
    const timer = setTimeout(() => { immediate = setImmediate(() => reject(late())); }, ms);
    const settle = () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    };
    work.then((v) => { settle(); resolve(v); }, (e: unknown) => { settle(); reject(e); });
  });
}

/** Waits for `work` (which must not reject: the caller catches) at most `ms`, then stops waiting; the work itself is
 *  left to finish in the background. For best-effort side work a job should not be held up by. */
export async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  const timer = lagTolerantTimer(ms);
  await Promise.race([work, timer.elapsed]);
  timer.clear();
}
