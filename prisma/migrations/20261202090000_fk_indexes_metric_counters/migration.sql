-- Indexes for every foreign key that had none (deleting a workflow otherwise scans AgentMessage, Approval and LlmCall
-- in full), Step(roleId, finishedAt) for the MCP list_artifacts tool (newest outputs of a role), and
-- Approval(status, createdAt) for the oldest pending gate on /metrics.
CREATE INDEX "AgentMessage_workflowId_idx" ON "AgentMessage"("workflowId");
CREATE INDEX "AgentMessage_stepId_idx" ON "AgentMessage"("stepId");
CREATE INDEX "Approval_workflowId_idx" ON "Approval"("workflowId");
CREATE INDEX "Approval_status_createdAt_idx" ON "Approval"("status", "createdAt");
CREATE INDEX "LlmCall_workflowId_idx" ON "LlmCall"("workflowId");
CREATE INDEX "LlmCall_stepId_idx" ON "LlmCall"("stepId");
CREATE INDEX "Step_roleId_finishedAt_idx" ON "Step"("roleId", "finishedAt");

-- /metrics from counters maintained at write time instead of full scans at every scrape.
-- Row triggers on Workflow, Step, Approval, LlmCall and ConstraintViolation append the change of each counter the row
-- contributes to ("keys": metric, two labels, a value) to MetricDelta: on INSERT +keys(NEW), on DELETE -keys(OLD), on
-- an UPDATE that changes a key column -keys(OLD) +keys(NEW). Appending (not updating one row per counter) means no
-- two transactions ever wait on each other for a counter. rolecall_metrics_fold() moves the deltas into MetricCount
-- (run at each scrape and once a minute); the value of a counter is its MetricCount value plus its pending deltas.
-- Durations (step_duration, gate_wait) are counted in log buckets of ratio 1.05 (bucket b holds [1 ms * 1.05^b,
-- 1 ms * 1.05^(b+1)); "z" holds <= 1 ms), so quantiles over every row are read from a bounded number of counters.
-- Invariant: sum over MetricCount + MetricDelta = the keys of the rows in the tables now (TRUNCATE resets them).
CREATE TABLE "MetricCount" (
    "metric" TEXT NOT NULL,
    "l1" TEXT NOT NULL DEFAULT '',
    "l2" TEXT NOT NULL DEFAULT '',
    "value" DOUBLE PRECISION NOT NULL DEFAULT 0,

    CONSTRAINT "MetricCount_pkey" PRIMARY KEY ("metric", "l1", "l2")
);

CREATE TABLE "MetricDelta" (
    "id" BIGSERIAL NOT NULL,
    "metric" TEXT NOT NULL,
    "l1" TEXT NOT NULL DEFAULT '',
    "l2" TEXT NOT NULL DEFAULT '',
    "delta" DOUBLE PRECISION NOT NULL,

    CONSTRAINT "MetricDelta_pkey" PRIMARY KEY ("id")
);

CREATE FUNCTION rolecall_duration_bucket(started TIMESTAMP(3), finished TIMESTAMP(3)) RETURNS TEXT
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN s <= 0.001 THEN 'z' ELSE floor(ln(s / 0.001) / ln(1.05))::int::text END
  FROM (SELECT EXTRACT(EPOCH FROM (finished - started))::float8 AS s) d
$$;

CREATE FUNCTION rolecall_workflow_keys(w "Workflow") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT 'workflows'::text, w.status::text, ''::text, 1::float8
$$;

CREATE FUNCTION rolecall_step_keys(s "Step") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT 'steps'::text, s."roleId", s.status::text, 1::float8
  UNION ALL
  SELECT 'step_duration', s."roleId", rolecall_duration_bucket(s."startedAt", s."finishedAt"), 1
  WHERE s."startedAt" IS NOT NULL AND s."finishedAt" IS NOT NULL
$$;

CREATE FUNCTION rolecall_approval_keys(a "Approval") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT 'approvals'::text, a.status::text, ''::text, 1::float8
  UNION ALL
  SELECT 'gate_wait', rolecall_duration_bucket(a."createdAt", a."decidedAt"), '', 1 WHERE a."decidedAt" IS NOT NULL
$$;

-- The role of a call is its own roleId, else "(purpose)". A call recorded for a step without a role (the code always
-- names it) gets its step's role when it is written (below), so a key never depends on another row.
CREATE FUNCTION rolecall_llm_call_keys(l "LlmCall") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT m.metric, COALESCE(l."roleId", '(' || l.purpose || ')'), l.model, m.v FROM (VALUES
    ('llm_calls'::text, 1::float8),
    ('llm_errors', CASE WHEN l.ok THEN 0 ELSE 1 END),
    ('llm_prompt', l."promptTokens"::float8),
    ('llm_completion', l."completionTokens"::float8),
    ('llm_cost', l."costUsd"::float8)
  ) AS m(metric, v) WHERE m.v <> 0 OR m.metric = 'llm_calls'
$$;

CREATE FUNCTION rolecall_llm_call_role() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW."roleId" := (SELECT s."roleId" FROM "Step" s WHERE s.id = NEW."stepId");
  RETURN NEW;
END
$$;

CREATE TRIGGER "LlmCall_step_role" BEFORE INSERT OR UPDATE ON "LlmCall"
  FOR EACH ROW WHEN (NEW."roleId" IS NULL AND NEW."stepId" IS NOT NULL) EXECUTE FUNCTION rolecall_llm_call_role();

CREATE FUNCTION rolecall_violation_keys(c "ConstraintViolation") RETURNS TABLE(metric TEXT, l1 TEXT, l2 TEXT, v FLOAT8)
LANGUAGE sql STABLE AS $$
  SELECT 'violations'::text, c."roleId", c.kind, 1::float8
$$;

-- One trigger function per table (static SQL: its plans are cached per connection).
CREATE FUNCTION rolecall_workflow_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, -k.v FROM rolecall_workflow_keys(OLD) k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, k.v FROM rolecall_workflow_keys(NEW) k;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION rolecall_step_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, -k.v FROM rolecall_step_keys(OLD) k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, k.v FROM rolecall_step_keys(NEW) k;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION rolecall_approval_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, -k.v FROM rolecall_approval_keys(OLD) k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, k.v FROM rolecall_approval_keys(NEW) k;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION rolecall_llm_call_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, -k.v FROM rolecall_llm_call_keys(OLD) k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, k.v FROM rolecall_llm_call_keys(NEW) k;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION rolecall_violation_deltas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, -k.v FROM rolecall_violation_keys(OLD) k;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO "MetricDelta"(metric, l1, l2, delta) SELECT k.metric, k.l1, k.l2, k.v FROM rolecall_violation_keys(NEW) k;
  END IF;
  RETURN NULL;
END
$$;

-- TRUNCATE of a table drops its counters (TG_ARGV: the metrics it feeds).
CREATE FUNCTION rolecall_metric_reset() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "MetricDelta" WHERE metric = ANY (TG_ARGV);
  DELETE FROM "MetricCount" WHERE metric = ANY (TG_ARGV);
  RETURN NULL;
END
$$;

CREATE TRIGGER "Workflow_metrics_insert_delete" AFTER INSERT OR DELETE ON "Workflow"
  FOR EACH ROW EXECUTE FUNCTION rolecall_workflow_deltas();
CREATE TRIGGER "Workflow_metrics_update" AFTER UPDATE ON "Workflow"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION rolecall_workflow_deltas();
CREATE TRIGGER "Workflow_metrics_truncate" AFTER TRUNCATE ON "Workflow"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('workflows');

CREATE TRIGGER "Step_metrics_insert_delete" AFTER INSERT OR DELETE ON "Step"
  FOR EACH ROW EXECUTE FUNCTION rolecall_step_deltas();
CREATE TRIGGER "Step_metrics_update" AFTER UPDATE ON "Step"
  FOR EACH ROW WHEN (OLD."roleId" IS DISTINCT FROM NEW."roleId" OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD."startedAt" IS DISTINCT FROM NEW."startedAt" OR OLD."finishedAt" IS DISTINCT FROM NEW."finishedAt")
  EXECUTE FUNCTION rolecall_step_deltas();
CREATE TRIGGER "Step_metrics_truncate" AFTER TRUNCATE ON "Step"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('steps', 'step_duration');

CREATE TRIGGER "Approval_metrics_insert_delete" AFTER INSERT OR DELETE ON "Approval"
  FOR EACH ROW EXECUTE FUNCTION rolecall_approval_deltas();
CREATE TRIGGER "Approval_metrics_update" AFTER UPDATE ON "Approval"
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD."createdAt" IS DISTINCT FROM NEW."createdAt"
    OR OLD."decidedAt" IS DISTINCT FROM NEW."decidedAt")
  EXECUTE FUNCTION rolecall_approval_deltas();
CREATE TRIGGER "Approval_metrics_truncate" AFTER TRUNCATE ON "Approval"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('approvals', 'gate_wait');

CREATE TRIGGER "LlmCall_metrics_insert_delete" AFTER INSERT OR DELETE ON "LlmCall"
  FOR EACH ROW EXECUTE FUNCTION rolecall_llm_call_deltas();
CREATE TRIGGER "LlmCall_metrics_update" AFTER UPDATE ON "LlmCall"
  FOR EACH ROW WHEN (OLD."roleId" IS DISTINCT FROM NEW."roleId" OR OLD."stepId" IS DISTINCT FROM NEW."stepId"
    OR OLD.purpose IS DISTINCT FROM NEW.purpose OR OLD.model IS DISTINCT FROM NEW.model OR OLD.ok IS DISTINCT FROM NEW.ok
    OR OLD."promptTokens" IS DISTINCT FROM NEW."promptTokens" OR OLD."completionTokens" IS DISTINCT FROM NEW."completionTokens"
    OR OLD."costUsd" IS DISTINCT FROM NEW."costUsd")
  EXECUTE FUNCTION rolecall_llm_call_deltas();
CREATE TRIGGER "LlmCall_metrics_truncate" AFTER TRUNCATE ON "LlmCall"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('llm_calls', 'llm_errors', 'llm_prompt', 'llm_completion', 'llm_cost');

CREATE TRIGGER "ConstraintViolation_metrics_insert_delete" AFTER INSERT OR DELETE ON "ConstraintViolation"
  FOR EACH ROW EXECUTE FUNCTION rolecall_violation_deltas();
CREATE TRIGGER "ConstraintViolation_metrics_update" AFTER UPDATE ON "ConstraintViolation"
  FOR EACH ROW WHEN (OLD."roleId" IS DISTINCT FROM NEW."roleId" OR OLD.kind IS DISTINCT FROM NEW.kind)
  EXECUTE FUNCTION rolecall_violation_deltas();
CREATE TRIGGER "ConstraintViolation_metrics_truncate" AFTER TRUNCATE ON "ConstraintViolation"
  FOR EACH STATEMENT EXECUTE FUNCTION rolecall_metric_reset('violations');

-- Moves the pending deltas into MetricCount in one statement; one folder at a time (another's call returns 0 at once).
CREATE FUNCTION rolecall_metrics_fold() RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE moved_rows INTEGER;
BEGIN
  IF NOT pg_try_advisory_xact_lock(72707370) THEN
    RETURN 0;
  END IF;
  WITH moved AS (DELETE FROM "MetricDelta" RETURNING metric, l1, l2, delta),
  folded AS (
    INSERT INTO "MetricCount"(metric, l1, l2, value)
    SELECT metric, l1, l2, sum(delta) FROM moved GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (metric, l1, l2) DO UPDATE SET value = "MetricCount".value + EXCLUDED.value
    RETURNING 1
  )
  SELECT count(*) INTO moved_rows FROM moved;
  RETURN moved_rows;
END
$$;

UPDATE "LlmCall" l SET "roleId" = s."roleId" FROM "Step" s WHERE l."roleId" IS NULL AND s.id = l."stepId";

-- The counters of the rows already there (the triggers above exist from here on, in this same transaction).
INSERT INTO "MetricCount"(metric, l1, l2, value)
SELECT k.metric, k.l1, k.l2, sum(k.v) FROM (
  SELECT k.* FROM "Workflow" r, rolecall_workflow_keys(r) k
  UNION ALL SELECT k.* FROM "Step" r, rolecall_step_keys(r) k
  UNION ALL SELECT k.* FROM "Approval" r, rolecall_approval_keys(r) k
  UNION ALL SELECT k.* FROM "LlmCall" r, rolecall_llm_call_keys(r) k
  UNION ALL SELECT k.* FROM "ConstraintViolation" r, rolecall_violation_keys(r) k
) k GROUP BY 1, 2, 3;
