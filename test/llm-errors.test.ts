// LLM errors: retried with backoff; after the last try the step fails visibly with a Retry button; nothing is lost.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScript } from './support/fake-openai';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { startThread, tsOf, waitForGate, workflowOf } from './support/flow';
import { buttonClick } from './support/slack-requests';

let h: Harness;
afterEach(async () => { await h.close(); });

const failurePost = (h: Harness, threadTs: string) => h.threadPosts(threadTs).find((c) => 'retry_step' in buttonsOf(c));

describe('model errors', () => {
  it('retries a 429 and a 503 with backoff, then succeeds', async () => {
    h = await startHarness({ env: { STEP_BACKOFF_MS: '200' } });
    h.openai.script = (req, n) => (n === 1 ? { status: 429, error: 'Rate limit reached' } : n === 2 ? { status: 503, error: 'overloaded' } : defaultScript(req, n));
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    // the 429 is tried once more at once on the role's fallback model; the 503 there waits for the queue's backoff
    expect(h.openai.requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4.1-mini', 'gpt-4o-mini']);
    const calls = await h.prisma.llmCall.findMany({ orderBy: { createdAt: 'asc' } });
    expect(calls.map((c) => [c.model, c.ok])).toEqual([['gpt-4o-mini', false], ['gpt-4.1-mini', false], ['gpt-4o-mini', true]]);
    expect(calls[0]!.error).toContain('429');
    expect(calls[1]!.error).toContain('503');
    const times = calls.map((c) => c.createdAt.getTime());
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(150); // 200 ms backoff base, 20% jitter
    // the status message told the thread about the retries
    expect(h.slack.callsTo('chat.update').some((c) => /hit an error and will try again: model server answered 503/.test(c.params.text))).toBe(true);
    expect(failurePost(h, ev.ts)).toBeUndefined();
  });

  it('fails the step visibly after the last attempt, keeps the workflow, and Retry resumes it', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '2' } });
    h.openai.script = () => ({ status: 500, error: 'upstream exploded' });
    const ev = await startThread(h);
    const failure = await waitFor(() => failurePost(h, ev.ts), 'failure post');
    expect(failure.params.username).toBe('Business Analyst');
    expect(failure.params.text).toMatch(/could not finish after 2 attempts: model server answered 500/);
    let wf = (await workflowOf(h, ev.ts))!;
    expect(wf.status).toBe('step_failed');
    expect(wf.steps[0]).toMatchObject({ status: 'failed' });
    expect(h.openai.requests).toHaveLength(4); // 2 attempts, each on the model and then its fallback

    h.openai.script = defaultScript;
    await h.post.interaction(buttonClick('retry_step', buttonsOf(failure).retry_step!, { messageTs: tsOf(failure), threadTs: ev.ts, user: 'U_OPS' }));
    await waitForGate(h, ev.ts, 1);
    const retried = h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(failure))!;
    expect(retried.params.text).toContain('step retried by <@U_OPS>');
    wf = (await workflowOf(h, ev.ts))!;
    expect(wf.status).toBe('awaiting_approval');
    expect(wf.steps[0]).toMatchObject({ status: 'awaiting_approval', runCount: 1, error: null });

    // a second press of the old Retry button does nothing but explain
    await h.post.interaction(buttonClick('retry_step', buttonsOf(failure).retry_step!, { messageTs: tsOf(failure), threadTs: ev.ts, user: 'U_OPS2' }));
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral')[0], 'ephemeral');
    expect(note.params.text).toMatch(/not waiting for a retry/);
    expect(h.openai.requests).toHaveLength(5);
  });

  it('does not retry an error that retrying cannot fix (400)', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '3' } });
    h.openai.script = () => ({ status: 400, error: 'model not found' });
    const ev = await startThread(h);
    const failure = await waitFor(() => failurePost(h, ev.ts), 'failure post');
    expect(failure.params.text).toMatch(/after 1 attempt: model server answered 400/);
    expect(h.openai.requests).toHaveLength(1);
  });

  it('treats a model that does not answer in time as a retryable timeout', async () => {
    // The first call never answers; the others answer at once, but on a busy machine even they may miss a short
    // timeout, so there are attempts to spare and every failed one must be a timeout.
    h = await startHarness({ env: { LLM_TIMEOUT_MS: '1000', STEP_ATTEMPTS: '5' } });
    h.openai.script = (req, n) => (n === 1 ? new Promise<never>(() => undefined) : defaultScript(req, n));
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    const calls = (await h.prisma.llmCall.findMany({ orderBy: { createdAt: 'asc' } })).map((c) => [c.ok, c.error]);
    expect(calls[0]).toEqual([false, 'model request timed out']);
    expect(calls.at(-1)).toEqual([true, null]);
    expect(calls.slice(0, -1)).toEqual(calls.slice(0, -1).map(() => [false, 'model request timed out']));
  });
});
