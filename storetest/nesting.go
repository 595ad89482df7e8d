package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"iamd"
)

// testNestedGroups: groups in groups — the users of a nested group are in every group
// above it (InheritedGroups), inherit those groups' roles, and no nesting may make a
// group its own member, even when two are made at once.
func testNestedGroups(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	top := mustGroup(t, s, "a", "10000000-0000-4000-8000-000000000001", "Top")
	mid := mustGroup(t, s, "a", "10000000-0000-4000-8000-000000000002", "Mid")
	low := mustGroup(t, s, "a", "10000000-0000-4000-8000-000000000003", "Low")
	other := mustGroup(t, s, "b", "10000000-0000-4000-8000-000000000004", "Elsewhere")
	u := mustUser(t, s, newUser("a", "nested"), low.ID)
	nest := func(parent string, members ...string) error {
		return addMemberGroups(s, ctx, "a", parent, members, event("a", iamd.ActionGroupNest, parent))
	}
	for range 2 { // idempotent
		if err := nest(top.ID, mid.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := nest(mid.ID, low.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListMemberGroups(ctx, "a", top.ID); err != nil || len(got) != 1 || got[0] != (iamd.GroupRef{ID: mid.ID, Name: "Mid"}) {
		t.Fatalf("member groups of Top: %v, %v", got, err)
	}
	if g, _ := s.GetGroup(ctx, "a", top.ID); g.Version != top.Version+2 || !g.UpdatedAt.Equal(t0) || g.UpdatedBy != "actor" {
		t.Fatalf("a nesting is a new version of the group: %+v", g)
	}

	got, err := s.GetUser(ctx, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []iamd.GroupRef{{ID: mid.ID, Name: "Mid"}, {ID: top.ID, Name: "Top"}}; !slices.Equal(got.InheritedGroups, want) ||
		len(got.Groups) != 1 || got.Groups[0].ID != low.ID {
		t.Fatalf("groups %v, inherited %v; want inherited %v", got.Groups, got.InheritedGroups, want)
	}

	// Listing by direct member (a user or a group) and by id.
	for _, c := range []struct {
		f    iamd.GroupFilter
		want string
	}{
		{iamd.GroupFilter{MemberID: u.ID}, "Low"}, {iamd.GroupFilter{MemberID: mid.ID}, "Top"},
		{iamd.GroupFilter{MemberID: low.ID, ID: mid.ID}, "Mid"}, {iamd.GroupFilter{MemberID: low.ID, ID: top.ID}, ""},
		{iamd.GroupFilter{ID: low.ID, Name: "low"}, "Low"},
	} {
		c.f.InstanceID = "a"
		page, err := s.ListGroups(ctx, c.f)
		var names []string
		for _, g := range page.Groups {
			names = append(names, g.Name)
		}
		if err != nil || strings.Join(names, ",") != c.want || page.Total != len(names) {
			t.Fatalf("ListGroups(%+v) = %v (%d), %v; want %q", c.f, names, page.Total, err, c.want)
		}
	}

	// Listed with their groups: the same as GetUser, for every user of the page.
	plain := mustUser(t, s, newUser("a", "plain"))
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "a", WithGroups: true, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}})
	if err != nil || len(page.Users) != 2 || page.Users[0].ID != u.ID || page.Users[1].ID != plain.ID {
		t.Fatalf("ListUsers: %+v, %v", page, err)
	}
	if l := page.Users[0]; !slices.Equal(l.Groups, got.Groups) || !slices.Equal(l.InheritedGroups, got.InheritedGroups) ||
		page.Users[1].Groups == nil || len(page.Users[1].Groups)+len(page.Users[1].InheritedGroups) != 0 {
		t.Fatalf("listed groups %v / %v and %v, want %v / %v", l.Groups, l.InheritedGroups, page.Users[1].Groups, got.Groups, got.InheritedGroups)
	}

	// Cycles, however long, and self-membership are refused and change nothing.
	before := eventCount(t, s, "a")
	for _, c := range [][2]string{{low.ID, top.ID}, {low.ID, mid.ID}, {mid.ID, top.ID}, {top.ID, top.ID}} {
		wantCode(t, nest(c[0], c[1]), iamd.EINVALID, iamd.FieldMemberGroupIDs)
	}
	wantCode(t, nest(top.ID, other.ID), iamd.ENOTFOUND, iamd.FieldMemberGroupIDs) // another instance's group
	wantCode(t, nest("10000000-0000-4000-8000-00000000dead", low.ID), iamd.ENOTFOUND, "")
	if eventCount(t, s, "a") != before {
		t.Fatal("a refused nesting left an event")
	}
	if got, err := s.ListMemberGroups(ctx, "a", low.ID); err != nil || len(got) != 0 {
		t.Fatalf("a refused nesting was stored: %v, %v", got, err)
	}

	// Roles of a group above reach the nested group's users.
	if err := s.CreateRole(ctx, &iamd.Role{InstanceID: "a", Name: "top-role", Privileges: []string{iamd.PrivilegeAuditRead}},
		event("a", iamd.ActionRoleCreate, "top-role")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetGroupRoles(ctx, "a", top.ID, []string{"top-role"}, event("a", iamd.ActionRolesAssign, top.ID)); err != nil {
		t.Fatal(err)
	}
	if privs, err := s.EffectivePrivileges(ctx, "a", u.ID); err != nil || !slices.Equal(privs, []string{iamd.PrivilegeAuditRead}) {
		t.Fatalf("privileges through nesting: %v, %v", privs, err)
	}
	if roles, err := s.EffectiveRoles(ctx, "a", u.ID); err != nil || !slices.Equal(roles, []string{"top-role"}) {
		t.Fatalf("roles through nesting: %v, %v", roles, err)
	}

	// Unnesting cuts inheritance; deleting a group drops its nestings both ways.
	if err := removeMemberGroups(s, ctx, "a", mid.ID, []string{low.ID}, event("a", iamd.ActionGroupUnnest, mid.ID)); err != nil {
		t.Fatal(err)
	}
	if privs, err := s.EffectivePrivileges(ctx, "a", u.ID); err != nil || len(privs) != 0 {
		t.Fatalf("privileges after unnesting: %v", privs)
	}
	if err := s.DeleteGroup(ctx, "a", mid.ID, 0, event("a", iamd.ActionGroupDelete, mid.ID)); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListMemberGroups(ctx, "a", top.ID); err != nil || len(got) != 0 {
		t.Fatalf("a deleted group is still nested: %v, %v", got, err)
	}

	// Two nestings that would close a cycle only together: A in B and B in A, at once,
	// many times over. At most one of each pair may succeed.
	for i := range 20 {
		a := mustGroup(t, s, "a", uuid.NewString(), fmt.Sprint("race a ", i))
		b := mustGroup(t, s, "a", uuid.NewString(), fmt.Sprint("race b ", i))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for k, pair := range [][2]string{{a.ID, b.ID}, {b.ID, a.ID}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[k] = nest(pair[0], pair[1])
			}()
		}
		wg.Wait()
		if errs[0] == nil && errs[1] == nil {
			t.Fatalf("round %d: both nestings of a cycle were stored", i)
		}
	}
}

// testUserTags: tags are upserted by key, bounded per user, removed by key, and go with
// their user.
func testUserTags(t *testing.T, s iamd.Store) {
	mustInstance(t, s, "a")
	mustInstance(t, s, "b")
	u := mustUser(t, s, newUser("a", "tagged"))
	put := func(instance string, tags ...iamd.Tag) error {
		return s.PutUserTags(ctx, instance, u.ID, tags, event(instance, iamd.ActionUserTag, u.ID))
	}
	if err := put("a", iamd.Tag{Key: "team", Value: "blue"}, iamd.Tag{Key: "팀", Value: "파랑"}); err != nil {
		t.Fatal(err)
	}
	if err := put("a", iamd.Tag{Key: "team", Value: "red"}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ListUserTags(ctx, "a", u.ID); err != nil || !slices.Equal(got, []iamd.Tag{{Key: "team", Value: "red"}, {Key: "팀", Value: "파랑"}}) {
		t.Fatalf("tags: %v, %v", got, err)
	}
	wantCode(t, put("b", iamd.Tag{Key: "x"}), iamd.ENOTFOUND, "")
	_, err := s.ListUserTags(ctx, "b", u.ID)
	wantCode(t, err, iamd.ENOTFOUND, "")
	many := make([]iamd.Tag, iamd.MaxTagsPerUser)
	for i := range many {
		many[i] = iamd.Tag{Key: fmt.Sprint("k", i)}
	}
	wantCode(t, put("a", many...), iamd.EINVALID, iamd.FieldTags)
	if got, _ := s.ListUserTags(ctx, "a", u.ID); len(got) != 2 {
		t.Fatalf("a refused put left tags: %v", got)
	}
	if err := s.DeleteUserTags(ctx, "a", u.ID, []string{"team", "absent"}, event("a", iamd.ActionUserUntag, u.ID)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListUserTags(ctx, "a", u.ID); len(got) != 1 || got[0].Key != "팀" {
		t.Fatalf("after delete: %v", got)
	}
	if err := s.DeleteUser(ctx, "a", u.ID, 0, event("a", iamd.ActionUserDelete, u.ID)); err != nil {
		t.Fatal(err)
	}
}
