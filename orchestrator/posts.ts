// Persona posts with idempotency keys: a job that runs again finds the post it already made instead of posting twice.
// Invariant: every key comes from `postKey`/`postPartKey` (jobs.ts); an AgentMessage row exists before the platform
// call, and its messageTs is set only once the platform has accepted the post. A message too long for one post goes
// out as several (the port's `split`), each part keyed, the last under the message's own key. A post the platform
// refuses for good is recorded on its row (error, failedAt) and in the audit log, once, and the error is rethrown.
import { Prisma } from '../generated/prisma/client';
import { errorMessage } from '../agents/errors';
import { isPostRefused, MessageRejectedError, type ChatPort, type MessageView, type Persona, type ThreadRef } from './chat';
import { chatFor, type EngineDeps } from './deps';
import { postKey, postPartKey, type PostKey } from './jobs';
import { postRefusedView, ROLECALL_PERSONA } from './views';
import { sealerFor } from './privacy/at-rest';

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
  const port = chatFor(deps, spec.thread.platform);
  const parts = port.split?.(spec.view) ?? [spec.view];
  for (const [i, part] of parts.slice(0, -1).entries()) await postPart(deps, port, spec, postPartKey(spec.key, i + 1), part, part.text);
  // the last part carries the message's own key and its whole text (a re-run step reads its output back from it)
  return postPart(deps, port, spec, key, parts.at(-1)!, spec.view.text);
}

async function postPart(deps: EngineDeps, port: ChatPort, spec: PostSpec, key: string, view: MessageView, text: string): Promise<string> {
  const existing = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (existing?.messageTs) return existing.messageTs;
  const seal = await sealerFor(deps, spec.thread); // text at rest (privacy/at-rest.ts)
  if (!existing) {
    await deps.prisma.agentMessage.createMany({
      data: [{ idempotencyKey: key, workflowId: spec.workflowId, stepId: spec.stepId, roleId: spec.roleId, kind: spec.key.kind, channelId: spec.thread.channelId, text: seal.text(text) }],
      skipDuplicates: true,
    });
  }
  let ts: string;
  try {
    ts = await port.post(spec.thread, spec.persona, view);
  } catch (e) {
    if (isPostRefused(e)) await postRefused(deps, refusedWhere(spec), key, e);
    throw e;
  }
  await deps.prisma.agentMessage.update({ where: { idempotencyKey: key }, data: { messageTs: ts, postedAt: new Date(), text: seal.text(text), error: null, failedAt: null } });
  return ts;
}

/** Updates a post made with postOnce; posts it if it was never made. */
export async function updatePost(deps: EngineDeps, spec: PostSpec): Promise<string> {
  const key = postKey(spec.key);
  const existing = await deps.prisma.agentMessage.findUnique({ where: { idempotencyKey: key } });
  if (!existing?.messageTs) return postOnce(deps, spec);
  try {
    await chatFor(deps, spec.thread.platform).update(spec.thread, existing.messageTs, spec.persona, spec.view);
  } catch (e) {
    if (isPostRefused(e)) await postRefused(deps, refusedWhere(spec), key, e);
    throw e;
  }
  await deps.prisma.agentMessage.update({ where: { idempotencyKey: key }, data: { text: (await sealerFor(deps, spec.thread)).text(spec.view.text) } });
  return existing.messageTs;
}

/** Where a refused post was to go, and what it was (its PostKey kind). */
export interface RefusedWhere {
  workflowId: string;
  stepId?: string | null;
  thread: ThreadRef;
  kind: string;
}

const refusedWhere = (spec: PostSpec): RefusedWhere => ({ workflowId: spec.workflowId, stepId: spec.stepId, thread: spec.thread, kind: spec.key.kind });

/** Records a refused post on its row and, the first time, in the audit log; a rejected message that is not a step's
 *  (a step's failure card says it) gets a short note in the thread, which is reachable. */
export async function postRefused(deps: EngineDeps, spec: RefusedWhere, key: string, e: Error & { code: string; platform: string }): Promise<void> {
  try {
    const { count } = await deps.prisma.agentMessage.updateMany({ where: { idempotencyKey: key, failedAt: null }, data: { error: e.message, failedAt: new Date() } });
    if (count === 0) return; // recorded (and told) before
    await deps.prisma.auditLog.create({
      data: {
        actor: 'system', action: 'post.failed', target: spec.workflowId,
        detail: { post: key, platform: e.platform, channel: spec.thread.channelId, code: e.code, error: e.message } satisfies Prisma.InputJsonObject,
      },
    });
    deps.log.warn('a post was refused by the chat platform', { workflowId: spec.workflowId, post: key, code: e.code });
    if (e instanceof MessageRejectedError && !spec.stepId) {
      await chatFor(deps, spec.thread.platform).post(spec.thread, ROLECALL_PERSONA, postRefusedView(spec.kind, e.message));
    }
  } catch (err) {
    deps.log.warn('could not record a refused post', { workflowId: spec.workflowId, post: key, error: errorMessage(err) });
  }
}
