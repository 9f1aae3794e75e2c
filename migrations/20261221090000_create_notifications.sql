-- Notifications: the status last seen of each appliance (so a restart neither repeats nor
-- loses an announcement), the events found by comparing statuses, the messages built from
-- them, one delivery per message and channel, and every attempt of a delivery. Nothing
-- here holds a hook URL or a password: channels are named, never described.

CREATE TABLE notify_state (
    appliance TEXT PRIMARY KEY,
    -- Status word after the last evaluated poll.
    status TEXT NOT NULL,
    -- The problem last announced (failed, missed, unreachable); NULL when none stands.
    problem TEXT,
    -- Unix milliseconds of the last announcement of `problem`.
    announced_at_ms INTEGER,
    -- 1 while the appliance runs a build other than the one of its last good backup.
    patched INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE notify_events (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    appliance TEXT NOT NULL,
    -- failed, missed, unreachable, recovered or patched.
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    -- The appliance's tags as a JSON array, for routing.
    tags TEXT NOT NULL,
    -- Host of the backup target, for grouping failures; NULL when unknown.
    target TEXT,
    -- 1 when a problem still present is announced again.
    repeat INTEGER NOT NULL,
    -- Not turned into a message before this time: failures wait for others to join.
    release_at_ms INTEGER NOT NULL,
    -- 1 once the event is part of a message (or silenced).
    routed INTEGER NOT NULL DEFAULT 0,
    -- Why the event was not sent, when something silenced it.
    silenced TEXT
) STRICT;

CREATE INDEX notify_events_unrouted ON notify_events (routed, release_at_ms);
CREATE INDEX notify_events_by_time ON notify_events (at_ms);

CREATE TABLE notify_messages (
    id INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    -- The event kind, 'grouped' for several failures at one target, or 'digest'.
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    -- The whole message as JSON; rendered for each channel's format when sent.
    body TEXT NOT NULL
) STRICT;

CREATE TABLE notify_deliveries (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES notify_messages (id) ON DELETE CASCADE,
    channel TEXT NOT NULL,
    -- pending, sent, or failed (gave up after the last attempt).
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- Unix milliseconds before which the next attempt is not made.
    next_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX notify_deliveries_due ON notify_deliveries (state, next_at_ms);

CREATE TABLE notify_attempts (
    id INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES notify_deliveries (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at_ms INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    -- sent, or error.
    outcome TEXT NOT NULL,
    -- What went wrong, in words; never a URL or a password.
    error TEXT
) STRICT;

CREATE INDEX notify_attempts_by_time ON notify_attempts (at_ms);

CREATE TABLE notify_digests (
    channel TEXT PRIMARY KEY,
    -- The local day (YYYY-MM-DD in the digest's zone) of the last digest queued.
    last_day TEXT NOT NULL
) STRICT;
