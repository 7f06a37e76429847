// Slack's Web API fails Rolecall's posts in bursts: HTTP 503s, then 429s with Retry-After. The posts are retried
// (by the Web API client, then by the job, without using an attempt) until Slack takes them; each post is made once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, expectExactlyOnceAndCompleted, mentionIn, startRunningFaultEnv, type FaultEnv } from './fault-env';

let env: FaultEnv;
beforeAll(async () => { env = await startRunningFaultEnv(); }, 300_000);
afterAll(async () => { await env?.close(); });

describe('Slack API failing on chat.postMessage', () => {
  it('retries through a burst of 503s and of 429s with Retry-After, and posts everything once', async () => {
    env.slack.failHttp('chat.postMessage', 8, 503);
    const first = [1, 2].map((n) => mentionIn('C_SLACK', n));
    for (const d of first.map((e) => deliver(env, e))) expect(await d.accepted).toBe(true);
    await expectExactlyOnceAndCompleted(env, first);

    env.slack.failHttp('chat.postMessage', 6, 429, 1);
    const second = [3, 4].map((n) => mentionIn('C_SLACK', n));
    for (const d of second.map((e) => deliver(env, e))) expect(await d.accepted).toBe(true);
    await expectExactlyOnceAndCompleted(env, [...first, ...second]);

    const failed = env.slack.callsTo('chat.postMessage').filter((c) => c.response?.httpStatus);
    expect(failed.map((c) => c.response!.httpStatus)).toEqual([...Array(8).fill(503), ...Array(6).fill(429)]);
    expect(await env.db.prisma.step.count({ where: { status: 'failed' } })).toBe(0);
  }, 300_000);
});
