package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"iamd"
)

// Refresh tokens are for APIs whose token endpoint returns one beside the access token
// (VikingCloud's refreshToken). A refresh token is a secret of its own, good only to
// refresh its session: it is no access token (AuthenticateToken refuses it), and an
// access token does not refresh through RefreshWithToken. It is derived from the session
// under a key derived from the master key, so every replica checks it and nothing more
// is stored; it holds while its session does, and since refreshing replaces the session,
// it refreshes once.
const refreshTokenPrefix = "iamdr_"

func (s *Service) refreshTokenKey() []byte {
	m := hmac.New(sha256.New, s.key[:])
	m.Write([]byte("iamd refresh token v1"))
	return m.Sum(nil)
}

// refreshMAC binds a refresh token to its session and to that session's access token.
func (s *Service) refreshMAC(sess *iamd.Session) []byte {
	m := hmac.New(sha256.New, s.refreshTokenKey())
	m.Write([]byte(sess.ID))
	m.Write([]byte{0})
	m.Write(sess.Hash)
	return m.Sum(nil)
}

// RefreshToken returns the refresh token of a session from SignIn or a refresh.
func (s *Service) RefreshToken(sess *iamd.Session) string {
	return refreshTokenPrefix + sess.ID + "." + base64.RawURLEncoding.EncodeToString(s.refreshMAC(sess))
}

// RefreshWithToken exchanges a refresh token from RefreshToken for a new session, as
// Refresh does a session token: the old session's tokens, the refresh token among them,
// stop working. Anything but a live session's refresh token is refused as a failed
// authentication.
func (s *Service) RefreshWithToken(ctx context.Context, token string) (*iamd.SessionGrant, error) {
	id, mac, ok := strings.Cut(strings.TrimPrefix(token, refreshTokenPrefix), ".")
	if !ok || !strings.HasPrefix(token, refreshTokenPrefix) || !iamd.IsID(id) {
		return nil, failed() // and nothing but a session id is looked up
	}
	sum, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return nil, failed()
	}
	sess, err := s.store.GetSession(ctx, id)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, failed()
	} else if err != nil {
		return nil, err
	}
	if !hmac.Equal(sum, s.refreshMAC(sess)) || sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return nil, failed()
	}
	return s.rotate(ctx, sess)
}
