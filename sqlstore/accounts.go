package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"iamd"
)

// SetPassword replaces a user's hash, retiring the old one to the history.
func (db *DB) SetPassword(ctx context.Context, c iamd.PasswordChange) error {
	return db.inTx(ctx, func(tx *txn) error {
		var old string
		err := db.queryRow(ctx, tx, `SELECT password_hash FROM users WHERE instance_id = ? AND id = ?`,
			c.InstanceID, c.UserID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return userNotFound(c.UserID)
		} else if err != nil {
			return internal("read password", err)
		}
		changed := iamd.Errorf(iamd.ECONFLICT, "The password of user %q was changed by another request.", c.UserID)
		if c.IfHash != "" && old != c.IfHash {
			return changed
		}
		if c.Rehash {
			res, err := db.exec(ctx, tx, `UPDATE users SET password_hash = ?, version = version + 1
				WHERE instance_id = ? AND id = ? AND password_hash = ?`, c.Hash, c.InstanceID, c.UserID, old)
			if err != nil {
				return internal("rehash password", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return changed
			}
			return db.insertEvent(ctx, tx, c.Event)
		}
		c.IfHash = old
		return db.replacePassword(ctx, tx, c)
	})
}

// replacePassword stores c's hash in place of c.IfHash — the condition makes concurrent
// changes on PostgreSQL, where the transaction does not hold the row, fail rather than
// lose one — retires the old hash to the history, and appends c's event.
func (db *DB) replacePassword(ctx context.Context, tx *txn, c iamd.PasswordChange) error {
	res, err := db.exec(ctx, tx, `UPDATE users SET password_hash = ?, temporary_password = ?,
		password_changed_at = ?, credentials_expired = ?, version = version + 1
		WHERE instance_id = ? AND id = ? AND password_hash = ?`,
		c.Hash, c.Temporary, micros(c.At), false, c.InstanceID, c.UserID, c.IfHash)
	if err != nil {
		return internal("set password", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return iamd.Errorf(iamd.ECONFLICT, "The password of user %q was changed by another request.", c.UserID)
	}
	if err := db.retirePassword(ctx, tx, c.UserID, c.IfHash, c.At, c.Keep); err != nil {
		return err
	}
	return db.insertEvent(ctx, tx, c.Event)
}

// retirePassword keeps a replaced hash in the user's history, of which the newest keep
// entries stay.
func (db *DB) retirePassword(ctx context.Context, tx *txn, userID, old string, at time.Time, keep int) error {
	if old != "" && keep > 0 {
		if _, err := db.exec(ctx, tx, `INSERT INTO password_history (user_id, hash, retired_at) VALUES (?, ?, ?)`,
			userID, old, micros(at)); err != nil {
			return internal("retire password", err)
		}
	}
	if _, err := db.exec(ctx, tx, `DELETE FROM password_history WHERE user_id = ? AND id NOT IN (
		SELECT id FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?)`, userID, userID, keep); err != nil {
		return internal("trim password history", err)
	}
	return nil
}

// PasswordHistory returns up to n retired hashes, newest first.
func (db *DB) PasswordHistory(ctx context.Context, instanceID, userID string, n int) ([]string, error) {
	return db.strings(ctx, db.read, `SELECT h.hash FROM password_history h JOIN users u ON u.id = h.user_id
		WHERE u.instance_id = ? AND h.user_id = ? ORDER BY h.id DESC LIMIT ?`, instanceID, userID, n)
}

// RecordSignInFailure counts a failure in one statement, which both engines apply
// atomically to the row: concurrent failures on any number of replicas all count. A
// failure after a lock has run out starts the count again at 1.
func (db *DB) RecordSignInFailure(ctx context.Context, f iamd.SignInFailure) (*iamd.SignInState, error) {
	at, lockUntil := micros(f.At), micros(f.At.Add(f.LockFor))
	var st iamd.SignInState
	err := db.inTx(ctx, func(tx *txn) error {
		var locked sql.NullInt64
		err := db.queryRow(ctx, tx, `UPDATE users SET
			password_failed_count = CASE WHEN locked_until <= ? THEN 1 ELSE password_failed_count + 1 END,
			locked_until = CASE
				WHEN locked_until > ? THEN locked_until
				WHEN (CASE WHEN locked_until <= ? THEN 1 ELSE password_failed_count + 1 END) >= ? THEN ?
				ELSE NULL END,
			last_failed_login_at = ?, version = version + 1
			WHERE instance_id = ? AND id = ?
			RETURNING password_failed_count, locked_until`,
			at, at, at, f.Threshold, lockUntil, at, f.InstanceID, f.UserID).Scan(&st.FailedCount, &locked)
		if errors.Is(err, sql.ErrNoRows) {
			return userNotFound(f.UserID)
		} else if err != nil {
			return internal("record sign-in failure", err)
		}
		st.LockedUntil = timePtr(locked)
		if err := db.insertEvent(ctx, tx, f.Event); err != nil {
			return err
		}
		if locked.Valid && locked.Int64 == lockUntil && st.FailedCount == f.Threshold {
			return db.insertEvent(ctx, tx, f.LockEvent)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// RecordSignInSuccess clears failures and stamps sign-in times, unless a concurrent
// failure locked the account meanwhile (ECONFLICT then).
func (db *DB) RecordSignInSuccess(ctx context.Context, s iamd.SignInSuccess) error {
	at := micros(s.At)
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `UPDATE users SET password_failed_count = 0, locked_until = NULL,
			first_login_at = COALESCE(first_login_at, ?), last_login_at = ?, version = version + 1
			WHERE instance_id = ? AND id = ? AND (locked_until IS NULL OR locked_until <= ?)`,
			at, at, s.InstanceID, s.UserID, at)
		if err != nil {
			return internal("record sign-in", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ECONFLICT, "User %q is locked or gone.", s.UserID)
		}
		if s.Password != nil {
			if err := db.replacePassword(ctx, tx, *s.Password); err != nil {
				return err
			}
		}
		if s.Session != nil {
			if err := db.insertSession(ctx, tx, s.Session); err != nil {
				return err
			}
		}
		return db.insertEvent(ctx, tx, s.Event)
	})
}

const sessionColumns = `id, instance_id, user_id, hash, password_change_only, created_at, expires_at, revoked_at`

func (db *DB) insertSession(ctx context.Context, tx *txn, s *iamd.Session) error {
	if err := db.requireUsers(ctx, tx, s.InstanceID, []string{s.UserID}); err != nil {
		return err
	}
	_, err := db.exec(ctx, tx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.InstanceID, s.UserID, s.Hash, s.PasswordChangeOnly, micros(s.CreatedAt), micros(s.ExpiresAt),
		nullMicros(s.RevokedAt))
	if v, _ := db.dialect.Classify(err); v == UniqueViolation {
		return &iamd.Error{Code: iamd.ECONFLICT, Message: fmt.Sprintf("Session %q already exists.", s.ID)}
	} else if err != nil {
		return internal("insert session", err)
	}
	return nil
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *iamd.Session, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.insertSession(ctx, tx, s); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// GetSessionByHash finds a session, revoked or not, by the SHA-256 of its token.
func (db *DB) GetSessionByHash(ctx context.Context, hash []byte) (*iamd.Session, error) {
	return db.getSession(ctx, `hash = ?`, hash)
}

// GetSession returns a session by id.
func (db *DB) GetSession(ctx context.Context, id string) (*iamd.Session, error) {
	return db.getSession(ctx, `id = ?`, id)
}

func (db *DB) getSession(ctx context.Context, cond string, arg any) (*iamd.Session, error) {
	var s iamd.Session
	var created, expires int64
	var revoked sql.NullInt64
	err := db.queryRow(ctx, db.read, `SELECT `+sessionColumns+` FROM sessions WHERE `+cond, arg).
		Scan(&s.ID, &s.InstanceID, &s.UserID, &s.Hash, &s.PasswordChangeOnly, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No such session.")
	} else if err != nil {
		return nil, internal("get session", err)
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMicros(created), fromMicros(expires), timePtr(revoked)
	return &s, nil
}

// ListSessions returns a user's live sessions, newest first.
func (db *DB) ListSessions(ctx context.Context, instanceID, userID string, now time.Time) ([]iamd.Session, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+sessionColumns+` FROM sessions
		WHERE instance_id = ? AND user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, id`,
		instanceID, userID, micros(now))
	if err != nil {
		return nil, internal("list sessions", err)
	}
	defer rows.Close()
	out := []iamd.Session{}
	for rows.Next() {
		var s iamd.Session
		var created, expires int64
		var revoked sql.NullInt64
		if err := rows.Scan(&s.ID, &s.InstanceID, &s.UserID, &s.Hash, &s.PasswordChangeOnly, &created, &expires, &revoked); err != nil {
			return nil, internal("scan session", err)
		}
		s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMicros(created), fromMicros(expires), timePtr(revoked)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list sessions", err)
	}
	return out, nil
}

// RevokeUserSessions revokes all of a user's unrevoked sessions.
func (db *DB) RevokeUserSessions(ctx context.Context, instanceID, userID string, at time.Time, ev iamd.Event) (int, error) {
	var n int64
	err := db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `UPDATE sessions SET revoked_at = ? WHERE instance_id = ? AND user_id = ? AND revoked_at IS NULL`,
			micros(at), instanceID, userID)
		if err != nil {
			return internal("revoke sessions", err)
		}
		if n, err = res.RowsAffected(); err != nil {
			return internal("revoke sessions", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
	return int(n), err
}

func (db *DB) revokeSession(ctx context.Context, tx *txn, id string, at int64) error {
	res, err := db.exec(ctx, tx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, at, id)
	if err != nil {
		return internal("revoke session", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return iamd.Errorf(iamd.ENOTFOUND, "No active session %q.", id)
	}
	return nil
}

// RotateSession revokes oldID and stores next in one transaction.
func (db *DB) RotateSession(ctx context.Context, oldID string, next *iamd.Session, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.revokeSession(ctx, tx, oldID, micros(next.CreatedAt)); err != nil {
			return err
		}
		if err := db.insertSession(ctx, tx, next); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// RevokeSession marks a session revoked.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.revokeSession(ctx, tx, id, micros(at)); err != nil {
			return err
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// PutTOTP stores an unconfirmed enrolment.
func (db *DB) PutTOTP(ctx context.Context, instanceID string, t *iamd.TOTP, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{t.UserID}); err != nil {
			return err
		}
		var confirmed bool
		err := db.queryRow(ctx, tx, `SELECT confirmed FROM totp WHERE user_id = ?`, t.UserID).Scan(&confirmed)
		switch {
		case err == nil && confirmed:
			return iamd.Errorf(iamd.ECONFLICT, "User %q is already enrolled in MFA; disable it first.", t.UserID)
		case err == nil:
			if _, err := db.exec(ctx, tx, `DELETE FROM totp WHERE user_id = ?`, t.UserID); err != nil {
				return internal("replace totp", err)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return internal("read totp", err)
		}
		// On PostgreSQL a concurrent enrolment can slip between the read and this insert;
		// the primary key then refuses the second.
		_, err = db.exec(ctx, tx, `INSERT INTO totp (user_id, secret_encrypted, confirmed, last_step, created_at)
			VALUES (?, ?, ?, ?, ?)`, t.UserID, t.SecretEncrypted, false, 0, micros(t.CreatedAt))
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return iamd.Errorf(iamd.ECONFLICT, "User %q is enrolling in MFA in another request.", t.UserID)
		} else if err != nil {
			return internal("insert totp", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// GetTOTP returns a user's enrolment.
func (db *DB) GetTOTP(ctx context.Context, instanceID, userID string) (*iamd.TOTP, error) {
	var t iamd.TOTP
	var created int64
	err := db.queryRow(ctx, db.read, `SELECT t.user_id, t.secret_encrypted, t.confirmed, t.last_step, t.created_at
		FROM totp t JOIN users u ON u.id = t.user_id WHERE u.instance_id = ? AND t.user_id = ?`, instanceID, userID).
		Scan(&t.UserID, &t.SecretEncrypted, &t.Confirmed, &t.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "User %q is not enrolled in MFA.", userID)
	} else if err != nil {
		return nil, internal("get totp", err)
	}
	t.CreatedAt = fromMicros(created)
	return &t, nil
}

// ConfirmTOTP confirms an enrolment and stores its recovery codes.
func (db *DB) ConfirmTOTP(ctx context.Context, instanceID, userID string, step int64, recoveryHashes [][]byte, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `UPDATE totp SET confirmed = ?, last_step = ? WHERE user_id = ? AND confirmed = ?`,
			true, step, userID, false)
		if err != nil {
			return internal("confirm totp", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "User %q has no MFA enrolment to confirm.", userID)
		}
		if _, err := db.exec(ctx, tx, `UPDATE users SET mfa_enabled = ?, version = version + 1 WHERE id = ?`, true, userID); err != nil {
			return internal("enable mfa", err)
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return internal("replace recovery codes", err)
		}
		for _, h := range recoveryHashes {
			if _, err := db.exec(ctx, tx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h); err != nil {
				return internal("insert recovery code", err)
			}
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// replaceTOTP replaces a user's enrolment and recovery codes with a confirmed enrolment
// made elsewhere (the user row's mfa_enabled is the caller's to set).
func (db *DB) replaceTOTP(ctx context.Context, tx *txn, t *iamd.TOTP) error {
	if err := db.dropTOTP(ctx, tx, t.UserID); err != nil {
		return err
	}
	if _, err := db.exec(ctx, tx, `INSERT INTO totp (user_id, secret_encrypted, confirmed, last_step, created_at) VALUES (?, ?, ?, 0, ?)`,
		t.UserID, t.SecretEncrypted, true, micros(t.CreatedAt)); err != nil {
		return internal("import totp", err)
	}
	return nil
}

// dropTOTP removes a user's enrolment and recovery codes.
func (db *DB) dropTOTP(ctx context.Context, tx *txn, userID string) error {
	for _, stmt := range []string{`DELETE FROM totp WHERE user_id = ?`, `DELETE FROM recovery_codes WHERE user_id = ?`} {
		if _, err := db.exec(ctx, tx, stmt, userID); err != nil {
			return internal("drop totp", err)
		}
	}
	return nil
}

// UseTOTPStep advances the last accepted step in one conditional update, so that of
// two concurrent uses of one code only one succeeds.
func (db *DB) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res, err := db.exec(ctx, db.write, `UPDATE totp SET last_step = ? WHERE user_id = ? AND confirmed = ? AND last_step < ?`,
		step, userID, true, step)
	if err != nil {
		return internal("use totp step", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return iamd.Errorf(iamd.ECONFLICT, "The one-time code was already used.")
	}
	return nil
}

// UseRecoveryCode spends a recovery code once.
func (db *DB) UseRecoveryCode(ctx context.Context, userID string, hash []byte, at time.Time) error {
	res, err := db.exec(ctx, db.write, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`,
		micros(at), userID, hash)
	if err != nil {
		return internal("use recovery code", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return iamd.Errorf(iamd.ENOTFOUND, "No such unused recovery code.")
	}
	return nil
}

// DeleteTOTP removes an enrolment and turns MFA off.
func (db *DB) DeleteTOTP(ctx context.Context, instanceID, userID string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		if err := db.requireUsers(ctx, tx, instanceID, []string{userID}); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `DELETE FROM totp WHERE user_id = ?`, userID)
		if err != nil {
			return internal("delete totp", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "User %q is not enrolled in MFA.", userID)
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return internal("delete recovery codes", err)
		}
		if _, err := db.exec(ctx, tx, `UPDATE users SET mfa_enabled = ?, version = version + 1 WHERE id = ?`, false, userID); err != nil {
			return internal("disable mfa", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}
