-- History of each appliance's backup schedule: one row per observed change.
--
-- The first observation of an appliance always writes a row (even "no schedule"); later
-- polls write one only when the schedule differs from the newest row, so the table stays
-- small however often appliances are polled.
CREATE TABLE schedule_changes (
    id INTEGER PRIMARY KEY,
    appliance_id INTEGER NOT NULL REFERENCES appliances (id),
    -- Start of the poll that first saw this state, unix milliseconds (UTC).
    observed_ms INTEGER NOT NULL,
    -- The schedule as compact JSON; NULL means the appliance had no schedule configured.
    schedule TEXT
) STRICT;

CREATE INDEX schedule_changes_by_time ON schedule_changes (appliance_id, observed_ms);
