// Prisma-backed implementations of the small storage ports the role MCP servers use.
import type { ArtifactScope, ArtifactStore, UsageLog, ViolationLog } from '../agents/mcp/ports';
import { countSpend, spentIn } from './budgets';
import type { BudgetOptions } from './cost-controls';
import type { Db } from './db';

export function artifactStore(prisma: Db): ArtifactStore {
  const select = { id: true, workflowId: true, revision: true, output: true, finishedAt: true, workflow: { select: { requestText: true } } } as const;
  type Row = { id: string; workflowId: string; revision: number; output: string | null; finishedAt: Date | null; workflow: { requestText: string } };
  const toArtifact = (s: Row) => ({ stepId: s.id, workflowId: s.workflowId, request: s.workflow.requestText, revision: s.revision, output: s.output ?? '', finishedAt: s.finishedAt });
  const inScope = (scope?: ArtifactScope) => (scope?.workflowId !== undefined ? { workflowId: scope.workflowId } : {});
  return {
    list: async (roleId, limit, scope) =>
      (await prisma.step.findMany({ where: { roleId, output: { not: null }, ...inScope(scope) }, orderBy: { finishedAt: 'desc' }, take: limit, select })).map(toArtifact),
    get: async (roleId, stepId, scope) => {
      const s = await prisma.step.findFirst({ where: { id: stepId, roleId, output: { not: null }, ...inScope(scope) }, select });
      return s ? toArtifact(s) : undefined;
    },
  };
}

/** Calls outside a step: an LlmCall row each, and their spend added to the budget windows of their scope. */
export function usageLog(prisma: Db, budgets?: BudgetOptions): UsageLog {
  return {
    record: async ({ scope, ...call }) => {
      await prisma.llmCall.create({ data: call });
      if (scope) await countSpend(prisma, scope, [call]);
    },
    spent: (scope) => spentIn(prisma, budgets, scope),
  };
}

export function violationLog(prisma: Db): ViolationLog {
  return { record: async (v) => void (await prisma.constraintViolation.create({ data: v })) };
}
