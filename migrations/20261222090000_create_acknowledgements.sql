-- Acknowledgements: an operator's note that a troubled appliance is known about, by whom,
-- why and until when. At most one per appliance; a new one replaces the old. A row is
-- deleted when the acknowledgement ends (expired, recovered or removed by hand); the audit
-- log keeps the history.
CREATE TABLE acknowledgements (
    id INTEGER PRIMARY KEY,
    appliance_id INTEGER NOT NULL UNIQUE REFERENCES appliances (id),
    -- The dashboard user who acknowledged.
    user_name TEXT NOT NULL,
    -- Why, as the user wrote it.
    reason TEXT NOT NULL,
    -- The status word the appliance had when it was acknowledged, such as 'failed'.
    status TEXT NOT NULL,
    -- Unix milliseconds (UTC) when it was acknowledged and when it ends by itself.
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL CHECK (expires_at_ms > created_at_ms)
) STRICT;
