-- Thread replies are ordered by when their author wrote them (Slack ts, Teams activity timestamp), not by arrival.
ALTER TABLE "ThreadReply" ADD COLUMN "sentAt" TIMESTAMP(3);
UPDATE "ThreadReply" SET "sentAt" = "createdAt";
ALTER TABLE "ThreadReply" ALTER COLUMN "sentAt" SET NOT NULL;
CREATE INDEX "ThreadReply_workflowId_sentAt_idx" ON "ThreadReply"("workflowId", "sentAt");

-- A post the chat platform refused for good (channel gone, app not in it, message rejected): shown in the console.
ALTER TABLE "AgentMessage" ADD COLUMN "error" TEXT;
ALTER TABLE "AgentMessage" ADD COLUMN "failedAt" TIMESTAMP(3);
