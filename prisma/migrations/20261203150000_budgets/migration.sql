-- Budgets (issue 16): limits set in the console, and one counter row per budget window shared by all workers.
CREATE TABLE "Budget" (
    "id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "scopeKey" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "limitUsd" DECIMAL(14,6),
    "limitTokens" BIGINT,
    "action" TEXT NOT NULL DEFAULT 'wait',
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Budget_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "Budget_scope_scopeKey_period_key" ON "Budget"("scope", "scopeKey", "period");

CREATE TABLE "BudgetWindow" (
    "id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "scopeKey" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "window" TEXT NOT NULL,
    "spentUsd" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "spentTokens" BIGINT NOT NULL DEFAULT 0,
    "extraUsd" DECIMAL(14,6) NOT NULL DEFAULT 0,
    "extraTokens" BIGINT NOT NULL DEFAULT 0,
    "warnedAt" TIMESTAMP(3),
    "reachedAt" TIMESTAMP(3),
    "raisedAt" TIMESTAMP(3),
    "raisedBy" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "BudgetWindow_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "BudgetWindow_scope_scopeKey_period_window_key" ON "BudgetWindow"("scope", "scopeKey", "period", "window");
