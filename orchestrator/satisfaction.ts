// Thumbs up/down on a completed workflow's summary: one vote per person per workflow (the last one counts).
import type { Db } from './db';

export type Vote = 'up' | 'down';

export async function recordSatisfaction(prisma: Db, workflowId: string, userId: string, vote: Vote): Promise<boolean> {
  const wf = await prisma.workflow.findUnique({ where: { id: workflowId }, select: { id: true } });
  if (!wf) return false;
  const score = vote === 'up' ? 1 : -1;
  await prisma.satisfaction.upsert({
    where: { workflowId_userId: { workflowId, userId } },
    create: { workflowId, userId, score },
    update: { score },
  });
  return true;
}
