-- AlterTable
ALTER TABLE "LlmCall" ADD COLUMN     "purpose" TEXT NOT NULL DEFAULT 'step',
ADD COLUMN     "roleId" TEXT,
ALTER COLUMN "workflowId" DROP NOT NULL,
ALTER COLUMN "stepId" DROP NOT NULL;

-- CreateIndex
CREATE INDEX "LlmCall_purpose_createdAt_idx" ON "LlmCall"("purpose", "createdAt");
