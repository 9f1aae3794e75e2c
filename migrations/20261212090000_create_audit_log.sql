-- Every action a person took through vbdash: who, when, on which appliance, what, how it
-- ended and why they said they did it. Rows are only ever added: the triggers below refuse
-- changes and deletions, so the log can be trusted as written.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    -- Unix milliseconds (UTC) when the action was decided.
    at_ms INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    -- NULL for an action on no single appliance.
    appliance TEXT,
    -- A short word such as 'backup.start' or 'schedule.update'.
    action TEXT NOT NULL,
    -- What was asked, in words (preset, parts, job id); never a password.
    detail TEXT NOT NULL,
    -- How it ended, in words.
    outcome TEXT NOT NULL,
    -- Whether the action succeeded: 1, or 0 when it was refused or failed.
    ok INTEGER NOT NULL,
    -- The reason the person gave, if asked.
    reason TEXT
) STRICT;

CREATE INDEX audit_log_by_time ON audit_log (at_ms);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
