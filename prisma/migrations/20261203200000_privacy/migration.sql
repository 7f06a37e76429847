-- Privacy and compliance (issue 18): retention policies set in the console, resumable retention runs, legal holds on
-- workflows, and per-scope privacy settings (PII redaction before models, local models only).
CREATE TABLE "RetentionPolicy" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "scopeKey" TEXT NOT NULL,
    "days" INTEGER NOT NULL,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "RetentionPolicy_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "RetentionPolicy_kind_scopeKey_key" ON "RetentionPolicy"("kind", "scopeKey");

CREATE TABLE "RetentionRun" (
    "id" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'running',
    "cursor" INTEGER NOT NULL DEFAULT 0,
    "counts" JSONB NOT NULL DEFAULT '{}',
    "batches" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finishedAt" TIMESTAMP(3),
    CONSTRAINT "RetentionRun_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "RetentionRun_startedAt_idx" ON "RetentionRun"("startedAt");

CREATE TABLE "LegalHold" (
    "workflowId" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "placedBy" TEXT NOT NULL,
    "placedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LegalHold_pkey" PRIMARY KEY ("workflowId")
);

CREATE TABLE "PrivacySetting" (
    "scopeKey" TEXT NOT NULL,
    "redactPii" BOOLEAN NOT NULL DEFAULT false,
    "localModelsOnly" BOOLEAN NOT NULL DEFAULT false,
    "updatedBy" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "PrivacySetting_pkey" PRIMARY KEY ("scopeKey")
);
