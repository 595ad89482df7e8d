package directory_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/internal/pgtest"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

type fixture struct {
	store iamd.Store
	svc   *directory.Service
	acct  *account.Service
	admin context.Context // platform administrator
}

func eachStore(t *testing.T, test func(t *testing.T, f fixture)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			store := engine.Open(t)
			var key account.MasterKey
			fast, _ := account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1})
			acct := account.New(store, key, account.WithHasher(fast))
			svc := directory.New(store, directory.WithCredentials(acct))
			admin := iamd.NewContextWithSource(
				iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{
					UserID: "00000000000000000000000000000001", Name: "Root", PlatformAdmin: true}),
				"192.0.2.10")
			for _, id := range []string{"a", "b"} {
				if _, err := svc.CreateInstance(admin, &iamd.Instance{ID: id}); err != nil {
					t.Fatal(err)
				}
			}
			test(t, fixture{store: store, svc: svc, acct: acct, admin: admin})
		})
	}
}

// as returns a context acting as a non-admin principal of instance with privileges.
func as(instance string, privileges ...string) context.Context {
	return iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{
		UserID: "0000000000000000000000000000000f", Name: "Operator", InstanceID: instance, Privileges: privileges})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if iamd.ErrorCode(err) != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func TestCreateUserStampsAndAudits(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "JohnDoe", DisplayName: "John Doe",
			Email: "john.doe@example.com", PasswordHash: "smuggled", PlatformAdmin: true, Builtin: true}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(u.ID) != 32 || u.Status != iamd.UserActive || u.Version != 1 || u.CreatedBy != "00000000000000000000000000000001" ||
			u.CreatedByName != "Root" || u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
			t.Fatalf("core-owned fields not stamped: %+v", u)
		}
		if u.PasswordHash != "" || u.PlatformAdmin || u.Builtin {
			t.Fatal("a caller must not set account state or system flags at creation")
		}
		got, err := f.svc.GetUser(f.admin, "a", u.ID)
		if err != nil || got.LoginName != "JohnDoe" || !got.CreatedAt.Equal(u.CreatedAt) {
			t.Fatalf("read back: %+v %v", got, err)
		}
		if byLogin, err := f.svc.FindUserByLogin(f.admin, "a", "johndoe"); err != nil || byLogin.ID != u.ID {
			t.Fatalf("login lookup ignores case: %v", err)
		}
		evs, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", TargetID: u.ID})
		if err != nil || len(evs) != 1 {
			t.Fatalf("want one audit event, got %d %v", len(evs), err)
		}
		if e := evs[0]; e.Action != iamd.ActionUserCreate || e.ActorName != "Root" || e.Source != "192.0.2.10" || e.Outcome != iamd.OutcomeSuccess {
			t.Fatalf("audit event: %+v", e)
		}
	})
}

func TestCreateUserRejectsBadInputAndStoresNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		bad := []struct {
			user  iamd.User
			opts  iamd.CreateUserOptions
			field string
		}{
			{iamd.User{InstanceID: "a", LoginName: "x", Email: "nope"}, iamd.CreateUserOptions{}, iamd.FieldEmail},
			{iamd.User{InstanceID: "a", LoginName: "x", Extra: `["not an object"]`}, iamd.CreateUserOptions{}, iamd.FieldExtra},
			{iamd.User{InstanceID: "a", LoginName: "x", Extra: `{"big":"` + strings.Repeat("x", iamd.MaxExtraLen) + `"}`}, iamd.CreateUserOptions{}, iamd.FieldExtra},
			{iamd.User{InstanceID: "a", LoginName: "x", TimeZone: "Nowhere/Town"}, iamd.CreateUserOptions{}, iamd.FieldTimeZone},
			{iamd.User{InstanceID: "a", LoginName: "x"}, iamd.CreateUserOptions{Password: "short"}, iamd.FieldPassword},
			{iamd.User{InstanceID: "a", LoginName: "x"}, iamd.CreateUserOptions{Password: strings.Repeat("p", 257)}, iamd.FieldPassword},
			{iamd.User{InstanceID: "a", LoginName: "x"}, iamd.CreateUserOptions{GroupIDs: []string{"39520424-440c-41c0-9b9c-f22b2129f6f9"}}, iamd.FieldGroupIDs},
		}
		for _, b := range bad {
			_, err := f.svc.CreateUser(f.admin, &b.user, b.opts)
			if iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorField(err) != b.field {
				t.Fatalf("want EINVALID on %s, got %v", b.field, err)
			}
		}
		page, err := f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "a"})
		if err != nil || page.Total != 0 {
			t.Fatalf("nothing may be stored: %v %v", page, err)
		}
		if evs, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionUserCreate}); err != nil || len(evs) != 0 {
			t.Fatalf("no audit event for a change that did not happen: %d, %v", len(evs), err)
		}
		// A plain create learns of a missing instance from the insert, the others from a
		// read first: either way the answer is the same.
		for _, o := range []struct {
			user iamd.User
			opts iamd.CreateUserOptions
		}{
			{iamd.User{InstanceID: "nowhere", LoginName: "x"}, iamd.CreateUserOptions{}},
			{iamd.User{InstanceID: "nowhere", LoginName: "x"}, iamd.CreateUserOptions{Password: "correct horse battery"}},
			{iamd.User{InstanceID: "nowhere", LoginName: "x", Roles: []string{"viewer"}}, iamd.CreateUserOptions{}},
		} {
			_, err = f.svc.CreateUser(f.admin, &o.user, o.opts)
			wantCode(t, err, iamd.ENOTFOUND)
			if !strings.Contains(err.Error(), `No instance with id "nowhere".`) {
				t.Fatalf("want the instance named, got %v", err)
			}
		}
	})
}

func TestPasswordIsHashedAtCreation(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "pw"}, iamd.CreateUserOptions{Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.store.GetUser(context.Background(), "a", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got.PasswordHash, "$argon2id$") || strings.Contains(got.PasswordHash, "correct horse") || got.PasswordChangedAt == nil {
			t.Fatalf("password must be stored as argon2id only: %q", got.PasswordHash)
		}
	})
}

func TestAuthorization(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "target"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetUser(context.Background(), "a", u.ID)
		wantCode(t, err, iamd.EUNAUTHENTICATED)
		_, err = f.svc.GetUser(as("b", iamd.AllPrivileges...), "a", u.ID)
		wantCode(t, err, iamd.ENOTFOUND) // another tenant must not learn that instance a exists
		_, err = f.svc.GetUser(as("a", iamd.PrivilegeUserWrite), "a", u.ID)
		wantCode(t, err, iamd.EFORBIDDEN)
		if _, err = f.svc.GetUser(as("a", iamd.PrivilegeUserRead), "a", u.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.CreateUser(as("a", iamd.PrivilegeUserRead), &iamd.User{InstanceID: "a", LoginName: "y"}, iamd.CreateUserOptions{})
		wantCode(t, err, iamd.EFORBIDDEN)
		_, err = f.svc.FindUserByLogin(f.admin, "a", "y")
		wantCode(t, err, iamd.ENOTFOUND) // the refused create stored nothing
		wantCode(t, f.svc.DeleteUser(as("a", iamd.PrivilegeUserWrite), "a", iamd.UserRef{ID: u.ID}), iamd.EFORBIDDEN)
		wantCode(t, f.svc.DeleteUser(as("b", iamd.AllPrivileges...), "a", iamd.UserRef{ID: u.ID}), iamd.ENOTFOUND)
		if got, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || got.Version != u.Version {
			t.Fatalf("the refused deletes changed the user: %+v, %v", got, err)
		}
		_, err = f.svc.CreateInstance(as("a", iamd.AllPrivileges...), &iamd.Instance{ID: "c"})
		wantCode(t, err, iamd.EFORBIDDEN)
		_, err = f.svc.GetInstance(f.admin, "c")
		wantCode(t, err, iamd.ENOTFOUND)
		insts, err := f.svc.ListInstances(as("b", iamd.PrivilegeUserRead))
		if err != nil || len(insts) != 1 || insts[0].ID != "b" {
			t.Fatalf("a tenant lists only its own instance: %v %v", insts, err)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "upd", Department: "Sales", Manager: "Alice"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		dept, empty := "R&D", ""
		got, err := f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Department: &dept, Manager: &empty})
		if err != nil {
			t.Fatal(err)
		}
		if got.Department != "R&D" || got.Manager != "" || got.LoginName != "upd" || got.Version != 2 {
			t.Fatalf("update: %+v", got)
		}
		again, err := f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Department: &dept})
		if err != nil || again.Version != 2 {
			t.Fatalf("an update that changes nothing writes nothing: %v %v", again.Version, err)
		}
		evs, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", TargetID: u.ID, Action: iamd.ActionUserUpdate})
		if err != nil || len(evs) != 1 {
			t.Fatalf("want one update event, got %d, %v", len(evs), err)
		}
		bad := "nope"
		_, err = f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Email: &bad})
		wantCode(t, err, iamd.EINVALID)
		_, err = f.svc.UpdateUser(f.admin, "b", u.ID, iamd.UserUpdate{Department: &dept})
		wantCode(t, err, iamd.ENOTFOUND)
		if cur, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || cur.Email != "" || cur.Department != "R&D" || cur.Version != 2 {
			t.Fatalf("a rejected update changes nothing: %+v, %v", cur, err)
		}
	})
}

// Concurrent updates of different fields must all take effect: the core retries on a
// stale version instead of overwriting another writer's change.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "race"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		values := []string{"dept", "mgr", "unit", "org"}
		updates := []func(v *string) iamd.UserUpdate{
			func(v *string) iamd.UserUpdate { return iamd.UserUpdate{Department: v} },
			func(v *string) iamd.UserUpdate { return iamd.UserUpdate{Manager: v} },
			func(v *string) iamd.UserUpdate { return iamd.UserUpdate{BusinessUnit: v} },
			func(v *string) iamd.UserUpdate { return iamd.UserUpdate{Organization: v} },
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(updates))
		for i := range updates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.UpdateUser(f.admin, "a", u.ID, updates[i](&values[i]))
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
		got, err := f.svc.GetUser(f.admin, "a", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Department != "dept" || got.Manager != "mgr" || got.BusinessUnit != "unit" || got.Organization != "org" || got.Version != 5 {
			t.Fatalf("lost an update: %+v", got)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "gone"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, f.svc.DeleteUser(f.admin, "b", iamd.UserRef{ID: u.ID}), iamd.ENOTFOUND)
		wantCode(t, f.svc.DeleteUser(as("b", iamd.AllPrivileges...), "a", iamd.UserRef{ID: u.ID}), iamd.ENOTFOUND)
		if got, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || got.Version != u.Version {
			t.Fatalf("a delete in another instance removed or changed the user: %+v, %v", got, err)
		}
		if err := f.svc.DeleteUser(f.admin, "a", iamd.UserRef{ID: u.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetUser(f.admin, "a", u.ID)
		wantCode(t, err, iamd.ENOTFOUND)
		wantCode(t, f.svc.DeleteUser(f.admin, "a", iamd.UserRef{ID: u.ID}), iamd.ENOTFOUND)
	})
}

func TestListUsersPaging(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		for _, name := range []string{"carol", "alice", "bob"} {
			if _, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: name}, iamd.CreateUserOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		page, err := f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "a", Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}, Limit: 2})
		if err != nil || page.Total != 3 || len(page.Users) != 2 || page.Users[0].LoginName != "alice" || page.Users[1].LoginName != "bob" {
			t.Fatalf("page: %+v %v", page, err)
		}
		_, err = f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "a", Limit: iamd.MaxPageSize + 1})
		wantCode(t, err, iamd.EINVALID)
		_, err = f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "a", Sort: []iamd.UserSort{{Key: "password_hash"}}})
		wantCode(t, err, iamd.EINVALID)
		_, err = f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "nowhere"})
		wantCode(t, err, iamd.ENOTFOUND)
	})
}

func TestGroups(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		g, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Ops", ID: "39520424-440C-41C0-9B9C-F22B2129F6F9"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		if g.ID != "39520424-440c-41c0-9b9c-f22b2129f6f9" {
			t.Fatalf("group ids are kept in canonical lowercase form, got %s", g.ID)
		}
		_, err = f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Bad", ID: "not-a-uuid"}, iamd.GroupMembers{})
		wantCode(t, err, iamd.EINVALID)
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "member"}, iamd.CreateUserOptions{GroupIDs: []string{g.ID, g.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(u.Groups) != 1 || u.Groups[0].ID != g.ID || u.Groups[0].Name != "Ops" {
			t.Fatalf("the created user shows its groups: %+v", u.Groups)
		}
		// A change that names no member changes nothing.
		before, err := f.svc.GetGroup(f.admin, "a", g.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := addGroupMembers(f, f.admin, "a", g.ID, nil); err != nil {
			t.Fatal(err)
		}
		if after, err := f.svc.GetGroup(f.admin, "a", g.ID); err != nil || after.Version != before.Version {
			t.Fatalf("an empty change made a new version: %+v, %v", after, err)
		}
		many := make([]string, directory.MaxMembersPerCall+1)
		for i := range many {
			many[i] = iamd.NewID()
		}
		wantCode(t, addGroupMembers(f, f.admin, "a", g.ID, many), iamd.ETOOLARGE)
		if after, err := f.svc.GetGroup(f.admin, "a", g.ID); err != nil || after.Version != before.Version {
			t.Fatalf("a refused change made a new version: %+v, %v", after, err)
		}
		if err := removeGroupMembers(f, f.admin, "a", g.ID, []string{u.ID}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || len(got.Groups) != 0 {
			t.Fatalf("membership removed: %+v, %v", got, err)
		}
		// Nesting: GROUP_WRITE to change, GROUP_READ to list, the same bounds as members.
		inner, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Inner"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		reader := as("a", iamd.PrivilegeGroupRead)
		wantCode(t, addMemberGroups(f, reader, "a", g.ID, []string{inner.ID}), iamd.EFORBIDDEN)
		wantCode(t, addMemberGroups(f, f.admin, "a", g.ID, many), iamd.ETOOLARGE)
		if got, err := f.svc.ListMemberGroups(f.admin, "a", g.ID); err != nil || len(got) != 0 {
			t.Fatalf("the refused nestings nested: %v, %v", got, err)
		}
		if err := addMemberGroups(f, as("a", iamd.PrivilegeGroupWrite), "a", g.ID, []string{inner.ID, inner.ID}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.ListMemberGroups(reader, "a", g.ID); err != nil || len(got) != 1 || got[0].ID != inner.ID {
			t.Fatalf("member groups: %v, %v", got, err)
		}
		_, err = f.svc.ListMemberGroups(as("a", iamd.PrivilegeUserRead), "a", g.ID)
		wantCode(t, err, iamd.EFORBIDDEN)
		_, err = f.svc.ListMemberGroups(reader, "a", "00000000-0000-0000-0000-000000000000")
		wantCode(t, err, iamd.ENOTFOUND)
		wantCode(t, removeMemberGroups(f, reader, "a", g.ID, []string{inner.ID}), iamd.EFORBIDDEN)
		if got, err := f.svc.ListMemberGroups(f.admin, "a", g.ID); err != nil || len(got) != 1 {
			t.Fatalf("a refused removal unnested: %v, %v", got, err)
		}
		if err := removeMemberGroups(f, f.admin, "a", g.ID, []string{inner.ID}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetGroup(as("b", iamd.AllPrivileges...), "a", g.ID)
		wantCode(t, err, iamd.ENOTFOUND)
		wantCode(t, f.svc.DeleteGroup(as("b", iamd.AllPrivileges...), "a", g.ID, 0), iamd.ENOTFOUND)
		if _, err := f.svc.GetGroup(f.admin, "a", g.ID); err != nil {
			t.Fatalf("a delete from another instance removed the group: %v", err)
		}
		if err := f.svc.DeleteGroup(f.admin, "a", g.ID, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil {
			t.Fatal("deleting a group keeps its members")
		}
	})
}

func TestRoles(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		if err := f.svc.EnsureBuiltinRoles(f.admin); err != nil {
			t.Fatal(err)
		}
		r, err := f.svc.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "helpdesk", Privileges: []string{iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead, iamd.PrivilegeUserRead}})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Privileges) != 2 || r.Builtin {
			t.Fatalf("role %+v", r)
		}
		for _, bad := range []iamd.Role{
			{InstanceID: "a", Name: "x", Privileges: []string{"LAUNCH_MISSILES"}},
			{InstanceID: "a", Name: "x", Privileges: []string{iamd.PrivilegeInstanceAdmin}},
			{InstanceID: "a", Name: "has space"},
		} {
			if _, err := f.svc.CreateRole(f.admin, &bad); iamd.ErrorCode(err) != iamd.EINVALID {
				t.Fatalf("%+v: %v", bad, err)
			}
		}
		if _, err := f.svc.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "ece_platform_admin"}); iamd.ErrorCode(err) != iamd.ECONFLICT {
			t.Fatalf("a built-in's name: %v", err)
		}
		if err := f.svc.DeleteRole(f.admin, "a", "iamd_admin"); iamd.ErrorCode(err) != iamd.EINVALID {
			t.Fatalf("deleting a built-in: %v", err)
		}
		roles, err := f.svc.ListRoles(f.admin, "a")
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, r := range roles {
			names[r.Name] = r.Builtin
		}
		for _, want := range []string{"ece_platform_admin", "ece_platform_viewer", "ece_deployment_manager", "ece_deployment_viewer", "iamd_admin", "iamd_viewer"} {
			if !names[want] {
				t.Fatalf("built-in %s missing from %v", want, names)
			}
		}
		if b, ok := names["helpdesk"]; !ok || b {
			t.Fatalf("custom role: %v", names)
		}
		if _, ok := names["x"]; ok {
			t.Fatalf("a refused create stored a role: %v", names)
		}
		if _, ok := names["has space"]; ok {
			t.Fatalf("a refused create stored a role: %v", names)
		}

		// SaveRole creates, or replaces a custom role's privileges keeping its grants.
		saved, err := f.svc.SaveRole(f.admin, &iamd.Role{InstanceID: "a", Name: "helpdesk", Description: "d2", Privileges: []string{iamd.PrivilegeGroupRead}})
		if err != nil || saved.Description != "d2" || !slices.Equal(saved.Privileges, []string{iamd.PrivilegeGroupRead}) {
			t.Fatalf("save an existing role: %+v, %v", saved, err)
		}
		if _, err := f.svc.SaveRole(f.admin, &iamd.Role{InstanceID: "a", Name: "iamd_admin"}); iamd.ErrorCode(err) != iamd.EINVALID {
			t.Fatalf("saving a built-in: %v", err)
		}
		if roles, err := f.svc.ListRoles(f.admin, "a"); err != nil || !slices.ContainsFunc(roles, func(r iamd.Role) bool {
			return r.Name == "iamd_admin" && slices.Contains(r.Privileges, iamd.PrivilegeUserWrite)
		}) {
			t.Fatalf("a refused save changed a built-in: %+v, %v", roles, err)
		}
		if fresh, err := f.svc.SaveRole(f.admin, &iamd.Role{InstanceID: "a", Name: "fresh", Privileges: []string{iamd.PrivilegeUserRead}}); err != nil || fresh.Name != "fresh" {
			t.Fatalf("save a new role: %+v, %v", fresh, err)
		}

		// Roles changed with the profile, in one change: ROLE_WRITE besides USER_WRITE,
		// and an unknown role refuses the whole update.
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "roled"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		name, grant := "Changed", []string{"helpdesk", "iamd_viewer", "helpdesk"}
		_, err = f.svc.UpdateUser(as("a", iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead), "a", u.ID, iamd.UserUpdate{DisplayName: &name, Roles: &grant})
		wantCode(t, err, iamd.EFORBIDDEN)
		bad := []string{"helpdesk", "nope"}
		_, err = f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{DisplayName: &name, Roles: &bad})
		wantCode(t, err, iamd.EINVALID)
		if got, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || got.DisplayName != "" || len(got.Roles) != 0 || got.Version != u.Version {
			t.Fatalf("a refused update changed the user: %+v, %v", got, err)
		}
		got, err := f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{DisplayName: &name, Roles: &grant})
		if err != nil || !slices.Equal(got.Roles, []string{"helpdesk", "iamd_viewer"}) || got.DisplayName != name {
			t.Fatalf("update with roles: %+v, %v", got, err)
		}
		if stored, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || !slices.Equal(stored.Roles, got.Roles) || stored.Version != u.Version+1 {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		same := []string{"iamd_viewer", "helpdesk"}
		if again, err := f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Roles: &same}); err != nil || again.Version != u.Version+1 {
			t.Fatalf("the same roles again are no change: %+v, %v", again, err)
		}
	})
}

func TestImportUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		n := directory.ImportChunk + 2_500
		in := make([]iamd.User, n)
		for i := range in {
			in[i] = iamd.User{LoginName: fmt.Sprintf("user%06d", i), DisplayName: fmt.Sprintf("User %d", i)}
		}
		dup := slices.Clone(in[:3])
		dup[2].LoginName = "USER000000"
		if _, err := f.svc.ImportUsers(f.admin, "a", dup, nil); iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorField(err) != iamd.FieldLoginName {
			t.Fatalf("duplicate login names: %v", err)
		}
		bad := slices.Clone(in[:2])
		bad[1].Email = "not an email"
		if _, err := f.svc.ImportUsers(f.admin, "a", bad, nil); iamd.ErrorField(err) != iamd.FieldEmail || !strings.Contains(err.Error(), "user 1") {
			t.Fatalf("an invalid user: %v", err)
		}
		var progress []int
		users, err := f.svc.ImportUsers(f.admin, "a", in, func(done int) { progress = append(progress, done) })
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != n || !slices.Equal(progress, []int{directory.ImportChunk, n}) {
			t.Fatalf("%d users, progress %v", len(users), progress)
		}
		page, err := f.svc.ListUsers(f.admin, iamd.UserFilter{InstanceID: "a", LoginName: "user012345"})
		if err != nil || page.Total != 1 || page.Users[0].CreatedBy == "" || page.Users[0].Status != iamd.UserActive {
			t.Fatalf("an imported user: %+v, %v", page, err)
		}
		evs, err := f.store.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", Action: iamd.ActionUserImport})
		if err != nil || len(evs) != 2 {
			t.Fatalf("%d import events, want one per chunk (2): %v", len(evs), err)
		}
		if _, err := f.svc.ImportUsers(f.admin, "a", in[:1], nil); iamd.ErrorCode(err) != iamd.ECONFLICT {
			t.Fatalf("importing a taken login name: %v", err)
		}
	})
}

// What VikingCloud's user carries beside the profile: direct privileges (granted as
// roles are, with ROLE_WRITE) and the account state an administrator sets — expired,
// credentials expired, locked until unlocked.
func TestPrivilegesAndAccountState(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		_, err := f.svc.CreateUser(as("a", iamd.PrivilegeUserWrite), &iamd.User{InstanceID: "a", LoginName: "p",
			Privileges: []string{iamd.PrivilegeUserRead}}, iamd.CreateUserOptions{})
		wantCode(t, err, iamd.EFORBIDDEN)
		_, err = f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "p", Privileges: []string{"LAUNCH_MISSILES"}}, iamd.CreateUserOptions{})
		wantCode(t, err, iamd.EINVALID)
		_, err = f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "p", Privileges: []string{iamd.PrivilegeInstanceAdmin}}, iamd.CreateUserOptions{})
		wantCode(t, err, iamd.EINVALID)
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "p",
			Privileges: []string{iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead, iamd.PrivilegeUserRead}}, iamd.CreateUserOptions{})
		if err != nil || !slices.Equal(u.Privileges, []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite}) {
			t.Fatalf("create with privileges: %+v, %v", u, err)
		}
		if got, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || !slices.Equal(got.Privileges, u.Privileges) {
			t.Fatalf("stored privileges: %+v, %v", got, err)
		}

		privs := []string{iamd.PrivilegeGroupRead}
		yes, no := true, false
		got, err := f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Privileges: &privs, Expired: &yes, CredentialsExpired: &yes, Locked: &yes})
		if err != nil || !slices.Equal(got.Privileges, privs) || !got.Expired || !got.CredentialsExpired ||
			got.LockedUntil == nil || !got.LockedUntil.Equal(iamd.LockedIndefinitely) {
			t.Fatalf("update: %+v, %v", got, err)
		}
		stored, err := f.svc.GetUser(f.admin, "a", u.ID)
		if err != nil || !slices.Equal(stored.Privileges, privs) || !stored.Expired || stored.LockedUntil == nil {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		for _, grant := range [][]string{privs, {iamd.PrivilegeAuditRead}} {
			_, err = f.svc.UpdateUser(as("a", iamd.PrivilegeUserWrite, iamd.PrivilegeUserRead), "a", u.ID, iamd.UserUpdate{Privileges: &grant})
			wantCode(t, err, iamd.EFORBIDDEN)
		}
		if after, err := f.svc.GetUser(f.admin, "a", u.ID); err != nil || after.Version != stored.Version || !slices.Equal(after.Privileges, privs) {
			t.Fatalf("a refused grant changed the user: %+v, %v", after, err)
		}
		if got, err = f.svc.UpdateUser(f.admin, "a", u.ID, iamd.UserUpdate{Locked: &no, Expired: &no}); err != nil || got.LockedUntil != nil || got.Expired {
			t.Fatalf("unlock: %+v, %v", got, err)
		}
	})
}

// The membership changes tests make, each one ChangeGroup.

func changeGroup(f fixture, ctx context.Context, instanceID, groupID string, c iamd.GroupChange) error {
	_, err := f.svc.ChangeGroup(ctx, instanceID, groupID, 0, func(*iamd.Group) (*iamd.GroupChange, error) { return &c, nil })
	return err
}

func updateGroup(f fixture, ctx context.Context, instanceID, groupID string, upd iamd.GroupUpdate) (*iamd.Group, error) {
	return f.svc.ChangeGroup(ctx, instanceID, groupID, 0, func(*iamd.Group) (*iamd.GroupChange, error) {
		return &iamd.GroupChange{GroupUpdate: upd}, nil
	})
}

func addGroupMembers(f fixture, ctx context.Context, instanceID, groupID string, users []string) error {
	return changeGroup(f, ctx, instanceID, groupID, iamd.GroupChange{Add: iamd.GroupMembers{Users: users}})
}

func removeGroupMembers(f fixture, ctx context.Context, instanceID, groupID string, users []string) error {
	return changeGroup(f, ctx, instanceID, groupID, iamd.GroupChange{Remove: iamd.GroupMembers{Users: users}})
}

func addMemberGroups(f fixture, ctx context.Context, instanceID, groupID string, groups []string) error {
	return changeGroup(f, ctx, instanceID, groupID, iamd.GroupChange{Add: iamd.GroupMembers{Groups: groups}})
}

func removeMemberGroups(f fixture, ctx context.Context, instanceID, groupID string, groups []string) error {
	return changeGroup(f, ctx, instanceID, groupID, iamd.GroupChange{Remove: iamd.GroupMembers{Groups: groups}})
}

// Only a platform administrator deletes an instance, and never its own; an instance
// administrator learns only that it may not, and nothing of other instances.
func TestDeleteInstanceIsThePlatformAdministrators(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		wantCode(t, f.svc.DeleteInstance(as("a", iamd.PrivilegeUserWrite, iamd.PrivilegeUserDelete), "a"), iamd.EFORBIDDEN)
		wantCode(t, f.svc.DeleteInstance(as("a", iamd.PrivilegeUserWrite), "b"), iamd.ENOTFOUND)
		wantCode(t, f.svc.DeleteInstance(context.Background(), "b"), iamd.EUNAUTHENTICATED)
		own := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: "x", InstanceID: "a", PlatformAdmin: true})
		wantCode(t, f.svc.DeleteInstance(own, "a"), iamd.EINVALID)
		for _, id := range []string{"a", "b"} {
			if _, err := f.svc.GetInstance(f.admin, id); err != nil {
				t.Fatalf("a refused delete removed %s: %v", id, err)
			}
		}
		if err := f.svc.DeleteInstance(f.admin, "b"); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.GetInstance(f.admin, "b")
		wantCode(t, err, iamd.ENOTFOUND)
		evs, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "b", Action: iamd.ActionInstanceDelete})
		if err != nil || len(evs) != 1 || evs[0].ActorName != "Root" || evs[0].Source != "192.0.2.10" {
			t.Fatalf("the delete's event: %v %+v", err, evs)
		}
	})
}
