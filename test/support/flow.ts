// Shared steps of the Slack user story, for tests that start from a particular point of it.
import { buttonsOf, waitFor, type Harness } from './harness';
import type { SlackCall } from './fake-slack';
import { buttonClick, mention } from './slack-requests';

export const tsOf = (call: SlackCall): string => call.response!.ts;

/** A post as it reads now: with the text and blocks of its latest chat.update (a step's status message becomes its
 *  output), keeping the post's own persona and thread. */
export function current(h: Harness, post: SlackCall): SlackCall {
  const edit = h.slack.callsTo('chat.update').filter((c) => c.params.ts === post.response?.ts).at(-1);
  return edit ? { ...post, params: { ...post.params, text: edit.params.text, blocks: edit.params.blocks } } : post;
}

/** The thread's messages as they read now, in the order they were posted. */
export const threadMessages = (h: Harness, threadTs: string): SlackCall[] => h.threadPosts(threadTs).map((c) => current(h, c));

export function gatePosts(h: Harness, threadTs: string): SlackCall[] {
  return h.threadPosts(threadTs).filter((c) => 'approve' in buttonsOf(c));
}

/** The n-th gate (1-based) posted in the thread, if it has been posted. */
export const gatePost = (h: Harness, threadTs: string, n: number): SlackCall | undefined => gatePosts(h, threadTs)[n - 1];

export async function waitForGate(h: Harness, threadTs: string, n: number): Promise<SlackCall> {
  return waitFor(() => gatePost(h, threadTs, n), `gate ${n}`);
}

export async function startThread(h: Harness, text = 'we need a login page with SSO for our customer portal') {
  const ev = mention(text);
  const res = await h.post.event(ev);
  if (res.status !== 200) throw new Error(`mention answered ${res.status}`);
  return ev;
}

export const workflowOf = (h: Harness, threadTs: string) =>
  h.prisma.workflow.findFirst({ where: { threadTs }, include: { steps: { orderBy: { position: 'asc' } }, approvals: true } });

/** Starts a thread and approves its two gates as they open (as `user`, who must be allowed to); its ts. */
export async function approvedThread(h: Harness, text: string, user = 'U_BOB'): Promise<string> {
  const ev = await startThread(h, text);
  for (const n of [1, 2]) {
    const gate = await waitForGate(h, ev.ts, n);
    const res = await h.post.interaction(buttonClick('approve', buttonsOf(gate).approve!, { messageTs: tsOf(gate), threadTs: ev.ts, user }));
    if (res.status !== 200) throw new Error(`approving gate ${n} answered ${res.status}`);
  }
  return ev.ts;
}
