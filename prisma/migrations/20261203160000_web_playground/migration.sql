-- The playground's chat adapter ("web"): a third platform beside Slack and Teams, whose threads and messages live here.
ALTER TYPE "Platform" ADD VALUE IF NOT EXISTS 'web';

-- A playground thread: one conversation of a console user with Rolecall (its own channel and thread on the web platform).
CREATE TABLE "WebThread" (
    "id" TEXT NOT NULL,
    "ownerId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebThread_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "WebThread_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "AdminUser"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "WebThread_ownerId_updatedAt_idx" ON "WebThread"("ownerId", "updatedAt");

-- A message in a playground thread: a person's (authorId) or a persona's post (the web ChatPort), in `seq` order;
-- `version` grows with every update, so a live view re-sends exactly the messages that changed.
CREATE TABLE "WebMessage" (
    "id" TEXT NOT NULL,
    "threadId" TEXT NOT NULL,
    "seq" SERIAL NOT NULL,
    "authorId" TEXT,
    "personaName" TEXT NOT NULL,
    "personaEmoji" TEXT,
    "personaIconUrl" TEXT,
    "text" TEXT NOT NULL,
    "context" TEXT,
    "actions" JSONB,
    "files" JSONB,
    "onlyFor" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "WebMessage_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "WebMessage_threadId_fkey" FOREIGN KEY ("threadId") REFERENCES "WebThread"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "WebMessage_threadId_seq_idx" ON "WebMessage"("threadId", "seq");
