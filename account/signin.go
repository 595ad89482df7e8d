package account

import (
	"context"
	"crypto/sha256"
	"strings"
	"time"

	"iamd"
)

// DefaultSessionTTL is how long a session token lasts before it must be refreshed:
// VikingCloud's token API documents expiresIn 3600.
const DefaultSessionTTL = time.Hour

const sessionTokenPrefix = "iamds_"

var _ iamd.AccountService = (*Service)(nil)

// WithHasher sets how passwords are hashed and verified.
func WithHasher(h *Hasher) Option { return func(s *Service) { s.hasher = h } }

// WithSessionTTL sets the lifetime of session tokens.
func WithSessionTTL(d time.Duration) Option { return func(s *Service) { s.sessionTTL = d } }

// verifyPassword is what every password sign-in starts with: the instance, the user, the
// password and the account's state. fail audits a refusal and answers like every other.
func (s *Service) verifyPassword(ctx context.Context, in iamd.SignIn, now time.Time) (inst *iamd.Instance, u *iamd.User,
	rehash bool, fail func(userID, reason string) error, err error) {
	fail = func(userID, reason string) error {
		ev := s.systemEvent(ctx, in.InstanceID, iamd.ActionSignIn, "user", userID, now)
		ev.ActorName, ev.Outcome, ev.Reason = in.LoginName, iamd.OutcomeFailure, reason
		if err := s.store.AppendEvent(ctx, ev); err != nil {
			return err
		}
		return failed()
	}
	inst, err = s.store.GetInstance(ctx, in.InstanceID)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		s.hasher.Dummy(in.Password)
		return nil, nil, false, nil, failed() // no instance to log to
	} else if err != nil {
		return nil, nil, false, nil, err
	}
	u, err = s.store.GetUserByLogin(ctx, in.InstanceID, in.LoginName)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		s.hasher.Dummy(in.Password)
		return nil, nil, false, nil, fail("", "unknown login name")
	} else if err != nil {
		return nil, nil, false, nil, err
	}
	if u.PasswordHash == "" {
		s.hasher.Dummy(in.Password)
		return nil, nil, false, nil, fail(u.ID, "the user has no password")
	}
	var ok bool
	ok, rehash, err = s.hasher.Verify(u.PasswordHash, in.Password)
	if err != nil {
		// Logged for the operator, never counted as the user's failure.
		s.log.Error("stored password hash is unreadable", "instance", u.InstanceID, "user", u.ID, "err", err)
		return nil, nil, false, nil, fail(u.ID, "the stored password hash is unreadable")
	}
	locked := u.LockedUntil != nil && u.LockedUntil.After(now)
	if !ok {
		// Wrong passwords count even while locked, so that the count is exactly the
		// number of wrong guesses however they interleave.
		reason := "wrong password"
		if locked {
			reason = "wrong password while locked"
		}
		if err := s.recordFailure(ctx, inst, u, iamd.ActionSignIn, reason, now); err != nil {
			return nil, nil, false, nil, err
		}
		return nil, nil, false, nil, failed()
	}
	switch {
	case u.Status != iamd.UserActive:
		return nil, nil, false, nil, fail(u.ID, "the user is "+string(u.Status))
	case u.Expired:
		return nil, nil, false, nil, fail(u.ID, "the account has expired")
	case locked:
		return nil, nil, false, nil, fail(u.ID, "the user is locked")
	}
	return inst, u, rehash, fail, nil
}

// AuthenticatePassword is a sign-in that opens no session: for APIs that take a login
// name and password on every request (HTTP Basic). Wrong passwords count towards the
// lockout as at sign-in; a user enrolled in MFA cannot authenticate this way, having no
// place to send a code; a temporary or expired password allows only changing it.
func (s *Service) AuthenticatePassword(ctx context.Context, instanceID, loginName, password string) (*iamd.Principal, error) {
	now := s.clock()
	in := iamd.SignIn{InstanceID: instanceID, LoginName: loginName, Password: password}
	inst, u, rehash, fail, err := s.verifyPassword(ctx, in, now)
	if err != nil {
		return nil, err
	}
	if u.MFAEnabled {
		return nil, fail(u.ID, "a user enrolled in MFA cannot authenticate with a password alone")
	}
	if rehash {
		s.rehash(ctx, u, password, now)
	}
	p, err := s.principal(ctx, u.InstanceID, u.ID, apiAccess)
	if err != nil {
		return nil, err
	}
	if u.TemporaryPassword || CredentialsExpired(inst.Policy, u, now) {
		p.PasswordChangeOnly, p.PlatformAdmin, p.Privileges = true, false, nil
	}
	return p, nil
}

// SignIn verifies a password and, for users enrolled in MFA, a one-time code, and opens
// a session. Every way of failing answers the caller alike; the audit log says why.
// Unknown users cost one password hash, as known ones do.
func (s *Service) SignIn(ctx context.Context, in iamd.SignIn) (*iamd.SessionGrant, error) {
	now := s.clock()
	inst, u, rehash, fail, err := s.verifyPassword(ctx, in, now)
	if err != nil {
		return nil, err
	}
	if u.ConsoleDenied { // an interactive sign-in is console access
		return nil, fail(u.ID, "console access is not allowed for the user (its access rules)")
	}
	if u.MFAEnabled {
		switch err := s.verifySecondFactor(ctx, u, in, now); {
		case err == ErrCodeRequired:
			if err := fail(u.ID, "one-time code required"); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				return nil, err
			}
			return nil, ErrCodeRequired
		case iamd.ErrorCode(err) == iamd.EUNAUTHENTICATED:
			// Codes are short: wrong ones count towards the lockout like wrong passwords.
			if err := s.recordFailure(ctx, inst, u, iamd.ActionSignIn, iamd.ErrorMessage(err), now); err != nil {
				return nil, err
			}
			return nil, failed()
		case err != nil:
			return nil, err
		}
	}
	changeOnly := u.TemporaryPassword || CredentialsExpired(inst.Policy, u, now)
	success := iamd.SignInSuccess{InstanceID: u.InstanceID, UserID: u.ID, At: now}
	if changeOnly && in.NewPassword != "" {
		// The password is changed and a full session opened in one transaction.
		if err := s.acceptable(ctx, inst, u, in.NewPassword); err != nil {
			return nil, err
		}
		hash, err := s.hasher.Hash(in.NewPassword)
		if err != nil {
			return nil, err
		}
		ev := s.systemEvent(ctx, u.InstanceID, iamd.ActionPasswordSet, "user", u.ID, now)
		ev.ActorID, ev.ActorName = u.ID, u.LoginName
		success.Password = &iamd.PasswordChange{InstanceID: u.InstanceID, UserID: u.ID, Hash: hash, At: now,
			Keep: inst.Policy.RetiredHashesKept(), IfHash: u.PasswordHash, Event: ev}
		changeOnly, rehash = false, false
	}
	if rehash {
		s.rehash(ctx, u, in.Password, now)
	}
	token, sess := s.newSession(u, changeOnly, now)
	ev := s.systemEvent(ctx, u.InstanceID, iamd.ActionSignIn, "user", u.ID, now)
	ev.ActorID, ev.ActorName = u.ID, u.LoginName
	success.Session, success.Event = sess, ev
	err = s.store.RecordSignInSuccess(ctx, success)
	if iamd.ErrorCode(err) == iamd.ECONFLICT {
		return nil, fail(u.ID, "the user was locked during the sign-in")
	} else if err != nil {
		return nil, err
	}
	return &iamd.SessionGrant{Session: sess, Token: token}, nil
}

// recordFailure counts a failed proof of identity by u towards the lockout, with its
// audit event, and a lock event if it is the failure that locks.
func (s *Service) recordFailure(ctx context.Context, inst *iamd.Instance, u *iamd.User, action, reason string, now time.Time) error {
	ev := s.systemEvent(ctx, u.InstanceID, action, "user", u.ID, now)
	ev.ActorID, ev.ActorName, ev.Outcome, ev.Reason = u.ID, u.LoginName, iamd.OutcomeFailure, reason
	lock := s.systemEvent(ctx, u.InstanceID, iamd.ActionUserLock, "user", u.ID, now)
	lock.Reason = "too many failed sign-ins"
	_, err := s.store.RecordSignInFailure(ctx, iamd.SignInFailure{InstanceID: u.InstanceID, UserID: u.ID, At: now,
		Threshold: inst.Policy.LockoutThreshold, LockFor: inst.Policy.LockoutDuration, Event: ev, LockEvent: lock})
	return err
}

// rehash stores the password under the current argon2id parameters. It is best effort:
// a failure leaves the old, still valid hash, and the next sign-in tries again.
func (s *Service) rehash(ctx context.Context, u *iamd.User, pw string, now time.Time) {
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return
	}
	ev := s.systemEvent(ctx, u.InstanceID, iamd.ActionPasswordRehash, "user", u.ID, now)
	s.store.SetPassword(ctx, iamd.PasswordChange{InstanceID: u.InstanceID, UserID: u.ID, Hash: hash, At: now,
		IfHash: u.PasswordHash, Rehash: true, Event: ev})
}

// CredentialsExpired reports whether u's password must be changed before anything else:
// flagged so, or older than the policy's maximum age. Faces that show the state
// (VikingCloud's credentialsExpired) ask here rather than read the flag alone.
func CredentialsExpired(p iamd.AccountPolicy, u *iamd.User, now time.Time) bool {
	if u.CredentialsExpired {
		return true
	}
	return p.PasswordMaxAge > 0 && u.PasswordChangedAt != nil && !u.PasswordChangedAt.Add(p.PasswordMaxAge).After(now)
}

func (s *Service) newSession(u *iamd.User, changeOnly bool, now time.Time) (string, *iamd.Session) {
	token := sessionTokenPrefix + randomFrom(secretLen, secretAlphabet)
	sum := sha256.Sum256([]byte(token))
	return token, &iamd.Session{ID: iamd.NewID(), InstanceID: u.InstanceID, UserID: u.ID, Hash: sum[:],
		PasswordChangeOnly: changeOnly, CreatedAt: now, ExpiresAt: now.Add(s.sessionTTL)}
}

// activeSession finds the unrevoked, unexpired session a token names.
func (s *Service) activeSession(ctx context.Context, token string) (*iamd.Session, error) {
	if !strings.HasPrefix(token, sessionTokenPrefix) {
		return nil, failed()
	}
	sum := sha256.Sum256([]byte(token))
	sess, err := s.store.GetSessionByHash(ctx, sum[:])
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, failed()
	} else if err != nil {
		return nil, err
	}
	if sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return nil, failed()
	}
	return sess, nil
}

// Refresh exchanges a live session token for a new one with a fresh expiry; the old
// token stops working. A password-change-only session comes back a full one when the
// password no longer needs changing.
func (s *Service) Refresh(ctx context.Context, token string) (*iamd.SessionGrant, error) {
	old, err := s.activeSession(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.rotate(ctx, old)
}

// rotate replaces a live session with a new one, fresh of expiry: the old one's tokens
// stop working.
func (s *Service) rotate(ctx context.Context, old *iamd.Session) (*iamd.SessionGrant, error) {
	p, err := s.principal(ctx, old.InstanceID, old.UserID, consoleAccess)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	changeOnly := old.PasswordChangeOnly
	if changeOnly {
		// A session opened to change a password becomes a full one once it is changed:
		// the sign-in (its one-time code included) was proved when it was opened.
		inst, u, err := s.instanceUser(ctx, old.InstanceID, old.UserID)
		if err != nil {
			return nil, err
		}
		changeOnly = u.TemporaryPassword || CredentialsExpired(inst.Policy, u, now)
	}
	u := &iamd.User{ID: old.UserID, InstanceID: old.InstanceID}
	next, sess := s.newSession(u, changeOnly, now)
	ev := s.systemEvent(ctx, old.InstanceID, iamd.ActionSessionRefresh, "session", old.ID, now)
	ev.ActorID, ev.ActorName = p.UserID, p.Name
	err = s.store.RotateSession(ctx, old.ID, sess, ev)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, failed() // refreshed or revoked meanwhile
	} else if err != nil {
		return nil, err
	}
	return &iamd.SessionGrant{Session: sess, Token: next}, nil
}

// SignOut revokes a session token, on every replica at once.
func (s *Service) SignOut(ctx context.Context, token string) error {
	sess, err := s.activeSession(ctx, token)
	if err != nil {
		return err
	}
	now := s.clock()
	ev := s.systemEvent(ctx, sess.InstanceID, iamd.ActionSignOut, "session", sess.ID, now)
	ev.ActorID = sess.UserID
	if err := s.store.RevokeSession(ctx, sess.ID, now, ev); iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return failed()
	} else if err != nil {
		return err
	}
	return nil
}

// ChangePassword changes the caller's own password; the current one must be given. A
// wrong current password counts as a failed sign-in.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil || p.UserID == "" {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	inst, u, err := s.instanceUser(ctx, p.InstanceID, p.UserID)
	if err != nil {
		return err
	}
	now := s.clock()
	ok := false
	if u.PasswordHash != "" {
		var err error
		if ok, _, err = s.hasher.Verify(u.PasswordHash, current); err != nil {
			// A stored hash that cannot be read is the operator's problem: logged (never
			// the hash itself), and not the user's failed attempt.
			s.log.Error("stored password hash is unreadable", "instance", u.InstanceID, "user", u.ID, "err", err)
			return iamd.Errorf(iamd.EINTERNAL, "the stored password hash of user %s is unreadable", u.ID)
		}
	}
	if !ok {
		if err := s.recordFailure(ctx, inst, u, iamd.ActionPasswordSet, "wrong current password", now); err != nil {
			return err
		}
		return iamd.Invalid(iamd.FieldCurrentPassword, "the current password is wrong")
	}
	return s.storePassword(ctx, p, inst, u, next, now)
}

// acceptable checks pw against the instance's policy and u's password history.
func (s *Service) acceptable(ctx context.Context, inst *iamd.Instance, u *iamd.User, pw string) error {
	if err := CheckPassword(inst.Policy, u, pw); err != nil {
		return err
	}
	if n := inst.Policy.PasswordHistory; n > 0 {
		previous, err := s.store.PasswordHistory(ctx, u.InstanceID, u.ID, inst.Policy.RetiredHashesKept())
		if err != nil {
			return err
		}
		if u.PasswordHash != "" {
			previous = append([]string{u.PasswordHash}, previous...)
		}
		for _, h := range previous {
			ok, _, err := s.hasher.Verify(h, pw)
			if err != nil {
				s.log.Error("password history holds an unreadable hash", "instance", u.InstanceID, "user", u.ID, "err", err)
				continue
			}
			if ok {
				return iamd.Invalid(iamd.FieldPassword, "password must differ from the last %d passwords (rule: password history)", n)
			}
		}
	}
	return nil
}

// NewPasswordHash holds pw to policy for u, as it will be once changed, and to u's
// password history, and hashes it: what the directory needs to set a password as part
// of a change (directory.Credentials).
func (s *Service) NewPasswordHash(ctx context.Context, policy iamd.AccountPolicy, u *iamd.User, pw string) (string, error) {
	if err := s.acceptable(ctx, &iamd.Instance{ID: u.InstanceID, Policy: policy}, u, pw); err != nil {
		return "", err
	}
	return s.hasher.Hash(pw)
}

// CheckImportedHash tells whether a hash made elsewhere can be verified (see CheckHash).
func (s *Service) CheckImportedHash(hash string) error { return CheckHash(hash) }

func (s *Service) instanceUser(ctx context.Context, instanceID, userID string) (*iamd.Instance, *iamd.User, error) {
	inst, err := s.store.GetInstance(ctx, instanceID)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.store.GetUser(ctx, instanceID, userID)
	if err != nil {
		return nil, nil, err
	}
	if u.SSO {
		return nil, nil, iamd.Invalid(iamd.FieldPassword, "users who sign in through SSO have no password here")
	}
	return inst, u, nil
}

func (s *Service) storePassword(ctx context.Context, p *iamd.Principal, inst *iamd.Instance, u *iamd.User, pw string, now time.Time) error {
	if err := s.acceptable(ctx, inst, u, pw); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return err
	}
	ev := s.event(ctx, p, u.InstanceID, iamd.ActionPasswordSet, "user", u.ID, now)
	return s.store.SetPassword(ctx, iamd.PasswordChange{InstanceID: u.InstanceID, UserID: u.ID, Hash: hash, At: now,
		Keep: inst.Policy.RetiredHashesKept(), IfHash: u.PasswordHash, Event: ev})
}

// event is the audit record of an act by p.
func (s *Service) event(ctx context.Context, p *iamd.Principal, instanceID, action, targetType, targetID string, at time.Time) iamd.Event {
	ev := s.systemEvent(ctx, instanceID, action, targetType, targetID, at)
	ev.ActorID, ev.ActorName = p.UserID, p.Name
	return ev
}

// systemEvent is the audit record of something the core does on its own account.
func (s *Service) systemEvent(ctx context.Context, instanceID, action, targetType, targetID string, at time.Time) iamd.Event {
	return iamd.Event{InstanceID: instanceID, Action: action, TargetType: targetType, TargetID: targetID,
		Outcome: iamd.OutcomeSuccess, Source: iamd.SourceFromContext(ctx), Face: iamd.FaceFromContext(ctx), Time: at}
}

// ListSessions returns a user's live sessions (USER_READ): the tokens it signed in for,
// which are never shown again, by id and times only.
func (s *Service) ListSessions(ctx context.Context, instanceID, userID string) ([]iamd.Session, error) {
	if _, err := iamd.Authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	if _, _, err := s.instanceUser(ctx, instanceID, userID); err != nil {
		return nil, err
	}
	return s.store.ListSessions(ctx, instanceID, userID, s.clock())
}

// RevokeSession ends one session of a user (USER_WRITE, covering the user), at once on
// every replica. A session of another user or instance is no such session.
func (s *Service) RevokeSession(ctx context.Context, instanceID, userID, sessionID string) error {
	p, err := s.authorizeOn(ctx, instanceID, userID, iamd.PrivilegeUserWrite)
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(ctx, sessionID)
	if err == nil && (sess.InstanceID != instanceID || sess.UserID != userID || sess.RevokedAt != nil) {
		err = iamd.Errorf(iamd.ENOTFOUND, "The user has no session %q.", sessionID)
	}
	if err != nil {
		return err
	}
	now := s.clock()
	return s.store.RevokeSession(ctx, sessionID, now, s.event(ctx, p, instanceID, iamd.ActionSessionRevoke, "user", userID, now))
}

// ExpireSessions signs a user out everywhere (USER_WRITE, covering the user): every
// session it holds stops working at once, on every replica. It tells how many there were.
func (s *Service) ExpireSessions(ctx context.Context, instanceID, userID string) (int, error) {
	p, err := s.authorizeOn(ctx, instanceID, userID, iamd.PrivilegeUserWrite)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	return s.store.RevokeUserSessions(ctx, instanceID, userID, now, s.event(ctx, p, instanceID, iamd.ActionSessionsExpire, "user", userID, now))
}
