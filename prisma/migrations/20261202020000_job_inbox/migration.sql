-- CreateTable
CREATE TABLE "InboxJob" (
    "id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "InboxJob_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "InboxJob_createdAt_idx" ON "InboxJob"("createdAt");
