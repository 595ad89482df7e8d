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
}

// Authenticator turns a request's credentials into a Principal. Unknown keys, wrong
// signatures, wrong tokens and disabled owners all answer EUNAUTHENTICATED alike.
type Authenticator interface {
	// VerifyHMAC checks that signature is HMAC-SHA256(secret of accessKey, message).
	// Faces build message from the request in their vendor's way.
	VerifyHMAC(ctx context.Context, accessKey string, message, signature []byte) (*Principal, error)
	// AuthenticateToken checks a bearer API token.
	AuthenticateToken(ctx context.Context, token string) (*Principal, error)
}

// CredentialService issues credentials. The secret or token is returned once, in clear,
// and never again.
type CredentialService interface {
	CreateAccessKey(ctx context.Context, instanceID, userID, description string) (key *AccessKey, secret string, err error)
	CreateAPIToken(ctx context.Context, instanceID, userID, description string) (tok *APIToken, token string, err error)
}
