package directory_test

import (
	"context"
	"maps"
	"testing"

	"iamd"
)

// ActorLogins: a caller holding USER_READ resolves any user ids to login names; any
// other caller of the instance (no privileges, a password-change-only session) only
// itself and the actors of its own record's stamps, so that a user id it was never
// shown stays an id. A caller of another instance, or none, is refused.
func TestActorLoginsResolvesOnlyWhatTheCallerMayRead(t *testing.T) {
	eachStore(t, func(t *testing.T, f fixture) {
		principal := func(u *iamd.User, privileges ...string) *iamd.Principal {
			return &iamd.Principal{UserID: u.ID, Name: u.LoginName, InstanceID: "a", Privileges: privileges}
		}
		ctxOf := func(p *iamd.Principal) context.Context {
			return iamd.NewContextWithPrincipal(context.Background(), p)
		}
		create := func(ctx context.Context, login string) *iamd.User {
			t.Helper()
			u, err := f.svc.CreateUser(ctx, &iamd.User{InstanceID: "a", LoginName: login}, iamd.CreateUserOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		alice := create(f.admin, "alice")
		asAlice := ctxOf(principal(alice, iamd.PrivilegeUserWrite))
		bob := create(asAlice, "bob")
		carol := create(asAlice, "carol")
		dave := create(asAlice, "dave")
		name := "Carol C."
		if _, err := f.svc.UpdateUser(ctxOf(principal(bob, iamd.PrivilegeUserWrite)), "a", carol.ID,
			iamd.UserUpdate{DisplayName: &name}); err != nil {
			t.Fatal(err)
		}
		ids := []string{alice.ID, bob.ID, carol.ID, dave.ID, "00000000000000000000000000000001", ""}
		all := map[string]string{alice.ID: "alice", bob.ID: "bob", carol.ID: "carol", dave.ID: "dave"}

		for _, c := range []struct {
			name string
			ctx  context.Context
			want map[string]string
		}{
			{"a platform administrator", f.admin, all},
			{"a reader", ctxOf(principal(dave, iamd.PrivilegeUserRead)), all},
			{"carol without privileges", ctxOf(principal(carol)), map[string]string{alice.ID: "alice", bob.ID: "bob", carol.ID: "carol"}},
			{"carol with USER_WRITE only", ctxOf(principal(carol, iamd.PrivilegeUserWrite)),
				map[string]string{alice.ID: "alice", bob.ID: "bob", carol.ID: "carol"}},
			{"dave without privileges", ctxOf(principal(dave)), map[string]string{alice.ID: "alice", dave.ID: "dave"}},
			{"dave changing his password", ctxOf(&iamd.Principal{UserID: dave.ID, InstanceID: "a", PasswordChangeOnly: true,
				Privileges: []string{iamd.PrivilegeUserRead}}), map[string]string{alice.ID: "alice", dave.ID: "dave"}},
			{"a key of no user", ctxOf(&iamd.Principal{InstanceID: "a"}), map[string]string{}},
			{"a user since deleted", ctxOf(&iamd.Principal{UserID: "0000000000000000000000000000000e", InstanceID: "a"}), map[string]string{}},
		} {
			got, err := f.svc.ActorLogins(c.ctx, "a", ids)
			if err != nil || !maps.Equal(got, c.want) {
				t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
			}
		}

		_, err := f.svc.ActorLogins(ctxOf(&iamd.Principal{UserID: alice.ID, InstanceID: "b", Privileges: []string{iamd.PrivilegeUserRead}}), "a", ids)
		wantCode(t, err, iamd.ENOTFOUND)
		_, err = f.svc.ActorLogins(ctxOf(&iamd.Principal{UserID: carol.ID, InstanceID: "b", PasswordChangeOnly: true}), "a", ids)
		wantCode(t, err, iamd.ENOTFOUND)
		_, err = f.svc.ActorLogins(context.Background(), "a", ids)
		wantCode(t, err, iamd.EUNAUTHENTICATED)
	})
}
