package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"iamd"
)

// EffectivePrivileges returns the user's direct privileges, those of its roles and those
// of its groups' roles, sorted and without repeats.
func (db *DB) EffectivePrivileges(ctx context.Context, instanceID, userID string) ([]string, error) {
	return db.strings(ctx, `
		SELECT privilege FROM user_privileges WHERE user_id = ?
		UNION
		SELECT rp.privilege FROM user_roles ur
			JOIN role_privileges rp ON rp.instance_id = ? AND rp.role = ur.role
			WHERE ur.user_id = ?
		UNION
		SELECT rp.privilege FROM group_members m
			JOIN group_roles gr ON gr.instance_id = m.instance_id AND gr.group_id = m.group_id
			JOIN role_privileges rp ON rp.instance_id = gr.instance_id AND rp.role = gr.role
			WHERE m.instance_id = ? AND m.user_id = ?
		ORDER BY 1`, userID, instanceID, userID, instanceID, userID)
}

// GrantPrivileges adds direct privileges to a user of the instance.
func (db *DB) GrantPrivileges(ctx context.Context, instanceID, userID string, privileges []string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		if err := db.grant(ctx, tx, userID, privileges); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
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
	return db.inTx(ctx, func(tx *sql.Tx) error {
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

// GetAccessKey finds a key by its public id, in any instance.
func (db *DB) GetAccessKey(ctx context.Context, id string) (*iamd.AccessKey, error) {
	var k iamd.AccessKey
	var created int64
	var expires sql.NullInt64
	err := db.queryRow(ctx, db.read, `SELECT id, instance_id, user_id, secret_encrypted, description, enabled,
		created_at, expires_at FROM access_keys WHERE id = ?`, id).
		Scan(&k.ID, &k.InstanceID, &k.UserID, &k.SecretEncrypted, &k.Description, &k.Enabled, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No such access key.")
	} else if err != nil {
		return nil, internal("get access key", err)
	}
	k.CreatedAt, k.ExpiresAt = fromMicros(created), timePtr(expires)
	return &k, nil
}

// CreateAPIToken stores a token's hash.
func (db *DB) CreateAPIToken(ctx context.Context, t *iamd.APIToken, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
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

// GetAPITokenByHash finds a token by the SHA-256 of its value.
func (db *DB) GetAPITokenByHash(ctx context.Context, hash []byte) (*iamd.APIToken, error) {
	var t iamd.APIToken
	var created int64
	var expires sql.NullInt64
	err := db.queryRow(ctx, db.read, `SELECT id, instance_id, user_id, hash, description, created_at, expires_at
		FROM api_tokens WHERE hash = ?`, hash).
		Scan(&t.ID, &t.InstanceID, &t.UserID, &t.Hash, &t.Description, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No such API token.")
	} else if err != nil {
		return nil, internal("get api token", err)
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), timePtr(expires)
	return &t, nil
}
