package iamd

import (
	"context"
	"time"
)

// CredentialChecker tells, in one read, whether a credential still holds and what its
// owner's row says now: what the accounts core checks on every request before it answers
// from the principal it remembers. Each method answers ENOTFOUND when the credential or
// its owner is not there.
type CredentialChecker interface {
	// CheckAccessKey looks a key up by its public id.
	CheckAccessKey(ctx context.Context, id string) (*CredentialState, error)
	// CheckAPIToken looks a token up by the SHA-256 of its value.
	CheckAPIToken(ctx context.Context, hash []byte) (*CredentialState, error)
	// CheckSession looks a session up by the SHA-256 of its token.
	CheckSession(ctx context.Context, hash []byte) (*CredentialState, error)
	// CheckSessionID looks a session up by its id (what an ID token names).
	CheckSessionID(ctx context.Context, id string) (*CredentialState, error)
}

// CredentialState is a credential's row joined with its owner's, as one read saw them.
type CredentialState struct {
	ID         string // the key's public id, the token's or the session's id
	InstanceID string
	UserID     string
	// CreatedAt tells one credential from another stored later under the same id (a
	// bootstrap key revoked and issued again with another secret).
	CreatedAt time.Time
	// SecretEncrypted is an access key's sealed secret; nil for tokens and sessions.
	SecretEncrypted []byte
	Enabled         bool // access keys may be disabled; tokens and sessions are always enabled
	ExpiresAt       *time.Time
	LastUsedAt      *time.Time // access keys and API tokens
	RevokedAt       *time.Time // sessions
	// PasswordChangeOnly sessions were opened with a password that must be changed.
	PasswordChangeOnly bool

	// The owner as it is now: its Version changes with every change of what
	// authenticating as it answers (see account.Service's cache).
	UserVersion   int64
	UserStatus    UserStatus
	UserExpired   bool
	ConsoleDenied bool
	APIDenied     bool
}
