-- Dashboard users and their sign-in sessions.
--
-- Only argon2id hashes of passwords are kept, and only SHA-256 digests of session ids:
-- a copy of this file lets nobody sign in or take over a session.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- 'viewer', 'operator' or 'admin'.
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    -- PHC string of the argon2id hash, salt and parameters included.
    password_hash TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
    -- Hex SHA-256 of the session id held by the browser.
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms INTEGER NOT NULL,
    last_seen_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
