-- CreateTable
CREATE TABLE "TeamsConversation" (
    "channelId" TEXT NOT NULL,
    "threadTs" TEXT NOT NULL,
    "reference" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TeamsConversation_pkey" PRIMARY KEY ("channelId","threadTs")
);

-- CreateTable
CREATE TABLE "TeamsUser" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "TeamsUser_pkey" PRIMARY KEY ("id")
);
