// A worker process dies (SIGKILL) in the middle of a step's model call. BullMQ's stalled-job recovery hands the step
// to another worker process, which runs it again; idempotency keys keep every post in the thread single. A step's
// status message becomes its output (edited in place, or posted with the output already in it when the poster was
// behind), so each role has one message in the thread besides its gate.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startApp, baseEnv, killAllApps, type AppProcess } from './support/app-process';
import { defaultScript, roleOf } from './support/fake-openai';
import { gatePost, tsOf } from './support/flow';
import { buttonsOf, startHarness, waitFor, type Harness } from './support/harness';
import { buttonClick, mention } from './support/slack-requests';

const ROLES = ['Business Analyst', 'Technical Architect', 'Developer', 'QA Tester', 'Project Manager'];
// The fake model answers every role with text containing this marker (rendered from structured output or not).
const marker = (role: string) => `${role} says: done`;

let h: Harness;
let releaseHungCall: (() => void) | undefined;

beforeEach(async () => {
  h = await startHarness({ worker: false, env: { WORKER_LOCK_MS: '2000', WORKER_STALLED_INTERVAL_MS: '1000', LLM_TIMEOUT_MS: '30000' } });
  // The first model call hangs until released (the worker is killed during it); every later call answers at once.
  h.openai.script = (req, n) =>
    n === 1 ? new Promise((resolve) => { releaseHungCall = () => resolve({ content: 'too late' }); }) : defaultScript(req, n);
});

afterEach(async () => {
  await killAllApps();
  releaseHungCall?.();
  releaseHungCall = undefined;
  await h.close();
});

const startWorker = (): AppProcess => startApp('app/worker.ts', { ...baseEnv(), ...h.env, LOG_LEVEL: 'info' });
// Outcomes, not speed: a worker process compiles the app with tsx and recovery waits for BullMQ's stalled check, which
// on a busy 2-core machine can take minutes; these bounds only stop a test that would never finish.
const SLOW_MS = 180_000;
const postsBy = (threadTs: string, role: string) => h.threadPosts(threadTs).filter((c) => c.params.username === role);

describe('a worker killed mid-step', () => {
  it('loses nothing and posts nothing twice', async () => {
    const worker1 = startWorker();
    await worker1.waitForOutput(/Workers: concurrency/, SLOW_MS);

    const ev = mention('we need a login page with SSO for our customer portal');
    expect((await h.post.event(ev)).status).toBe(200);

    // The Business Analyst step is in its model call in worker 1: kill the process without warning.
    await waitFor(() => h.openai.requests.length >= 1, 'the first model call');
    const statusBeforeCrash = await waitFor(() => postsBy(ev.ts, 'Business Analyst').find((c) => /Business Analyst\* is working/.test(c.params.text)), 'the working status');
    worker1.signal('SIGKILL');
    expect(await worker1.exited).toMatchObject({ signal: 'SIGKILL' });

    // A second worker recovers the stalled step and runs it again (how soon depends on the machine: not asserted).
    const worker2 = startWorker();
    await waitFor(() => h.openai.requests[1], 'the step to run again', SLOW_MS);
    expect(roleOf(h.openai.requests[1]!)).toBe('Business Analyst');

    const gate1 = await waitFor(() => gatePost(h, ev.ts, 1), 'the first gate', SLOW_MS);
    expect(gate1.params.username).toBe('Business Analyst');

    // The status message was posted once and then became the output (one edit carries it); nothing else was posted.
    const ba = postsBy(ev.ts, 'Business Analyst');
    expect(ba).toEqual([statusBeforeCrash, gate1]);
    const statusUpdates = h.slack.callsTo('chat.update').filter((c) => c.params.ts === tsOf(statusBeforeCrash));
    expect(statusUpdates.filter((c) => c.params.text.includes(marker('Business Analyst')))).toHaveLength(1);
    expect(statusUpdates.at(-1)!.params.text).toContain(marker('Business Analyst'));

    const baStep = await h.prisma.step.findFirstOrThrow({ where: { roleId: 'business_analyst', workflow: { threadTs: ev.ts } } });
    expect(baStep.status).toBe('awaiting_approval');
    expect(baStep.output).toContain(marker('Business Analyst'));
    // recorded once the poster marks its run sent, a moment after Slack has the posts
    const outputs = await waitFor(async () => {
      const rows = await h.prisma.agentMessage.findMany({ where: { stepId: baStep.id, kind: 'output', messageTs: { not: null } } });
      return rows.length ? rows : undefined;
    }, 'the output recorded', SLOW_MS);
    expect(outputs).toHaveLength(1);
    expect(outputs[0]!.messageTs).toBe(tsOf(statusBeforeCrash));
    expect(await h.prisma.agentMessage.count({ where: { stepId: baStep.id, kind: 'status' } })).toBe(1);

    // The rest of the workflow runs on worker 2.
    await h.post.interaction(buttonClick('approve', buttonsOf(gate1).approve!, { messageTs: tsOf(gate1), threadTs: ev.ts }));
    const gate2 = await waitFor(() => gatePost(h, ev.ts, 2), 'the second gate', SLOW_MS);
    expect(gate2.params.username).toBe('Technical Architect');
    await h.post.interaction(buttonClick('approve', buttonsOf(gate2).approve!, { messageTs: tsOf(gate2), threadTs: ev.ts }));

    const wf = await waitFor(
      () => h.prisma.workflow.findFirst({ where: { threadTs: ev.ts, status: 'completed' }, include: { steps: true, messages: true, llmCalls: true } }),
      'completion',
      SLOW_MS,
    );
    expect(wf.steps.every((s) => s.status === 'completed')).toBe(true);
    await waitFor(async () => (await h.prisma.chatOutbox.count({ where: { workflowId: wf.id, status: { in: ['pending', 'sending'] } } })) === 0, 'the last posts', SLOW_MS);
    const messages = await h.prisma.agentMessage.findMany({ where: { workflowId: wf.id } }); // as the poster left them
    for (const role of ROLES) {
      // one message per step (its status message, never re-posted), which reads as the role's output in the end
      // (posted as "working…", or with the output already in it when the poster was behind; not its gate or files note)
      const own = postsBy(ev.ts, role).filter((c) => /is working/.test(c.params.text) || c.params.text.includes(marker(role)));
      expect(own, role).toHaveLength(1);
      const edits = h.slack.callsTo('chat.update').filter((c) => c.params.ts === tsOf(own[0]!));
      expect((edits.at(-1) ?? own[0]!).params.text, role).toContain(marker(role));
    }
    // nothing in the thread was posted twice
    const posted = h.threadPosts(ev.ts).map((c) => `${c.params.username}: ${c.params.text}`);
    expect(posted.length).toBe(new Set(posted).size);
    expect(messages.filter((m) => m.kind === 'output')).toHaveLength(5);
    expect(new Set(messages.filter((m) => m.kind === 'output').map((m) => m.stepId)).size).toBe(5);
    // 1 lost call (worker 1) + 5 answered ones; only the answered ones are recorded
    expect(h.openai.requests).toHaveLength(6);
    expect(wf.llmCalls).toHaveLength(5);
    expect(worker2.proc.exitCode).toBeNull();
  }, 900_000); // two child processes compile the app with tsx, then a whole workflow: slow on a loaded machine
});
