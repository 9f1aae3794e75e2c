-- Bulk backup runs: who asked, for what, and where each appliance of the run stands, kept so
-- that a run's summary outlives a restart of vbdash.
CREATE TABLE bulk_runs (
    id INTEGER PRIMARY KEY,
    -- Unix milliseconds (UTC) when the run was asked for.
    created_at_ms INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    preset TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- How the appliances were chosen, in words ("3 picked", "status failed, tag prod").
    selection TEXT NOT NULL,
    -- Who pressed Stop and when; NULL while nobody did.
    stopped_by TEXT,
    stopped_at_ms INTEGER
) STRICT;

-- One row per appliance of a run, in the order asked.
CREATE TABLE bulk_items (
    run_id INTEGER NOT NULL REFERENCES bulk_runs (id),
    position INTEGER NOT NULL,
    appliance TEXT NOT NULL,
    -- queued, checking, started, succeeded, failed, precheck_failed, skipped, stopped or
    -- interrupted.
    state TEXT NOT NULL,
    -- What happened, in words.
    words TEXT NOT NULL,
    -- The job started on the appliance, once there is one.
    job_id TEXT,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
) STRICT;

-- The restart sweep looks for unfinished items only.
CREATE INDEX bulk_items_unfinished ON bulk_items (state)
    WHERE state IN ('queued', 'checking', 'started');
