package storetest

import (
	"fmt"
	"slices"
	"testing"

	"iamd"
)

// testUserWrite: one UserWrite changes the row, grants, memberships, password history
// and MFA enrolment together, or — refused — nothing at all.
func testUserWrite(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustFullUserRoles(t, s, "a")
	g1 := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "one")
	g2 := mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "two")
	u := newUser("a", "john")
	u.PasswordHash = "$argon2id$old"
	if err := s.CreateUser(ctx, iamd.UserWrite{User: u, JoinGroups: []string{g1.ID},
		TOTP:  &iamd.TOTP{UserID: u.ID, SecretEncrypted: []byte("sealed-1"), Confirmed: true, CreatedAt: t0},
		Event: event("a", iamd.ActionUserCreate, u.ID)}); err != nil {
		t.Fatal(err)
	}
	if tt, err := s.GetTOTP(ctx, "a", u.ID); err != nil || !tt.Confirmed || string(tt.SecretEncrypted) != "sealed-1" {
		t.Fatalf("MFA created with the user: %+v, %v", tt, err)
	}

	next := *u
	next.LoginName, next.PasswordHash, next.MFAEnabled, next.Version = "johnny", "$argon2id$new", true, 2
	next.Roles, next.Privileges = []string{"viewer"}, []string{iamd.PrivilegeGroupRead}
	write := iamd.UserWrite{User: &next, ExpectedVersion: 1, JoinGroups: []string{g2.ID}, LeaveGroups: []string{g1.ID},
		RetiredHash: "$argon2id$old", KeepHistory: 3,
		TOTP:  &iamd.TOTP{UserID: u.ID, SecretEncrypted: []byte("sealed-2"), Confirmed: true, CreatedAt: t0},
		Event: event("a", iamd.ActionUserUpdate, u.ID)}

	// Refused for a role the instance lacks: nothing of the write is made.
	bad := write
	badUser := next
	badUser.Roles = []string{"viewer", "no-such-role"}
	bad.User = &badUser
	before := eventCount(t, s, "a")
	wantCode(t, s.UpdateUser(ctx, bad), iamd.EINVALID, iamd.FieldRoles)
	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.LoginName != "john" || got.Version != 1 || len(got.Groups) != 1 || got.Groups[0].ID != g1.ID || len(got.Roles) != 0 {
		t.Fatalf("a refused write changed the user: %+v", got)
	}
	if h, err := s.PasswordHistory(ctx, "a", u.ID, 5); err != nil || len(h) != 0 || eventCount(t, s, "a") != before {
		t.Fatalf("a refused write left history %v (%v) or an event", h, err)
	}
	if tt, _ := s.GetTOTP(ctx, "a", u.ID); string(tt.SecretEncrypted) != "sealed-1" {
		t.Fatal("a refused write replaced the MFA enrolment")
	}

	if err := s.UpdateUser(ctx, write); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetUserByLogin(ctx, "a", "JOHNNY")
	if err != nil {
		t.Fatal(err)
	}
	if got.PasswordHash != "$argon2id$new" || !got.MFAEnabled || !slices.Equal(got.Roles, []string{"viewer"}) ||
		!slices.Equal(got.Privileges, []string{iamd.PrivilegeGroupRead}) || len(got.Groups) != 1 || got.Groups[0].ID != g2.ID {
		t.Fatalf("after the write: %+v", got)
	}
	if h, err := s.PasswordHistory(ctx, "a", u.ID, 5); err != nil || !slices.Equal(h, []string{"$argon2id$old"}) {
		t.Fatalf("password history %v, %v; want the retired hash", h, err)
	}
	if tt, _ := s.GetTOTP(ctx, "a", u.ID); string(tt.SecretEncrypted) != "sealed-2" {
		t.Fatal("the MFA enrolment was not replaced")
	}
	// Each membership change is a new version of its group: g1 joined at create, then left.
	for id, want := range map[string]int64{g1.ID: 3, g2.ID: 2} {
		if g, err := s.GetGroup(ctx, "a", id); err != nil || g.Version != want {
			t.Fatalf("group %s after the membership changes: %+v, %v; want version %d", id, g, err, want)
		}
	}
	if _, err := s.GetUserByLogin(ctx, "a", "john"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("the old login name still finds the user: %v", err)
	}

	// The stale write, and a rename onto a taken name.
	wantCode(t, s.UpdateUser(ctx, write), iamd.ECONFLICT, iamd.FieldVersion)
	other := mustUser(t, s, newUser("a", "jane"))
	taken := *other
	taken.LoginName, taken.Version = "Johnny", 2
	wantCode(t, s.UpdateUser(ctx, iamd.UserWrite{User: &taken, ExpectedVersion: 1, Event: event("a", iamd.ActionUserUpdate, other.ID)}),
		iamd.ECONFLICT, iamd.FieldLoginName)
	if got, err := s.GetUser(ctx, "a", other.ID); err != nil || got.LoginName != "jane" || got.Version != 1 {
		t.Fatalf("a refused rename changed the user: %+v, %v", got, err)
	}

	// MFA dropped.
	off := *got
	off.MFAEnabled, off.Version, off.Roles, off.Privileges = false, got.Version+1, nil, nil
	if err := s.UpdateUser(ctx, iamd.UserWrite{User: &off, ExpectedVersion: got.Version, DropTOTP: true,
		Event: event("a", iamd.ActionUserUpdate, u.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTOTP(ctx, "a", u.ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("MFA enrolment after DropTOTP: %v", err)
	}
	if got, _ := s.GetUser(ctx, "a", u.ID); got.MFAEnabled || !slices.Equal(got.Roles, []string{"viewer"}) {
		t.Fatalf("after DropTOTP (nil grants kept): %+v", got)
	}

	// Deletion at a version.
	wantCode(t, s.DeleteUser(ctx, "a", other.ID, 7, event("a", iamd.ActionUserDelete, other.ID)), iamd.ECONFLICT, iamd.FieldVersion)
	if err := s.DeleteUser(ctx, "a", other.ID, 1, event("a", iamd.ActionUserDelete, other.ID)); err != nil {
		t.Fatal(err)
	}
}

// testGroupNamesUnique: names are unique per instance ignoring case, on create and on
// rename, unless the instance allows duplicates.
func testGroupNamesUnique(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "dups", Name: "dups", Policy: iamd.DefaultAccountPolicy, DuplicateGroupNames: true,
		CreatedAt: t0}, event("dups", iamd.ActionInstanceCreate, "dups")); err != nil {
		t.Fatal(err)
	}
	if inst, err := s.GetInstance(ctx, "dups"); err != nil || !inst.DuplicateGroupNames {
		t.Fatalf("DuplicateGroupNames round trip: %+v, %v", inst, err)
	}
	g := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Ops")
	mustGroup(t, s, "b", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Ops") // another instance
	dup := &iamd.Group{ID: "80c53fe1-4e27-4cce-92be-151cf0f2873e", InstanceID: "a", Name: "OPS", CreatedAt: t0, UpdatedAt: t0, Version: 1}
	wantCode(t, s.CreateGroup(ctx, iamd.GroupWrite{Group: dup, Event: event("a", iamd.ActionGroupCreate, dup.ID)}), iamd.ECONFLICT, iamd.FieldName)
	other := mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "Dev")
	onto := *other
	onto.Name, onto.Version = "ops", 2
	wantCode(t, s.UpdateGroup(ctx, iamd.GroupWrite{Group: &onto, ExpectedVersion: 1, Event: event("a", iamd.ActionGroupUpdate, other.ID)}),
		iamd.ECONFLICT, iamd.FieldName)
	if got, err := s.GetGroup(ctx, "a", other.ID); err != nil || got.Name != "Dev" || got.Version != 1 {
		t.Fatalf("a refused rename changed the group: %+v, %v", got, err)
	}
	// Renaming to another case of its own name is no clash.
	self := *g
	self.Name, self.Version = "OPS", 2
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: &self, ExpectedVersion: 1, Event: event("a", iamd.ActionGroupUpdate, g.ID)}); err != nil {
		t.Fatal(err)
	}
	mustGroup(t, s, "dups", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Ops")
	mustGroup(t, s, "dups", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "ops")
}

// ConcurrentGroupCreates is the number of simultaneous creates of one group name.
const ConcurrentGroupCreates = 50

func testConcurrentGroupCreates(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	errs := concurrently(ConcurrentGroupCreates, func(i int) error {
		g := &iamd.Group{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), InstanceID: "a",
			Name: map[bool]string{true: "Engineering", false: "ENGINEERING"}[i%2 == 0], CreatedAt: t0, UpdatedAt: t0, Version: 1}
		return s.CreateGroup(ctx, iamd.GroupWrite{Group: g, Event: event("a", iamd.ActionGroupCreate, g.ID)})
	})
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case iamd.ErrorCode(err) != iamd.ECONFLICT || iamd.ErrorField(err) != iamd.FieldName:
			t.Errorf("unexpected error: %v", err)
		}
	}
	page, err := s.ListGroups(ctx, iamd.GroupFilter{InstanceID: "a", Name: "engineering"})
	if ok != 1 || err != nil || page.Total != 1 {
		t.Fatalf("%d of %d concurrent creates succeeded and %d stored (%v), want exactly 1", ok, ConcurrentGroupCreates, page.Total, err)
	}
}

// testGroupWrite: member changes with the group's own, in one transaction at a version.
func testGroupWrite(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	u1 := mustUser(t, s, newUser("a", "one"))
	u2 := mustUser(t, s, newUser("a", "two"))
	inner := mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "inner")
	g := &iamd.Group{ID: "39520424-440c-41c0-9b9c-f22b2129f6f9", InstanceID: "a", Name: "outer", CreatedAt: t0, UpdatedAt: t0, Version: 1}
	if err := s.CreateGroup(ctx, iamd.GroupWrite{Group: g, Add: iamd.GroupMembers{Users: []string{u1.ID}, Groups: []string{inner.ID}},
		Event: event("a", iamd.ActionGroupCreate, g.ID)}); err != nil {
		t.Fatal(err)
	}
	members := func() ([]string, []iamd.GroupRef) {
		page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", GroupID: g.ID, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}})
		if err != nil {
			t.Fatal(err)
		}
		var users []string
		for _, u := range page.Users {
			users = append(users, u.LoginName)
		}
		groups, err := s.ListMemberGroups(ctx, "a", g.ID)
		if err != nil {
			t.Fatal(err)
		}
		return users, groups
	}
	if users, groups := members(); !slices.Equal(users, []string{"one"}) || len(groups) != 1 {
		t.Fatalf("created with members %v, %v", users, groups)
	}
	next := *g
	next.Name, next.Version = "Outer", 2
	one, err := s.GetUser(ctx, "a", u1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: &next, ExpectedVersion: 1, Add: iamd.GroupMembers{Users: []string{u2.ID}},
		Remove: iamd.GroupMembers{Users: []string{u1.ID}, Groups: []string{inner.ID}}, Event: event("a", iamd.ActionGroupUpdate, g.ID)}); err != nil {
		t.Fatal(err)
	}
	if users, groups := members(); !slices.Equal(users, []string{"two"}) || len(groups) != 0 {
		t.Fatalf("after changing the members: %v, %v", users, groups)
	}
	// The users whose memberships changed are new versions: a change authorized on
	// them as they were fails as stale.
	for _, u := range []*iamd.User{one, u2} {
		if got, err := s.GetUser(ctx, "a", u.ID); err != nil || got.Version <= u.Version {
			t.Fatalf("user %s after its membership changed: %+v, %v", u.LoginName, got, err)
		}
	}
	wantCode(t, s.UpdateGroup(ctx, iamd.GroupWrite{Group: &next, ExpectedVersion: 1, Add: iamd.GroupMembers{Users: []string{u1.ID}},
		Event: event("a", iamd.ActionGroupUpdate, g.ID)}), iamd.ECONFLICT, iamd.FieldVersion)
	if users, _ := members(); !slices.Equal(users, []string{"two"}) {
		t.Fatalf("a stale write changed the members: %v", users)
	}
	// A cycle refuses the whole write, name change included.
	cyc := *inner
	cyc.Name, cyc.Version = "renamed", 2
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: &next, ExpectedVersion: 2, Add: iamd.GroupMembers{Groups: []string{inner.ID}},
		Event: event("a", iamd.ActionGroupNest, g.ID)}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.UpdateGroup(ctx, iamd.GroupWrite{Group: &cyc, ExpectedVersion: 1, Add: iamd.GroupMembers{Groups: []string{g.ID}},
		Event: event("a", iamd.ActionGroupNest, inner.ID)}), iamd.EINVALID, iamd.FieldMemberGroupIDs)
	if got, _ := s.GetGroup(ctx, "a", inner.ID); got.Name != "inner" {
		t.Fatalf("a refused nesting renamed the group: %+v", got)
	}
	wantCode(t, s.DeleteGroup(ctx, "a", g.ID, 1, event("a", iamd.ActionGroupDelete, g.ID)), iamd.ECONFLICT, iamd.FieldVersion)
	wantCode(t, s.DeleteGroup(ctx, "a", "00000000-0000-0000-0000-000000000000", 0, event("a", iamd.ActionGroupDelete, g.ID)), iamd.ENOTFOUND, "")
	if err := s.DeleteGroup(ctx, "a", g.ID, 2, event("a", iamd.ActionGroupDelete, g.ID)); err != nil {
		t.Fatal(err)
	}
}

// testGroupGrants: membership of a group grants its roles' privileges and those of
// every group it is nested in.
func testGroupGrants(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	if err := s.PutRoles(ctx, "a", []iamd.Role{{Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}},
		{Name: "writer", Privileges: []string{iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead}},
		{Name: "exclusive", Excludes: []string{"reader", "writer"}}}); err != nil {
		t.Fatal(err)
	}
	roles, err := s.ListRoles(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(roles, func(r iamd.Role) bool { return r.Name == "exclusive" }); i < 0 ||
		!slices.Equal(roles[i].Excludes, []string{"reader", "writer"}) {
		t.Fatalf("Excludes round trip: %+v", roles)
	}
	top := mustGroup(t, s, "a", "39520424-440c-41c0-9b9c-f22b2129f6f9", "top")
	mid := mustGroup(t, s, "a", "80c53fe1-4e27-4cce-92be-151cf0f2873e", "mid")
	plain := mustGroup(t, s, "a", "00000000-0000-0000-0000-000000000001", "plain")
	member := mustUser(t, s, newUser("a", "member"), mid.ID)
	holder := newUser("a", "holder")
	holder.Roles = []string{"writer"}
	mustUser(t, s, holder)
	// Every change of what a user's groups and roles grant it is a new version of the
	// user, so that a change authorized on it as it was fails as stale.
	version := map[string]int64{}
	newVersions := func(what string, users ...*iamd.User) {
		t.Helper()
		for _, u := range users {
			got, err := s.GetUser(ctx, "a", u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Version <= version[u.ID] {
				t.Fatalf("%s: user %s still at version %d", what, u.LoginName, got.Version)
			}
			version[u.ID] = got.Version
		}
	}
	newVersions("created", member, holder)
	if err := s.SetGroupRoles(ctx, "a", top.ID, []string{"writer"}, event("a", iamd.ActionRolesAssign, top.ID)); err != nil {
		t.Fatal(err)
	}
	if err := addMemberGroups(s, ctx, "a", top.ID, []string{mid.ID}, event("a", iamd.ActionGroupNest, top.ID)); err != nil {
		t.Fatal(err)
	}
	newVersions("nested under a group with roles", member)
	if err := s.UpdateRole(ctx, &iamd.Role{InstanceID: "a", Name: "writer", Privileges: []string{iamd.PrivilegeUserRead}},
		event("a", iamd.ActionRoleUpdate, "writer")); err != nil {
		t.Fatal(err)
	}
	newVersions("a role they hold changed", member, holder)
	if err := s.UpdateRole(ctx, &iamd.Role{InstanceID: "a", Name: "writer", Privileges: []string{iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead}},
		event("a", iamd.ActionRoleUpdate, "writer")); err != nil {
		t.Fatal(err)
	}
	newVersions("a role they hold changed back", member, holder)
	if err := s.SetGroupRoles(ctx, "a", mid.ID, []string{"reader"}, event("a", iamd.ActionRolesAssign, mid.ID)); err != nil {
		t.Fatal(err)
	}
	newVersions("their group's roles changed", member)
	for id, want := range map[string][]string{top.ID: {iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite},
		mid.ID: {iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite}, plain.ID: nil} {
		got, err := s.GroupGrants(ctx, "a", id)
		if err != nil || !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Errorf("GroupGrants(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
	if err := s.DeleteRole(ctx, "a", "writer", event("a", iamd.ActionRoleDelete, "writer")); err != nil {
		t.Fatal(err)
	}
	newVersions("a role they held was deleted", member, holder)
	if err := s.DeleteGroup(ctx, "a", mid.ID, 0, event("a", iamd.ActionGroupDelete, mid.ID)); err != nil {
		t.Fatal(err)
	}
	newVersions("their group was deleted", member)
}
