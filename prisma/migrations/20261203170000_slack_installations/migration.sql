-- Slack distribution: workspaces that installed Rolecall through "Add to Slack" (OAuth), with their bot tokens
-- sealed (AES-256-GCM, bot/slack/token-seal.ts), and console users bound to workspaces (web-admin/auth/workspaces.ts).

-- CreateEnum
CREATE TYPE "SlackInstallationStatus" AS ENUM ('active', 'uninstalled', 'tokens_revoked');

-- CreateTable
CREATE TABLE "SlackInstallation" (
    "teamId" TEXT NOT NULL,
    "teamName" TEXT,
    "enterpriseId" TEXT,
    "appId" TEXT,
    "botId" TEXT,
    "botUserId" TEXT,
    "botScopes" TEXT[],
    "botTokenSealed" TEXT,
    "installedBy" TEXT,
    "status" "SlackInstallationStatus" NOT NULL DEFAULT 'active',
    "installedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "disabledAt" TIMESTAMP(3),

    CONSTRAINT "SlackInstallation_pkey" PRIMARY KEY ("teamId")
);

-- CreateTable
CREATE TABLE "AdminWorkspace" (
    "userId" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,

    CONSTRAINT "AdminWorkspace_pkey" PRIMARY KEY ("userId","teamId")
);

-- AddForeignKey
ALTER TABLE "AdminWorkspace" ADD CONSTRAINT "AdminWorkspace_userId_fkey" FOREIGN KEY ("userId") REFERENCES "AdminUser"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateIndex
CREATE INDEX "Workflow_teamId_createdAt_idx" ON "Workflow"("teamId", "createdAt");
