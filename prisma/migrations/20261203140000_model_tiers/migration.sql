-- Model tiers (issue 16): which tier ran each step revision (routed or shadow), every escalation between tiers, and
-- calls whose model has no known price (flagged, never silently $0).

ALTER TABLE "LlmCall" ADD COLUMN "priceUnknown" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "TierRun" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "run" INTEGER NOT NULL,
    "roleId" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "tier" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "outcome" TEXT NOT NULL,
    "reasons" TEXT NOT NULL DEFAULT '',
    "baseTier" TEXT,
    "costUsd" DECIMAL(12,6) NOT NULL DEFAULT 0,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "priceUnknown" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TierRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TierEscalation" (
    "id" TEXT NOT NULL,
    "workflowId" TEXT NOT NULL,
    "stepId" TEXT NOT NULL,
    "revision" INTEGER NOT NULL,
    "run" INTEGER NOT NULL,
    "roleId" TEXT NOT NULL,
    "fromTier" TEXT NOT NULL,
    "toTier" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL DEFAULT '',
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TierEscalation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "TierRun_stepId_revision_run_tier_mode_key" ON "TierRun"("stepId", "revision", "run", "tier", "mode");
CREATE INDEX "TierRun_roleId_template_tier_idx" ON "TierRun"("roleId", "template", "tier");
CREATE INDEX "TierRun_workflowId_idx" ON "TierRun"("workflowId");
CREATE UNIQUE INDEX "TierEscalation_stepId_revision_run_fromTier_toTier_key" ON "TierEscalation"("stepId", "revision", "run", "fromTier", "toTier");
CREATE INDEX "TierEscalation_workflowId_idx" ON "TierEscalation"("workflowId");

-- AddForeignKey
ALTER TABLE "TierRun" ADD CONSTRAINT "TierRun_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "TierRun" ADD CONSTRAINT "TierRun_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "TierEscalation" ADD CONSTRAINT "TierEscalation_workflowId_fkey" FOREIGN KEY ("workflowId") REFERENCES "Workflow"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "TierEscalation" ADD CONSTRAINT "TierEscalation_stepId_fkey" FOREIGN KEY ("stepId") REFERENCES "Step"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Calls without a known price, counted at write time like the other LLM counters (/metrics
-- rolecall_llm_unknown_price_calls reads the counter, never the LlmCall table).
CREATE OR REPLACE FUNCTION rolecall_llm_call_keys(l "LlmCall") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT m.metric, COALESCE(l."roleId", '(' || l.purpose || ')'), l.model, m.v FROM (VALUES
    ('llm_calls'::text, 1::float8),
    ('llm_errors', CASE WHEN l.ok THEN 0 ELSE 1 END),
    ('llm_prompt', l."promptTokens"::float8),
    ('llm_completion', l."completionTokens"::float8),
    ('llm_cost', l."costUsd"::float8),
    ('llm_unknown_price', CASE WHEN l."priceUnknown" THEN 1 ELSE 0 END)
  ) AS m(metric, v) WHERE m.v <> 0 OR m.metric = 'llm_calls'
$$;

DROP TRIGGER "LlmCall_metrics_update" ON "LlmCall";
CREATE TRIGGER "LlmCall_metrics_update" AFTER UPDATE ON "LlmCall"
  FOR EACH ROW WHEN (OLD."roleId" IS DISTINCT FROM NEW."roleId" OR OLD."stepId" IS DISTINCT FROM NEW."stepId"
    OR OLD.purpose IS DISTINCT FROM NEW.purpose OR OLD.model IS DISTINCT FROM NEW.model OR OLD.ok IS DISTINCT FROM NEW.ok
    OR OLD."promptTokens" IS DISTINCT FROM NEW."promptTokens" OR OLD."completionTokens" IS DISTINCT FROM NEW."completionTokens"
    OR OLD."costUsd" IS DISTINCT FROM NEW."costUsd" OR OLD."priceUnknown" IS DISTINCT FROM NEW."priceUnknown")
  EXECUTE FUNCTION rolecall_llm_call_deltas();

DROP TRIGGER "LlmCall_metrics_truncate" ON "LlmCall";
CREATE TRIGGER "LlmCall_metrics_truncate" AFTER TRUNCATE ON "LlmCall"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('llm_calls', 'llm_errors', 'llm_prompt', 'llm_completion', 'llm_cost', 'llm_unknown_price');
