package account_test

import (
	"testing"

	"iamd"
	"iamd/account"
	"iamd/directory"
)

// A user's access rules (NAVER Cloud's accessRules) hold in the core: without API
// access its access keys, API tokens and per-request passwords are refused; without
// console access it cannot sign in, and its open sessions stop working.
func TestAccessRules(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var key account.MasterKey
			copy(key[:], "0123456789abcdef0123456789abcdef")
			fast, _ := account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1})
			svc := account.New(store, key, account.WithHasher(fast))
			if _, err := svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "inst", AdminPassword: "admin password"}); err != nil {
				t.Fatal(err)
			}
			admin := iamd.NewContextWithPrincipal(ctx, &iamd.Principal{UserID: "root", Name: "Root", PlatformAdmin: true})
			dir := directory.New(store, directory.WithCredentials(svc))
			u, err := dir.CreateUser(admin, &iamd.User{InstanceID: "inst", LoginName: "ruled"}, iamd.CreateUserOptions{Password: "a long enough passphrase 3"})
			if err != nil {
				t.Fatal(err)
			}
			k, secret, err := svc.CreateAccessKey(admin, "inst", u.ID, iamd.CredentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, token, err := svc.CreateAPIToken(admin, "inst", u.ID, iamd.CredentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			grant, err := svc.SignIn(ctx, iamd.SignIn{InstanceID: "inst", LoginName: "ruled", Password: "a long enough passphrase 3"})
			if err != nil {
				t.Fatal(err)
			}
			set := func(console, api bool) {
				t.Helper()
				if _, err := dir.UpdateUser(admin, "inst", u.ID, iamd.UserUpdate{ConsoleDenied: &console, APIDenied: &api}); err != nil {
					t.Fatal(err)
				}
			}
			api := map[string]func() error{
				"access key": func() error { _, err := svc.VerifyHMAC(ctx, k.ID, []byte("m"), mac(secret, "m")); return err },
				"API token":  func() error { _, err := svc.AuthenticateToken(ctx, token); return err },
				"password": func() error {
					_, err := svc.AuthenticatePassword(ctx, "inst", "ruled", "a long enough passphrase 3")
					return err
				},
			}
			console := func() error { _, err := svc.AuthenticateToken(ctx, grant.Token); return err }

			set(false, true) // no API access
			for what, try := range api {
				if err := try(); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
					t.Errorf("%s without API access: %v", what, err)
				}
			}
			if err := console(); err != nil {
				t.Errorf("a console session without API access: %v", err)
			}

			set(true, false) // no console access
			for what, try := range api {
				if err := try(); err != nil {
					t.Errorf("%s with API access: %v", what, err)
				}
			}
			if err := console(); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Errorf("a console session without console access: %v", err)
			}
			_, err = svc.SignIn(ctx, iamd.SignIn{InstanceID: "inst", LoginName: "ruled", Password: "a long enough passphrase 3"})
			if iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Errorf("sign-in without console access: %v", err)
			}
		})
	}
}
