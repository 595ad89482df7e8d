-- Every insert and delete of a user bumps its instance's change counter, whoever makes
-- it: a binary from before 0013 (a replica mid-upgrade, an older CLI on this file) counts
-- users but not changes, and one create and one delete by it would otherwise leave a
-- listing's anchors looking fresh while every page behind them moved.
CREATE TRIGGER users_changes_insert AFTER INSERT ON users BEGIN
	UPDATE user_counts SET changes = changes + 1 WHERE instance_id = NEW.instance_id;
END;
CREATE TRIGGER users_changes_delete AFTER DELETE ON users BEGIN
	UPDATE user_counts SET changes = changes + 1 WHERE instance_id = OLD.instance_id;
END;
