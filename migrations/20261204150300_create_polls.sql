-- One row per visit of the poller to an appliance, successful or not.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    appliance_id INTEGER NOT NULL REFERENCES appliances (id),
    -- When the poll started, unix milliseconds (UTC).
    started_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    -- 'ok' or the kind of failure, such as 'timeout' or 'tls'.
    outcome TEXT NOT NULL,
    -- The failure in words; NULL for a successful poll.
    message TEXT
) STRICT;

CREATE INDEX polls_by_start ON polls (appliance_id, started_ms);
