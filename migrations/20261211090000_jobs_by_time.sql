-- The history pages read every appliance's jobs over a range of start times (the fleet's
-- daily success rate, failures grouped by cause, the export, job retention). This index
-- serves those range reads without touching the table rows.
CREATE INDEX jobs_by_time ON jobs (start_ms, appliance_id, state);
