-- Every insert and delete of a user bumps its instance's change counter, whoever makes
-- it: a binary from before 0013 (a replica mid-upgrade) counts users but not changes, and
-- one create and one delete by it would otherwise leave a listing's anchors looking fresh
-- while every page behind them moved. Once per statement, not per row: a bulk import
-- inserts a thousand users a statement, and a thousand updates of one row in one
-- transaction would each walk the versions the others left.
CREATE FUNCTION iamd_users_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE user_counts c SET changes = c.changes + 1 FROM (SELECT DISTINCT instance_id FROM changed) d
		WHERE c.instance_id = d.instance_id;
	RETURN NULL;
END
$$;
CREATE TRIGGER users_inserted AFTER INSERT ON users REFERENCING NEW TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION iamd_users_changed();
CREATE TRIGGER users_deleted AFTER DELETE ON users REFERENCING OLD TABLE AS changed
	FOR EACH STATEMENT EXECUTE FUNCTION iamd_users_changed();
