package directory_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"iamd"
)

// A caller in the escalation table: its privileges on instance a, or a platform
// administrator.
type tableCaller struct {
	name          string
	privileges    []string
	platformAdmin bool
}

func (c tableCaller) context() context.Context {
	return iamd.NewContextWithSource(iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{
		UserID: "0000000000000000000000000000caff", Name: c.name, InstanceID: "a", Privileges: c.privileges,
		PlatformAdmin: c.platformAdmin}), "192.0.2.99")
}

// holds is the table's own statement of what a caller holds, written out rather than
// asked of the core.
func (c tableCaller) holds(privileges ...string) bool {
	for _, p := range privileges {
		if !c.platformAdmin && !slices.Contains(c.privileges, p) {
			return false
		}
	}
	return true
}

// A target in the table: a user of instance a with these roles, or a platform
// administrator.
type tableTarget struct {
	name          string
	roles         []string
	platformAdmin bool
	privileges    []string // what its roles give it, written out
}

var (
	readPrivileges = []string{iamd.PrivilegeUserRead, iamd.PrivilegeGroupRead, iamd.PrivilegeRoleRead, iamd.PrivilegeAuditRead}
	helpdesk       = []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite, iamd.PrivilegeUserDelete}
	granter        = append(slices.Clone(helpdesk), iamd.PrivilegeRoleWrite, iamd.PrivilegeGroupWrite, iamd.PrivilegeRoleRead, iamd.PrivilegeGroupRead)
	instanceAdmin  = []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite, iamd.PrivilegeUserDelete, iamd.PrivilegeGroupRead,
		iamd.PrivilegeGroupWrite, iamd.PrivilegeRoleRead, iamd.PrivilegeRoleWrite, iamd.PrivilegeAuditRead}

	tableCallers = []tableCaller{
		{name: "viewer", privileges: []string{iamd.PrivilegeUserRead}},
		{name: "helpdesk", privileges: helpdesk},
		{name: "granter", privileges: granter},
		{name: "instance admin", privileges: instanceAdmin},
		{name: "platform admin", platformAdmin: true},
	}
	tableTargets = []tableTarget{
		{name: "plain"},
		{name: "reader", roles: []string{"iamd_viewer"}, privileges: readPrivileges},
		{name: "helpdesk", roles: []string{"helpdesk"}, privileges: helpdesk},
		{name: "instance admin", roles: []string{"iamd_admin"}, privileges: instanceAdmin},
		{name: "platform admin", platformAdmin: true, privileges: iamd.AllPrivileges},
	}
)

// An action in the table: what it needs of the caller besides covering the target, and
// what it grants (the caller must hold that too).
type tableAction struct {
	name  string
	needs []string
	grant []string
	do    func(f fixture, ctx context.Context, u *iamd.User) error
}

func change(f fixture, ctx context.Context, u *iamd.User, c iamd.UserChange) error {
	_, err := f.svc.ChangeUser(ctx, "a", iamd.UserRef{ID: u.ID}, func(*iamd.User) (*iamd.UserChange, error) { return &c, nil })
	return err
}

var tableActions = []tableAction{
	{"change profile", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		name := "Renamed Person"
		return change(f, ctx, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{DisplayName: &name}})
	}},
	{"rename", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		login := u.LoginName + "-renamed"
		return change(f, ctx, u, iamd.UserChange{LoginName: &login})
	}},
	{"set password", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		return change(f, ctx, u, iamd.UserChange{Password: &iamd.NewPassword{Clear: "a brand new passphrase"}})
	}},
	{"reset MFA", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		return change(f, ctx, u, iamd.UserChange{MFA: &iamd.MFASetting{Enabled: false}})
	}},
	{"disable", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		suspended := iamd.UserSuspended
		return change(f, ctx, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{Status: &suspended}})
	}},
	{"delete", []string{iamd.PrivilegeUserDelete}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		return f.svc.DeleteUser(ctx, "a", iamd.UserRef{ID: u.ID})
	}},
	{"grant iamd_viewer", []string{iamd.PrivilegeUserWrite, iamd.PrivilegeRoleWrite}, readPrivileges, func(f fixture, ctx context.Context, u *iamd.User) error {
		roles := append(slices.Clone(u.Roles), "iamd_viewer")
		return change(f, ctx, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{Roles: &roles}})
	}},
	{"grant iamd_admin", []string{iamd.PrivilegeUserWrite, iamd.PrivilegeRoleWrite}, instanceAdmin, func(f fixture, ctx context.Context, u *iamd.User) error {
		roles := append(slices.Clone(u.Roles), "iamd_admin")
		return change(f, ctx, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{Roles: &roles}})
	}},
	{"grant USER_DELETE directly", []string{iamd.PrivilegeUserWrite, iamd.PrivilegeRoleWrite}, []string{iamd.PrivilegeUserDelete}, func(f fixture, ctx context.Context, u *iamd.User) error {
		privileges := append(slices.Clone(u.Privileges), iamd.PrivilegeUserDelete)
		return change(f, ctx, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{Privileges: &privileges}})
	}},
	{"issue an API token", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		_, _, err := f.acct.CreateAPIToken(ctx, "a", u.ID, iamd.CredentialOptions{})
		return err
	}},
	{"sign out everywhere", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		_, err := f.acct.ExpireSessions(ctx, "a", u.ID)
		return err
	}},
	{"tag", []string{iamd.PrivilegeUserWrite}, nil, func(f fixture, ctx context.Context, u *iamd.User) error {
		return f.svc.PutUserTags(ctx, "a", u.ID, []iamd.Tag{{Key: "k", Value: "v"}})
	}},
}

// newTableTarget stores a target afresh, with a password and MFA to reset.
func newTableTarget(t *testing.T, f fixture, tg tableTarget, n int) *iamd.User {
	t.Helper()
	login := fmt.Sprintf("target-%d", n)
	var u *iamd.User
	if tg.platformAdmin {
		// As bootstrap makes one, but not built in: the table is about rights alone.
		u = &iamd.User{ID: iamd.NewID(), InstanceID: "a", LoginName: login, Status: iamd.UserActive, PlatformAdmin: true,
			Privileges: iamd.AllPrivileges, Version: 1}
		if err := f.store.CreateUser(context.Background(), iamd.UserWrite{User: u, Event: iamd.Event{InstanceID: "a"}}); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if u, err = f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: login, Roles: tg.roles},
			iamd.CreateUserOptions{Password: "the first passphrase", MFA: &iamd.MFASetting{Enabled: true, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}}); err != nil {
			t.Fatal(err)
		}
	}
	// A live session, for "sign out everywhere" to end.
	now := time.Now().UTC().Truncate(time.Microsecond)
	sess := &iamd.Session{ID: iamd.NewID(), InstanceID: "a", UserID: u.ID, Hash: []byte(u.ID), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := f.store.CreateSession(context.Background(), sess, iamd.Event{InstanceID: "a"}); err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.GetUser(f.admin, "a", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// untouched fails t if a refused act changed u: its record, its tokens, its tags or
// its sessions (which do not make a new version of the user).
func untouched(t *testing.T, f fixture, u *iamd.User, what string) {
	t.Helper()
	ctx := context.Background()
	after, err := f.store.GetUser(ctx, "a", u.ID)
	if err != nil || after.Version != u.Version || after.PasswordHash != u.PasswordHash {
		t.Errorf("%s: the refusal changed the target (%v)", what, err)
		return
	}
	toks, err := f.store.ListAPITokens(ctx, "a", u.ID)
	tags, err2 := f.store.ListUserTags(ctx, "a", u.ID)
	sessions, err3 := f.store.ListSessions(ctx, "a", u.ID, time.Now())
	if err != nil || err2 != nil || err3 != nil || len(toks) != 0 || len(tags) != 0 || len(sessions) != 1 {
		t.Errorf("%s: after the refusal %d tokens, %d tags, %d sessions (%v %v %v)", what, len(toks), len(tags), len(sessions), err, err2, err3)
	}
}

// The escalation table: every caller × every target × every action. An action is
// allowed exactly when the caller holds what it needs, has every right the target has
// (a platform administrator only by a platform administrator), and holds what it
// grants. A refusal is EFORBIDDEN and changes nothing.
func TestEscalationTable(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		if _, err := f.svc.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "helpdesk", Privileges: helpdesk}); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range tableCallers {
			for _, tg := range tableTargets {
				for _, a := range tableActions {
					n++
					u := newTableTarget(t, f, tg, n)
					covers := (c.platformAdmin || !tg.platformAdmin) && c.holds(tg.privileges...)
					want := c.holds(a.needs...) && covers && c.holds(a.grant...)
					err := a.do(f, c.context(), u)
					if want && err != nil {
						t.Errorf("%s → %s %s: %v, want allowed", c.name, a.name, tg.name, err)
						continue
					}
					if !want {
						if iamd.ErrorCode(err) != iamd.EFORBIDDEN {
							t.Errorf("%s → %s %s: %v, want EFORBIDDEN", c.name, a.name, tg.name, err)
							continue
						}
						untouched(t, f, u, c.name+" → "+a.name+" "+tg.name)
					}
				}
			}
		}
		// Another tenant's caller, whatever it holds, does not learn the user exists.
		u := newTableTarget(t, f, tableTargets[0], n+1)
		other := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: "0000000000000000000000000000beef",
			InstanceID: "b", Privileges: iamd.AllPrivileges})
		for _, a := range tableActions {
			if err := a.do(f, other, u); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Errorf("another tenant → %s: %v, want ENOTFOUND", a.name, err)
			}
		}
		untouched(t, f, u, "another tenant's refused acts")
	})
}

// The password oracle: a caller refused a change learns nothing from the body it sent.
// Whether the password it guesses is the target's current one (which the history rule
// would refuse) or a common one, or the email is malformed, it gets the same 403.
func TestRefusalBeforeValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		admin, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "chief", Roles: []string{"iamd_admin"}},
			iamd.CreateUserOptions{Password: "the boss's own passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		bad := "not an email"
		// A version, right or stale, tells a refused caller nothing either.
		for _, version := range []int64{admin.Version, admin.Version + 7} {
			_, err := f.svc.ChangeUser(as("a", helpdesk...), "a", iamd.UserRef{ID: admin.ID, Version: version},
				func(*iamd.User) (*iamd.UserChange, error) {
					return &iamd.UserChange{UserUpdate: iamd.UserUpdate{Email: &bad}}, nil
				})
			if iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Errorf("version %d: %v, want the same EFORBIDDEN", version, err)
			}
			if err := f.svc.DeleteUser(as("a", helpdesk...), "a", iamd.UserRef{ID: admin.ID, Version: version}); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Errorf("deleting at version %d: %v, want the same EFORBIDDEN", version, err)
			}
		}
		for _, caller := range []context.Context{as("a", iamd.PrivilegeUserRead), as("a", helpdesk...)} {
			for what, c := range map[string]iamd.UserChange{
				"the current password": {Password: &iamd.NewPassword{Clear: "the boss's own passphrase"}},
				"a common password":    {Password: &iamd.NewPassword{Clear: "password123"}},
				"a wrong guess":        {Password: &iamd.NewPassword{Clear: "some other passphrase"}},
				"a malformed email":    {UserUpdate: iamd.UserUpdate{Email: &bad}},
				"an unknown role":      {UserUpdate: iamd.UserUpdate{Roles: &[]string{"no-such-role"}}},
			} {
				err := change(f, caller, admin, c)
				if iamd.ErrorCode(err) != iamd.EFORBIDDEN {
					t.Errorf("%s: %v, want the same EFORBIDDEN", what, err)
				}
			}
		}
		after, err := f.store.GetUser(context.Background(), "a", admin.ID)
		if err != nil || after.Version != admin.Version || after.PasswordFailedCount != 0 {
			t.Fatalf("refusals changed the target: %+v, %v", after, err)
		}
	})
}

// A group that carries roles grants them: joining it, nesting into it, deleting it, or
// changing its roles needs ROLE_WRITE and what it grants. A group without roles is
// GROUP_WRITE's alone.
func TestGroupMembershipIsAGrant(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		admins, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Admins"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Plain"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetGroupRoles(f.admin, "a", admins.ID, []string{"iamd_admin"}); err != nil {
			t.Fatal(err)
		}
		me, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "climber"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		groupWriter := as("a", iamd.PrivilegeGroupWrite, iamd.PrivilegeGroupRead, iamd.PrivilegeUserWrite, iamd.PrivilegeRoleWrite)
		wantCode(t, addGroupMembers(f, groupWriter, "a", admins.ID, []string{me.ID}), iamd.EFORBIDDEN)
		// Refused as a caller before the members it names are looked at: too many of them, or
		// one that is not there, earns the caller's refusal, not the list's.
		tooMany := make([]string, iamd.MaxPageSize+1)
		for i := range tooMany {
			tooMany[i] = iamd.NewID()
		}
		wantCode(t, addGroupMembers(f, groupWriter, "a", admins.ID, tooMany), iamd.EFORBIDDEN)
		wantCode(t, addGroupMembers(f, groupWriter, "a", admins.ID, []string{"no-such-user"}), iamd.EFORBIDDEN)
		wantCode(t, addMemberGroups(f, groupWriter, "a", admins.ID, []string{plain.ID}), iamd.EFORBIDDEN)
		wantCode(t, change(f, groupWriter, me, iamd.UserChange{JoinGroups: []string{admins.ID}}), iamd.EFORBIDDEN)
		_, err = f.svc.CreateUser(groupWriter, &iamd.User{InstanceID: "a", LoginName: "sneaky"}, iamd.CreateUserOptions{GroupIDs: []string{admins.ID}})
		wantCode(t, err, iamd.EFORBIDDEN)
		wantCode(t, f.svc.DeleteGroup(groupWriter, "a", admins.ID, 0), iamd.EFORBIDDEN)
		wantCode(t, f.svc.SetGroupRoles(groupWriter, "a", plain.ID, []string{"iamd_admin"}), iamd.EFORBIDDEN)
		_, err = f.svc.CreateRole(groupWriter, &iamd.Role{InstanceID: "a", Name: "everything", Privileges: instanceAdmin})
		wantCode(t, err, iamd.EFORBIDDEN)
		if got, err := f.store.EffectivePrivileges(context.Background(), "a", me.ID); err != nil || len(got) != 0 {
			t.Fatalf("the refusals granted %v (%v)", got, err)
		}
		if nested, err := f.store.ListMemberGroups(context.Background(), "a", admins.ID); err != nil || len(nested) != 0 {
			t.Fatalf("a refused nesting nested %v (%v)", nested, err)
		}
		if g, err := f.store.GetGroup(context.Background(), "a", plain.ID); err != nil || len(g.Roles) != 0 {
			t.Fatalf("a refused role grant gave the plain group %+v (%v)", g, err)
		}
		if _, err := f.svc.GetGroup(f.admin, "a", admins.ID); err != nil {
			t.Fatalf("a refused delete removed the group: %v", err)
		}
		_, err = f.svc.FindUserByLogin(f.admin, "a", "sneaky")
		wantCode(t, err, iamd.ENOTFOUND) // the refused create stored nothing
		if roles, err := f.svc.ListRoles(f.admin, "a"); err != nil || slices.ContainsFunc(roles, func(r iamd.Role) bool { return r.Name == "everything" }) {
			t.Fatalf("a refused create stored a role: %+v, %v", roles, err)
		}
		// A group without roles is GROUP_WRITE's alone, and the instance admin grants what it holds.
		if err := addGroupMembers(f, as("a", iamd.PrivilegeGroupWrite), "a", plain.ID, []string{me.ID}); err != nil {
			t.Fatal(err)
		}
		if err := addGroupMembers(f, as("a", instanceAdmin...), "a", admins.ID, []string{me.ID}); err != nil {
			t.Fatal(err)
		}
	})
}

// Rules that once held in one face only hold in the core for every caller: ECE's
// exclusive roles, group names unique per instance (also on rename), built-in users.
func TestRulesOfEveryFace(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		_, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "both", Roles: []string{"ece_platform_admin", "ece_platform_viewer"}},
			iamd.CreateUserOptions{})
		if iamd.ErrorCode(err) != iamd.EINVALID || iamd.ErrorRule(err) != iamd.RuleExclusiveRoles {
			t.Fatalf("exclusive roles at create: %v", err)
		}
		_, err = f.svc.FindUserByLogin(f.admin, "a", "both")
		wantCode(t, err, iamd.ENOTFOUND)
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "mgr", Roles: []string{"ece_deployment_manager"}}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		roles := []string{"ece_deployment_manager", "ece_deployment_viewer"}
		err = change(f, f.admin, u, iamd.UserChange{UserUpdate: iamd.UserUpdate{Roles: &roles}})
		if iamd.ErrorRule(err) != iamd.RuleExclusiveRoles {
			t.Fatalf("exclusive roles in a change: %v", err)
		}
		if got, err := f.store.GetUser(context.Background(), "a", u.ID); err != nil || got.Version != u.Version || !slices.Equal(got.Roles, u.Roles) {
			t.Fatalf("a refused change changed the user: %+v, %v", got, err)
		}
		if _, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Ops"}, iamd.GroupMembers{}); err != nil {
			t.Fatal(err)
		}
		groupCount := func() int {
			t.Helper()
			page, err := f.store.ListGroups(context.Background(), iamd.GroupFilter{InstanceID: "a"})
			if err != nil {
				t.Fatal(err)
			}
			return page.Total
		}
		groups := groupCount()
		_, err = f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "OPS"}, iamd.GroupMembers{})
		if iamd.ErrorCode(err) != iamd.ECONFLICT || iamd.ErrorField(err) != iamd.FieldName {
			t.Fatalf("a second group named Ops: %v", err)
		}
		if n := groupCount(); n != groups {
			t.Fatalf("a refused create of a taken name: %d groups, then %d", groups, n)
		}
		if page, err := f.store.ListGroups(context.Background(), iamd.GroupFilter{InstanceID: "a", Name: "Ops"}); err != nil ||
			page.Total != 1 || page.Groups[0].Name != "Ops" {
			t.Fatalf("groups named Ops after the refused create: %+v, %v", page, err)
		}
		dev, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Dev"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		ops := "ops"
		_, err = updateGroup(f, f.admin, "a", dev.ID, iamd.GroupUpdate{Name: &ops})
		if iamd.ErrorCode(err) != iamd.ECONFLICT || iamd.ErrorField(err) != iamd.FieldName {
			t.Fatalf("renaming onto a taken name: %v", err)
		}
		if got, err := f.svc.GetGroup(f.admin, "a", dev.ID); err != nil || got.Name != "Dev" {
			t.Fatalf("a refused rename renamed the group: %+v, %v", got, err)
		}
		// An instance may allow duplicates.
		if _, err := f.svc.CreateInstance(f.admin, &iamd.Instance{ID: "dups", DuplicateGroupNames: true}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "dups", Name: "Ops"}, iamd.GroupMembers{}); err != nil {
				t.Fatal(err)
			}
		}
		// Built-in users: their record is fixed, even for a platform administrator; only
		// their credentials may be reset, by a caller covering them.
		if err := f.svc.EnsureBuiltinUser(f.admin, "a", "readonly", "Read-only", []string{"iamd_viewer"}); err != nil {
			t.Fatal(err)
		}
		ro, err := f.svc.FindUserByLogin(f.admin, "a", "readonly")
		if err != nil {
			t.Fatal(err)
		}
		suspended := iamd.UserSuspended
		for what, c := range map[string]iamd.UserChange{
			"disable": {UserUpdate: iamd.UserUpdate{Status: &suspended}},
			"rename":  {LoginName: &ops},
			"demote":  {UserUpdate: iamd.UserUpdate{Roles: &[]string{}}},
			"lock":    {UserUpdate: iamd.UserUpdate{Locked: &[]bool{true}[0]}},
		} {
			if err := change(f, f.admin, ro, c); iamd.ErrorRule(err) != iamd.RuleBuiltin {
				t.Errorf("%s a built-in user: %v", what, err)
			}
		}
		wantCode(t, f.svc.DeleteUser(f.admin, "a", iamd.UserRef{ID: ro.ID}), iamd.EINVALID)
		if got, err := f.store.GetUser(context.Background(), "a", ro.ID); err != nil || got.Version != ro.Version || got.Status != iamd.UserActive {
			t.Fatalf("the refusals changed the built-in user: %+v, %v", got, err)
		}
		if err := change(f, f.admin, ro, iamd.UserChange{Password: &iamd.NewPassword{Clear: "read only passphrase"}}); err != nil {
			t.Fatalf("setting a built-in user's password: %v", err)
		}
		// Nor through a group, nor its tags.
		admins, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Admins"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		if err := addGroupMembers(f, f.admin, "a", admins.ID, []string{ro.ID}); iamd.ErrorRule(err) != iamd.RuleBuiltin {
			t.Fatalf("adding a built-in user to a group: %v", err)
		}
		_, err = f.svc.ChangeGroup(f.admin, "a", admins.ID, 0, func(*iamd.Group) (*iamd.GroupChange, error) {
			return &iamd.GroupChange{Members: &iamd.GroupMembers{Either: []string{ro.ID}}}, nil
		})
		if iamd.ErrorRule(err) != iamd.RuleBuiltin {
			t.Fatalf("making a built-in user a group's only member: %v", err)
		}
		groups = groupCount()
		_, err = f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Sneaky"}, iamd.GroupMembers{Users: []string{ro.ID}})
		if iamd.ErrorRule(err) != iamd.RuleBuiltin {
			t.Fatalf("creating a group with a built-in member: %v", err)
		}
		if page, err := f.store.ListGroups(context.Background(), iamd.GroupFilter{InstanceID: "a", Name: "Sneaky"}); err != nil || page.Total != 0 {
			t.Fatalf("a refused create stored the group: %+v, %v", page, err)
		}
		if n := groupCount(); n != groups {
			t.Fatalf("a refused create: %d groups, then %d", groups, n)
		}
		if err := f.svc.PutUserTags(f.admin, "a", ro.ID, []iamd.Tag{{Key: "k"}}); iamd.ErrorRule(err) != iamd.RuleBuiltin {
			t.Fatalf("tagging a built-in user: %v", err)
		}
		if tags, err := f.store.ListUserTags(context.Background(), "a", ro.ID); err != nil || len(tags) != 0 {
			t.Fatalf("a refused tagging stored tags: %+v, %v", tags, err)
		}
		if got, err := f.svc.GetUser(f.admin, "a", ro.ID); err != nil || len(got.Groups) != 0 {
			t.Fatalf("the built-in user after the refusals: %+v, %v", got, err)
		}
		// A user of another realm: its record and password are its realm's; its MFA and
		// lock may be reset here.
		ext := &iamd.User{ID: iamd.NewID(), InstanceID: "a", LoginName: "ldap-ann", Realm: "ldap:corp", Status: iamd.UserActive,
			MFAEnabled: true, Version: 1}
		locked := iamd.LockedIndefinitely
		ext.LockedUntil = &locked
		if err := f.store.CreateUser(context.Background(), iamd.UserWrite{User: ext, Event: iamd.Event{InstanceID: "a"}}); err != nil {
			t.Fatal(err)
		}
		for what, c := range map[string]iamd.UserChange{
			"rename":       {LoginName: &ops},
			"set password": {Password: &iamd.NewPassword{Clear: "a local passphrase"}},
			"join a group": {JoinGroups: []string{admins.ID}},
		} {
			if err := change(f, f.admin, ext, c); iamd.ErrorRule(err) != iamd.RuleExternalRealm {
				t.Errorf("%s of a user of another realm: %v", what, err)
			}
		}
		if got, err := f.store.GetUser(context.Background(), "a", ext.ID); err != nil || got.Version != ext.Version || got.LoginName != "ldap-ann" {
			t.Fatalf("the refusals changed the user of another realm: %+v (%v)", got, err)
		}
		unlocked := false
		if err := change(f, f.admin, ext, iamd.UserChange{UserUpdate: iamd.UserUpdate{Locked: &unlocked}, MFA: &iamd.MFASetting{}}); err != nil {
			t.Fatalf("unlocking a user of another realm and resetting its MFA: %v", err)
		}
		if got, err := f.store.GetUser(context.Background(), "a", ext.ID); err != nil || got.LockedUntil != nil || got.MFAEnabled {
			t.Fatalf("after unlocking and resetting MFA: %+v (%v)", got, err)
		}
		// The operator at the database is the break-glass exception.
		operator := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{Name: "iamd-cli", PlatformAdmin: true, Operator: true})
		if err := change(f, operator, ro, iamd.UserChange{UserUpdate: iamd.UserUpdate{Status: &suspended}}); err != nil {
			t.Fatalf("the operator disabling a built-in user: %v", err)
		}
	})
}

// A change authorized on a user as it was does not land on the user as it has become:
// while an administrator promotes a user (adding it to a group that carries roles), a
// helpdesk caller resetting that user's password either does so before the promotion or
// is refused — never after it, which would hand the caller an administrator's password.
func TestNoChangeLandsOnAPromotedUser(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		admins, err := f.svc.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: "Admins"}, iamd.GroupMembers{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.SetGroupRoles(f.admin, "a", admins.ID, []string{"iamd_admin"}); err != nil {
			t.Fatal(err)
		}
		helpdeskCaller := as("a", helpdesk...)
		before := 0
		for round := range 40 {
			u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: fmt.Sprintf("bob%d", round)}, iamd.CreateUserOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var promote, reset error
			done := make(chan struct{})
			go func() {
				defer close(done)
				promote = addGroupMembers(f, f.admin, "a", admins.ID, []string{u.ID})
			}()
			reset = change(f, helpdeskCaller, u, iamd.UserChange{Password: &iamd.NewPassword{Clear: "the helpdesk's chosen passphrase"}})
			<-done
			if promote != nil {
				t.Fatal(promote)
			}
			switch iamd.ErrorCode(reset) {
			case iamd.EFORBIDDEN:
				continue
			case "":
			default:
				t.Fatal(reset)
			}
			before++
			// The reset landed: it must be ordered before the promotion.
			resets, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", TargetID: u.ID, Action: iamd.ActionPasswordSet})
			if err != nil || len(resets) != 1 {
				t.Fatalf("round %d: the reset's event: %v, %v", round, resets, err)
			}
			adds, err := f.svc.ListEvents(f.admin, iamd.EventFilter{InstanceID: "a", TargetID: admins.ID, Action: iamd.ActionGroupAddMembers, Limit: 1})
			if err != nil || len(adds) != 1 {
				t.Fatalf("round %d: the promotion's event: %v, %v", round, adds, err)
			}
			if resets[0].ID > adds[0].ID {
				t.Fatalf("round %d: a helpdesk password reset landed on a user already promoted", round)
			}
		}
		t.Logf("%d of 40 resets came before the promotion; the rest were refused", before)
	})
}

// A user changes its own names, email and password, and nothing else: not its roles,
// not its status, nor the verification of its email.
func TestChangeOwnUser(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		u, err := f.svc.CreateUser(f.admin, &iamd.User{InstanceID: "a", LoginName: "self", Email: "self@example.com"}, iamd.CreateUserOptions{})
		if err != nil {
			t.Fatal(err)
		}
		me := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: u.ID, InstanceID: "a", Name: "self"})
		own := func(c iamd.UserChange) error {
			_, err := f.svc.ChangeOwnUser(me, func(*iamd.User) (*iamd.UserChange, error) { return &c, nil })
			return err
		}
		name, email, verified, suspended := "Me Myself", "me@example.com", true, iamd.UserSuspended
		if err := own(iamd.UserChange{UserUpdate: iamd.UserUpdate{DisplayName: &name, Email: &email}}); err != nil {
			t.Fatal(err)
		}
		for what, c := range map[string]iamd.UserChange{
			"verify its email": {UserUpdate: iamd.UserUpdate{EmailVerified: &verified}},
			"suspend itself":   {UserUpdate: iamd.UserUpdate{Status: &suspended}},
			"grant itself":     {UserUpdate: iamd.UserUpdate{Roles: &[]string{"iamd_admin"}}},
			"rename itself":    {LoginName: &name},
		} {
			if err := own(c); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Errorf("a user may %s: %v", what, err)
			}
		}
		if got, err := f.store.GetUser(context.Background(), "a", u.ID); err != nil || got.DisplayName != name || got.EmailVerified ||
			got.Status != iamd.UserActive || len(got.Roles) != 0 || got.LoginName != "self" {
			t.Fatalf("after the refusals: %+v (%v)", got, err)
		}
	})
}
