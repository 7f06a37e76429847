-- CreateEnum
CREATE TYPE "FileStatus" AS ENUM ('stored', 'extracted', 'skipped');

-- CreateTable
CREATE TABLE "FileBlob" (
    "id" TEXT NOT NULL,
    "store" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "mime" TEXT NOT NULL,
    "kind" TEXT,
    "status" "FileStatus" NOT NULL,
    "error" TEXT,
    "extractedText" TEXT,
    "extraction" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FileBlob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SharedFile" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT,
    "platform" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "mime" TEXT NOT NULL,
    "bytes" INTEGER NOT NULL,
    "sha256" TEXT NOT NULL,
    "blobId" TEXT,
    "status" "FileStatus" NOT NULL,
    "error" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SharedFile_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "FileBlob_store_sha256_key" ON "FileBlob"("store", "sha256");

-- CreateIndex
CREATE INDEX "SharedFile_workflowId_idx" ON "SharedFile"("workflowId");

-- CreateIndex
CREATE INDEX "SharedFile_blobId_idx" ON "SharedFile"("blobId");

-- CreateIndex
CREATE UNIQUE INDEX "SharedFile_platform_source_key" ON "SharedFile"("platform", "source");

-- AddForeignKey
ALTER TABLE "SharedFile" ADD CONSTRAINT "SharedFile_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SharedFile" ADD CONSTRAINT "SharedFile_blobId_fkey" FOREIGN KEY ("blobId") REFERENCES "FileBlob"("id") ON DELETE SET NULL ON UPDATE CASCADE;
