-- Bearer tokens of the JSON API under /api/v1. Each is made on the command line and shown
-- once; only its SHA-256 digest is kept, so a copy of this file lets nobody call the API.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    -- Chosen by whoever made the token; the actor named in the audit log.
    name TEXT NOT NULL UNIQUE,
    -- 'read' (every GET) or 'operate' (also starts and cancels backups).
    scope TEXT NOT NULL CHECK (scope IN ('read', 'operate')),
    -- Hex SHA-256 of the whole token as sent in the Authorization header.
    token_hash TEXT NOT NULL UNIQUE,
    -- Unix milliseconds (UTC).
    created_ms INTEGER NOT NULL,
    -- NULL for a token that never expires.
    expires_ms INTEGER,
    -- Last accepted request, at most a minute off; NULL until the token is first used.
    last_used_ms INTEGER
) STRICT;
