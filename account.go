package iamd

import (
	"context"
	"time"
)

// PasswordChange replaces a user's password hash; the hash it replaces is retired to the
// user's history, of which the newest Keep entries are kept.
type PasswordChange struct {
	InstanceID string
	UserID     string
	Hash       string
	At         time.Time
	Temporary  bool // the next sign-in must change it
	Keep       int
	// IfHash, when set, makes the change happen only while the stored hash is still this
	// one (a rehash on sign-in must not undo a concurrent password change).
	IfHash string
	// Rehash stores the same password under a new hash: the history, the temporary flag
	// and the change time stay as they are.
	Rehash bool
	Event  Event
}

// SignInFailure records one failed sign-in. Failures are counted in the database with
// one atomic increment, so concurrent failures on any replica all count.
type SignInFailure struct {
	InstanceID string
	UserID     string
	At         time.Time
	Threshold  int           // the failure that reaches it locks the account
	LockFor    time.Duration // for this long from At
	Event      Event         // the failure itself
	LockEvent  Event         // also appended when this failure locks the account
}

// SignInState is a user's failure count and lock after a recorded failure.
type SignInState struct {
	FailedCount int
	LockedUntil *time.Time
}

// SignInSuccess records a successful sign-in: the failure count and any lock are
// cleared and the first and last sign-in times stamped.
type SignInSuccess struct {
	InstanceID string
	UserID     string
	At         time.Time
	Session    *Session // created in the same transaction
	Event      Event
	// Password, when set, replaces the user's password in the same transaction (see
	// SignIn.NewPassword); its Event is appended too.
	Password *PasswordChange
}

// Session is a signed-in user's bearer token. Only its SHA-256 is stored; revocation is a
// row in the database, so it holds on every replica at once.
type Session struct {
	ID         string
	InstanceID string
	UserID     string
	Hash       []byte
	// PasswordChangeOnly sessions come from a temporary or expired password: they may
	// change the password and sign out, nothing else.
	PasswordChangeOnly bool
	CreatedAt          time.Time
	ExpiresAt          time.Time
	RevokedAt          *time.Time
}

// TOTP is a user's time-based one-time password enrolment (RFC 6238). The secret is
// sealed under the master key like access-key secrets. LastStep is the newest time step
// a code was accepted for: no code is accepted twice.
type TOTP struct {
	UserID          string
	SecretEncrypted []byte
	Confirmed       bool
	LastStep        int64
	CreatedAt       time.Time
}

// SignIn is one sign-in attempt: a login name and password and, for users enrolled in
// MFA, a TOTP code or a recovery code.
type SignIn struct {
	InstanceID   string
	LoginName    string
	Password     string
	TOTPCode     string
	RecoveryCode string
	// NewPassword, for a user whose password is temporary or expired, changes it in
	// the same sign-in, which then opens a full session (VikingCloud's token API takes
	// both at once). Ignored otherwise.
	NewPassword string
}

// SessionGrant is what a successful sign-in or refresh hands the caller, once.
type SessionGrant struct {
	Session *Session
	Token   string
}

// AccountService is the security core the faces' sign-in endpoints call. An
// administrator sets another user's password, MFA or lock with a UserChange.
type AccountService interface {
	SignIn(ctx context.Context, in SignIn) (*SessionGrant, error)
	Refresh(ctx context.Context, token string) (*SessionGrant, error)
	SignOut(ctx context.Context, token string) error
	ChangePassword(ctx context.Context, current, next string) error
}

// SessionAdmin is what an administrator does to a user's sign-in sessions.
type SessionAdmin interface {
	// ListSessions returns a user's live sessions (USER_READ).
	ListSessions(ctx context.Context, instanceID, userID string) ([]Session, error)
	// ExpireSessions signs a user out everywhere (USER_WRITE, covering the user).
	ExpireSessions(ctx context.Context, instanceID, userID string) (int, error)
	// RevokeSession ends one of a user's sessions (USER_WRITE, covering the user).
	RevokeSession(ctx context.Context, instanceID, userID, sessionID string) error
}
