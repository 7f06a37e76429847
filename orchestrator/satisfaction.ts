// Thumbs up/down on a completed workflow's summary: one vote per person per workflow, and the latest press counts.
// Invariant: presses are handled by parallel jobs, so a vote is one conditional write — inserted, or replacing the
// stored one only when it was pressed later (`votedAt`); an older press that runs last changes nothing.
import type { Db } from './db';

export type Vote = 'up' | 'down';

export async function recordSatisfaction(prisma: Db, workflowId: string, userId: string, vote: Vote, votedAt = new Date()): Promise<boolean> {
  const score = vote === 'up' ? 1 : -1;
  const rows = await prisma.$executeRaw`
    INSERT INTO "Satisfaction" ("id", "workflowId", "userId", "score", "votedAt", "createdAt", "updatedAt")
    SELECT gen_random_uuid()::text, w."id", ${userId}, ${score}, ${votedAt}, now(), now() FROM "Workflow" w WHERE w."id" = ${workflowId}
    ON CONFLICT ("workflowId", "userId") DO UPDATE SET "score" = EXCLUDED."score", "votedAt" = EXCLUDED."votedAt", "updatedAt" = now()
      WHERE "Satisfaction"."votedAt" <= EXCLUDED."votedAt"`;
  if (rows > 0) return true;
  // nothing written: either the workflow is gone, or a later press is already stored (this one is still "recorded")
  return (await prisma.workflow.count({ where: { id: workflowId } })) > 0;
}
