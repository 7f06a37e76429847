-- CreateEnum
CREATE TYPE "RbacRole" AS ENUM ('owner', 'admin', 'approver', 'viewer');

-- CreateTable
CREATE TABLE "ChatUserRole" (
    "platform" "Platform" NOT NULL,
    "userId" TEXT NOT NULL,
    "role" "RbacRole" NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ChatUserRole_pkey" PRIMARY KEY ("platform","userId")
);

-- CreateTable
CREATE TABLE "AuditLog" (
    "id" TEXT NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "detail" JSONB,

    CONSTRAINT "AuditLog_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ConstraintViolation" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT,
    "stepId" TEXT,
    "roleId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ConstraintViolation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "AuditLog_at_idx" ON "AuditLog"("at");

-- CreateIndex
CREATE INDEX "AuditLog_action_idx" ON "AuditLog"("action");

-- CreateIndex
CREATE INDEX "ConstraintViolation_roleId_createdAt_idx" ON "ConstraintViolation"("roleId", "createdAt");

-- CreateIndex
CREATE INDEX "ConstraintViolation_workflowId_idx" ON "ConstraintViolation"("workflowId");
