-- Every backup job ever seen on an appliance. A row is updated in place as the job
-- progresses and is never deleted, even after the appliance forgets the job.
--
-- Rows are kept lean because there are millions of them: optional facts are NULL when
-- unknown, times are unix milliseconds (UTC), and the messages are one JSON text.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    appliance_id INTEGER NOT NULL REFERENCES appliances (id),
    -- The appliance's own job id, such as 20261201-020000-24322735.
    job_id TEXT NOT NULL,
    -- 'scheduled', 'manual', or the appliance's word kept as sent.
    job_type TEXT NOT NULL,
    -- 'pending', 'running', 'succeeded', 'failed', 'canceled', or a word kept as sent.
    state TEXT NOT NULL,
    -- Percent complete, 0 to 100.
    progress INTEGER,
    start_ms INTEGER,
    end_ms INTEGER,
    duration_secs INTEGER,
    -- Bytes written to the backup location.
    size_bytes INTEGER,
    -- Backup folder URL.
    location TEXT,
    user_name TEXT,
    -- The appliance's messages as a JSON array of strings; NULL when it gave none.
    messages TEXT,
    progress_message TEXT,
    -- Appliance version and build that ran the job.
    version TEXT,
    build TEXT,
    -- 0 or 1; NULL when the appliance did not say.
    cancelable INTEGER,
    -- Start of the poll that first stored the job.
    first_seen_ms INTEGER NOT NULL,
    -- Last poll that listed the job, exact once the job is gone. While the job is still
    -- listed, appliances.listed_at_ms is newer and is the value shown.
    last_seen_ms INTEGER NOT NULL,
    -- Start of the first poll whose job list no longer had the job; NULL while listed.
    gone_since_ms INTEGER,
    UNIQUE (appliance_id, job_id)
) STRICT;

-- Job lists and the appliance's "newest job" pointers read jobs newest first.
CREATE INDEX jobs_by_start ON jobs (appliance_id, start_ms);

-- Jobs the appliance still lists: compared with every new job list, so it must stay small
-- and cheap however much history piles up.
CREATE INDEX jobs_listed ON jobs (appliance_id, job_id) WHERE gone_since_ms IS NULL;
