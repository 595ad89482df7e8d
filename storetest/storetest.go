// Package storetest is the conformance suite every iamd.Store passes. Each engine's
// tests call Run with a function that opens a fresh, empty store.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
)

// Opener returns a fresh, migrated, empty store; it arranges its own cleanup.
type Opener func(t testing.TB) iamd.Store

// Run runs the conformance suite against stores from open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s iamd.Store)
	}{
		{"Instances", testInstances},
		{"UserRoundTrip", testUserRoundTrip},
		{"LoginNamesUniquePerInstance", testLoginNamesUnique},
		{"ConcurrentCreatesOfOneLogin", testConcurrentCreates},
		{"UnknownGroupStoresNothing", testUnknownGroupStoresNothing},
		{"UpdateUser", testUpdateUser},
		{"DeleteUserCascades", testDeleteUserCascades},
		{"ListUsersPagesAndSorts", testListUsers},
		{"ListUsersFilters", testListUsersFilters},
		{"ListUsersWhere", testListUsersWhere},
		{"ListUsersAnchors", testListAnchors},
		{"Groups", testGroups},
		{"NestedGroups", testNestedGroups},
		{"UserTags", testUserTags},
		{"Credentials", testCredentials},
		{"Privileges", testPrivileges},
		{"Events", testEvents},
		{"Passwords", testPasswords},
		{"ConcurrentSignInFailures", testConcurrentSignInFailures},
		{"Sessions", testSessions},
		{"TOTP", testTOTP},
		{"CredentialLifecycle", testCredentialLifecycle},
		{"Roles", testRoles},
		{"UserWriteIsOneTransaction", testUserWrite},
		{"GroupNamesUnique", testGroupNamesUnique},
		{"ConcurrentGroupCreatesOfOneName", testConcurrentGroupCreates},
		{"GroupWrite", testGroupWrite},
		{"GroupGrants", testGroupGrants},
		{"BatchReads", testBatchReads},
		{"DeleteInstance", testDeleteInstance},
		{"PrefixSearch", testPrefixSearch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// t0 is a fixed, microsecond-precise time: what the core hands stores.
var t0 = time.Date(2026, 11, 22, 9, 30, 0, 123456000, time.UTC)

func event(instanceID, action, target string) iamd.Event {
	return iamd.Event{InstanceID: instanceID, ActorID: "actor", ActorName: "Actor", Action: action,
		TargetType: strings.Split(action, ".")[0], TargetID: target, Outcome: iamd.OutcomeSuccess,
		Source: "192.0.2.1", Time: t0}
}

func mustInstance(t testing.TB, s iamd.Store, id string) {
	t.Helper()
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: id, Name: "Instance " + id, Policy: iamd.DefaultAccountPolicy, CreatedAt: t0},
		event(id, iamd.ActionInstanceCreate, id)); err != nil {
		t.Fatal(err)
	}
}

// mustFullUserRoles puts the roles fullUser holds into the instance.
func mustFullUserRoles(t testing.TB, s iamd.Store, instanceID string) {
	t.Helper()
	if err := s.PutRoles(ctx, instanceID, []iamd.Role{{Name: "auditor"}, {Name: "viewer"}}); err != nil {
		t.Fatal(err)
	}
}

// newUser returns a minimal valid user as the core would hand it to the store.
func newUser(instanceID, login string) *iamd.User {
	return &iamd.User{ID: iamd.NewID(), InstanceID: instanceID, LoginName: login, DisplayName: "User " + login,
		Status: iamd.UserActive, CreatedAt: t0, CreatedBy: "actor", CreatedByName: "Actor",
		UpdatedAt: t0, UpdatedBy: "actor", UpdatedByName: "Actor", Version: 1}
}

func mustUser(t testing.TB, s iamd.Store, u *iamd.User, groups ...string) *iamd.User {
	t.Helper()
	if err := s.CreateUser(ctx, iamd.UserWrite{User: u, JoinGroups: groups, Event: event(u.InstanceID, iamd.ActionUserCreate, u.ID)}); err != nil {
		t.Fatal(err)
	}
	return u
}

func mustGroup(t testing.TB, s iamd.Store, instanceID, id, name string) *iamd.Group {
	t.Helper()
	g := &iamd.Group{ID: id, InstanceID: instanceID, Name: name, CreatedAt: t0, CreatedBy: "actor",
		CreatedByName: "Actor", UpdatedAt: t0, UpdatedBy: "actor", UpdatedByName: "Actor", Version: 1}
	if err := s.CreateGroup(ctx, iamd.GroupWrite{Group: g, Event: event(instanceID, iamd.ActionGroupCreate, id)}); err != nil {
		t.Fatal(err)
	}
	return g
}

func wantCode(t testing.TB, err error, code, field string) {
	t.Helper()
	if got := iamd.ErrorCode(err); got != code {
		t.Fatalf("error %v: code %q, want %q", err, got, code)
	}
	if field != "" && iamd.ErrorField(err) != field {
		t.Fatalf("error %v: field %q, want %q", err, iamd.ErrorField(err), field)
	}
}

func eventCount(t testing.TB, s iamd.Store, instanceID string) int {
	t.Helper()
	evs, err := s.ListEvents(ctx, iamd.EventFilter{InstanceID: instanceID})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func testInstances(t *testing.T, s iamd.Store) {
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	mustInstance(t, s, "zeta")
	mustInstance(t, s, "alpha")
	err := s.CreateInstance(ctx, &iamd.Instance{ID: "alpha", Name: "again", CreatedAt: t0}, event("alpha", iamd.ActionInstanceCreate, "alpha"))
	wantCode(t, err, iamd.ECONFLICT, iamd.FieldInstanceID)
	got, err := s.GetInstance(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	if want := (iamd.Instance{ID: "alpha", Name: "Instance alpha", Policy: iamd.DefaultAccountPolicy, CreatedAt: t0}); *got != want {
		t.Fatalf("got %+v, want %+v", *got, want)
	}
	_, err = s.GetInstance(ctx, "missing")
	wantCode(t, err, iamd.ENOTFOUND, "")

	policy := iamd.AccountPolicy{PasswordMinLength: 12, PasswordHistory: 0, PasswordMaxAge: 90 * 24 * time.Hour,
		LockoutThreshold: 3, LockoutDuration: time.Hour}
	if err := s.SetAccountPolicy(ctx, "alpha", policy, event("alpha", iamd.ActionPolicySet, "alpha")); err != nil {
		t.Fatal(err)
	}
	if got, err = s.GetInstance(ctx, "alpha"); err != nil || got.Policy != policy {
		t.Fatalf("policy after set: %+v, %v; want %+v", got, err, policy)
	}
	err = s.SetAccountPolicy(ctx, "missing", policy, event("missing", iamd.ActionPolicySet, "missing"))
	wantCode(t, err, iamd.ENOTFOUND, "")

	all, err := s.ListInstances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "alpha" || all[1].ID != "zeta" {
		t.Fatalf("ListInstances = %+v, want alpha then zeta", all)
	}
}

// fullUser sets every field of the canonical record to something other than its zero value.
func fullUser(instanceID string) *iamd.User {
	at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
	return &iamd.User{
		ID: iamd.NewID(), InstanceID: instanceID, LoginName: "Jöhn.Doe", Realm: "ldap1",
		DisplayName: "John Doe", GivenName: "John", FamilyName: "Doe",
		Email: "john.doe@example.com", EmailVerified: true, PhoneCountryCode: "+82", PhoneNumber: "010-1234-5678",
		PhoneExtension: "12", PhoneVerified: true, EmployeeNumber: "emp-12345", Department: "Department X",
		BusinessUnit: "Business Unit A", Manager: "Alice Smith", Organization: "org-1", Description: "Description ☃",
		TimeZone: "Asia/Seoul", Locale: "ko-KR", ExternalID: "ext-1", Extra: `{"title":"Mañana ☃"}`, Status: iamd.UserSuspended,
		ConsoleDenied: true, APIDenied: true, Builtin: true, SSO: true, PlatformAdmin: true,
		PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", TemporaryPassword: true,
		PasswordChangedAt: at(time.Hour), PasswordFailedCount: 3, LockedUntil: at(2 * time.Hour),
		Expired: true, CredentialsExpired: true, MFAEnabled: true, ElevatedUntil: at(3 * time.Hour),
		FirstLoginAt: at(4 * time.Hour), LastLoginAt: at(5 * time.Hour), LastFailedLoginAt: at(6 * time.Hour),
		Roles: []string{"auditor", "viewer"}, Privileges: []string{iamd.PrivilegeUserRead},
		CreatedAt: t0, CreatedBy: "creator", CreatedByName: "Creator",
		UpdatedAt: t0.Add(time.Minute), UpdatedBy: "modifier", UpdatedByName: "Modifier", Version: 7,
	}
}

func testUserRoundTrip(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Beta")
	mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "alpha")
	mustFullUserRoles(t, s, "a")
	u := fullUser("a")
	mustUser(t, s, u, "39520424-440c-41c0-9b9c-f22b2129f6f9", "80c53fe1-4e27-4cce-92be-151cf0f2873e")
	want := *u
	want.Groups = []iamd.GroupRef{ // by name, ignoring case
		{ID: "80c53fe1-4e27-4cce-92be-151cf0f2873e", Name: "alpha"},
		{ID: "39520424-440c-41c0-9b9c-f22b2129f6f9", Name: "Beta"},
	}
	want.InheritedGroups = []iamd.GroupRef{}
	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Fatalf("round trip changed the user:\n got %+v\nwant %+v", got, &want)
	}
	row, err := s.GetUserRow(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantRow := want
	wantRow.Groups, wantRow.InheritedGroups, wantRow.Roles, wantRow.Privileges, wantRow.PasswordHistoryCount = nil, nil, nil, nil, 0
	if !reflect.DeepEqual(row, &wantRow) {
		t.Fatalf("GetUserRow:\n got %+v\nwant %+v", row, &wantRow)
	}
	byLogin, err := s.GetUserByLogin(ctx, "a", "JÖHN.doe")
	if err != nil {
		t.Fatal(err)
	}
	if byLogin.ID != u.ID {
		t.Fatalf("GetUserByLogin found %s, want %s", byLogin.ID, u.ID)
	}

	bare := mustUser(t, s, newUser("a", "bare"))
	got, err = s.GetUser(ctx, "a", bare.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LastLoginAt != nil || got.PasswordChangedAt != nil || len(got.Groups) != 0 || got.Groups == nil {
		t.Fatalf("a bare user came back with %+v", got)
	}

	mustInstance(t, s, "b")
	_, err = s.GetUser(ctx, "b", u.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
	_, err = s.GetUserRow(ctx, "b", u.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
	_, err = s.GetUserByLogin(ctx, "b", u.LoginName)
	wantCode(t, err, iamd.ENOTFOUND, "")
}

func testLoginNamesUnique(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	mustUser(t, s, newUser("a", "John"))
	before := eventCount(t, s, "a")
	err := s.CreateUser(ctx, iamd.UserWrite{User: newUser("a", "JOHN"), Event: event("a", iamd.ActionUserCreate, "x")})
	wantCode(t, err, iamd.ECONFLICT, iamd.FieldLoginName)
	if n := eventCount(t, s, "a"); n != before {
		t.Fatalf("a refused create left %d events, want %d", n, before)
	}
	mustUser(t, s, newUser("b", "john")) // another instance: no clash

	other := mustUser(t, s, newUser("a", "jane"))
	renamed := *other
	renamed.LoginName, renamed.Version = "john", 2
	err = s.UpdateUser(ctx, iamd.UserWrite{User: &renamed, ExpectedVersion: 1, Event: event("a", iamd.ActionUserUpdate, other.ID)})
	wantCode(t, err, iamd.ECONFLICT, iamd.FieldLoginName)
}

// ConcurrentCreates is the number of simultaneous creates of one login name.
const ConcurrentCreates = 100

// concurrently runs fn(0), …, fn(n-1) at once and returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentCreates(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	errs := concurrently(ConcurrentCreates, func(i int) error {
		u := newUser("a", "Same.Name")
		if i%2 == 1 {
			u.LoginName = "same.name"
		}
		return s.CreateUser(ctx, iamd.UserWrite{User: u, Event: event("a", iamd.ActionUserCreate, u.ID)})
	})
	ok := 0
	for _, err := range errs {
		switch iamd.ErrorCode(err) {
		case "":
			ok++
		case iamd.ECONFLICT:
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent creates succeeded, want exactly 1", ok, ConcurrentCreates)
	}
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 {
		t.Fatalf("%d users stored, want 1", page.Total)
	}
}

func testUnknownGroupStoresNothing(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "real")
	mustGroup(t, s, "b", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "of b")
	before := eventCount(t, s, "a")
	for _, missing := range []string{"00000000-0000-0000-0000-000000000000", "80c53fe1-4e27-4cce-92be-151cf0f2873e"} {
		u := newUser("a", "john")
		err := s.CreateUser(ctx, iamd.UserWrite{User: u, JoinGroups: []string{"39520424-440c-41c0-9b9c-f22b2129f6f9", missing}, Event: event("a", iamd.ActionUserCreate, u.ID)})
		wantCode(t, err, iamd.EINVALID, iamd.FieldGroupIDs)
		if !strings.Contains(iamd.ErrorMessage(err), missing) {
			t.Fatalf("error %q does not name the missing group %s", iamd.ErrorMessage(err), missing)
		}
	}
	if _, err := s.GetUserByLogin(ctx, "a", "john"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("a refused create stored the user (err %v)", err)
	}
	if n := eventCount(t, s, "a"); n != before {
		t.Fatalf("events: %d, want %d", n, before)
	}
	u := newUser("missing-instance", "x")
	wantCode(t, s.CreateUser(ctx, iamd.UserWrite{User: u, Event: event("missing-instance", iamd.ActionUserCreate, u.ID)}), iamd.EINVALID, iamd.FieldInstanceID)
}

func testUpdateUser(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustFullUserRoles(t, s, "a")
	u := mustUser(t, s, fullUser("a"))
	next := *u
	next.Department, next.Email, next.LastLoginAt, next.Version = "Ops", "", nil, u.Version+1
	next.UpdatedAt = t0.Add(time.Hour)
	if err := s.UpdateUser(ctx, iamd.UserWrite{User: &next, ExpectedVersion: u.Version, Event: event("a", iamd.ActionUserUpdate, u.ID)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Department != "Ops" || got.Email != "" || got.LastLoginAt != nil || got.Version != u.Version+1 ||
		!got.UpdatedAt.Equal(t0.Add(time.Hour)) || !got.CreatedAt.Equal(u.CreatedAt) || got.CreatedBy != u.CreatedBy {
		t.Fatalf("after update: %+v", got)
	}
	stale := next
	stale.Department, stale.Version = "Stale", next.Version+1
	wantCode(t, s.UpdateUser(ctx, iamd.UserWrite{User: &stale, ExpectedVersion: u.Version, Event: event("a", iamd.ActionUserUpdate, u.ID)}), iamd.ECONFLICT, "")
	missing := next
	missing.ID = iamd.NewID()
	wantCode(t, s.UpdateUser(ctx, iamd.UserWrite{User: &missing, ExpectedVersion: next.Version, Event: event("a", iamd.ActionUserUpdate, missing.ID)}), iamd.ENOTFOUND, "")
	mustInstance(t, s, "b")
	moved := next
	moved.InstanceID = "b"
	wantCode(t, s.UpdateUser(ctx, iamd.UserWrite{User: &moved, ExpectedVersion: next.Version, Event: event("b", iamd.ActionUserUpdate, u.ID)}), iamd.ENOTFOUND, "")
}

func testDeleteUserCascades(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	g := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "g")
	u := mustUser(t, s, newUser("a", "john"), g.ID)
	key := &iamd.AccessKey{ID: "AKEY0000000000000001", InstanceID: "a", UserID: u.ID, SecretEncrypted: []byte{1, 2, 3},
		Enabled: true, CreatedAt: t0}
	if err := s.CreateAccessKey(ctx, key, event("a", iamd.ActionAccessKeyCreate, key.ID)); err != nil {
		t.Fatal(err)
	}
	mustInstance(t, s, "b")
	wantCode(t, s.DeleteUser(ctx, "b", u.ID, 0, event("b", iamd.ActionUserDelete, u.ID)), iamd.ENOTFOUND, "")
	if err := s.DeleteUser(ctx, "a", u.ID, 0, event("a", iamd.ActionUserDelete, u.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteUser(ctx, "a", u.ID, 0, event("a", iamd.ActionUserDelete, u.ID)), iamd.ENOTFOUND, "")
	_, err := s.GetAccessKey(ctx, key.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
	got, err := s.GetGroup(ctx, "a", g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberCount != 0 {
		t.Fatalf("group still counts %d members", got.MemberCount)
	}
	mustUser(t, s, newUser("a", "JOHN")) // the login name is free again
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a"})
	if err != nil || page.Total != 1 || len(page.Users) != 1 {
		t.Fatalf("after delete and create: %+v, %v", page, err)
	}
	mustInstance(t, s, "empty")
	if page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "empty"}); err != nil || page.Total != 0 {
		t.Fatalf("an empty instance: %+v, %v", page, err)
	}
}

func testListUsers(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	const n = 57
	var all []iamd.User
	for i := range n {
		u := newUser("a", fmt.Sprintf("user%02d", (i*17)%n))
		u.DisplayName = []string{"Kim", "lee", "Park", "Choi"}[i%4] // repeats force the id tie-break
		u.CreatedAt = t0.Add(time.Duration(i%5) * time.Second)
		u.UpdatedAt = t0.Add(time.Duration(n-i) * time.Second)
		mustUser(t, s, u)
		all = append(all, *u)
	}
	mustUser(t, s, newUser("b", "elsewhere"))

	orders := [][]iamd.UserSort{
		nil,
		{{Key: iamd.SortByCreatedAt, Descending: true}},
		{{Key: iamd.SortByLoginName}},
		{{Key: iamd.SortByName}, {Key: iamd.SortByCreatedAt, Descending: true}},
		{{Key: iamd.SortByUpdatedAt, Descending: true}},
	}
	// Pages must come out the same before and after the engine's upkeep, which changes
	// the plans it picks (PostgreSQL: index-only scans once the visibility map is set).
	m, maintains := s.(Maintainer)
	for _, maintained := range []bool{false, true} {
		if maintained {
			if !maintains {
				break
			}
			if err := m.Maintain(ctx); err != nil {
				t.Fatal(err)
			}
		}
		checkPages(t, s, all, orders)
	}
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", Offset: n + 5, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != n || len(page.Users) != 0 || page.Users == nil {
		t.Fatalf("past the end: total %d, %d users", page.Total, len(page.Users))
	}
	_, err = s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", Sort: []iamd.UserSort{{Key: "password_hash"}}})
	wantCode(t, err, iamd.EINVALID, iamd.FieldSort)
}

// checkPages lists instance a's users in every order and page size and compares the
// concatenated pages with all, sorted the same way.
func checkPages(t *testing.T, s iamd.Store, all []iamd.User, orders [][]iamd.UserSort) {
	t.Helper()
	n := len(all)
	for _, order := range orders {
		want := slices.Clone(all)
		sortUsers(want, order)
		for _, size := range []int{1, 10, 20, 1000} {
			var got []string
			for off := 0; off < n; off += size {
				page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", Sort: order, Offset: off, Limit: size})
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != n {
					t.Fatalf("total %d, want %d", page.Total, n)
				}
				for _, u := range page.Users {
					got = append(got, u.ID)
				}
			}
			if ids := userIDs(want); !slices.Equal(got, ids) {
				t.Fatalf("sort %+v, size %d:\n got %v\nwant %v", order, size, got, ids)
			}
		}
	}
}

// sortUsers orders users as the stores must: by each key in turn, then by id in the
// direction of the last key.
func sortUsers(us []iamd.User, order []iamd.UserSort) {
	if len(order) == 0 {
		order = []iamd.UserSort{{Key: iamd.SortByCreatedAt}}
	}
	sort.SliceStable(us, func(i, j int) bool {
		for _, o := range order {
			var c int
			switch o.Key {
			case iamd.SortByCreatedAt:
				c = us[i].CreatedAt.Compare(us[j].CreatedAt)
			case iamd.SortByUpdatedAt:
				c = us[i].UpdatedAt.Compare(us[j].UpdatedAt)
			case iamd.SortByLoginName:
				c = strings.Compare(iamd.LoginKey(us[i].LoginName), iamd.LoginKey(us[j].LoginName))
			case iamd.SortByName:
				c = strings.Compare(us[i].DisplayName, us[j].DisplayName)
			}
			if o.Descending {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		c := strings.Compare(us[i].ID, us[j].ID)
		if order[len(order)-1].Descending {
			c = -c
		}
		return c < 0
	})
}

func userIDs(us []iamd.User) []string {
	ids := make([]string, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	return ids
}

func testListUsersFilters(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	g := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "g")
	in := mustUser(t, s, newUser("a", "Member"), g.ID)
	out := newUser("a", "outsider")
	out.Status = iamd.UserSuspended
	mustUser(t, s, out)
	cases := []struct {
		f    iamd.UserFilter
		want []string
	}{
		{iamd.UserFilter{LoginName: "MEMBER"}, []string{in.ID}},
		{iamd.UserFilter{GroupID: g.ID}, []string{in.ID}},
		{iamd.UserFilter{ExcludedGroupID: g.ID}, []string{out.ID}},
		{iamd.UserFilter{Status: iamd.UserSuspended}, []string{out.ID}},
		{iamd.UserFilter{LoginName: "nobody"}, nil},
		// A login name with other filters: every one must hold.
		{iamd.UserFilter{LoginName: "member", Status: iamd.UserSuspended}, nil},
		{iamd.UserFilter{LoginName: "outsider", Status: iamd.UserSuspended}, []string{out.ID}},
		{iamd.UserFilter{LoginName: "member", GroupID: g.ID}, []string{in.ID}},
		{iamd.UserFilter{LoginName: "outsider", GroupID: g.ID}, nil},
		{iamd.UserFilter{LoginName: "member", ExcludedGroupID: g.ID}, nil},
	}
	for _, c := range cases {
		c.f.InstanceID = "a"
		page, err := s.ListUsers(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		if got := userIDs(page.Users); !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) || page.Total != len(c.want) {
			t.Errorf("filter %+v: got %v (total %d), want %v", c.f, got, page.Total, c.want)
		}
	}
	// Past the one match of a login name: an empty page, the total still counting it.
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", LoginName: "member", Offset: 1})
	if err != nil || len(page.Users) != 0 || page.Total != 1 {
		t.Errorf("login name at offset 1: %d users, total %d, %v; want none, total 1", len(page.Users), page.Total, err)
	}
	if page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "b", LoginName: "member"}); err != nil || page.Total != 0 {
		t.Errorf("the login name of another instance: total %d, %v", page.Total, err)
	}
}

func testGroups(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	g := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Admins")
	mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "Users")
	mustGroup(t, s, "b", g.ID, "same id, other instance")
	dup := *g
	dup.Name = "Another name"
	wantCode(t, s.CreateGroup(ctx, iamd.GroupWrite{Group: &dup, Event: event("a", iamd.ActionGroupCreate, g.ID)}), iamd.ECONFLICT, iamd.FieldID)

	renamed := *g
	renamed.Name, renamed.Description, renamed.ExternalID, renamed.Version = "Administrators", "they administer", "ext-9", g.Version+1
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: &renamed, ExpectedVersion: g.Version, Event: event("a", iamd.ActionGroupUpdate, g.ID)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UpdateGroup(ctx, iamd.GroupWrite{Group: &renamed, ExpectedVersion: g.Version, Event: event("a", iamd.ActionGroupUpdate, g.ID)}), iamd.ECONFLICT, "")
	missing := renamed
	missing.ID = "00000000-0000-0000-0000-000000000000"
	wantCode(t, s.UpdateGroup(ctx, iamd.GroupWrite{Group: &missing, ExpectedVersion: renamed.Version, Event: event("a", iamd.ActionGroupUpdate, g.ID)}), iamd.ENOTFOUND, "")
	if got, err := s.GetGroup(ctx, "a", g.ID); err != nil || got.Name != "Administrators" || got.Description != "they administer" ||
		got.ExternalID != "ext-9" || got.Version != g.Version+1 {
		t.Fatalf("after the rename: %+v, %v", got, err)
	}
	if page, err := s.ListGroups(ctx, iamd.GroupFilter{InstanceID: "a", Name: "ADMINISTRATORS"}); err != nil || page.Total != 1 {
		t.Fatalf("the renamed group by its new name: %+v, %v", page, err)
	}
	for ext, want := range map[string]int{"ext-9": 1, "EXT-9": 0} { // external ids are compared as written
		if page, err := s.ListGroups(ctx, iamd.GroupFilter{InstanceID: "a", ExternalID: ext}); err != nil || page.Total != want {
			t.Fatalf("by external id %q: %+v, %v", ext, page, err)
		}
	}
	renamed.Name, renamed.Version = g.Name, renamed.Version+1 // back, for what follows
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: &renamed, ExpectedVersion: renamed.Version - 1, Event: event("a", iamd.ActionGroupUpdate, g.ID)}); err != nil {
		t.Fatal(err)
	}

	u1 := mustUser(t, s, newUser("a", "one"))
	u2 := mustUser(t, s, newUser("a", "two"))
	ub := mustUser(t, s, newUser("b", "three"))
	before := eventCount(t, s, "a")
	err := addGroupMembers(s, ctx, "a", g.ID, []string{u1.ID, ub.ID}, event("a", iamd.ActionGroupAddMembers, g.ID))
	wantCode(t, err, iamd.ENOTFOUND, iamd.FieldUserIDs)
	if eventCount(t, s, "a") != before {
		t.Fatal("a refused membership change left an event")
	}
	wantCode(t, addGroupMembers(s, ctx, "a", "00000000-0000-0000-0000-000000000000", []string{u1.ID}, event("a", iamd.ActionGroupAddMembers, "x")), iamd.ENOTFOUND, "")
	for range 2 { // idempotent
		if err := addGroupMembers(s, ctx, "a", g.ID, []string{u1.ID, u2.ID}, event("a", iamd.ActionGroupAddMembers, g.ID)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetGroup(ctx, "a", g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.MemberCount != 2 || got.Name != "Admins" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("group: %+v", got)
	}
	if err := removeGroupMembers(s, ctx, "a", g.ID, []string{u1.ID}, event("a", iamd.ActionGroupRemoveMem, g.ID)); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.GetUser(ctx, "a", u1.ID); len(u.Groups) != 0 {
		t.Fatalf("removed member still in %v", u.Groups)
	}
	if u, _ := s.GetUser(ctx, "a", u2.ID); len(u.Groups) != 1 || u.Groups[0] != (iamd.GroupRef{ID: g.ID, Name: "Admins"}) {
		t.Fatalf("member's groups: %v", u.Groups)
	}

	page, err := s.ListGroups(ctx, iamd.GroupFilter{InstanceID: "a", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 || len(page.Groups) != 1 || page.Groups[0].Name != "Admins" {
		t.Fatalf("ListGroups: %+v", page)
	}
	page, err = s.ListGroups(ctx, iamd.GroupFilter{InstanceID: "a", Name: "users"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Groups[0].Name != "Users" {
		t.Fatalf("ListGroups by name: %+v", page)
	}

	_, err = s.GetGroup(ctx, "a", "00000000-0000-0000-0000-000000000000")
	wantCode(t, err, iamd.ENOTFOUND, "")
	if err := s.DeleteGroup(ctx, "a", g.ID, 0, event("a", iamd.ActionGroupDelete, g.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteGroup(ctx, "a", g.ID, 0, event("a", iamd.ActionGroupDelete, g.ID)), iamd.ENOTFOUND, "")
	if u, _ := s.GetUser(ctx, "a", u2.ID); u == nil || len(u.Groups) != 0 {
		t.Fatalf("after group delete the member is %+v", u)
	}
	if _, err := s.GetGroup(ctx, "b", g.ID); err != nil {
		t.Fatalf("deleting a's group touched b's: %v", err)
	}
}

func testCredentials(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u := mustUser(t, s, newUser("a", "john"))
	exp := t0.Add(24 * time.Hour)
	key := &iamd.AccessKey{ID: "AKEY0000000000000001", InstanceID: "a", UserID: u.ID,
		SecretEncrypted: []byte{0, 1, 2, 255}, Description: "ci", Enabled: true, CreatedAt: t0, ExpiresAt: &exp}
	if err := s.CreateAccessKey(ctx, key, event("a", iamd.ActionAccessKeyCreate, key.ID)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetAccessKey(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, key) {
		t.Fatalf("access key round trip:\n got %+v\nwant %+v", got, key)
	}
	wantCode(t, s.CreateAccessKey(ctx, key, event("a", iamd.ActionAccessKeyCreate, key.ID)), iamd.ECONFLICT, "")
	_, err = s.GetAccessKey(ctx, "AKEY-MISSING")
	wantCode(t, err, iamd.ENOTFOUND, "")
	orphan := *key
	orphan.ID, orphan.UserID = "AKEY0000000000000002", iamd.NewID()
	wantCode(t, s.CreateAccessKey(ctx, &orphan, event("a", iamd.ActionAccessKeyCreate, orphan.ID)), iamd.ENOTFOUND, "")

	tok := &iamd.APIToken{ID: iamd.NewID(), InstanceID: "a", UserID: u.ID, Hash: []byte("0123456789abcdef0123456789abcdef"),
		Description: "bot", CreatedAt: t0}
	if err := s.CreateAPIToken(ctx, tok, event("a", iamd.ActionAPITokenCreate, tok.ID)); err != nil {
		t.Fatal(err)
	}
	gotTok, err := s.GetAPIToken(ctx, "a", tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotTok, tok) {
		t.Fatalf("token round trip:\n got %+v\nwant %+v", gotTok, tok)
	}
	if byHash, err := s.CheckAPIToken(ctx, tok.Hash); err != nil || byHash.ID != tok.ID || byHash.UserID != u.ID {
		t.Fatalf("the token by its hash: %+v, %v", byHash, err)
	}
	_, err = s.CheckAPIToken(ctx, []byte("nope"))
	wantCode(t, err, iamd.ENOTFOUND, "")
}

func testPrivileges(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u := newUser("a", "john")
	u.Privileges = []string{iamd.PrivilegeUserRead}
	mustUser(t, s, u)
	next := *u
	next.Privileges, next.Version = []string{iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}, 2
	if err := s.UpdateUser(ctx, iamd.UserWrite{User: &next, ExpectedVersion: 1, Event: event("a", "privilege.grant", u.ID)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.EffectivePrivileges(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}; !slices.Equal(got, want) {
		t.Fatalf("EffectivePrivileges = %v, want %v", got, want)
	}
	rights, err := s.GetUserRights(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rights.PlatformAdmin || !slices.Equal(rights.Privileges, got) {
		t.Fatalf("GetUserRights = %+v, want the effective privileges %v", rights, got)
	}
	_, err = s.GetUserRights(ctx, "a", iamd.NewID())
	wantCode(t, err, iamd.ENOTFOUND, "")
	_, err = s.GetUserRights(ctx, "b", u.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
}

func testEvents(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u := mustUser(t, s, newUser("a", "john"))
	fail := event("a", iamd.ActionSignIn, u.ID)
	fail.Outcome, fail.Reason, fail.Time = iamd.OutcomeFailure, "bad password", t0.Add(time.Second)
	fail.Face, fail.Changes = "native", []string{"password", "totp_code"}
	if err := s.AppendEvent(ctx, fail); err != nil {
		t.Fatal(err)
	}
	evs, err := s.ListEvents(ctx, iamd.EventFilter{InstanceID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs {
		actions = append(actions, e.Action)
	}
	if want := []string{iamd.ActionSignIn, iamd.ActionUserCreate, iamd.ActionInstanceCreate}; !slices.Equal(actions, want) {
		t.Fatalf("events newest first: %v, want %v", actions, want)
	}
	got := evs[0]
	fail.ID = got.ID
	if !reflect.DeepEqual(got, fail) {
		t.Fatalf("event round trip:\n got %+v\nwant %+v", got, fail)
	}
	evs, err = s.ListEvents(ctx, iamd.EventFilter{InstanceID: "a", TargetID: u.ID, Action: iamd.ActionUserCreate})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Action != iamd.ActionUserCreate || evs[0].Source != "192.0.2.1" {
		t.Fatalf("filtered events: %+v", evs)
	}
	testEventTrail(t, s)
}

// testEventTrail reads the log the way the native API pages it: by actor, type and time,
// a page at a time with the last id as the cursor; and prunes it.
func testEventTrail(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "trail")
	var want []int64 // newest first, for each actor "x" event
	for i := range 30 {
		ev := event("trail", iamd.ActionUserUpdate, "u1")
		ev.Time = t0.Add(time.Duration(i) * time.Minute)
		if i%3 == 0 {
			ev.ActorID, ev.Action = "x", iamd.ActionGroupCreate
		}
		if err := s.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	list := func(f iamd.EventFilter) []iamd.Event {
		t.Helper()
		f.InstanceID = "trail"
		evs, err := s.ListEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	for _, e := range list(iamd.EventFilter{}) {
		if e.ActorID == "x" {
			want = append(want, e.ID)
		}
	}
	if len(want) != 10 {
		t.Fatalf("%d events by x, want 10", len(want))
	}
	var got []int64
	for before := int64(0); ; {
		page := list(iamd.EventFilter{ActorID: "x", Action: iamd.ActionGroupCreate, Before: before, Limit: 4})
		for _, e := range page {
			got = append(got, e.ID)
		}
		if len(page) < 4 {
			break
		}
		before = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged by actor and type: %v, want %v", got, want)
	}
	// Minutes 10 to 19: since is inclusive, until exclusive.
	window := list(iamd.EventFilter{Since: t0.Add(10 * time.Minute), Until: t0.Add(20 * time.Minute)})
	if len(window) != 10 || !window[0].Time.Equal(t0.Add(19*time.Minute)) || !window[9].Time.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("since/until window: %d events, %+v", len(window), window)
	}
	if n := len(list(iamd.EventFilter{Action: iamd.ActionUserUpdate})); n != 20 {
		t.Fatalf("%d update events, want 20", n)
	}

	pruner, ok := s.(iamd.EventPruner)
	if !ok {
		t.Fatal("the store cannot prune events")
	}
	all := list(iamd.EventFilter{TargetID: "u1"})
	newest := all[0]
	// Everything is older than a far future: all but the table's newest row go.
	if _, err := pruner.DeleteEventsBefore(ctx, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(list(iamd.EventFilter{TargetID: "u1"})); n != 30 {
		t.Fatalf("pruning before the first event left %d of 30", n)
	}
	if _, err := pruner.DeleteEventsBefore(ctx, t0.Add(15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if left := list(iamd.EventFilter{TargetID: "u1"}); len(left) != 15 || !left[14].Time.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("pruning before minute 15 left %d events", len(left))
	}
	if _, err := pruner.DeleteEventsBefore(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	left := list(iamd.EventFilter{TargetID: "u1"})
	if len(left) > 1 || (len(left) == 1 && left[0].ID != newest.ID) {
		t.Fatalf("pruning everything left %+v, want at most the newest event", left)
	}
	// A new event never takes an id a cursor could already hold.
	ev := event("trail", iamd.ActionUserUpdate, "u1")
	if err := s.AppendEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if again := list(iamd.EventFilter{Limit: 1}); len(again) != 1 || again[0].ID <= newest.ID {
		t.Fatalf("after pruning, a new event got id %+v, not above %d", again, newest.ID)
	}
}

// The membership and role changes below are what the store's writes of a group or user
// make of them, as the core asks: each a new version of what it changes.

func changeGroup(s iamd.Store, instanceID, groupID string, ev iamd.Event, w iamd.GroupWrite) error {
	g, err := s.GetGroup(ctx, instanceID, groupID)
	if err != nil {
		return err
	}
	next := *g
	next.Version++
	w.Group, w.ExpectedVersion, w.Event = &next, g.Version, ev
	return s.UpdateGroup(ctx, w)
}

func addGroupMembers(s iamd.Store, ctx context.Context, instanceID, groupID string, userIDs []string, ev iamd.Event) error {
	return changeGroup(s, instanceID, groupID, ev, iamd.GroupWrite{Add: iamd.GroupMembers{Users: userIDs}})
}

func removeGroupMembers(s iamd.Store, ctx context.Context, instanceID, groupID string, userIDs []string, ev iamd.Event) error {
	return changeGroup(s, instanceID, groupID, ev, iamd.GroupWrite{Remove: iamd.GroupMembers{Users: userIDs}})
}

func addMemberGroups(s iamd.Store, ctx context.Context, instanceID, groupID string, ids []string, ev iamd.Event) error {
	return changeGroup(s, instanceID, groupID, ev, iamd.GroupWrite{Add: iamd.GroupMembers{Groups: ids}})
}

func removeMemberGroups(s iamd.Store, ctx context.Context, instanceID, groupID string, ids []string, ev iamd.Event) error {
	return changeGroup(s, instanceID, groupID, ev, iamd.GroupWrite{Remove: iamd.GroupMembers{Groups: ids}})
}

func setUserRoles(s iamd.Store, ctx context.Context, instanceID, userID string, roles []string, ev iamd.Event) error {
	u, err := s.GetUser(ctx, instanceID, userID)
	if err != nil {
		return err
	}
	next := *u
	next.Roles, next.Version = roles, u.Version+1
	return s.UpdateUser(ctx, iamd.UserWrite{User: &next, ExpectedVersion: u.Version, Event: ev})
}

// testDeleteInstance removes an instance and all of it but its trail, leaves the other
// instances be, and refuses to remove the platform administrator's.
func testDeleteInstance(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "gone")
	mustInstance(t, s, "kept")
	g := mustGroup(t, s, "gone", iamd.NewID(), "Ops")
	u := mustUser(t, s, newUser("gone", "alice"), g.ID)
	other := mustUser(t, s, newUser("kept", "alice"))
	if err := s.CreateAccessKey(ctx, &iamd.AccessKey{ID: "AKGONE", InstanceID: "gone", UserID: u.ID, Enabled: true,
		SecretEncrypted: []byte("sealed"), CreatedAt: t0}, event("gone", iamd.ActionAccessKeyCreate, "AKGONE")); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRole(ctx, &iamd.Role{InstanceID: "gone", Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}},
		event("gone", iamd.ActionRoleCreate, "reader")); err != nil {
		t.Fatal(err)
	}
	admin := newUser("kept", "root")
	admin.PlatformAdmin = true
	mustUser(t, s, admin)

	wantCode(t, s.DeleteInstance(ctx, "kept", event("kept", iamd.ActionInstanceDelete, "kept")), iamd.ECONFLICT, iamd.FieldInstanceID)
	if _, err := s.GetUser(ctx, "kept", other.ID); err != nil {
		t.Fatalf("a refused delete removed a user: %v", err)
	}
	wantCode(t, s.DeleteInstance(ctx, "nowhere", event("nowhere", iamd.ActionInstanceDelete, "nowhere")), iamd.ENOTFOUND, "")

	if err := s.DeleteInstance(ctx, "gone", event("gone", iamd.ActionInstanceDelete, "gone")); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetInstance(ctx, "gone")
	wantCode(t, err, iamd.ENOTFOUND, "")
	_, err = s.GetUser(ctx, "gone", u.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
	if _, err := s.CheckAccessKey(ctx, "AKGONE"); err == nil {
		t.Fatal("the deleted instance's access key still checks")
	}
	if _, err := s.GetUser(ctx, "kept", other.ID); err != nil {
		t.Fatalf("another instance's user went too: %v", err)
	}
	evs, err := s.ListEvents(ctx, iamd.EventFilter{InstanceID: "gone"})
	if err != nil || len(evs) == 0 || evs[0].Action != iamd.ActionInstanceDelete {
		t.Fatalf("the trail of the deleted instance: %v %+v", err, evs)
	}

	// The id can be used again, for an empty instance.
	mustInstance(t, s, "gone")
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "gone"})
	if err != nil || page.Total != 0 || len(page.Users) != 0 {
		t.Fatalf("the re-created instance lists %v %+v", err, page)
	}
	mustUser(t, s, newUser("gone", "alice"))
	if page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "gone"}); err != nil || page.Total != 1 {
		t.Fatalf("after a create in the re-created instance: %v %+v", err, page)
	}
	if roles, err := s.ListRoles(ctx, "gone"); err != nil || len(roles) != 0 {
		t.Fatalf("the re-created instance has the old roles: %v %+v", err, roles)
	}
}
