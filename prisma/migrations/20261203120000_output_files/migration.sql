-- Files out (issue 15): files a role's step built from its output, and cached summaries of large shared files.
CREATE TABLE "OutputFile" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "roleId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mime" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "store" TEXT NOT NULL,
    "delivery" TEXT NOT NULL DEFAULT 'pending',
    "deliveredRef" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "OutputFile_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "OutputFile_stepId_revision_name_key" ON "OutputFile"("stepId", "revision", "name");
CREATE INDEX "OutputFile_workflowId_idx" ON "OutputFile"("workflowId");
ALTER TABLE "OutputFile" ADD CONSTRAINT "OutputFile_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "FileSummary" (
    "id" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "parts" JSONB NOT NULL,
    "summarised" BOOLEAN NOT NULL,
    "cut" BOOLEAN NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "FileSummary_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "FileSummary_sha256_variant_key" ON "FileSummary"("sha256", "variant");
