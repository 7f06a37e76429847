-- Budgets (issue 16): estimates of model calls under way are reserved on the windows before each call (so steps running
-- at the same time cannot pass a limit by more than one call's estimate), and held step runs are kept so that a raise
-- wakes each of them once.
ALTER TABLE "BudgetWindow" ADD COLUMN "reservedUsd" DECIMAL(14,6) NOT NULL DEFAULT 0;
ALTER TABLE "BudgetWindow" ADD COLUMN "reservedTokens" BIGINT NOT NULL DEFAULT 0;

CREATE TABLE "BudgetReservation" (
    "id" TEXT NOT NULL,
    "windowId" TEXT NOT NULL,
    "holder" TEXT NOT NULL,
    "usd" DECIMAL(14,6) NOT NULL,
    "tokens" BIGINT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "BudgetReservation_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "BudgetReservation_holder_idx" ON "BudgetReservation"("holder");
CREATE INDEX "BudgetReservation_expiresAt_idx" ON "BudgetReservation"("expiresAt");
CREATE INDEX "BudgetReservation_windowId_idx" ON "BudgetReservation"("windowId");
ALTER TABLE "BudgetReservation" ADD CONSTRAINT "BudgetReservation_windowId_fkey" FOREIGN KEY ("windowId") REFERENCES "BudgetWindow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "BudgetHold" (
    "id" TEXT NOT NULL,
    "windowId" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "run" INTEGER NOT NULL,
    "roleId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resumedAt" TIMESTAMP(3),
    CONSTRAINT "BudgetHold_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "BudgetHold_windowId_stepId_revision_run_key" ON "BudgetHold"("windowId", "stepId", "revision", "run");
CREATE INDEX "BudgetHold_windowId_resumedAt_idx" ON "BudgetHold"("windowId", "resumedAt");
