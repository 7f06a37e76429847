-- The chat outbox (issue 12): posts and edits a step decides are written in the step's own transaction and sent
-- afterwards, per channel in "id" order, by the poster (orchestrator/outbox.ts). "key" is the post's idempotency key
-- (orchestrator/jobs.ts postKey/updateKey): a repeated write inserts nothing. Only the head of a channel (its lowest
-- unsent row) can be claimed, and only when it is due ("nextAttemptAt"), or its claim ran out ("leaseUntil") or is held by the same drain
-- job ("leaseBy", re-run after its worker died), so one sender at a time keeps a thread's order.
CREATE TABLE "ChatOutbox" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "op" TEXT NOT NULL,
    "targetKey" TEXT,
    "kind" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stepId" TEXT,
    "roleId" TEXT NOT NULL,
    "thread" JSONB NOT NULL,
    "persona" JSONB NOT NULL,
    "view" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "nextAttemptAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "leaseUntil" TIMESTAMP(3),
    "leaseBy" TEXT,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),

    CONSTRAINT "ChatOutbox_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "ChatOutbox_key_key" ON "ChatOutbox"("key");
-- the head of a channel, and the sweep's channels with unsent rows
CREATE INDEX "ChatOutbox_unsent_idx" ON "ChatOutbox"("channel", "id") WHERE "status" IN ('pending', 'sending');
CREATE INDEX "ChatOutbox_workflowId_idx" ON "ChatOutbox"("workflowId");

ALTER TABLE "ChatOutbox" ADD CONSTRAINT "ChatOutbox_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
