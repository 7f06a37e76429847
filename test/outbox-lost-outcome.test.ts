// A post whose outcome was lost: Slack accepted it, but the poster died (or lost the database) before it recorded the
// message's ts. The row's claim runs out, the sweep hands it to a new drain job, and the poster finds the post in the
// thread by the key its message metadata carries (conversations.replies) instead of posting it a second time. Only
// Rolecall's own messages count: another app's message carrying the same metadata does not stop a post.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from './support/harness';
import { startThread, tsOf, waitForGate } from './support/flow';
import { POST_METADATA_TYPE } from '../bot/slack/chat';

let h: Harness;
beforeAll(async () => { h = await startHarness(); }, 240_000);
afterAll(async () => { await h?.close(); });

/** Makes the row `key` look as a crash right after Slack's answer leaves it: claimed by a dead worker, the claim run
 *  out, nothing recorded. */
async function loseOutcome(key: string): Promise<void> {
  await h.prisma.$executeRaw`UPDATE "ChatOutbox" SET status = 'sending', "leaseBy" = 'dead-worker', "leaseUntil" = now() - interval '1 second', "sentAt" = NULL WHERE key = ${key}`;
  await h.prisma.$executeRaw`UPDATE "AgentMessage" SET "messageTs" = NULL WHERE "idempotencyKey" = ${key}`;
}

describe('a post whose outcome was lost', () => {
  it('is found in its thread by its metadata and not posted again', async () => {
    const ev = await startThread(h);
    const gate = await waitForGate(h, ev.ts, 1);
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { threadTs: ev.ts } });
    await waitFor(async () => (await h.prisma.chatOutbox.count({ where: { workflowId: wf.id, status: { in: ['pending', 'sending'] } } })) === 0, 'the posts so far');

    // every post carries its outbox key as Slack message metadata
    const plan = await h.prisma.agentMessage.findFirstOrThrow({ where: { workflowId: wf.id, kind: 'plan' } });
    const planPost = h.threadPosts(ev.ts).find((c) => c.response?.ts === plan.messageTs)!;
    expect(planPost.params.metadata).toEqual({ event_type: POST_METADATA_TYPE, event_payload: { key: plan.idempotencyKey } });

    const gateRow = await h.prisma.chatOutbox.findFirstOrThrow({ where: { workflowId: wf.id, kind: 'gate', op: 'post' } });
    const postsBefore = h.threadPosts(ev.ts).length;
    const lookupsBefore = h.slack.callsTo('conversations.replies').length;
    await loseOutcome(gateRow.key);

    await waitFor(async () => (await h.prisma.chatOutbox.findUniqueOrThrow({ where: { key: gateRow.key } })).status === 'sent', 'the row to be sent again');
    expect(h.threadPosts(ev.ts)).toHaveLength(postsBefore); // nothing posted twice
    const lookups = h.slack.callsTo('conversations.replies').slice(lookupsBefore);
    expect(lookups.length).toBeGreaterThanOrEqual(1);
    expect(lookups[0]!.params).toMatchObject({ channel: ev.channel, ts: ev.ts });
    expect(String(lookups[0]!.params.include_all_metadata)).toBe('true');
    // the message adopted is the one Slack took the first time
    expect((await h.prisma.agentMessage.findUniqueOrThrow({ where: { idempotencyKey: gateRow.key } })).messageTs).toBe(tsOf(gate));
  });

  it('does not take another app\'s message with the same metadata for its own', async () => {
    const ev = await startThread(h, 'we need a password reset page for the customer portal');
    await waitForGate(h, ev.ts, 1);
    const wf = await h.prisma.workflow.findFirstOrThrow({ where: { threadTs: ev.ts } });
    await waitFor(async () => (await h.prisma.chatOutbox.count({ where: { workflowId: wf.id, status: { in: ['pending', 'sending'] } } })) === 0, 'the posts so far');
    const gateRow = await h.prisma.chatOutbox.findFirstOrThrow({ where: { workflowId: wf.id, kind: 'gate', op: 'post' } });

    // a post Rolecall has not made yet (its first try ended without an answer), and another app that put a message
    // with that key into the thread first
    const key = `${gateRow.key}#spoofed`;
    await h.prisma.$executeRaw`
      INSERT INTO "ChatOutbox" (key, channel, op, kind, "workflowId", "stepId", "roleId", thread, persona, view, status, attempts, "createdAt")
      SELECT ${key}, channel, 'post', 'gate', "workflowId", "stepId", "roleId", thread, persona, jsonb_build_object('text', 'the real post'), 'pending', 1, now() - interval '1 minute'
      FROM "ChatOutbox" WHERE key = ${gateRow.key}`;
    const other = await fetch(`${h.slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: 'Bearer xoxb-TOTHER', 'content-type': 'application/json' },
      body: JSON.stringify({ channel: ev.channel, thread_ts: ev.ts, text: 'not Rolecall', metadata: { event_type: POST_METADATA_TYPE, event_payload: { key } } }),
    });
    expect(((await other.json()) as { ok: boolean }).ok).toBe(true);

    await waitFor(async () => (await h.prisma.chatOutbox.findUniqueOrThrow({ where: { key } })).status === 'sent', 'the row to be sent');
    const mine = h.threadPosts(ev.ts).filter((c) => c.params.metadata?.event_payload?.key === key && c.auth === 'Bearer xoxb-test');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.params.text).toContain('the real post');
    expect((await h.prisma.agentMessage.findUniqueOrThrow({ where: { idempotencyKey: key } })).messageTs).toBe(tsOf(mine[0]!));
  });
});
