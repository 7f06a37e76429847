-- Experiments (orchestrator/experiments): an A/B test's definition and state, and which arm each workflow got.
-- An assignment is written in the same transaction as its workflow; the arm is a deterministic hash of the experiment
-- id and the thread, so a re-delivered message lands in the same arm. Console only: nothing here is posted in threads.
CREATE TABLE "Experiment" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "yaml" TEXT NOT NULL,
    "definition" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "plannedPerArm" INTEGER,
    "winner" TEXT,
    "createdBy" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "stoppedAt" TIMESTAMP(3),

    CONSTRAINT "Experiment_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "Experiment_status_idx" ON "Experiment"("status");

CREATE TABLE "ExperimentAssignment" (
    "experimentId" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "threadKey" TEXT NOT NULL,
    "arm" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ExperimentAssignment_pkey" PRIMARY KEY ("experimentId", "workflowId")
);
CREATE INDEX "ExperimentAssignment_workflowId_idx" ON "ExperimentAssignment"("workflowId");
CREATE INDEX "ExperimentAssignment_experimentId_arm_idx" ON "ExperimentAssignment"("experimentId", "arm");

ALTER TABLE "ExperimentAssignment" ADD CONSTRAINT "ExperimentAssignment_experimentId_fkey" FOREIGN KEY ("experimentId") REFERENCES "Experiment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "ExperimentAssignment" ADD CONSTRAINT "ExperimentAssignment_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
