-- Intent clarification: the question asked when the classifier is unsure, the person's answer as a labelled example,
-- and an admin's review (accepted examples train the classifier). The requester's detected language on workflows.
ALTER TABLE "Workflow" ADD COLUMN "language" TEXT;

CREATE TYPE "IntentExampleReview" AS ENUM ('pending', 'accepted', 'rejected');

CREATE TABLE "IntentExample" (
    "id" TEXT NOT NULL,
    "sourceEventId" TEXT NOT NULL,
    "platform" "Platform" NOT NULL,
    "teamId" TEXT NOT NULL,
    "channelId" TEXT NOT NULL,
    "threadTs" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "language" TEXT,
    "requestedBy" TEXT NOT NULL,
    "candidates" TEXT[],
    "guess" TEXT,
    "confidence" DOUBLE PRECISION,
    "questionTs" TEXT,
    "label" TEXT,
    "labelledBy" TEXT,
    "labelledAt" TIMESTAMP(3),
    "workflowId" TEXT,
    "review" "IntentExampleReview" NOT NULL DEFAULT 'pending',
    "reviewedBy" TEXT,
    "reviewedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "IntentExample_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "IntentExample_sourceEventId_key" ON "IntentExample"("sourceEventId");
CREATE INDEX "IntentExample_review_labelledAt_idx" ON "IntentExample"("review", "labelledAt");
