-- Appliances named in the configuration, with the newest facts about each one.
--
-- A row is never deleted: an appliance removed from the configuration keeps its history and
-- is only hidden (configured = 0). The last_* columns are copies of, or pointers to, the
-- newest poll, jobs and schedule; every recorded poll keeps them current so that the fleet
-- overview reads one row per appliance instead of searching the polls and jobs tables.
--
-- The pointer columns reference tables created by the migrations that follow; SQLite
-- resolves a foreign key when a row is written, not when the table is created.
CREATE TABLE appliances (
    id INTEGER PRIMARY KEY,
    -- The appliance's stable key from the configuration.
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    -- Configured tags as a JSON array of strings.
    tags TEXT NOT NULL DEFAULT '[]',
    -- IANA zone name (such as Europe/Amsterdam) the appliance's schedule fires in.
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    -- Seconds after a due time during which a run that has not started is only late.
    grace_secs INTEGER NOT NULL,
    -- 1 while the appliance is in the configuration, 0 once it was removed from it.
    configured INTEGER NOT NULL DEFAULT 1 CHECK (configured IN (0, 1)),

    -- API generation detected by the last observation: 'rest' or 'api'.
    generation TEXT,
    version TEXT,
    build TEXT,
    product TEXT,

    -- Copy of the newest poll row (times are unix milliseconds, UTC).
    last_poll_ms INTEGER,
    last_poll_duration_ms INTEGER,
    last_poll_outcome TEXT,
    last_poll_message TEXT,
    last_ok_poll_ms INTEGER,
    -- When the appliance last returned its job list. A job it still lists was last seen
    -- then, so listed jobs need no write of their own on every poll.
    listed_at_ms INTEGER,

    -- Newest job by start time, whatever its state.
    last_job_id INTEGER REFERENCES jobs (id),
    -- Newest succeeded, failed or canceled job by start time.
    last_finished_job_id INTEGER REFERENCES jobs (id),
    -- Newest succeeded job by start time.
    last_good_job_id INTEGER REFERENCES jobs (id),
    -- Newest running job the appliance still lists.
    running_job_id INTEGER REFERENCES jobs (id),
    -- Newest start time of a job not started by hand.
    last_scheduled_start_ms INTEGER,

    -- The schedule_changes row that holds the schedule as last observed.
    schedule_change_id INTEGER REFERENCES schedule_changes (id),
    -- When that schedule took effect; NULL while it is the first one ever observed.
    schedule_changed_ms INTEGER
) STRICT;

-- The fleet overview lists configured appliances by name.
CREATE INDEX appliances_configured_by_name ON appliances (configured, name);
