-- The number of inserts and deletes of users per instance, bumped by every write that
-- changes who is in the instance: a listing's cached anchors (positions in the default
-- order) are exact while it reads the value they were built at.
ALTER TABLE user_counts ADD COLUMN changes BIGINT NOT NULL DEFAULT 0;
