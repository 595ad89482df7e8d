-- Fewer pages written per event, since SQLite's single writer is what every change waits
-- on: each page a transaction dirties is a WAL frame written and checksummed.
--
-- AUTOINCREMENT kept a row in sqlite_sequence that every event insert rewrote. Events are
-- never deleted, so the largest rowid plus one — what SQLite picks without it — already
-- never reuses an id.
CREATE TABLE events_new (
    id          INTEGER PRIMARY KEY,
    instance_id TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    source      TEXT NOT NULL,
    time        INTEGER NOT NULL
);
INSERT INTO events_new SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_instance ON events (instance_id, id);
CREATE INDEX events_by_target ON events (instance_id, target_id, id);
