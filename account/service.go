package account

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"iamd"
)

// DefaultSkew is how far a signed request's timestamp may be from the server's clock.
const DefaultSkew = 5 * time.Minute

// CheckTimestamp checks a request timestamp given in Unix milliseconds (as SCP and Ncloud
// send it) against now, within ±window.
func CheckTimestamp(unixMillis string, now time.Time, window time.Duration) error {
	if unixMillis == "" {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "The request timestamp is missing.")
	}
	ms, err := strconv.ParseInt(unixMillis, 10, 64)
	if err != nil {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "The request timestamp must be Unix time in milliseconds.")
	}
	if d := now.Sub(time.UnixMilli(ms)); d > window || d < -window {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "The request timestamp is more than %s away from the server's clock.", window)
	}
	return nil
}

// VerifySignedRequest checks a request signed with an access key, as the signing faces
// do: its timestamp (Unix milliseconds) within window of now, then its signature — base64
// of HMAC-SHA256 of message under the key's secret. message is what the face's vendor
// signs, timestamp included.
func VerifySignedRequest(ctx context.Context, auth iamd.Authenticator, accessKey, timestamp, signature string,
	message []byte, now time.Time, window time.Duration) (*iamd.Principal, error) {
	if err := CheckTimestamp(timestamp, now, window); err != nil {
		return nil, err
	}
	mac, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		mac = nil // fails verification like any wrong signature
	}
	return auth.VerifyHMAC(ctx, accessKey, message, mac)
}

// Service implements iamd.Authenticator and iamd.CredentialService over a store.
type Service struct {
	store      iamd.Store
	key        MasterKey
	now        func() time.Time
	dummy      []byte // secret checked for unknown keys, so they cost what known ones do
	hasher     *Hasher
	sessionTTL time.Duration
	log        *slog.Logger
	remembered *authCache // what credentials authenticated as: see authcache.go
}

var (
	_ iamd.Authenticator     = (*Service)(nil)
	_ iamd.CredentialService = (*Service)(nil)
	_ iamd.SessionAdmin      = (*Service)(nil)
	_ iamd.IDTokenService    = (*Service)(nil)
)

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger sets where the service reports what only the operator can mend (an
// unreadable stored hash); never with a secret or hash in it.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the credential service.
func New(store iamd.Store, key MasterKey, opts ...Option) *Service {
	s := &Service{store: store, key: key, now: time.Now, hasher: DefaultHasher, sessionTTL: DefaultSessionTTL, log: slog.Default(),
		remembered: newAuthCache(authCacheSize)}
	for _, o := range opts {
		o(s)
	}
	s.dummy = []byte(randomFrom(secretLen, secretAlphabet))
	return s
}

func failed() error { return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication failed.") }

// VerifyHMAC checks that mac is HMAC-SHA256 of message under the secret of accessKey.
func (s *Service) VerifyHMAC(ctx context.Context, accessKey string, message, mac []byte) (*iamd.Principal, error) {
	key := "k" + accessKey
	c, err := s.store.CheckAccessKey(ctx, accessKey)
	switch iamd.ErrorCode(err) {
	case "":
	case iamd.ENOTFOUND:
		hmac.Equal(sign(s.dummy, message), mac)
		s.remembered.drop(key)
		return nil, failed()
	default:
		return nil, err
	}
	e := s.remembered.lookup(key, c)
	var secret []byte
	if e != nil {
		secret = e.secret
	} else if secret, err = s.key.Open(c.SecretEncrypted, c.ID); err != nil {
		return nil, err // a master key mismatch is the operator's problem, not the caller's
	}
	if !hmac.Equal(sign(secret, message), mac) {
		return nil, failed()
	}
	if !c.Enabled || s.expired(c.ExpiresAt) {
		s.remembered.drop(key)
		return nil, failed()
	}
	p, err := s.principalFor(ctx, key, c, e, secret, apiAccess)
	if err == nil && s.stale(c.LastUsedAt) {
		err = s.store.TouchAccessKey(ctx, c.ID, s.clock())
	}
	return p, err
}

func sign(secret, message []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(message)
	return m.Sum(nil)
}

// AuthenticateToken checks a bearer token: a session token from SignIn or an API token.
func (s *Service) AuthenticateToken(ctx context.Context, token string) (*iamd.Principal, error) {
	sum := sha256.Sum256([]byte(token))
	if strings.HasPrefix(token, sessionTokenPrefix) {
		c, err := s.store.CheckSession(ctx, sum[:])
		return s.sessionCaller(ctx, "s"+string(sum[:]), c, err)
	}
	key := "t" + string(sum[:])
	c, err := s.store.CheckAPIToken(ctx, sum[:])
	if err := s.usable(key, err, func() bool { return !s.expired(c.ExpiresAt) }); err != nil {
		return nil, err
	}
	p, err := s.principalFor(ctx, key, c, s.remembered.lookup(key, c), nil, apiAccess)
	if err == nil && s.stale(c.LastUsedAt) {
		err = s.store.TouchAPIToken(ctx, c.ID, s.clock())
	}
	return p, err
}

// sessionCaller is the caller of a session as a check found it (c, or the check's err),
// if the session is live: one opened with a temporary or expired password may only
// change it.
func (s *Service) sessionCaller(ctx context.Context, key string, c *iamd.CredentialState, err error) (*iamd.Principal, error) {
	if err := s.usable(key, err, func() bool { return c.RevokedAt == nil && !s.expired(c.ExpiresAt) }); err != nil {
		return nil, err
	}
	return s.principalFor(ctx, key, c, s.remembered.lookup(key, c), nil, consoleAccess)
}

// usable turns a credential check's outcome into a refusal, or nil: a credential the
// check did not find (err is ENOTFOUND), or found but not live (when err is nil), is
// forgotten and refused as any failed authentication is; other errors pass through.
func (s *Service) usable(key string, err error, live func() bool) error {
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || err == nil && !live() {
		s.remembered.drop(key)
		return failed()
	}
	return err
}

// expired reports whether an expiry has come.
func (s *Service) expired(at *time.Time) bool { return at != nil && !s.now().Before(*at) }

// principalFor is the caller a usable credential c authenticates, its owner's state
// checked as the check read it: e's principal while e holds for c, was built at the
// owner's current version and is not too old (see authcache.go); else built again and
// remembered under key, with secret (an access key's, opened).
func (s *Service) principalFor(ctx context.Context, key string, c *iamd.CredentialState, e *authEntry, secret []byte,
	via access) (*iamd.Principal, error) {
	if err := allowed(c.UserStatus, c.UserExpired, c.APIDenied, c.ConsoleDenied, via); err != nil {
		s.remembered.drop(key)
		return nil, err
	}
	now := s.now()
	if e != nil && e.userVersion == c.UserVersion && now.Sub(e.builtAt) < authEntryMaxAge {
		return e.caller(), nil
	}
	p, version, err := s.buildPrincipal(ctx, c.InstanceID, c.UserID, via)
	if err != nil {
		s.remembered.drop(key)
		return nil, err
	}
	if via == consoleAccess { // a session
		p.SessionID = c.ID
		if c.PasswordChangeOnly {
			p.PasswordChangeOnly, p.PlatformAdmin, p.Privileges = true, false, nil
		}
	}
	e = &authEntry{credentialID: c.ID, instanceID: c.InstanceID, userID: c.UserID, createdAt: c.CreatedAt,
		sealed: c.SecretEncrypted, secret: secret, userVersion: version, builtAt: now, principal: *p}
	s.remembered.put(key, e)
	return e.caller(), nil
}

// stale reports whether a last-used time is old enough to write again.
func (s *Service) stale(lastUsed *time.Time) bool {
	return lastUsed == nil || s.now().Sub(*lastUsed) >= iamd.TouchInterval
}

// access is the way a credential reaches iamd, as NAVER Cloud's access rules divide it:
// the API (access keys, API tokens, a password on every request) or the console (an
// interactive sign-in and its session).
type access int

const (
	apiAccess access = iota
	consoleAccess
)

// principal builds the caller from the credential's owner, who must be active and
// allowed the access the credential gives.
func (s *Service) principal(ctx context.Context, instanceID, userID string, via access) (*iamd.Principal, error) {
	p, _, err := s.buildPrincipal(ctx, instanceID, userID, via)
	return p, err
}

// buildPrincipal is principal, with the version of the owner's row it was built from.
// The row is read before the privileges, so that the version is never newer than what
// the principal holds (see authcache.go).
func (s *Service) buildPrincipal(ctx context.Context, instanceID, userID string, via access) (*iamd.Principal, int64, error) {
	u, err := s.store.GetUserRow(ctx, instanceID, userID)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND {
		return nil, 0, failed()
	} else if err != nil {
		return nil, 0, err
	}
	if err := allowed(u.Status, u.Expired, u.APIDenied, u.ConsoleDenied, via); err != nil {
		return nil, 0, err
	}
	privs, err := s.store.EffectivePrivileges(ctx, instanceID, userID)
	if err != nil {
		return nil, 0, err
	}
	name := u.DisplayName
	if name == "" {
		name = u.LoginName
	}
	return &iamd.Principal{UserID: u.ID, InstanceID: u.InstanceID, Name: name, PlatformAdmin: u.PlatformAdmin, Privileges: privs},
		u.Version, nil
}

// allowed refuses an owner that is not active, or whose access rules deny the access.
func allowed(status iamd.UserStatus, expired, apiDenied, consoleDenied bool, via access) error {
	switch {
	case status != iamd.UserActive || expired:
		return failed()
	case via == apiAccess && apiDenied:
		return iamd.Errorf(iamd.EFORBIDDEN, "API access is not allowed for this user (its access rules).")
	case via == consoleAccess && consoleDenied:
		return iamd.Errorf(iamd.EFORBIDDEN, "Console access is not allowed for this user (its access rules).")
	}
	return nil
}

const (
	accessKeyLen      = 20
	accessKeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	secretLen         = 40
	secretAlphabet    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	tokenPrefix       = "iamd_"
)

// randomFrom draws n characters uniformly from alphabet.
func randomFrom(n int, alphabet string) string {
	out := make([]byte, n)
	buf := make([]byte, 1)
	limit := 256 - 256%len(alphabet) // rejection sampling keeps the draw uniform
	for i := 0; i < n; {
		rand.Read(buf)
		if int(buf[0]) >= limit {
			continue
		}
		out[i] = alphabet[int(buf[0])%len(alphabet)]
		i++
	}
	return string(out)
}

// authorizeOwner lets a caller manage credentials of userID: the owner itself, or a
// holder of USER_WRITE on the instance who covers the owner (iamd.Principal.Covers): a
// key issued for a user acts as that user.
func (s *Service) authorizeOwner(ctx context.Context, instanceID, userID string) (*iamd.Principal, error) {
	if p := iamd.PrincipalFromContext(ctx); p != nil && userID != "" && p.UserID == userID && p.InstanceID == instanceID && !p.PasswordChangeOnly {
		return p, nil
	}
	return s.authorizeOn(ctx, instanceID, userID, iamd.PrivilegeUserWrite)
}

// authorizeOn returns the caller if it holds privilege on instanceID and covers userID.
func (s *Service) authorizeOn(ctx context.Context, instanceID, userID, privilege string) (*iamd.Principal, error) {
	p, err := iamd.Authorize(ctx, instanceID, privilege)
	if err != nil {
		return nil, err
	}
	rights, err := s.store.GetUserRights(ctx, instanceID, userID)
	if err != nil {
		return nil, err
	}
	if !p.Covers(rights) {
		return nil, iamd.ErrNotCovered()
	}
	return p, nil
}

// checkCredentialOptions validates what a caller chose for a new key or token.
func (s *Service) checkCredentialOptions(opts iamd.CredentialOptions) error {
	if err := iamd.CheckText(iamd.FieldDescription, opts.Description, iamd.MaxDescriptionLen); err != nil {
		return err
	}
	if opts.ExpiresAt != nil && !opts.ExpiresAt.After(s.now()) {
		return iamd.Invalid(iamd.FieldExpiresAt, "expires_at must be in the future")
	}
	return nil
}

// CreateAccessKey issues a key pair for a user; the secret is returned once.
func (s *Service) CreateAccessKey(ctx context.Context, instanceID, userID string, opts iamd.CredentialOptions) (*iamd.AccessKey, string, error) {
	p, err := s.authorizeOwner(ctx, instanceID, userID)
	if err != nil {
		return nil, "", err
	}
	if err := s.checkCredentialOptions(opts); err != nil {
		return nil, "", err
	}
	id, secret := randomFrom(accessKeyLen, accessKeyAlphabet), randomFrom(secretLen, secretAlphabet)
	k, err := s.storeAccessKey(ctx, instanceID, userID, id, secret, opts, actor(ctx, p))
	return k, secret, err
}

func (s *Service) storeAccessKey(ctx context.Context, instanceID, userID, id, secret string, opts iamd.CredentialOptions, ev iamd.Event) (*iamd.AccessKey, error) {
	sealed, err := s.key.Seal([]byte(secret), id)
	if err != nil {
		return nil, err
	}
	k := &iamd.AccessKey{ID: id, InstanceID: instanceID, UserID: userID, SecretEncrypted: sealed,
		Description: opts.Description, Enabled: true, CreatedAt: s.clock(), ExpiresAt: truncate(opts.ExpiresAt)}
	ev.InstanceID, ev.Action, ev.TargetType, ev.TargetID, ev.Time = instanceID, iamd.ActionAccessKeyCreate, "access_key", id, k.CreatedAt
	if err := s.store.CreateAccessKey(ctx, k, ev); err != nil {
		return nil, err
	}
	return k, nil
}

// CreateAPIToken issues a bearer token for a user; the token is returned once.
func (s *Service) CreateAPIToken(ctx context.Context, instanceID, userID string, opts iamd.CredentialOptions) (*iamd.APIToken, string, error) {
	p, err := s.authorizeOwner(ctx, instanceID, userID)
	if err != nil {
		return nil, "", err
	}
	if err := s.checkCredentialOptions(opts); err != nil {
		return nil, "", err
	}
	token := tokenPrefix + randomFrom(secretLen, secretAlphabet)
	t, err := s.storeAPIToken(ctx, instanceID, userID, token, opts, actor(ctx, p))
	return t, token, err
}

func (s *Service) storeAPIToken(ctx context.Context, instanceID, userID, token string, opts iamd.CredentialOptions, ev iamd.Event) (*iamd.APIToken, error) {
	sum := sha256.Sum256([]byte(token))
	t := &iamd.APIToken{ID: iamd.NewID(), InstanceID: instanceID, UserID: userID, Hash: sum[:],
		Description: opts.Description, CreatedAt: s.clock(), ExpiresAt: truncate(opts.ExpiresAt)}
	ev.InstanceID, ev.Action, ev.TargetType, ev.TargetID, ev.Time = instanceID, iamd.ActionAPITokenCreate, "api_token", t.ID, t.CreatedAt
	if err := s.store.CreateAPIToken(ctx, t, ev); err != nil {
		return nil, err
	}
	return t, nil
}

// ListAccessKeys lists a user's keys, without their secrets: to the user itself or a
// holder of USER_READ.
func (s *Service) ListAccessKeys(ctx context.Context, instanceID, userID string) ([]iamd.AccessKey, error) {
	if _, err := authorizeReader(ctx, instanceID, userID); err != nil {
		return nil, err
	}
	keys, err := s.store.ListAccessKeys(ctx, instanceID, userID)
	for i := range keys {
		keys[i].SecretEncrypted = nil
	}
	return keys, err
}

// ListAPITokens lists a user's tokens, without their hashes.
func (s *Service) ListAPITokens(ctx context.Context, instanceID, userID string) ([]iamd.APIToken, error) {
	if _, err := authorizeReader(ctx, instanceID, userID); err != nil {
		return nil, err
	}
	toks, err := s.store.ListAPITokens(ctx, instanceID, userID)
	for i := range toks {
		toks[i].Hash = nil
	}
	return toks, err
}

// ListInstanceAPITokens lists every user's tokens in the instance, without their
// hashes, to a holder of USER_READ.
func (s *Service) ListInstanceAPITokens(ctx context.Context, instanceID string) ([]iamd.APIToken, error) {
	if _, err := iamd.Authorize(ctx, instanceID, iamd.PrivilegeUserRead); err != nil {
		return nil, err
	}
	toks, err := s.store.ListInstanceAPITokens(ctx, instanceID)
	for i := range toks {
		toks[i].Hash = nil
	}
	return toks, err
}

// RevokeAccessKey deletes a key: its owner may, and so may a holder of USER_WRITE.
func (s *Service) RevokeAccessKey(ctx context.Context, instanceID, id string) error {
	return s.RevokeUserAccessKey(ctx, instanceID, "", id)
}

// RevokeUserAccessKey is RevokeAccessKey of a key userID holds: a key of another user
// is no such key. "" stands for any user of the instance.
func (s *Service) RevokeUserAccessKey(ctx context.Context, instanceID, userID, id string) error {
	if iamd.PrincipalFromContext(ctx) == nil {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	k, err := s.store.GetAccessKey(ctx, id)
	if iamd.ErrorCode(err) == iamd.ENOTFOUND || (err == nil && (k.InstanceID != instanceID || userID != "" && k.UserID != userID)) {
		return iamd.Errorf(iamd.ENOTFOUND, "No access key %q.", id)
	} else if err != nil {
		return err
	}
	p, err := s.authorizeOwner(ctx, instanceID, k.UserID)
	if err != nil {
		return err
	}
	ev := s.event(ctx, p, instanceID, iamd.ActionAccessKeyRevoke, "access_key", id, s.clock())
	return s.store.RevokeAccessKey(ctx, instanceID, id, ev)
}

// RevokeAPIToken deletes a token: its owner may, and so may a holder of USER_WRITE who
// covers the owner.
func (s *Service) RevokeAPIToken(ctx context.Context, instanceID, id string) error {
	return s.RevokeAPITokens(ctx, instanceID, []string{id})
}

// RevokeUserAPIToken is RevokeAPIToken of a token userID holds: a token of another
// user is no such token.
func (s *Service) RevokeUserAPIToken(ctx context.Context, instanceID, userID, id string) error {
	if iamd.PrincipalFromContext(ctx) == nil {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	t, err := s.store.GetAPIToken(ctx, instanceID, id)
	if err == nil && t.UserID != userID {
		err = iamd.Errorf(iamd.ENOTFOUND, "No API token %q.", id)
	}
	if err != nil {
		return err
	}
	return s.RevokeAPITokens(ctx, instanceID, []string{id})
}

// RevokeAPITokens deletes tokens, all or none, each as RevokeAPIToken would: one
// transaction, an event for each.
func (s *Service) RevokeAPITokens(ctx context.Context, instanceID string, ids []string) error {
	p := iamd.PrincipalFromContext(ctx)
	if p == nil {
		return iamd.Errorf(iamd.EUNAUTHENTICATED, "Authentication required.")
	}
	if !p.Sees(instanceID) {
		return iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", instanceID)
	}
	now := s.clock()
	evs := make([]iamd.Event, len(ids))
	checked := map[string]bool{} // owners already authorized
	for i, id := range ids {
		t, err := s.store.GetAPIToken(ctx, instanceID, id)
		if err != nil {
			return err
		}
		if !checked[t.UserID] {
			if _, err := s.authorizeOwner(ctx, instanceID, t.UserID); err != nil {
				return err
			}
			checked[t.UserID] = true
		}
		evs[i] = s.event(ctx, p, instanceID, iamd.ActionAPITokenRevoke, "api_token", id, now)
	}
	return s.store.RevokeAPITokens(ctx, instanceID, ids, evs)
}

// authorizeReader lets a caller see credentials of userID: the owner itself, or a holder
// of USER_READ on the instance.
func authorizeReader(ctx context.Context, instanceID, userID string) (*iamd.Principal, error) {
	p, err := iamd.Authorize(ctx, instanceID, iamd.PrivilegeUserRead)
	if iamd.ErrorCode(err) == iamd.EFORBIDDEN && p.UserID == userID && p.InstanceID == instanceID && !p.PasswordChangeOnly {
		return p, nil
	}
	return p, err
}

func truncate(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := t.UTC().Truncate(time.Microsecond)
	return &v
}

func actor(ctx context.Context, p *iamd.Principal) iamd.Event {
	return iamd.Event{ActorID: p.UserID, ActorName: p.Name, Outcome: iamd.OutcomeSuccess,
		Source: iamd.SourceFromContext(ctx), Face: iamd.FaceFromContext(ctx)}
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// AuthenticateHeader authenticates an HTTP Authorization header value: a token (API or
// session) under one of tokenSchemes, compared ignoring case ("Bearer", ECE's "ApiKey"),
// or HTTP Basic with a password of basicInstance ("" refuses Basic). A missing or
// malformed header is EUNAUTHENTICATED, as a wrong credential is.
func (s *Service) AuthenticateHeader(ctx context.Context, header, basicInstance string, tokenSchemes ...string) (*iamd.Principal, error) {
	scheme, cred, _ := strings.Cut(header, " ")
	cred = strings.TrimSpace(cred)
	if cred == "" {
		return nil, failed()
	}
	for _, ts := range tokenSchemes {
		if strings.EqualFold(scheme, ts) {
			return s.AuthenticateToken(ctx, cred)
		}
	}
	if basicInstance != "" && strings.EqualFold(scheme, "Basic") {
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return nil, failed()
		}
		user, password, ok := strings.Cut(string(raw), ":")
		if !ok || user == "" {
			return nil, failed()
		}
		return s.AuthenticatePassword(ctx, basicInstance, user, password)
	}
	return nil, failed()
}
