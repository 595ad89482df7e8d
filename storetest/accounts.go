package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"iamd"
)

func testPasswords(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	u := newUser("a", "john")
	u.PasswordHash = "hash0"
	mustUser(t, s, u)
	change := func(hash string, at time.Duration, keep int, temporary bool) iamd.PasswordChange {
		return iamd.PasswordChange{InstanceID: "a", UserID: u.ID, Hash: hash, At: t0.Add(at), Keep: keep,
			Temporary: temporary, Event: event("a", iamd.ActionPasswordSet, u.ID)}
	}
	for i, h := range []string{"hash1", "hash2", "hash3"} {
		if err := s.SetPassword(ctx, change(h, time.Duration(i+1)*time.Minute, 2, i == 2)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "hash3" || !got.TemporaryPassword || got.PasswordChangedAt == nil ||
		!got.PasswordChangedAt.Equal(t0.Add(3*time.Minute)) || got.PasswordHistoryCount != 2 || got.Version != u.Version+3 {
		t.Fatalf("after three changes keeping 2: %+v", got)
	}
	hist, err := s.PasswordHistory(ctx, "a", u.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"hash2", "hash1"}; !slices.Equal(hist, want) {
		t.Fatalf("history %v, want %v (newest first, 2 kept)", hist, want)
	}
	if hist, _ := s.PasswordHistory(ctx, "b", u.ID, 5); len(hist) != 0 {
		t.Fatalf("another instance sees the history: %v", hist)
	}

	stale := change("hash4", 4*time.Minute, 2, false)
	stale.IfHash = "hash2"
	wantCode(t, s.SetPassword(ctx, stale), iamd.ECONFLICT, "")
	stale.IfHash = "hash3"
	if err := s.SetPassword(ctx, stale); err != nil {
		t.Fatal(err)
	}
	rehash := change("hash4-argon2id", 5*time.Minute, 2, false)
	rehash.Rehash, rehash.IfHash = true, "hash4"
	if err := s.SetPassword(ctx, rehash); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetUser(ctx, "a", u.ID)
	if got.PasswordHash != "hash4-argon2id" || !got.PasswordChangedAt.Equal(t0.Add(4*time.Minute)) || got.PasswordHistoryCount != 2 {
		t.Fatalf("a rehash must change only the hash: %+v", got)
	}
	if hist, _ := s.PasswordHistory(ctx, "a", u.ID, 5); !slices.Equal(hist, []string{"hash3", "hash2"}) {
		t.Fatalf("history after rehash: %v", hist)
	}
	missing := change("x", 0, 2, false)
	missing.UserID = iamd.NewID()
	wantCode(t, s.SetPassword(ctx, missing), iamd.ENOTFOUND, "")
	other := change("x", 0, 2, false)
	other.InstanceID = "b"
	wantCode(t, s.SetPassword(ctx, other), iamd.ENOTFOUND, "")
}

// Concurrent failures on one user: none lost, and exactly one of them locks the account.
func testConcurrentSignInFailures(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u := mustUser(t, s, newUser("a", "john"))
	const attempts, threshold = 50, 5
	failure := func(at time.Time) iamd.SignInFailure {
		fail := event("a", iamd.ActionSignIn, u.ID)
		fail.Outcome = iamd.OutcomeFailure
		return iamd.SignInFailure{InstanceID: "a", UserID: u.ID, At: at, Threshold: threshold, LockFor: 15 * time.Minute,
			Event: fail, LockEvent: event("a", iamd.ActionUserLock, u.ID)}
	}
	var wg sync.WaitGroup
	errs := make(chan error, attempts)
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.RecordSignInFailure(ctx, failure(t0.Add(time.Duration(i)*time.Millisecond)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordFailedCount != attempts || got.LockedUntil == nil || got.LastFailedLoginAt == nil {
		t.Fatalf("after %d failures: count %d, locked until %v", attempts, got.PasswordFailedCount, got.LockedUntil)
	}
	if n := countActions(t, s, iamd.ActionUserLock); n != 1 {
		t.Fatalf("%d lock events, want 1", n)
	}
	if n := countActions(t, s, iamd.ActionSignIn); n != attempts {
		t.Fatalf("%d failure events, want %d", n, attempts)
	}

	success := iamd.SignInSuccess{InstanceID: "a", UserID: u.ID, At: t0.Add(time.Minute), Event: event("a", iamd.ActionSignIn, u.ID)}
	wantCode(t, s.RecordSignInSuccess(ctx, success), iamd.ECONFLICT, "")

	// Once the lock has run out, a failure starts counting afresh.
	st, err := s.RecordSignInFailure(ctx, failure(got.LockedUntil.Add(time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	if st.FailedCount != 1 || st.LockedUntil != nil {
		t.Fatalf("first failure after the lock ran out: %+v", st)
	}
	success.At = got.LockedUntil.Add(2 * time.Second)
	success.Session = &iamd.Session{ID: iamd.NewID(), InstanceID: "a", UserID: u.ID, Hash: []byte("signed-in-0123456789abcdef012345"),
		CreatedAt: success.At, ExpiresAt: success.At.Add(time.Hour)}
	if err := s.RecordSignInSuccess(ctx, success); err != nil {
		t.Fatal(err)
	}
	if sess, err := s.GetSessionByHash(ctx, success.Session.Hash); err != nil || sess.ID != success.Session.ID {
		t.Fatalf("session of the sign-in: %+v, %v", sess, err)
	}
	success.Session = nil
	got, err = s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordFailedCount != 0 || got.LockedUntil != nil || got.FirstLoginAt == nil || !got.LastLoginAt.Equal(success.At) {
		t.Fatalf("after success: %+v", got)
	}
	first := *got.FirstLoginAt
	success.At = success.At.Add(time.Hour)
	if err := s.RecordSignInSuccess(ctx, success); err != nil {
		t.Fatal(err)
	}
	for range threshold {
		if _, err := s.RecordSignInFailure(ctx, failure(success.At.Add(time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	// Unlocked as the core does it: a change of the user.
	locked, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	unlocked := *locked
	unlocked.PasswordFailedCount, unlocked.LockedUntil, unlocked.Roles, unlocked.Privileges, unlocked.Version = 0, nil, nil, nil, locked.Version+1
	if err := s.UpdateUser(ctx, iamd.UserWrite{User: &unlocked, ExpectedVersion: locked.Version, Event: event("a", iamd.ActionUserUnlock, u.ID)}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetUser(ctx, "a", u.ID)
	if got.PasswordFailedCount != 0 || got.LockedUntil != nil || !got.FirstLoginAt.Equal(first) {
		t.Fatalf("after unlock: count %d, locked %v, first sign-in %v (want %v)", got.PasswordFailedCount, got.LockedUntil, got.FirstLoginAt, first)
	}
	_, err = s.RecordSignInFailure(ctx, iamd.SignInFailure{InstanceID: "a", UserID: iamd.NewID(), At: t0, Threshold: 5})
	wantCode(t, err, iamd.ENOTFOUND, "")
}

func countActions(t *testing.T, s iamd.Store, action string) int {
	t.Helper()
	evs, err := s.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", Action: action, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func testSessions(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u := mustUser(t, s, newUser("a", "john"))
	newSession := func(hash string, at time.Duration) *iamd.Session {
		return &iamd.Session{ID: iamd.NewID(), InstanceID: "a", UserID: u.ID, Hash: []byte(hash),
			CreatedAt: t0.Add(at), ExpiresAt: t0.Add(at + time.Hour)}
	}
	first := newSession("hash-one-0123456789abcdef0123456", 0)
	first.PasswordChangeOnly = true
	if err := s.CreateSession(ctx, first, event("a", iamd.ActionSignIn, u.ID)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetSessionByHash(ctx, first.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || got.UserID != u.ID || !got.PasswordChangeOnly || !got.ExpiresAt.Equal(first.ExpiresAt) || got.RevokedAt != nil {
		t.Fatalf("session round trip: %+v, want %+v", got, first)
	}

	// Two refreshes of one session race: one wins.
	var wg sync.WaitGroup
	results := make([]error, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := newSession("hash-next-"+string(rune('a'+i))+"0123456789abcdef0123", time.Minute)
			results[i] = s.RotateSession(ctx, first.ID, next, event("a", iamd.ActionSessionRefresh, u.ID))
		}()
	}
	wg.Wait()
	if (results[0] == nil) == (results[1] == nil) {
		t.Fatalf("concurrent rotations: %v, %v; want exactly one success", results[0], results[1])
	}
	got, _ = s.GetSessionByHash(ctx, first.Hash)
	if got.RevokedAt == nil {
		t.Fatal("a rotated session must be revoked")
	}
	third := newSession("hash-three-0123456789abcdef01234", 2*time.Minute)
	if err := s.CreateSession(ctx, third, event("a", iamd.ActionSignIn, u.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, third.ID, t0.Add(3*time.Minute), event("a", iamd.ActionSignOut, u.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.RevokeSession(ctx, third.ID, t0.Add(4*time.Minute), event("a", iamd.ActionSignOut, u.ID)), iamd.ENOTFOUND, "")
	if got, _ := s.GetSessionByHash(ctx, third.Hash); got.RevokedAt == nil || !got.RevokedAt.Equal(t0.Add(3*time.Minute)) {
		t.Fatalf("revoked session: %+v", got)
	}
	// Listing: the one live session (the winner of the race); expired ones are not listed.
	live, err := s.ListSessions(ctx, "a", u.ID, t0.Add(5*time.Minute))
	if err != nil || len(live) != 1 || !live[0].CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("live sessions: %+v, %v", live, err)
	}
	if later, _ := s.ListSessions(ctx, "a", u.ID, t0.Add(2*time.Hour)); len(later) != 0 {
		t.Fatalf("expired sessions listed: %+v", later)
	}
	fourth := newSession("hash-four-0123456789abcdef012345", 4*time.Minute)
	if err := s.CreateSession(ctx, fourth, event("a", iamd.ActionSignIn, u.ID)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RevokeUserSessions(ctx, "a", u.ID, t0.Add(5*time.Minute), event("a", iamd.ActionSessionsExpire, u.ID)); err != nil || n != 2 {
		t.Fatalf("revoke all: %d, %v", n, err)
	}
	if live, _ := s.ListSessions(ctx, "a", u.ID, t0.Add(5*time.Minute)); len(live) != 0 {
		t.Fatalf("after revoking all: %+v", live)
	}
	if _, err := s.RevokeUserSessions(ctx, "b", u.ID, t0, event("b", iamd.ActionSessionsExpire, u.ID)); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("another instance's user: %v", err)
	}
	orphan := newSession("hash-orphan-0123456789abcdef0123", 0)
	orphan.UserID = iamd.NewID()
	wantCode(t, s.CreateSession(ctx, orphan, event("a", iamd.ActionSignIn, "x")), iamd.ENOTFOUND, "")

	if err := s.DeleteUser(ctx, "a", u.ID, 0, event("a", iamd.ActionUserDelete, u.ID)); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetSessionByHash(ctx, third.Hash)
	wantCode(t, err, iamd.ENOTFOUND, "")
}

func testTOTP(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	u := mustUser(t, s, newUser("a", "john"))
	enrol := func(secret string) error {
		return s.PutTOTP(ctx, "a", &iamd.TOTP{UserID: u.ID, SecretEncrypted: []byte(secret), CreatedAt: t0},
			event("a", iamd.ActionMFAEnrol, u.ID))
	}
	if err := enrol("first"); err != nil {
		t.Fatal(err)
	}
	if err := enrol("second"); err != nil {
		t.Fatalf("an unconfirmed enrolment must be replaceable: %v", err)
	}
	got, err := s.GetTOTP(ctx, "a", u.ID)
	if err != nil || string(got.SecretEncrypted) != "second" || got.Confirmed {
		t.Fatalf("enrolment %+v, %v", got, err)
	}
	if _, err := s.GetTOTP(ctx, "b", u.ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("another instance reads the enrolment: %v", err)
	}
	wantCode(t, s.UseTOTPStep(ctx, u.ID, 5), iamd.ECONFLICT, "") // not confirmed yet
	codes := [][]byte{[]byte("code-hash-1"), []byte("code-hash-2")}
	if err := s.ConfirmTOTP(ctx, "a", u.ID, 100, codes, event("a", iamd.ActionMFAConfirm, u.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.ConfirmTOTP(ctx, "a", u.ID, 101, codes, event("a", iamd.ActionMFAConfirm, u.ID)), iamd.ENOTFOUND, "")
	wantCode(t, enrol("third"), iamd.ECONFLICT, "")
	if user, _ := s.GetUser(ctx, "a", u.ID); !user.MFAEnabled {
		t.Fatal("confirming must turn MFA on")
	}
	wantCode(t, s.UseTOTPStep(ctx, u.ID, 100), iamd.ECONFLICT, "")

	// Concurrent uses of one step: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.UseTOTPStep(ctx, u.ID, 101) }()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("%d uses of one step succeeded, want 1", wins)
	}
	if err := s.UseRecoveryCode(ctx, u.ID, codes[0], t0); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, codes[0], t0), iamd.ENOTFOUND, "")
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, []byte("unknown"), t0), iamd.ENOTFOUND, "")

	wantCode(t, s.DeleteTOTP(ctx, "b", u.ID, event("b", iamd.ActionMFADisable, u.ID)), iamd.ENOTFOUND, "")
	if err := s.DeleteTOTP(ctx, "a", u.ID, event("a", iamd.ActionMFADisable, u.ID)); err != nil {
		t.Fatal(err)
	}
	if user, _ := s.GetUser(ctx, "a", u.ID); user.MFAEnabled {
		t.Fatal("disabling must turn MFA off")
	}
	wantCode(t, s.UseRecoveryCode(ctx, u.ID, codes[1], t0), iamd.ENOTFOUND, "")
	wantCode(t, s.DeleteTOTP(ctx, "a", u.ID, event("a", iamd.ActionMFADisable, u.ID)), iamd.ENOTFOUND, "")
}

func testCredentialLifecycle(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	u := mustUser(t, s, newUser("a", "john"))
	for i, id := range []string{"AKEY0000000000000001", "AKEY0000000000000002"} {
		k := &iamd.AccessKey{ID: id, InstanceID: "a", UserID: u.ID, SecretEncrypted: []byte("sealed"), Enabled: true,
			CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		if err := s.CreateAccessKey(ctx, k, event("a", iamd.ActionAccessKeyCreate, id)); err != nil {
			t.Fatal(err)
		}
	}
	tok := &iamd.APIToken{ID: iamd.NewID(), InstanceID: "a", UserID: u.ID, Hash: []byte("token-hash-0123456789abcdef012345"), CreatedAt: t0}
	if err := s.CreateAPIToken(ctx, tok, event("a", iamd.ActionAPITokenCreate, tok.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAccessKey(ctx, "AKEY0000000000000002", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIToken(ctx, tok.ID, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListAccessKeys(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "AKEY0000000000000001" || keys[0].LastUsedAt != nil ||
		keys[1].LastUsedAt == nil || !keys[1].LastUsedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("keys %+v", keys)
	}
	toks, err := s.ListAPITokens(ctx, "a", u.ID)
	if err != nil || len(toks) != 1 || toks[0].LastUsedAt == nil || !toks[0].LastUsedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("tokens %+v, %v", toks, err)
	}
	if all, err := s.ListInstanceAPITokens(ctx, "a"); err != nil || len(all) != 1 || all[0].ID != toks[0].ID {
		t.Fatalf("the instance's tokens %+v, %v", all, err)
	}
	if all, err := s.ListInstanceAPITokens(ctx, "b"); err != nil || len(all) != 0 {
		t.Fatalf("another instance's tokens %+v, %v", all, err)
	}
	if keys, _ := s.ListAccessKeys(ctx, "b", u.ID); len(keys) != 0 {
		t.Fatalf("another instance lists the keys: %+v", keys)
	}
	wantCode(t, s.RevokeAccessKey(ctx, "b", "AKEY0000000000000001", event("b", iamd.ActionAccessKeyRevoke, "x")), iamd.ENOTFOUND, "")
	if err := s.RevokeAccessKey(ctx, "a", "AKEY0000000000000001", event("a", iamd.ActionAccessKeyRevoke, "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetAccessKey(ctx, "AKEY0000000000000001"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("a revoked key is still found: %v", err)
	}
	wantCode(t, s.RevokeAccessKey(ctx, "a", "AKEY0000000000000001", event("a", iamd.ActionAccessKeyRevoke, "x")), iamd.ENOTFOUND, "")
	if got, err := s.GetAPIToken(ctx, "a", tok.ID); err != nil || got.UserID != tok.UserID {
		t.Fatalf("GetAPIToken = %+v, %v", got, err)
	}
	if _, err := s.GetAPIToken(ctx, "b", tok.ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("another instance's token: %v", err)
	}
	// All or none: a missing id revokes nothing.
	wantCode(t, s.RevokeAPITokens(ctx, "a", []string{tok.ID, "missing"}, []iamd.Event{event("a", iamd.ActionAPITokenRevoke, tok.ID),
		event("a", iamd.ActionAPITokenRevoke, "missing")}), iamd.ENOTFOUND, "")
	if _, err := s.CheckAPIToken(ctx, tok.Hash); err != nil {
		t.Fatalf("a refused revocation revoked the token: %v", err)
	}
	if err := s.RevokeAPITokens(ctx, "a", []string{tok.ID}, []iamd.Event{event("a", iamd.ActionAPITokenRevoke, tok.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckAPIToken(ctx, tok.Hash); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("a revoked token is still found: %v", err)
	}
}

func testRoles(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	builtin := []iamd.Role{{Name: "viewer", Description: "Reads", Builtin: true, Privileges: []string{iamd.PrivilegeUserRead, iamd.PrivilegeGroupRead}}}
	for range 2 { // idempotent: done at every start
		if err := s.PutRoles(ctx, "a", builtin); err != nil {
			t.Fatal(err)
		}
	}
	custom := &iamd.Role{InstanceID: "a", Name: "auditor", Description: "Reads the log", Privileges: []string{iamd.PrivilegeAuditRead}}
	if err := s.CreateRole(ctx, custom, event("a", iamd.ActionRoleCreate, "auditor")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.CreateRole(ctx, custom, event("a", iamd.ActionRoleCreate, "auditor")), iamd.ECONFLICT, iamd.FieldName)
	roles, err := s.ListRoles(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || roles[0].Name != "auditor" || roles[0].Builtin || roles[1].Name != "viewer" || !roles[1].Builtin ||
		!slices.Equal(roles[1].Privileges, []string{iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}) {
		t.Fatalf("roles %+v", roles)
	}
	if roles, _ := s.ListRoles(ctx, "b"); len(roles) != 0 {
		t.Fatalf("another instance's roles: %+v", roles)
	}
	// A user created with roles: they must exist in its instance, and nothing is left
	// of a refused create.
	withRole := newUser("a", "created-with-role")
	withRole.Roles = []string{"auditor"}
	mustUser(t, s, withRole)
	if got, err := s.GetUser(ctx, "a", withRole.ID); err != nil || !slices.Equal(got.Roles, []string{"auditor"}) {
		t.Fatalf("a user created with a role: %+v, %v", got, err)
	}
	for _, f := range []iamd.UserFilter{{InstanceID: "a", WithRoles: true}, {InstanceID: "a", LoginName: withRole.LoginName, WithRoles: true}} {
		page, err := s.ListUsers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, u := range page.Users {
			if u.ID == withRole.ID {
				found = slices.Equal(u.Roles, []string{"auditor"})
			} else if u.Roles == nil {
				t.Fatalf("listing %+v left a user's roles nil", f)
			}
		}
		if !found {
			t.Fatalf("listing %+v with roles: %+v", f, page.Users)
		}
	}
	unknown := newUser("b", "created-with-unknown-role")
	unknown.Roles = []string{"auditor"} // a role of instance a only
	wantCode(t, s.CreateUser(ctx, iamd.UserWrite{User: unknown, Event: event("b", iamd.ActionUserCreate, unknown.ID)}), iamd.EINVALID, iamd.FieldRoles)
	if _, err := s.GetUserByLogin(ctx, "b", unknown.LoginName); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("a refused create left a user: %v", err)
	}

	u := mustUser(t, s, newUser("a", "john"))
	g := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Ops")
	if err := addGroupMembers(s, ctx, "a", g.ID, []string{u.ID}, event("a", iamd.ActionGroupAddMembers, g.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, setUserRoles(s, ctx, "a", u.ID, []string{"viewer", "nope"}, event("a", iamd.ActionRolesAssign, u.ID)), iamd.EINVALID, iamd.FieldRoles)
	if err := setUserRoles(s, ctx, "a", u.ID, []string{"viewer"}, event("a", iamd.ActionRolesAssign, u.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupRoles(ctx, "a", g.ID, []string{"auditor"}, event("a", iamd.ActionRolesAssign, g.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.SetGroupRoles(ctx, "b", g.ID, []string{"auditor"}, event("b", iamd.ActionRolesAssign, g.ID)), iamd.ENOTFOUND, "")
	privs, err := s.EffectivePrivileges(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{iamd.PrivilegeAuditRead, iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}; !slices.Equal(privs, want) {
		t.Fatalf("effective privileges %v, want %v (direct role + group role)", privs, want)
	}
	// Re-putting the built-ins keeps the grants.
	if err := s.PutRoles(ctx, "a", builtin); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetUser(ctx, "a", u.ID); !slices.Equal(got.Roles, []string{"viewer"}) {
		t.Fatalf("user roles after re-put: %v", got.Roles)
	}
	if err := s.DeleteRole(ctx, "a", "auditor", event("a", iamd.ActionRoleDelete, "auditor")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteRole(ctx, "a", "auditor", event("a", iamd.ActionRoleDelete, "auditor")), iamd.ENOTFOUND, "")
	privs, _ = s.EffectivePrivileges(ctx, "a", u.ID)
	if want := []string{iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}; !slices.Equal(privs, want) {
		t.Fatalf("after deleting the group's role: %v", privs)
	}
}
