-- AlterEnum
ALTER TYPE "StepStatus" ADD VALUE 'waiting_input';

-- AlterEnum
ALTER TYPE "WorkflowStatus" ADD VALUE 'planned';

-- AlterTable
ALTER TABLE "Step" ADD COLUMN     "answer" TEXT,
ADD COLUMN     "attemptedRoles" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "dependsOn" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "fallbackRoles" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "key" TEXT NOT NULL DEFAULT '',
ADD COLUMN     "outputData" JSONB,
ADD COLUMN     "question" TEXT;

-- AlterTable
ALTER TABLE "Workflow" ADD COLUMN     "intent" TEXT,
ADD COLUMN     "intentConfidence" DOUBLE PRECISION,
ADD COLUMN     "intentReason" TEXT,
ADD COLUMN     "intentSource" TEXT;
