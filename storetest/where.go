package storetest

import (
	"slices"
	"testing"
	"time"

	"iamd"
)

// testListUsersWhere runs conditions (SCIM's filters, once mapped) in the database and
// checks which users each matches.
func testListUsersWhere(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	if err := s.PutRoles(ctx, "a", []iamd.Role{{Name: "auditor", Privileges: []string{iamd.PrivilegeAuditRead}}, {Name: "viewer"}}); err != nil {
		t.Fatal(err)
	}
	g := mustGroup(t, s, "a", "20000000-0000-4000-8000-000000000001", "Auditors")
	if err := s.SetGroupRoles(ctx, "a", g.ID, []string{"auditor"}, event("a", iamd.ActionRolesAssign, g.ID)); err != nil {
		t.Fatal(err)
	}
	mk := func(login string, edit func(u *iamd.User), groups ...string) {
		u := newUser("a", login)
		edit(u)
		mustUser(t, s, u, groups...)
	}
	mk("Alice.Smith", func(u *iamd.User) {
		u.DisplayName, u.Email, u.ExternalID, u.EmailVerified = "Alice Smith", "alice@Example.com", "EXT-a", true
		u.CreatedAt = t0.Add(time.Hour)
		u.Roles, u.MFAEnabled = []string{"viewer"}, true
		locked := t0.Add(time.Hour)
		u.LockedUntil = &locked
	})
	mk("bob", func(u *iamd.User) {
		u.DisplayName, u.Email, u.ExternalID, u.Department = "Bob 100%_done", "bob@example.org", "ext-b", "R&D"
		u.CreatedAt = t0.Add(2 * time.Hour)
		u.Privileges, u.Expired = []string{iamd.PrivilegeUserRead}, true
	}, g.ID)
	mk("carol", func(u *iamd.User) {
		u.DisplayName, u.Status = "Carol", iamd.UserSuspended
		last := t0.Add(3 * time.Hour)
		u.LastLoginAt = &last
	})
	other := newUser("b", "alice.smith") // another instance: never matched
	other.Email = "alice@example.com"
	mustUser(t, s, other)

	for _, c := range []struct {
		name  string
		where iamd.Where
		want  []string
	}{
		{"login eq ignores case (its folded key)", iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "ALICE.smith"}, []string{"Alice.Smith"}},
		{"login eq case-exact", iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "alice.smith", CaseExact: true}, nil},
		{"login sw", iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchSw, Value: "AL"}, []string{"Alice.Smith"}},
		{"email co ignoring case", iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchCo, Value: "@EXAMPLE.COM"}, []string{"Alice.Smith"}},
		{"email ew", iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchEw, Value: ".org"}, []string{"bob"}},
		{"wildcards match literally", iamd.Match{Field: iamd.FieldDisplayName, Op: iamd.MatchCo, Value: "100%_"}, []string{"bob"}},
		{"a lone % matches only itself", iamd.Match{Field: iamd.FieldDisplayName, Op: iamd.MatchCo, Value: "%"}, []string{"bob"}},
		{"external id case-exact co", iamd.Match{Field: iamd.FieldExternalID, Op: iamd.MatchCo, Value: "EXT", CaseExact: true}, []string{"Alice.Smith"}},
		{"external id co ignoring case", iamd.Match{Field: iamd.FieldExternalID, Op: iamd.MatchCo, Value: "EXT"}, []string{"Alice.Smith", "bob"}},
		{"ne", iamd.Match{Field: iamd.FieldStatus, Op: iamd.MatchNe, Value: "active"}, []string{"carol"}},
		{"display name gt", iamd.Match{Field: iamd.FieldDisplayName, Op: iamd.MatchGt, Value: "b"}, []string{"bob", "carol"}},
		{"created after", iamd.Match{Field: iamd.FieldCreatedAt, Op: iamd.MatchGe, Value: t0.Add(time.Hour)}, []string{"Alice.Smith", "bob"}},
		{"created before", iamd.Match{Field: iamd.FieldCreatedAt, Op: iamd.MatchLt, Value: t0.Add(time.Hour)}, []string{"carol"}},
		{"present string", iamd.Present{Field: iamd.FieldEmail}, []string{"Alice.Smith", "bob"}},
		{"present time", iamd.Present{Field: iamd.FieldLastLoginAt}, []string{"carol"}},
		{"eq null", iamd.Match{Field: iamd.FieldLastLoginAt, Op: iamd.MatchEq, Value: nil}, []string{"Alice.Smith", "bob"}},
		{"string eq null", iamd.Match{Field: iamd.FieldDepartment, Op: iamd.MatchEq, Value: nil}, []string{"Alice.Smith", "carol"}},
		{"bool", iamd.Match{Field: iamd.FieldEmailVerify, Op: iamd.MatchEq, Value: true}, []string{"Alice.Smith"}},
		{"and", iamd.AllOf{iamd.Present{Field: iamd.FieldEmail}, iamd.Match{Field: iamd.FieldDepartment, Op: iamd.MatchEq, Value: "r&d"}}, []string{"bob"}},
		{"or", iamd.AnyOf{iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "bob"}, iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "carol"}}, []string{"bob", "carol"}},
		{"not", iamd.Not{Where: iamd.Present{Field: iamd.FieldEmail}}, []string{"carol"}},
		{"nested", iamd.AllOf{iamd.Not{Where: iamd.Match{Field: iamd.FieldStatus, Op: iamd.MatchEq, Value: "suspended"}},
			iamd.AnyOf{iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchSw, Value: "BOB"}, iamd.Match{Field: iamd.FieldEmailVerify, Op: iamd.MatchEq, Value: true}}},
			[]string{"Alice.Smith", "bob"}},
		{"empty or matches nothing", iamd.AnyOf{}, nil},
		{"role, direct", iamd.HasRole{Roles: []string{"viewer", "nope"}}, []string{"Alice.Smith"}},
		{"role, through a group too", iamd.HasRole{Roles: []string{"auditor"}, ThroughGroups: true}, []string{"bob"}},
		{"role, not through groups", iamd.HasRole{Roles: []string{"auditor"}}, nil},
		{"privilege, direct", iamd.HasPrivilege{Privileges: []string{iamd.PrivilegeUserRead}}, []string{"bob"}},
		{"expired", iamd.Match{Field: iamd.FieldExpired, Op: iamd.MatchEq, Value: true}, []string{"bob"}},
		{"mfa", iamd.Match{Field: iamd.FieldMFAEnabled, Op: iamd.MatchEq, Value: true}, []string{"Alice.Smith"}},
		{"locked now", iamd.Match{Field: iamd.FieldLockedUntil, Op: iamd.MatchGt, Value: t0}, []string{"Alice.Smith"}},
		{"not locked", iamd.Match{Field: iamd.FieldLockedUntil, Op: iamd.MatchEq, Value: nil}, []string{"bob", "carol"}},
	} {
		page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", Where: c.where, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []string
		for _, u := range page.Users {
			got = append(got, u.LoginName)
		}
		if !slices.Equal(got, c.want) || page.Total != len(c.want) {
			t.Errorf("%s: got %v (total %d), want %v", c.name, got, page.Total, c.want)
		}
	}
	for _, bad := range []iamd.Where{
		iamd.Match{Field: "password_hash", Op: iamd.MatchEq, Value: "x"},
		iamd.Match{Field: iamd.FieldEmail, Op: "xx", Value: "x"},
		iamd.Match{Field: iamd.FieldCreatedAt, Op: iamd.MatchCo, Value: t0},
		iamd.Match{Field: iamd.FieldEmailVerify, Op: iamd.MatchGt, Value: true},
		iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchEq, Value: 42},
		iamd.Match{Field: iamd.FieldEmail, Op: iamd.MatchCo, Value: nil},
		iamd.Not{},
	} {
		_, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", Where: bad})
		wantCode(t, err, iamd.EINVALID, iamd.FieldFilter)
	}
}
