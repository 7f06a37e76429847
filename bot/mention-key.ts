// The key of Rolecall's own mention markers in view text (Slack user groups in bot/slack/blocks.ts, Teams people in
// bot/teams/cards.ts). A post's view is built by one process and may be sent by another (the outbox's poster, after
// a restart or on another worker), so every process of a deployment must share the key: the composition root derives
// it from the deployment's secret (`useMentionKey`). Invariant: the key is never written to chat or logs, so text
// from people or models cannot forge a marker; until `useMentionKey` runs it is random (one process, e.g. a test).
import { createHmac, randomBytes } from 'node:crypto';

let key = randomBytes(12).toString('base64url');

/** The current marker key. */
export const mentionKey = (): string => key;

/** Derives the marker key from the deployment's secret (every process with the same secret gets the same key). */
export function useMentionKey(secret: string): void {
  key = createHmac('sha256', secret).update('rolecall mention marker v1').digest('base64url').slice(0, 16);
}
