-- Failed sign-ins, one row per failure and per key, so that a lockout outlives a restart.
-- A key is a user name (in lower case) or a client address; nothing typed into the password
-- field is kept. Rows older than the lockout window count for nothing and are deleted.

CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    -- 'user' or 'address'.
    kind TEXT NOT NULL CHECK (kind IN ('user', 'address')),
    key TEXT NOT NULL,
    -- Unix milliseconds of the failure.
    at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX sign_in_failures_by_key ON sign_in_failures (kind, key, at_ms);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at_ms);
