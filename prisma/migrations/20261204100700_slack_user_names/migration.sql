-- People by name (issue 14): Slack users' display names, looked up with users.info at most once a day per person.
CREATE TABLE "SlackUser" (
    "id" TEXT NOT NULL,
    "teamId" TEXT NOT NULL,
    "name" TEXT,
    "checkedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "SlackUser_pkey" PRIMARY KEY ("id")
);
