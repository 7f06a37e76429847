// LLM errors: the role's model is retried with backoff (honouring Retry-After), then its fallback model; after that the
// step fails visibly with a Retry button and a card that says what was tried; nothing is lost.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultScript } from './support/fake-openai';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { startThread, tsOf, waitForGate, workflowOf } from './support/flow';
import { buttonClick } from './support/slack-requests';

let h: Harness;
afterEach(async () => { await h.close(); });

const failurePost = (h: Harness, threadTs: string) => h.threadPosts(threadTs).find((c) => 'retry_step' in buttonsOf(c));

describe('model errors', () => {
  it('retries the role\'s model with backoff (honouring Retry-After) before any fallback, then succeeds', async () => {
    h = await startHarness({ env: { STEP_BACKOFF_MS: '200' } });
    h.openai.script = (req, n) => (n === 1 ? { status: 429, error: 'Rate limit reached', headers: { 'retry-after': '1' } } : n === 2 ? { status: 503, error: 'overloaded' } : defaultScript(req, n));
    const ev = await startThread(h);
    await waitForGate(h, ev.ts, 1);
    // the role's model is tried again (three attempts by default); the fallback model is never called
    expect(h.openai.requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini']);
    const calls = await h.prisma.llmCall.findMany({ orderBy: { createdAt: 'asc' } });
    expect(calls.map((c) => [c.model, c.ok])).toEqual([['gpt-4o-mini', false], ['gpt-4o-mini', false], ['gpt-4o-mini', true]]);
    expect(calls.map((c) => c.error ?? '').join(' ')).toMatch(/429[\s\S]*503/);
    const at = h.openai.receivedAt;
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950); // Retry-After: 1 (s), longer than the 200 ms backoff
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(300); // second backoff: 400 ms, 20% jitter
    // the status message told the thread about the retries
    const updates = h.slack.callsTo('chat.update').map((c) => c.params.text as string);
    expect(updates.some((t) => /hit an error on gpt-4o-mini \(rate limited: model server answered 429.*\) and will try again in 1 s/.test(t))).toBe(true);
    expect(updates.some((t) => /hit an error on gpt-4o-mini \(server error: model server answered 503/.test(t))).toBe(true);
    expect(failurePost(h, ev.ts)).toBeUndefined();
  });

  it('goes to the fallback model only after the role\'s model has used its attempts, and the card says what was tried', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '3', STEP_BACKOFF_MS: '50' } });
    h.openai.script = (req) => (req.model === 'gpt-4o-mini' ? { status: 429, error: 'Rate limit reached' } : { status: 504, error: 'gateway timeout' });
    const ev = await startThread(h);
    const failure = await waitFor(() => failurePost(h, ev.ts), 'failure post');
    // 3 attempts on the role's model, then 1 on the fallback (STEP_FALLBACK_ATTEMPTS): 4 calls, in that order
    expect(h.openai.requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4o-mini', 'gpt-4.1-mini']);
    expect(await h.prisma.llmCall.count()).toBe(4);
    // the thread gets a sentence a person can act on; what was tried is the step's error on the console's page
    expect(failure.params.text).toContain('could not finish. The AI model provider is busy right now');
    expect(failure.params.text).not.toContain('model server answered');
    const step = (await workflowOf(h, ev.ts))!.steps[0]!;
    expect(JSON.stringify(failure.params.blocks)).toContain(`error id ${step.id}`);
    expect(step.error).toContain('gpt-4o-mini: 3 attempts (rate limited); fallback gpt-4.1-mini: 1 attempt (server error)');
    expect(step.error).toContain('Last error: model server answered 504');
    expect(h.slack.callsTo('chat.update').some((c) => /and will try the fallback model gpt-4\.1-mini/.test(c.params.text))).toBe(true);
    // the step failed once, for good: the queue did not run it again
    await new Promise((r) => setTimeout(r, 500));
    expect(h.openai.requests).toHaveLength(4);
  });

  it('fails the step visibly after the last attempt, keeps the workflow, and Retry resumes it', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '2' } });
    h.openai.script = () => ({ status: 500, error: 'upstream exploded' });
    const ev = await startThread(h);
    const failure = await waitFor(() => failurePost(h, ev.ts), 'failure post');
    expect(failure.params.username).toBe('Business Analyst');
    expect(failure.params.text).toContain('could not finish. Something went wrong while it worked.');
    let wf = (await workflowOf(h, ev.ts))!;
    expect(wf.steps[0]!.error).toMatch(/gpt-4o-mini: 2 attempts \(server error\); fallback gpt-4\.1-mini: 1 attempt \(server error\)\. Last error: model server answered 500/);
    expect(wf.status).toBe('step_failed');
    expect(wf.steps[0]).toMatchObject({ status: 'failed' });
    expect(h.openai.requests.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini', 'gpt-4.1-mini']); // 2 attempts, then the fallback's 1

    h.openai.script = defaultScript;
    await h.post.interaction(buttonClick('retry_step', buttonsOf(failure).retry_step!, { messageTs: tsOf(failure), threadTs: ev.ts, user: 'U_OPS' }));
    await waitForGate(h, ev.ts, 1);
    const retried = h.slack.callsTo('chat.update').find((c) => c.params.ts === tsOf(failure))!;
    expect(retried.params.text).toContain('step retried by <@U_OPS>');
    // the failed run's status line no longer says "stopped: see below": it says the step was retried
    const stopped = h.slack.callsTo('chat.update').filter((c) => c.params.ts !== tsOf(failure) && /stopped: see below/.test(c.params.text as string)).at(-1)!;
    await waitFor(() => h.slack.callsTo('chat.update').find((c) => c.params.ts === stopped.params.ts && /stopped, then <@U_OPS> retried it/.test(c.params.text as string)), 'status line updated');
    wf = (await workflowOf(h, ev.ts))!;
    expect(wf.status).toBe('awaiting_approval');
    expect(wf.steps[0]).toMatchObject({ status: 'awaiting_approval', runCount: 1, error: null });

    // a second press of the old Retry button does nothing but explain
    await h.post.interaction(buttonClick('retry_step', buttonsOf(failure).retry_step!, { messageTs: tsOf(failure), threadTs: ev.ts, user: 'U_OPS2' }));
    const note = await waitFor(() => h.slack.callsTo('chat.postEphemeral')[0], 'ephemeral');
    expect(note.params.text).toMatch(/not waiting for a retry/);
    expect(h.openai.requests).toHaveLength(4);
  });

  it('does not retry an error that retrying cannot fix (400)', async () => {
    h = await startHarness({ env: { STEP_ATTEMPTS: '3' } });
    h.openai.script = () => ({ status: 400, error: 'model not found' });
    const ev = await startThread(h);
    const failure = await waitFor(() => failurePost(h, ev.ts), 'failure post');
    expect(failure.params.text).toContain('could not finish. The AI model provider refused the request.');
    expect((await workflowOf(h, ev.ts))!.steps[0]!.error).toMatch(/gpt-4o-mini: 1 attempt \(rejected\)\. Last error: model server answered 400/);
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
