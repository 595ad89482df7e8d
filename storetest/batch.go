package storetest

import (
	"fmt"
	"maps"
	"reflect"
	"testing"

	"iamd"
)

// testBatchReads: what a listing reads for a whole page at once (effective grants, the
// login names of stamps' actors, groups' members) is what reading each row alone gives.
func testBatchReads(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	if err := s.PutRoles(ctx, "a", []iamd.Role{{Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}},
		{Name: "grouper", Privileges: []string{iamd.PrivilegeGroupRead, iamd.PrivilegeUserRead}}, {Name: "empty"}}); err != nil {
		t.Fatal(err)
	}
	top := mustGroup(t, s, "a", "20000000-0000-4000-8000-000000000001", "Top")
	low := mustGroup(t, s, "a", "20000000-0000-4000-8000-000000000002", "low")
	lone := mustGroup(t, s, "a", "20000000-0000-4000-8000-000000000003", "Lone")
	if err := addMemberGroups(s, ctx, "a", top.ID, []string{low.ID}, event("a", iamd.ActionGroupNest, top.ID)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupRoles(ctx, "a", top.ID, []string{"grouper"}, event("a", iamd.ActionGroupUpdate, top.ID)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 6 {
		u := newUser("a", fmt.Sprintf("Batch%d", 5-i))
		switch i % 3 {
		case 0:
			u.Roles, u.Privileges = []string{"reader"}, []string{iamd.PrivilegeAuditRead}
		case 1:
			u.Roles = []string{"empty", "reader"}
		}
		var groups []string
		if i%2 == 0 {
			groups = []string{low.ID}
		}
		if i == 1 {
			u.DisplayName = ""
			groups = []string{top.ID}
		}
		ids = append(ids, mustUser(t, s, u, groups...).ID)
	}
	elsewhere := mustUser(t, s, newUser("b", "elsewhere"))
	missing := "0000000000000000000000000000000f"

	asked := append(append([]string{}, ids...), missing)
	grants, err := s.EffectiveGrantsOf(ctx, "a", asked)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range asked {
		roles, err := s.EffectiveRoles(ctx, "a", id)
		if err != nil {
			t.Fatal(err)
		}
		privileges, err := s.EffectivePrivileges(ctx, "a", id)
		if err != nil {
			t.Fatal(err)
		}
		if want := (iamd.Grants{Roles: roles, Privileges: privileges}); !reflect.DeepEqual(grants[id], want) {
			t.Errorf("grants of %s: %+v; one at a time %+v", id, grants[id], want)
		}
	}

	logins, err := s.UserLogins(ctx, "a", []string{ids[0], ids[3], ids[0], "", missing, elsewhere.ID})
	if want := map[string]string{ids[0]: "Batch5", ids[3]: "Batch2"}; err != nil || !maps.Equal(logins, want) {
		t.Errorf("logins: %v, %v; want %v", logins, err, want)
	}
	if logins, err := s.UserLogins(ctx, "a", nil); err != nil || len(logins) != 0 {
		t.Errorf("logins of none: %v, %v", logins, err)
	}

	groups := []string{top.ID, low.ID, lone.ID, "20000000-0000-4000-8000-00000000000f"}
	members, err := s.GroupMembersOf(ctx, "a", groups)
	if err != nil {
		t.Fatal(err)
	}
	for _, gid := range groups {
		want := iamd.GroupMemberList{Users: []iamd.MemberUser{}, Groups: []iamd.GroupRef{}}
		if nested, err := s.ListMemberGroups(ctx, "a", gid); err != nil {
			t.Fatal(err)
		} else {
			want.Groups = nested
		}
		page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", GroupID: gid, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}},
			Limit: iamd.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			want.Users = append(want.Users, iamd.MemberUser{ID: u.ID, LoginName: u.LoginName, DisplayName: u.DisplayName})
		}
		if !reflect.DeepEqual(members[gid], want) {
			t.Errorf("members of %s: %+v; one at a time %+v", gid, members[gid], want)
		}
	}
	if len(members[low.ID].Users) != 3 || len(members[top.ID].Groups) != 1 {
		t.Errorf("members: %+v", members)
	}
	if other, err := s.GroupMembersOf(ctx, "b", []string{top.ID}); err != nil || len(other[top.ID].Users)+len(other[top.ID].Groups) != 0 {
		t.Errorf("another instance's group: %+v, %v", other, err)
	}
}
