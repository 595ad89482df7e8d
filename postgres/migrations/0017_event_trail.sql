-- The audit trail becomes readable (the native API's events): each event names the face
-- it came through and the fields a change set (names only, comma-separated), and can be
-- filtered by actor and by type without walking the instance's whole log; retention
-- deletes by time.
ALTER TABLE events ADD COLUMN face TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN changes TEXT NOT NULL DEFAULT '';
CREATE INDEX events_by_actor ON events (instance_id, actor_id, id);
CREATE INDEX events_by_action ON events (instance_id, action, id);
CREATE INDEX events_by_time ON events (time);
