package account_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/internal/logtest"
	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/storetest"
)

// fastHasher keeps tests quick; TestRehashWhenParametersChange covers real parameters.
var fastHasher, _ = account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1})

type fixture struct {
	store iamd.Store
	svc   *account.Service
	dir   *directory.Service // what sets another user's password, MFA or lock
	admin context.Context
	now   time.Time
	mu    sync.Mutex
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func newFixture(t *testing.T, store iamd.Store) *fixture {
	f := &fixture{store: store, now: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)}
	var key account.MasterKey
	f.svc = account.New(store, key, account.WithClock(f.clock), account.WithHasher(fastHasher))
	f.dir = directory.New(store, directory.WithClock(f.clock), directory.WithCredentials(f.svc))
	res, err := f.svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "a", AdminAccessKey: "ADMINKEY",
		AdminSecretKey: "admin-secret-key-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateToken(ctx, res.Generated["IAMD_ADMIN_API_TOKEN"])
	if err != nil {
		t.Fatal(err)
	}
	f.admin = iamd.NewContextWithPrincipal(iamd.NewContextWithSource(ctx, "192.0.2.7"), p)
	return f
}

// change makes one change to a user through the core, as ctx's caller.
func (f *fixture) change(ctx context.Context, instanceID, userID string, c iamd.UserChange) error {
	_, err := f.dir.ChangeUser(ctx, instanceID, iamd.UserRef{ID: userID}, func(*iamd.User) (*iamd.UserChange, error) { return &c, nil })
	return err
}

func (f *fixture) setPassword(ctx context.Context, instanceID, userID, pw string, temporary bool) error {
	return f.change(ctx, instanceID, userID, iamd.UserChange{Password: &iamd.NewPassword{Clear: pw, Temporary: temporary}})
}

func (f *fixture) importHash(ctx context.Context, instanceID, userID, hash string) error {
	return f.change(ctx, instanceID, userID, iamd.UserChange{Password: &iamd.NewPassword{Hash: hash}})
}

func (f *fixture) unlock(ctx context.Context, instanceID, userID string) error {
	unlocked := false
	return f.change(ctx, instanceID, userID, iamd.UserChange{UserUpdate: iamd.UserUpdate{Locked: &unlocked}})
}

func (f *fixture) importTOTP(ctx context.Context, instanceID, userID, secret string) error {
	return f.change(ctx, instanceID, userID, iamd.UserChange{MFA: &iamd.MFASetting{Enabled: true, Secret: secret}})
}

func (f *fixture) resetMFA(ctx context.Context, instanceID, userID string) error {
	return f.change(ctx, instanceID, userID, iamd.UserChange{MFA: &iamd.MFASetting{Enabled: false}})
}

// user creates a user with a password set by the admin.
func (f *fixture) user(t *testing.T, login, password string) *iamd.User {
	t.Helper()
	u := &iamd.User{ID: iamd.NewID(), InstanceID: "a", LoginName: login, Email: login + "@example.com",
		Status: iamd.UserActive, Version: 1}
	if err := f.store.CreateUser(ctx, iamd.UserWrite{User: u, Event: iamd.Event{InstanceID: "a", Action: iamd.ActionUserCreate}}); err != nil {
		t.Fatal(err)
	}
	if password != "" {
		if err := f.setPassword(f.admin, "a", u.ID, password, false); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func (f *fixture) signIn(login, password string) (*iamd.SessionGrant, error) {
	return f.svc.SignIn(iamd.NewContextWithSource(ctx, "198.51.100.4"), iamd.SignIn{InstanceID: "a", LoginName: login, Password: password})
}

// signedIn signs a user in and returns a context acting as that user's session.
func (f *fixture) signedIn(t *testing.T, login, password string) context.Context {
	t.Helper()
	grant, err := f.signIn(login, password)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateToken(ctx, grant.Token)
	if err != nil {
		t.Fatal(err)
	}
	return iamd.NewContextWithPrincipal(ctx, p)
}

func wantFailed(t *testing.T, err error) {
	t.Helper()
	if iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED || iamd.ErrorMessage(err) != "Authentication failed." {
		t.Fatalf("got %v, want the one generic failure", err)
	}
}

func (f *fixture) get(t *testing.T, id string) *iamd.User {
	t.Helper()
	u, err := f.store.GetUser(ctx, "a", id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// reasons returns the audit reasons of failed sign-ins, newest first.
func (f *fixture) reasons(t *testing.T) []string {
	t.Helper()
	evs, err := f.store.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionSignIn, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if e.Outcome == iamd.OutcomeFailure {
			out = append(out, e.Reason)
		}
	}
	return out
}

const goodPassword = "violet staple harbour 42"

func TestLockoutUnderConcurrentFailures(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", goodPassword)
			const attempts = 50
			var wg sync.WaitGroup
			errs := make([]error, attempts)
			for i := range attempts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = f.signIn("alice", "wrong password number "+string(rune('A'+i%26)))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				wantFailed(t, err)
			}
			got := f.get(t, u.ID)
			if got.PasswordFailedCount != attempts || got.LockedUntil == nil || !got.LockedUntil.Equal(f.clock().Add(15*time.Minute)) {
				t.Fatalf("after %d concurrent failures: count %d, locked until %v", attempts, got.PasswordFailedCount, got.LockedUntil)
			}
			if locks, err := store.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionUserLock}); err != nil || len(locks) != 1 || locks[0].TargetID != u.ID {
				t.Fatalf("lock events: %+v, %v", locks, err)
			}

			// The right password does not open a locked account, and says nothing more.
			_, err := f.signIn("alice", goodPassword)
			wantFailed(t, err)
			if r := f.reasons(t)[0]; r != "the user is locked" {
				t.Fatalf("audit reason %q", r)
			}
			f.advance(15*time.Minute + time.Second)
			grant, err := f.signIn("alice", goodPassword)
			if err != nil {
				t.Fatalf("after the cool-down: %v", err)
			}
			got = f.get(t, u.ID)
			if got.PasswordFailedCount != 0 || got.LockedUntil != nil || got.LastLoginAt == nil || !got.LastLoginAt.Equal(f.clock()) ||
				got.FirstLoginAt == nil {
				t.Fatalf("after a good sign-in: %+v", got)
			}
			if !strings.HasPrefix(grant.Token, "iamds_") || !grant.Session.ExpiresAt.Equal(f.clock().Add(time.Hour)) {
				t.Fatalf("grant %+v", grant.Session)
			}

			for range 5 {
				_, err := f.signIn("alice", "not it at all")
				wantFailed(t, err)
			}
			_, err = f.signIn("alice", goodPassword)
			wantFailed(t, err)
			if err := f.unlock(f.admin, "a", u.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.signIn("alice", goodPassword); err != nil {
				t.Fatalf("after an admin unlock: %v", err)
			}
			unlocks, err := store.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionUserUnlock})
			if err != nil || len(unlocks) != 1 || unlocks[0].Source != "192.0.2.7" || unlocks[0].ActorID == "" {
				t.Fatalf("unlock events: %+v, %v", unlocks, err)
			}
		})
	}
}

func TestEveryRefusalLooksAlike(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			f.user(t, "alice", goodPassword)
			suspended := f.get(t, f.user(t, "bob", goodPassword).ID)
			suspended.Status, suspended.Version = iamd.UserSuspended, suspended.Version+1
			if err := store.UpdateUser(ctx, iamd.UserWrite{User: suspended, ExpectedVersion: suspended.Version - 1, Event: iamd.Event{InstanceID: "a"}}); err != nil {
				t.Fatal(err)
			}
			f.user(t, "carol", "")
			expired := f.get(t, f.user(t, "dave", goodPassword).ID)
			expired.Expired, expired.Version = true, expired.Version+1
			if err := store.UpdateUser(ctx, iamd.UserWrite{User: expired, ExpectedVersion: expired.Version - 1, Event: iamd.Event{InstanceID: "a"}}); err != nil {
				t.Fatal(err)
			}

			for _, c := range []struct{ login, password string }{
				{"nobody", goodPassword}, {"alice", "wrong horse battery"}, {"bob", goodPassword}, {"carol", goodPassword},
				{"dave", goodPassword},
			} {
				_, err := f.signIn(c.login, c.password)
				wantFailed(t, err)
			}
			want := []string{"the account has expired", "the user has no password", "the user is suspended", "wrong password", "unknown login name"}
			if got := f.reasons(t); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("audit reasons %q, want %q", got, want)
			}
			evs, err := store.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionSignIn})
			if err != nil || len(evs) == 0 {
				t.Fatalf("sign-in events: %d, %v", len(evs), err)
			}
			for _, e := range evs {
				if e.Source != "198.51.100.4" {
					t.Fatalf("event without the source address: %+v", e)
				}
			}
		})
	}
}

func TestTemporaryAndExpiredPasswordsOnlyAllowAChange(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", "")
			if err := f.setPassword(f.admin, "a", u.ID, "temporary pass 1", true); err != nil {
				t.Fatal(err)
			}
			grant, err := f.signIn("alice", "temporary pass 1")
			if err != nil {
				t.Fatal(err)
			}
			p, err := f.svc.AuthenticateToken(ctx, grant.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !p.PasswordChangeOnly || p.PlatformAdmin || len(p.Privileges) != 0 {
				t.Fatalf("principal of a temporary password: %+v", p)
			}
			caller := iamd.NewContextWithPrincipal(ctx, p)
			if _, err := iamd.Authorize(caller, "a", iamd.PrivilegeUserRead); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Fatalf("a change-only session was authorized: %v", err)
			}
			err = f.svc.ChangePassword(caller, "not the current", goodPassword)
			if iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorField(err) != iamd.FieldCurrentPassword {
				t.Fatalf("wrong current password: %v", err)
			}
			if err := f.svc.ChangePassword(caller, "temporary pass 1", goodPassword); err != nil {
				t.Fatal(err)
			}
			if got := f.get(t, u.ID); got.TemporaryPassword || got.PasswordFailedCount != 1 {
				t.Fatalf("after the change: temporary %v, failures %d (the wrong current password counts)", got.TemporaryPassword, got.PasswordFailedCount)
			}
			// The change-only session refreshes into a full one now that the password is set.
			refreshed, err := f.svc.Refresh(ctx, grant.Token)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := f.svc.AuthenticateToken(ctx, refreshed.Token); err != nil || p.PasswordChangeOnly {
				t.Fatalf("the refreshed session: %+v, %v", p, err)
			}
			grant, err = f.signIn("alice", goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := f.svc.AuthenticateToken(ctx, grant.Token); err != nil || p.PasswordChangeOnly {
				t.Fatalf("a normal sign-in gave a change-only session: %+v, %v", p, err)
			}

			policy := iamd.DefaultAccountPolicy
			policy.PasswordMaxAge = 24 * time.Hour
			if err := store.SetAccountPolicy(ctx, "a", policy, iamd.Event{InstanceID: "a", Action: iamd.ActionPolicySet}); err != nil {
				t.Fatal(err)
			}
			f.advance(25 * time.Hour)
			grant, err = f.signIn("alice", goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			if p, err := f.svc.AuthenticateToken(ctx, grant.Token); err != nil || !p.PasswordChangeOnly {
				t.Fatalf("an expired password gave a full session: %+v, %v", p, err)
			}
		})
	}
}

func TestPasswordRulesAndHistory(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", "first password 0")
			first := f.get(t, u.ID)
			for rule, pw := range map[string]string{"common password": "iloveyou", "login name": "Alice-secret-99", "minimum length": "short"} {
				err := f.setPassword(f.admin, "a", u.ID, pw, false)
				if iamd.ErrorField(err) != iamd.FieldPassword || !strings.Contains(iamd.ErrorMessage(err), "(rule: "+rule+")") {
					t.Fatalf("%q: %v; want rule %s", pw, err, rule)
				}
				if got := f.get(t, u.ID); got.PasswordHash != first.PasswordHash || got.Version != first.Version {
					t.Fatalf("%q: the refused password was stored", pw)
				}
			}
			for i := 1; i <= 5; i++ {
				if err := f.setPassword(f.admin, "a", u.ID, "rotating password "+string(rune('0'+i)), false); err != nil {
					t.Fatal(err)
				}
			}
			// The last five (1 to 5) are refused; the one before them (0) is allowed again.
			fifth := f.get(t, u.ID)
			for i := 1; i <= 5; i++ {
				err := f.setPassword(f.admin, "a", u.ID, "rotating password "+string(rune('0'+i)), false)
				if !strings.Contains(iamd.ErrorMessage(err), "(rule: password history)") {
					t.Fatalf("reuse of password %d: %v", i, err)
				}
				if got := f.get(t, u.ID); got.PasswordHash != fifth.PasswordHash || got.Version != fifth.Version {
					t.Fatalf("reuse of password %d: the refused password was stored", i)
				}
			}
			if got := f.get(t, u.ID); got.PasswordHistoryCount != 4 {
				t.Fatalf("history holds %d retired passwords, want 4 (plus the current one)", got.PasswordHistoryCount)
			}
			if err := f.setPassword(f.admin, "a", u.ID, "first password 0", false); err != nil {
				t.Fatalf("a password older than the history: %v", err)
			}
		})
	}
}

func TestImportedHashesSignInAndBecomeArgon2id(t *testing.T) {
	keycloak, err := account.KeycloakHash(keycloakSecretData, keycloakCredentialData)
	if err != nil {
		t.Fatal(err)
	}
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			for login, c := range map[string]struct{ hash, password string }{
				"bcrypt-user":   {bcryptHash, bcryptPassword},
				"keycloak-user": {keycloak, keycloakPassword},
			} {
				u := f.user(t, login, "")
				if err := f.importHash(f.admin, "a", u.ID, c.hash); err != nil {
					t.Fatal(err)
				}
				if _, err := f.signIn(login, c.password); err != nil {
					t.Fatalf("%s: %v", login, err)
				}
				got := f.get(t, u.ID)
				if !strings.HasPrefix(got.PasswordHash, "$argon2id$") {
					t.Fatalf("%s: stored %q after sign-in, want argon2id", login, got.PasswordHash[:10])
				}
				if _, err := f.signIn(login, c.password); err != nil {
					t.Fatalf("%s after rehash: %v", login, err)
				}
			}
			u := f.user(t, "bad-import", "")
			err := f.importHash(f.admin, "a", u.ID, "$md5$abc")
			if iamd.ErrorField(err) != iamd.FieldPasswordHash {
				t.Fatalf("unsupported hash: %v", err)
			}
		})
	}
}

func TestSessionsRefreshAndSignOut(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			f.user(t, "alice", goodPassword)
			grant, err := f.signIn("alice", goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			f.advance(30 * time.Minute)
			next, err := f.svc.Refresh(ctx, grant.Token)
			if err != nil {
				t.Fatal(err)
			}
			if !next.Session.ExpiresAt.Equal(f.clock().Add(time.Hour)) || next.Token == grant.Token {
				t.Fatalf("refreshed session %+v", next.Session)
			}
			if _, err := f.svc.AuthenticateToken(ctx, grant.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("the refreshed-away token still works: %v", err)
			}
			if _, err := f.svc.Refresh(ctx, grant.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("a token refreshed twice: %v", err)
			}
			if p, err := f.svc.AuthenticateToken(ctx, next.Token); err != nil || p.SessionID != next.Session.ID {
				t.Fatalf("new token: %+v, %v", p, err)
			}
			f.advance(time.Hour)
			if _, err := f.svc.AuthenticateToken(ctx, next.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("an expired session still works: %v", err)
			}
			grant, _ = f.signIn("alice", goodPassword)
			if err := f.svc.SignOut(ctx, grant.Token); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, grant.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("a signed-out token still works: %v", err)
			}
		})
	}
}

// A token revoked through one replica fails on another sharing the database.
func TestRevocationHoldsAcrossReplicas(t *testing.T) {
	url := pgtest.NewDatabase(t)
	open := func() iamd.Store {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	f := newFixture(t, open())
	var key account.MasterKey
	other := account.New(open(), key, account.WithHasher(fastHasher), account.WithClock(f.clock))
	f.user(t, "alice", goodPassword)
	grant, err := f.signIn("alice", goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.AuthenticateToken(ctx, grant.Token); err != nil {
		t.Fatalf("the second replica does not know the session: %v", err)
	}
	if err := f.svc.SignOut(ctx, grant.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := other.AuthenticateToken(ctx, grant.Token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
		t.Fatalf("the second replica still accepts a revoked token: %v", err)
	}
}

func TestKeysAndTokensLifecycle(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", goodPassword)
			self := f.signedIn(t, "alice", goodPassword)

			past := f.clock().Add(-time.Minute)
			if _, _, err := f.svc.CreateAccessKey(self, "a", u.ID, iamd.CredentialOptions{ExpiresAt: &past}); iamd.ErrorField(err) != iamd.FieldExpiresAt {
				t.Fatalf("an expiry in the past: %v", err)
			}
			expiry := f.clock().Add(24 * time.Hour)
			k1, secret1, err := f.svc.CreateAccessKey(self, "a", u.ID, iamd.CredentialOptions{Description: "laptop", ExpiresAt: &expiry})
			if err != nil {
				t.Fatal(err)
			}
			f.advance(time.Second)
			k2, _, err := f.svc.CreateAccessKey(self, "a", u.ID, iamd.CredentialOptions{Description: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			tok, token, err := f.svc.CreateAPIToken(self, "a", u.ID, iamd.CredentialOptions{Description: "bot"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.VerifyHMAC(ctx, k1.ID, []byte("m"), mac(secret1, "m")); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, token); err != nil {
				t.Fatal(err)
			}
			keys, err := f.svc.ListAccessKeys(self, "a", u.ID)
			if err != nil || len(keys) != 2 {
				t.Fatalf("keys %+v, %v", keys, err)
			}
			if keys[0].ID != k1.ID || keys[0].SecretEncrypted != nil || keys[0].LastUsedAt == nil || keys[1].LastUsedAt != nil ||
				!keys[0].ExpiresAt.Equal(expiry) {
				t.Fatalf("listed keys %+v", keys)
			}
			toks, err := f.svc.ListAPITokens(self, "a", u.ID)
			if err != nil || len(toks) != 1 || toks[0].ID != tok.ID || toks[0].Hash != nil || toks[0].LastUsedAt == nil {
				t.Fatalf("tokens %+v, %v", toks, err)
			}

			// Another user without privileges can neither see nor revoke them.
			f.user(t, "mallory", goodPassword)
			mallory := f.signedIn(t, "mallory", goodPassword)
			if _, err := f.svc.ListAccessKeys(mallory, "a", u.ID); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Fatalf("another user lists the keys: %v", err)
			}
			if err := f.svc.RevokeAccessKey(mallory, "a", k2.ID); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Fatalf("another user revokes a key: %v", err)
			}
			if err := f.svc.RevokeAPIToken(mallory, "a", tok.ID); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Fatalf("another user revokes a token: %v", err)
			}

			if err := f.svc.RevokeAccessKey(self, "a", k2.ID); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.RevokeAPIToken(self, "a", tok.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.AuthenticateToken(ctx, token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("a revoked token works: %v", err)
			}
			if err := f.svc.RevokeAccessKey(f.admin, "a", k1.ID); err != nil {
				t.Fatalf("an admin revokes a user's key: %v", err)
			}
			if _, err := f.svc.VerifyHMAC(ctx, k1.ID, []byte("m"), mac(secret1, "m")); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("a revoked key works: %v", err)
			}
			if err := f.svc.RevokeAccessKey(self, "a", k1.ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Fatalf("revoking twice: %v", err)
			}
		})
	}
}

func TestAuthenticatePasswordOpensNoSession(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "alice", goodPassword)
			p, err := f.svc.AuthenticatePassword(ctx, "a", "ALICE", goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != u.ID || p.SessionID != "" || p.PasswordChangeOnly {
				t.Fatalf("principal %+v", p)
			}
			if got := f.get(t, u.ID); got.LastLoginAt != nil {
				t.Fatal("authenticating a request was recorded as a sign-in")
			}
			_, err = f.svc.AuthenticatePassword(ctx, "a", "alice", "not the password")
			wantFailed(t, err)
			_, err = f.svc.AuthenticatePassword(ctx, "a", "nobody", goodPassword)
			wantFailed(t, err)
			if got := f.get(t, u.ID); got.PasswordFailedCount != 1 {
				t.Fatalf("failures counted: %d, want 1", got.PasswordFailedCount)
			}

			if err := f.setPassword(f.admin, "a", u.ID, "temporary pass 1", true); err != nil {
				t.Fatal(err)
			}
			if p, err := f.svc.AuthenticatePassword(ctx, "a", "alice", "temporary pass 1"); err != nil || !p.PasswordChangeOnly || len(p.Privileges) != 0 {
				t.Fatalf("a temporary password: %+v, %v; want a change-only principal", p, err)
			}
			if err := f.setPassword(f.admin, "a", u.ID, goodPassword+"!", false); err != nil {
				t.Fatal(err)
			}
			self := f.signedIn(t, "alice", goodPassword+"!")
			enrolment, err := f.svc.EnrolTOTP(self)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.ConfirmTOTP(self, code(t, enrolment.Secret, f.clock())); err != nil {
				t.Fatal(err)
			}
			_, err = f.svc.AuthenticatePassword(ctx, "a", "alice", goodPassword+"!")
			wantFailed(t, err)
			if r := f.reasons(t); len(r) == 0 || !strings.Contains(r[0], "MFA") {
				t.Fatalf("audit reasons %q: the MFA refusal is not recorded", r)
			}
		})
	}
}

func TestAuthenticateHeader(t *testing.T) {
	f := newFixture(t, storetest.OpenSQLite(t))
	u := f.user(t, "alice", goodPassword)
	_, token, err := f.svc.CreateAPIToken(f.admin, "a", u.ID, iamd.CredentialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+goodPassword))
	for _, c := range []struct {
		header, basicInstance string
		schemes               []string
		ok                    bool
	}{
		{"Bearer " + token, "", []string{"Bearer"}, true},
		{"apikey " + token, "", []string{"ApiKey", "Bearer"}, true},
		{"ApiKey " + token, "", []string{"Bearer"}, false},
		{basic, "a", []string{"Bearer"}, true},
		{basic, "", []string{"Bearer"}, false}, // Basic not offered
		{"Basic !!!", "a", nil, false},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("no-colon")), "a", nil, false},
		{"Bearer", "", []string{"Bearer"}, false},
		{"", "a", []string{"Bearer"}, false},
	} {
		p, err := f.svc.AuthenticateHeader(ctx, c.header, c.basicInstance, c.schemes...)
		if c.ok && (err != nil || p.UserID != u.ID) {
			t.Errorf("%.20q: %v", c.header, err)
		}
		if !c.ok {
			wantFailed(t, err)
		}
	}
}

// A stored hash that cannot be read is the operator's to mend: logged (without the
// hash), and never counted as the user's failed sign-in.
func TestUnreadableHashIsLoggedNotCounted(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			logs, logger := logtest.New()
			f.svc = account.New(store, account.MasterKey{}, account.WithClock(f.clock), account.WithHasher(fastHasher), account.WithLogger(logger))
			const corrupt = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$not-base64!"
			u := &iamd.User{ID: iamd.NewID(), InstanceID: "a", LoginName: "broken", Status: iamd.UserActive, PasswordHash: corrupt, Version: 1}
			if err := f.store.CreateUser(ctx, iamd.UserWrite{User: u, Event: iamd.Event{InstanceID: "a"}}); err != nil {
				t.Fatal(err)
			}
			for range 6 { // more than the lockout threshold
				_, err := f.svc.SignIn(ctx, iamd.SignIn{InstanceID: "a", LoginName: "broken", Password: "any password at all"})
				if iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
					t.Fatalf("sign-in with an unreadable hash: %v", err)
				}
			}
			self := iamd.NewContextWithPrincipal(ctx, &iamd.Principal{UserID: u.ID, InstanceID: "a", Name: "broken"})
			if err := f.svc.ChangePassword(self, "any password at all", "a fresh passphrase 1"); iamd.ErrorCode(err) != iamd.EINTERNAL {
				t.Fatalf("changing a password from an unreadable hash: %v", err)
			}
			got, err := f.store.GetUser(ctx, "a", u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.PasswordFailedCount != 0 || got.LockedUntil != nil || got.PasswordHash != corrupt {
				t.Fatalf("the unreadable hash counted as failures: %d, locked %v", got.PasswordFailedCount, got.LockedUntil)
			}
			if !strings.Contains(logs.String(), "unreadable") || strings.Contains(logs.String(), "not-base64") {
				t.Fatalf("logs: %s", logs.String())
			}
		})
	}
}

// A sign-in with a temporary password may change it at once: one transaction changes the
// password and opens a full session; a refused new password changes nothing.
func TestSignInChangingATemporaryPassword(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, store)
			u := f.user(t, "quill", "unused initial passphrase")
			if err := f.setPassword(f.admin, "a", u.ID, "temporary pass 1", true); err != nil {
				t.Fatal(err)
			}
			in := iamd.SignIn{InstanceID: "a", LoginName: "quill", Password: "temporary pass 1", NewPassword: "password123"}
			if _, err := f.svc.SignIn(ctx, in); iamd.ErrorField(err) != iamd.FieldPassword {
				t.Fatalf("a common new password: %v", err)
			}
			before, _ := f.store.GetUser(ctx, "a", u.ID)
			if !before.TemporaryPassword {
				t.Fatal("a refused new password changed the temporary one")
			}
			in.NewPassword = "a permanent passphrase 2"
			grant, err := f.svc.SignIn(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if grant.Session.PasswordChangeOnly {
				t.Fatal("the session after the change is still a change-only one")
			}
			after, _ := f.store.GetUser(ctx, "a", u.ID)
			if after.TemporaryPassword || after.PasswordHistoryCount == 0 {
				t.Fatalf("after the change: temporary %v, history %d", after.TemporaryPassword, after.PasswordHistoryCount)
			}
			if _, err := f.svc.SignIn(ctx, iamd.SignIn{InstanceID: "a", LoginName: "quill", Password: "temporary pass 1"}); err == nil {
				t.Fatal("the temporary password still signs in")
			}
			if _, err := f.svc.SignIn(ctx, iamd.SignIn{InstanceID: "a", LoginName: "quill", Password: "a permanent passphrase 2"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
