// Persona posts with idempotency keys: a job that runs again finds the post it already made instead of posting twice.
// Invariant: every key comes from `postKey` (jobs.ts); an AgentMessage row exists before the platform call, and its
// messageTs is set only once the platform has accepted the post.
import type { MessageView, Persona, ThreadRef } from './chat';
import { chatFor, type EngineDeps } from './deps';
import { postKey, type PostKey } from './jobs';

export interface PostSpec {
  key: PostKey;
  workflowId: string;
  stepId?: string;
  roleId: string;
  thread: ThreadRef;
  persona: Persona;
  view: MessageView;
}

export async function postOnce(deps: EngineDeps, spec: PostSpec): Promise<string> {
  const key = postKey(spec.key);
  const existing = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (existing?.messageTs) return existing.messageTs;
  if (!existing) {
    await deps.prisma.agentMessage.createMany({
      data: [{ idempotencyKey: key, workflowId: spec.workflowId, stepId: spec.stepId, roleId: spec.roleId, kind: spec.key.kind, channelId: spec.thread.channelId, text: spec.view.text }],
      skipDuplicates: true,
    });
  }
  const ts = await chatFor(deps, spec.thread.platform).post(spec.thread, spec.persona, spec.view);
  await deps.prisma.agentMessage.update({ where: { idempotencyKey: key }, data: { messageTs: ts, postedAt: new Date(), text: spec.view.text } });
  return ts;
}

/** Updates a post made with postOnce; posts it if it was never made. */
export async function updatePost(deps: EngineDeps, spec: PostSpec): Promise<string> {
  const key = postKey(spec.key);
  const existing = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (!existing?.messageTs) return postOnce(deps, spec);
  await chatFor(deps, spec.thread.platform).update(spec.thread, existing.messageTs, spec.persona, spec.view);
  await deps.prisma.agentMessage.update({ where: { idempotencyKey: key }, data: { text: spec.view.text } });
  return existing.messageTs;
}
