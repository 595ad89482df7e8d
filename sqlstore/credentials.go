package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"iamd"
)

// userGroupsCTE names, as user_groups (id, direct), every group a user (the first
// parameter) is in: directly (direct 1), and through groups nested in others (direct 0),
// within one instance (the second parameter). UNION stops at groups already seen.
const userGroupsCTE = `WITH RECURSIVE user_groups (id, direct) AS (
		SELECT m.group_id, 1 FROM group_members m WHERE m.user_id = ?
		UNION
		SELECT s.group_id, 0 FROM group_subgroups s JOIN user_groups ug ON s.instance_id = ? AND s.member_id = ug.id)`

// EffectivePrivileges returns the user's direct privileges, those of its roles and those
// of the roles of every group it is in, directly or through nesting; sorted, without
// repeats.
func (db *DB) EffectivePrivileges(ctx context.Context, instanceID, userID string) ([]string, error) {
	return db.strings(ctx, db.read, userGroupsCTE+`
		SELECT privilege FROM user_privileges WHERE user_id = ?
		UNION
		SELECT rp.privilege FROM user_roles ur
			JOIN role_privileges rp ON rp.instance_id = ? AND rp.role = ur.role
			WHERE ur.user_id = ?
		UNION
		SELECT rp.privilege FROM user_groups ug
			JOIN group_roles gr ON gr.instance_id = ? AND gr.group_id = ug.id
			JOIN role_privileges rp ON rp.instance_id = gr.instance_id AND rp.role = gr.role
		ORDER BY 1`, userID, instanceID, userID, instanceID, userID, instanceID)
}

// EffectiveRoles returns the user's direct roles and its groups' roles.
func (db *DB) EffectiveRoles(ctx context.Context, instanceID, userID string) ([]string, error) {
	return db.strings(ctx, db.read, userGroupsCTE+`
		SELECT role FROM user_roles WHERE user_id = ?
		UNION
		SELECT gr.role FROM user_groups ug JOIN group_roles gr ON gr.instance_id = ? AND gr.group_id = ug.id
		ORDER BY 1`, userID, instanceID, userID, instanceID)
}

func (db *DB) grant(ctx context.Context, q querier, userID string, privileges []string) error {
	for _, p := range privileges {
		if _, err := db.exec(ctx, q, `INSERT INTO user_privileges (user_id, privilege) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			userID, p); err != nil {
			return internal("grant privilege", err)
		}
	}
	return nil
}

// CreateAccessKey stores a key pair whose secret the caller has already encrypted.
func (db *DB) CreateAccessKey(ctx context.Context, k *iamd.AccessKey, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, k.InstanceID, []string{k.UserID}); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO access_keys (id, instance_id, user_id, secret_encrypted, description,
			enabled, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.InstanceID, k.UserID, k.SecretEncrypted, k.Description, k.Enabled, micros(k.CreatedAt), nullMicros(k.ExpiresAt))
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldAccessKey, Message: "That access key already exists."}
		} else if err != nil {
			return internal("insert access key", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

const accessKeyColumns = `id, instance_id, user_id, secret_encrypted, description, enabled, created_at, expires_at, last_used_at`

func scanAccessKey(r rowScanner) (*iamd.AccessKey, error) {
	var k iamd.AccessKey
	var created int64
	var expires, used sql.NullInt64
	if err := r.Scan(&k.ID, &k.InstanceID, &k.UserID, &k.SecretEncrypted, &k.Description, &k.Enabled, &created, &expires, &used); err != nil {
		return nil, err
	}
	k.CreatedAt, k.ExpiresAt, k.LastUsedAt = fromMicros(created), timePtr(expires), timePtr(used)
	return &k, nil
}

// GetAccessKey finds a key by its public id, in any instance.
func (db *DB) GetAccessKey(ctx context.Context, id string) (*iamd.AccessKey, error) {
	k, err := scanAccessKey(db.queryRow(ctx, db.read, `SELECT `+accessKeyColumns+` FROM access_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No such access key.")
	} else if err != nil {
		return nil, internal("get access key", err)
	}
	return k, nil
}

// ListAccessKeys returns a user's keys, oldest first.
func (db *DB) ListAccessKeys(ctx context.Context, instanceID, userID string) ([]iamd.AccessKey, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+accessKeyColumns+` FROM access_keys
		WHERE instance_id = ? AND user_id = ? ORDER BY created_at, id`, instanceID, userID)
	if err != nil {
		return nil, internal("list access keys", err)
	}
	defer rows.Close()
	out := []iamd.AccessKey{}
	for rows.Next() {
		k, err := scanAccessKey(rows)
		if err != nil {
			return nil, internal("scan access key", err)
		}
		out = append(out, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list access keys", err)
	}
	return out, nil
}

// RevokeAccessKey deletes a key of the instance; its creation and revocation stay in
// the audit log.
func (db *DB) RevokeAccessKey(ctx context.Context, instanceID, id string, ev iamd.Event) error {
	return db.deleteCredential(ctx, "access_keys", instanceID, id, "access key", ev)
}

// RevokeAPITokens deletes tokens of the instance, each with its event, all or none.
func (db *DB) RevokeAPITokens(ctx context.Context, instanceID string, ids []string, evs []iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		for i, id := range ids {
			res, err := db.exec(ctx, tx, `DELETE FROM api_tokens WHERE instance_id = ? AND id = ?`, instanceID, id)
			if err != nil {
				return internal("revoke API token", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return iamd.Errorf(iamd.ENOTFOUND, "No API token %q.", id)
			}
			if err := db.insertEvent(ctx, tx, evs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (db *DB) deleteCredential(ctx context.Context, table, instanceID, id, kind string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `DELETE FROM `+table+` WHERE instance_id = ? AND id = ?`, instanceID, id)
		if err != nil {
			return internal("revoke "+kind, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "No %s %q.", kind, id)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// TouchAccessKey records that a key was used at at.
func (db *DB) TouchAccessKey(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, db.write, `UPDATE access_keys SET last_used_at = ? WHERE id = ?`, micros(at), id); err != nil {
		return internal("touch access key", err)
	}
	return nil
}

// TouchAPIToken records that a token was used at at.
func (db *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if _, err := db.exec(ctx, db.write, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micros(at), id); err != nil {
		return internal("touch api token", err)
	}
	return nil
}

// CreateAPIToken stores a token's hash.
func (db *DB) CreateAPIToken(ctx context.Context, t *iamd.APIToken, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, t.InstanceID, []string{t.UserID}); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO api_tokens (id, instance_id, user_id, hash, description, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.InstanceID, t.UserID, t.Hash, t.Description, micros(t.CreatedAt), nullMicros(t.ExpiresAt))
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return &iamd.Error{Code: iamd.ECONFLICT, Message: fmt.Sprintf("API token %q already exists.", t.ID)}
		} else if err != nil {
			return internal("insert api token", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

const apiTokenColumns = `id, instance_id, user_id, hash, description, created_at, expires_at, last_used_at`

func scanAPIToken(r rowScanner) (*iamd.APIToken, error) {
	var t iamd.APIToken
	var created int64
	var expires, used sql.NullInt64
	if err := r.Scan(&t.ID, &t.InstanceID, &t.UserID, &t.Hash, &t.Description, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt, t.LastUsedAt = fromMicros(created), timePtr(expires), timePtr(used)
	return &t, nil
}

// GetAPIToken returns one token of the instance by id.
func (db *DB) GetAPIToken(ctx context.Context, instanceID, id string) (*iamd.APIToken, error) {
	t, err := scanAPIToken(db.queryRow(ctx, db.read, `SELECT `+apiTokenColumns+` FROM api_tokens WHERE instance_id = ? AND id = ?`,
		instanceID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No API token %q.", id)
	} else if err != nil {
		return nil, internal("get api token", err)
	}
	return t, nil
}

// ListAPITokens returns a user's tokens, oldest first.
func (db *DB) ListAPITokens(ctx context.Context, instanceID, userID string) ([]iamd.APIToken, error) {
	return db.listAPITokens(ctx, `instance_id = ? AND user_id = ?`, instanceID, userID)
}

// ListInstanceAPITokens returns every token of the instance, oldest first.
func (db *DB) ListInstanceAPITokens(ctx context.Context, instanceID string) ([]iamd.APIToken, error) {
	return db.listAPITokens(ctx, `instance_id = ?`, instanceID)
}

func (db *DB) listAPITokens(ctx context.Context, where string, args ...any) ([]iamd.APIToken, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+apiTokenColumns+` FROM api_tokens
		WHERE `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, internal("list api tokens", err)
	}
	defer rows.Close()
	out := []iamd.APIToken{}
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, internal("scan api token", err)
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list api tokens", err)
	}
	return out, nil
}
