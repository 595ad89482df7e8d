package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"iamd"
)

var _ iamd.CredentialChecker = (*DB)(nil)

// ownerColumns are the owner's columns every credential check reads, from users u:
// joined on its primary key, so a check stays one index look-up and one row.
const ownerColumns = `u.version, u.status, u.expired, u.console_denied, u.api_denied`

// remembered answers a credential check from the read cache, or runs check and
// remembers what it read.
func (db *DB) remembered(ctx context.Context, kind string, key []byte, check func() (*iamd.CredentialState, error)) (*iamd.CredentialState, error) {
	view := db.begin(ctx)
	name := credentialKey(kind, key)
	if c := db.cache.credential(view, name); c != nil {
		return c, nil
	}
	c, err := check()
	if err == nil {
		db.cache.putCredential(view, name, c)
	}
	return c, err
}

// CheckAccessKey reads a key with its owner's version and state, in one statement.
func (db *DB) CheckAccessKey(ctx context.Context, id string) (*iamd.CredentialState, error) {
	return db.remembered(ctx, "k", []byte(id), func() (*iamd.CredentialState, error) { return db.checkAccessKey(ctx, id) })
}

func (db *DB) checkAccessKey(ctx context.Context, id string) (*iamd.CredentialState, error) {
	var c iamd.CredentialState
	var created int64
	var expires, used sql.NullInt64
	var status string
	err := db.queryRow(ctx, db.read, `SELECT k.id, k.instance_id, k.user_id, k.secret_encrypted, k.enabled, k.created_at,
			k.expires_at, k.last_used_at, `+ownerColumns+`
		FROM access_keys k JOIN users u ON u.id = k.user_id AND u.instance_id = k.instance_id WHERE k.id = ?`, id).
		Scan(&c.ID, &c.InstanceID, &c.UserID, &c.SecretEncrypted, &c.Enabled, &created, &expires, &used,
			&c.UserVersion, &status, &c.UserExpired, &c.ConsoleDenied, &c.APIDenied)
	if err != nil {
		return nil, checkFailed("access key", err)
	}
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt, c.UserStatus = fromMicros(created), timePtr(expires), timePtr(used), iamd.UserStatus(status)
	return &c, nil
}

// CheckAPIToken reads a token, by the SHA-256 of its value, with its owner's version
// and state, in one statement.
func (db *DB) CheckAPIToken(ctx context.Context, hash []byte) (*iamd.CredentialState, error) {
	return db.remembered(ctx, "t", hash, func() (*iamd.CredentialState, error) { return db.checkAPIToken(ctx, hash) })
}

func (db *DB) checkAPIToken(ctx context.Context, hash []byte) (*iamd.CredentialState, error) {
	c := iamd.CredentialState{Enabled: true}
	var created int64
	var expires, used sql.NullInt64
	var status string
	err := db.queryRow(ctx, db.read, `SELECT t.id, t.instance_id, t.user_id, t.created_at, t.expires_at, t.last_used_at, `+ownerColumns+`
		FROM api_tokens t JOIN users u ON u.id = t.user_id AND u.instance_id = t.instance_id WHERE t.hash = ?`, hash).
		Scan(&c.ID, &c.InstanceID, &c.UserID, &created, &expires, &used,
			&c.UserVersion, &status, &c.UserExpired, &c.ConsoleDenied, &c.APIDenied)
	if err != nil {
		return nil, checkFailed("API token", err)
	}
	c.CreatedAt, c.ExpiresAt, c.LastUsedAt, c.UserStatus = fromMicros(created), timePtr(expires), timePtr(used), iamd.UserStatus(status)
	return &c, nil
}

// CheckSession reads a session, by the SHA-256 of its token, with its owner's version
// and state, in one statement.
func (db *DB) CheckSession(ctx context.Context, hash []byte) (*iamd.CredentialState, error) {
	return db.remembered(ctx, "s", hash, func() (*iamd.CredentialState, error) { return db.checkSession(ctx, `s.hash = ?`, hash) })
}

// CheckSessionID reads a session by id with its owner's version and state.
func (db *DB) CheckSessionID(ctx context.Context, id string) (*iamd.CredentialState, error) {
	return db.remembered(ctx, "i", []byte(id), func() (*iamd.CredentialState, error) { return db.checkSession(ctx, `s.id = ?`, id) })
}

func (db *DB) checkSession(ctx context.Context, cond string, arg any) (*iamd.CredentialState, error) {
	c := iamd.CredentialState{Enabled: true}
	var created, expires int64
	var revoked sql.NullInt64
	var status string
	err := db.queryRow(ctx, db.read, `SELECT s.id, s.instance_id, s.user_id, s.password_change_only, s.created_at, s.expires_at,
			s.revoked_at, `+ownerColumns+`
		FROM sessions s JOIN users u ON u.id = s.user_id AND u.instance_id = s.instance_id WHERE `+cond, arg).
		Scan(&c.ID, &c.InstanceID, &c.UserID, &c.PasswordChangeOnly, &created, &expires, &revoked,
			&c.UserVersion, &status, &c.UserExpired, &c.ConsoleDenied, &c.APIDenied)
	if err != nil {
		return nil, checkFailed("session", err)
	}
	exp := fromMicros(expires)
	c.CreatedAt, c.ExpiresAt, c.RevokedAt, c.UserStatus = fromMicros(created), &exp, timePtr(revoked), iamd.UserStatus(status)
	return &c, nil
}

func checkFailed(kind string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return iamd.Errorf(iamd.ENOTFOUND, "No such %s.", kind)
	}
	return internal("check "+kind, err)
}
