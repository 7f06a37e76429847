-- Gate reminders and expiry (issue 14): a gate that nobody decides is reminded, then expires or is escalated.
ALTER TYPE "ApprovalStatus" ADD VALUE 'expired';

ALTER TABLE "Approval" ADD COLUMN "reminders" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "remindedAt" TIMESTAMP(3),
ADD COLUMN "escalatedAt" TIMESTAMP(3);

-- A new request in a 1:1 chat while a workflow runs there: kept until the writer chooses (add to it, or start anew).
CREATE TABLE "PendingRequest" (
    "id" TEXT NOT NULL,
    "sourceKey" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "platform" "Platform" NOT NULL,
    "teamId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "threadTs" TEXT NOT NULL,
    "messageTs" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'waiting',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingRequest_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "PendingRequest_sourceKey_key" ON "PendingRequest"("sourceKey");
CREATE INDEX "PendingRequest_workflowId_idx" ON "PendingRequest"("workflowId");
