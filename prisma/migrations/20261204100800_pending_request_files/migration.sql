-- A new request in a Teams 1:1 chat kept while its writer chooses "add" or "start a new one" keeps the files shared
-- with it (references; downloaded when the choice is made) and when it was written (issue 14).
ALTER TABLE "PendingRequest" ADD COLUMN "files" JSONB;
ALTER TABLE "PendingRequest" ADD COLUMN "sentAt" TEXT;
