// The error base every Rolecall error extends, and the one way to read a message off anything thrown.
// Invariant: `name` is always the concrete class's name (set from new.target), so logs say what failed; callers decide
// with `instanceof`, never by comparing names.

/** Base of every Rolecall error class. */
export class RolecallError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A mistake in what the operator wrote (configuration, role or template files): entry points exit with code 2. */
export class OperatorError extends RolecallError {}

/** The message of anything thrown (an Error, a string, or something else). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e) ?? String(e);
  } catch {
    return String(e);
  }
}

/** The stack (or the message) of anything thrown, for logs. */
export const errorStack = (e: unknown): string => (e instanceof Error && e.stack ? e.stack : errorMessage(e));

/** The work cannot go on now, through no fault of its own (a provider's rate limit, a spent budget): it is run again
 *  after `delayMs`, and the try does not count as one of its attempts (the queue delays the job, orchestrator/queue.ts). */
export class RetryLaterError extends RolecallError {
  constructor(message: string, readonly delayMs: number, readonly reason: 'rate_limited' | 'budget', options?: ErrorOptions) {
    super(message, options);
  }
}
