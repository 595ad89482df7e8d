-- The number of statements that inserted or deleted users so as to move other users'
-- positions in an instance's default order (created_at, then id). A create comes after
-- every user there is (its created_at is now, its id later still), so it moves none, and
-- anchors built before it stay exact: a listing uses them while it reads the value they
-- were built at, and the users created since simply follow the last of them. An insert
-- before any existing user (an import of old users, a clock behind another replica's,
-- another binary) and every delete count, whoever makes them.
--
-- Why concurrent creates cannot slip past: the function first updates the instance's
-- row of user_counts, which every insert and delete of a user does (this trigger, for
-- any writer), and so holds that row until it commits; only then does it look for a
-- later user, in a snapshot of its own (READ COMMITTED, a statement of a volatile
-- function). A user committed before the look is seen by it; a user committed after it
-- waited for this transaction's commit. A snapshot that reads the counter before this
-- commit therefore holds no user this insert moves.
ALTER TABLE user_counts ADD COLUMN reorders BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION iamd_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE user_counts c SET changes = c.changes + 1 FROM (SELECT DISTINCT instance_id FROM changed) d
		WHERE c.instance_id = d.instance_id;
	UPDATE user_counts c SET reorders = c.reorders + 1 FROM (SELECT DISTINCT n.instance_id FROM changed n
		WHERE TG_OP = 'DELETE' OR EXISTS (SELECT 1 FROM users u WHERE u.instance_id = n.instance_id
			AND (u.created_at, u.id) > (n.created_at, n.id))) d
		WHERE c.instance_id = d.instance_id;
	RETURN NULL;
END
$$;
