-- The number of users per instance, kept in step by every create and delete, so that an
-- unfiltered listing's total is one row read instead of a count over the whole index.
CREATE TABLE user_counts (
    instance_id TEXT PRIMARY KEY,
    users       BIGINT NOT NULL
);
INSERT INTO user_counts (instance_id, users) SELECT instance_id, count(*) FROM users GROUP BY instance_id;
