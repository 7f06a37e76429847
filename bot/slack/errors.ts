// Reading @slack/web-api's failures: the one place that knows how a Slack platform error (an answer with ok: false)
// looks once the WebClient has thrown it. Invariant: only a platform error has a code; a network error, an HTTP error
// or a rate-limit error is undefined here.
import { ErrorCode } from '@slack/web-api';

/** Slack's platform error code (`not_in_channel`, `user_not_found`, ...) of a failed call, if it was one. */
export function slackErrorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; data?: { error?: unknown } } | undefined;
  return err?.code === ErrorCode.PlatformError && typeof err.data?.error === 'string' ? err.data.error : undefined;
}
