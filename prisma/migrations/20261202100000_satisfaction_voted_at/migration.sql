-- When the vote was pressed: the latest press wins even when presses are handled out of order.
ALTER TABLE "Satisfaction" ADD COLUMN "votedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
