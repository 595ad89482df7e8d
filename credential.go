package iamd

import (
	"context"
	"time"
)

// AccessKey is one half of an access key pair owned by a user; the other half, the
// secret, is needed in clear to check HMAC signatures, so it is stored encrypted under
// the master key (which lives outside the database).
type AccessKey struct {
	ID              string // the public access key the client sends
	InstanceID      string
	UserID          string
	SecretEncrypted []byte
	Description     string
	Enabled         bool
	CreatedAt       time.Time
	ExpiresAt       *time.Time
	LastUsedAt      *time.Time // to the minute: see TouchInterval
}

// APIToken is a bearer token owned by a user. Only its SHA-256 is stored: a bearer
// token is never needed in clear after it is issued.
type APIToken struct {
	ID          string
	InstanceID  string
	UserID      string
	Hash        []byte
	Description string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	LastUsedAt  *time.Time // to the minute: see TouchInterval
}

// TouchInterval is how stale a credential's last-used time may get before a use writes
// it again: a write per request would serialize every signed call on SQLite.
const TouchInterval = time.Minute

// CredentialOptions are the choices made when issuing a key or token.
type CredentialOptions struct {
	Description string
	ExpiresAt   *time.Time // nil: never expires
}

// Authenticator turns a request's credentials into a Principal. Unknown keys, wrong
// signatures, wrong tokens and disabled owners all answer EUNAUTHENTICATED alike.
type Authenticator interface {
	// VerifyHMAC checks that signature is HMAC-SHA256(secret of accessKey, message).
	// Faces build message from the request in their vendor's way.
	VerifyHMAC(ctx context.Context, accessKey string, message, signature []byte) (*Principal, error)
	// AuthenticateToken checks a bearer token: an API token or a session's.
	AuthenticateToken(ctx context.Context, token string) (*Principal, error)
	// AuthenticateHeader checks an HTTP Authorization header value: a token under one of
	// tokenSchemes, or HTTP Basic with a password of basicInstance ("" refuses Basic).
	AuthenticateHeader(ctx context.Context, header, basicInstance string, tokenSchemes ...string) (*Principal, error)
}

// IDTokenService issues and checks ID tokens: signed statements of who a session's user
// is, valid while the session is (VikingCloud's idToken).
type IDTokenService interface {
	IDToken(ctx context.Context, s *Session) (string, error)
	AuthenticateIDToken(ctx context.Context, token string) (*Principal, error)
}

// RefreshTokenService issues and redeems refresh tokens: a secret of their own beside a
// session's access token, good only to refresh the session (VikingCloud's
// refreshToken), once.
type RefreshTokenService interface {
	RefreshToken(sess *Session) string
	RefreshWithToken(ctx context.Context, token string) (*SessionGrant, error)
}

// CredentialService issues credentials. The secret or token is returned once, in clear,
// and never again.
type CredentialService interface {
	CreateAccessKey(ctx context.Context, instanceID, userID string, opts CredentialOptions) (key *AccessKey, secret string, err error)
	CreateAPIToken(ctx context.Context, instanceID, userID string, opts CredentialOptions) (tok *APIToken, token string, err error)
	ListAccessKeys(ctx context.Context, instanceID, userID string) ([]AccessKey, error)
	RevokeAccessKey(ctx context.Context, instanceID, id string) error
	ListAPITokens(ctx context.Context, instanceID, userID string) ([]APIToken, error)
	// ListInstanceAPITokens lists every user's tokens in the instance (USER_READ).
	ListInstanceAPITokens(ctx context.Context, instanceID string) ([]APIToken, error)
	RevokeAPIToken(ctx context.Context, instanceID, id string) error
	// RevokeAPITokens revokes tokens all together or none.
	RevokeAPITokens(ctx context.Context, instanceID string, ids []string) error
}
