-- Encryption at rest (issue 18, orchestrator/privacy/at-rest.ts): one data key per workspace scope, wrapped by a master key.
CREATE TABLE "DataKey" (
    "id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "wrappedKey" TEXT NOT NULL,
    "masterKeyId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "rotatedAt" TIMESTAMP(3),

    CONSTRAINT "DataKey_pkey" PRIMARY KEY ("id")
);

CREATE UNIQUE INDEX "DataKey_scope_key" ON "DataKey"("scope");
CREATE INDEX "DataKey_masterKeyId_idx" ON "DataKey"("masterKeyId");
