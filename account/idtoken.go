package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"iamd"
)

// ID tokens are JWTs (RFC 7519) naming a session's user, for APIs whose token endpoint
// returns one beside the access token (VikingCloud's idToken) and whose calls may carry
// it (x-jwt-assertion). They are HS256-signed under a key derived from the master key,
// so every replica checks them, and they hold only while their session does: revoking
// the session revokes its ID token.

type idClaims struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"` // the instance
	IssuedAt  int64  `json:"iat"`
	Expires   int64  `json:"exp"`
	SessionID string `json:"sid"`
	Username  string `json:"preferred_username"`
	Email     string `json:"email,omitempty"`
}

var jwtHeader = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

const idIssuer = "iamd"

// IsIDToken reports whether token is shaped as iamd's ID token — iamd's JWT header and
// issuer — without verifying it. A JWT that is not is someone else's (an API gateway's
// x-jwt-assertion, say); one that is holds only if AuthenticateIDToken says so.
func IsIDToken(token string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Issuer string `json:"iss"`
	}
	return err == nil && json.Unmarshal(raw, &c) == nil && c.Issuer == idIssuer
}

func (s *Service) idTokenKey() []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("iamd id token v1"))
	return m.Sum(nil)
}

func (s *Service) signJWT(signingInput string) []byte {
	m := hmac.New(sha256.New, s.idTokenKey())
	m.Write([]byte(signingInput))
	return m.Sum(nil)
}

// IDToken returns the ID token of a session, naming its user.
func (s *Service) IDToken(ctx context.Context, sess *iamd.Session) (string, error) {
	u, err := s.store.GetUserRow(ctx, sess.InstanceID, sess.UserID)
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(idClaims{Issuer: idIssuer, Subject: u.ID, Audience: u.InstanceID, IssuedAt: sess.CreatedAt.Unix(),
		Expires: sess.ExpiresAt.Unix(), SessionID: sess.ID, Username: u.LoginName, Email: u.Email})
	input := jwtHeader + "." + base64.RawURLEncoding.EncodeToString(payload)
	return input + "." + base64.RawURLEncoding.EncodeToString(s.signJWT(input)), nil
}

// AuthenticateIDToken checks an ID token — its signature, its expiry, and that its
// session is live — and answers the session's caller.
func (s *Service) AuthenticateIDToken(ctx context.Context, token string) (*iamd.Principal, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] != jwtHeader {
		return nil, failed()
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, s.signJWT(parts[0]+"."+parts[1])) {
		return nil, failed()
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	var c idClaims
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Issuer != idIssuer || s.now().Unix() >= c.Expires {
		return nil, failed()
	}
	sess, err := s.store.CheckSessionID(ctx, c.SessionID)
	if err == nil && (sess.UserID != c.Subject || sess.InstanceID != c.Audience) {
		return nil, failed()
	}
	return s.sessionCaller(ctx, "i"+c.SessionID, sess, err)
}
