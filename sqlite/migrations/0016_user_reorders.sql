-- The number of inserts and deletes of users that moved other users' positions in an
-- instance's default order (created_at, then id). A create comes after every user there
-- is (its created_at is now, its id later still), so it moves none, and anchors built
-- before it stay exact: a listing uses them while it reads the value they were built at,
-- and the users created since simply follow the last of them. An insert before any
-- existing user (an import of old users, a clock set back, another binary) and every
-- delete count, whoever makes them. SQLite runs one writer at a time, so nothing can
-- commit between the check below and the insert's own commit.
ALTER TABLE user_counts ADD COLUMN reorders BIGINT NOT NULL DEFAULT 0;
CREATE TRIGGER users_reorders_insert AFTER INSERT ON users
WHEN EXISTS (SELECT 1 FROM users u WHERE u.instance_id = NEW.instance_id AND (u.created_at, u.id) > (NEW.created_at, NEW.id))
BEGIN
	UPDATE user_counts SET reorders = reorders + 1 WHERE instance_id = NEW.instance_id;
END;
CREATE TRIGGER users_reorders_delete AFTER DELETE ON users BEGIN
	UPDATE user_counts SET reorders = reorders + 1 WHERE instance_id = OLD.instance_id;
END;
