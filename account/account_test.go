package account_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/internal/pgtest"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

var ctx = context.Background()

func stores(t *testing.T) map[string]iamd.Store {
	out := map[string]iamd.Store{}
	for _, engine := range storetest.Engines {
		out[engine.Name] = engine.Open(t)
	}
	return out
}

func TestMasterKeyFileIsCreatedOnceAndPrivate(t *testing.T) {
	// Whatever the umask and the data directory's mode.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	k1, err := account.LoadMasterKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, account.MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", info.Mode().Perm())
	}
	k2, err := account.LoadMasterKey(dir, "")
	if err != nil || k1 != k2 {
		t.Fatalf("second load: %v, same key %v", err, k1 == k2)
	}
	os.Chmod(filepath.Join(dir, account.MasterKeyFile), 0o644)
	if _, err := account.LoadMasterKey(dir, ""); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
	hexKey := strings.Repeat("ab", 32)
	if k, err := account.LoadMasterKey(dir, hexKey); err != nil || k[0] != 0xab {
		t.Fatalf("hex key: %v", err)
	}
	_, err = account.LoadMasterKey(dir, "short-secret-value")
	if err == nil || strings.Contains(err.Error(), "short-secret-value") {
		t.Fatalf("bad env key: %v", err)
	}
}

func TestSealBindsTheRow(t *testing.T) {
	var k account.MasterKey
	copy(k[:], "0123456789abcdef0123456789abcdef")
	sealed, err := k.Seal([]byte("secret"), "KEY1")
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := k.Open(sealed, "KEY1"); err != nil || string(plain) != "secret" {
		t.Fatalf("open: %q %v", plain, err)
	}
	if _, err := k.Open(sealed, "KEY2"); err == nil {
		t.Fatal("a sealed secret opened under another row's id")
	}
	var other account.MasterKey
	if _, err := other.Open(sealed, "KEY1"); err == nil {
		t.Fatal("a sealed secret opened under another master key")
	}
}

func TestPasswords(t *testing.T) {
	h, err := account.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q", h)
	}
	if ok, err := account.VerifyPassword(h, "correct horse battery"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, err := account.VerifyPassword(h, "wrong horse battery"); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$2a$10$abc"} {
		if _, err := account.VerifyPassword(bad, "x"); err == nil {
			t.Errorf("malformed or hostile hash %q accepted", bad)
		}
	}
}

// FuzzVerifyPassword feeds the PHC parser arbitrary stored or imported hashes.
func FuzzVerifyPassword(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Add("$argon2id$v=19$m=99999999999,t=2,p=1$$")
	f.Add("$argon2i$v=19$m=1,t=1,p=1$a$b")
	f.Add("$$$$$")
	f.Add("$2b$10$FGX3q2hp6SzcpVyUUTx/A.wUPOh6WsGR4kfhe7Hg3X0rLorAjN1lO")
	f.Add("$2y$04$FGX3q2hp6SzcpVyUUTx/A.wUPOh6WsGR4kfhe7Hg3X0rLorAjN1lO")
	f.Add("$pbkdf2-sha256$i=1000$AAECAwQFBgcICQoLDA0ODw$YTNcrvfgoTRGujbonK9oo/F7WlXEAz5xkxaP10cmYKo")
	f.Add("$pbkdf2-sha512$i=1$AAECAwQFBgcICQoLDA0ODw$")
	f.Fuzz(func(t *testing.T, phc string) {
		account.VerifyPassword(phc, "password")
	})
}

// FuzzKeycloakHash feeds the Keycloak credential converter arbitrary exports; whatever it
// accepts must be a hash the verifier accepts too.
func FuzzKeycloakHash(f *testing.F) {
	f.Add(`{"value":"YTNcrvfgoTRGujbonK9oo/F7WlXEAz5xkxaP10cmYKo=","salt":"AAECAwQFBgcICQoLDA0ODw=="}`,
		`{"hashIterations":1000,"algorithm":"pbkdf2-sha256"}`)
	f.Add(`{"value":"","salt":""}`, `{"hashIterations":-1,"algorithm":"pbkdf2-sha512"}`)
	f.Add(`null`, `[]`)
	f.Fuzz(func(t *testing.T, secretData, credentialData string) {
		phc, err := account.KeycloakHash(secretData, credentialData)
		if err == nil {
			if err := account.CheckHash(phc); err != nil {
				t.Fatalf("KeycloakHash made %q, which CheckHash refuses: %v", phc, err)
			}
		}
	})
}

func TestCheckTimestamp(t *testing.T) {
	now := time.UnixMilli(1605290625682)
	ok := []string{"1605290625682", "1605290325682", "1605290925682"}
	for _, ts := range ok {
		if err := account.CheckTimestamp(ts, now, account.DefaultSkew); err != nil {
			t.Errorf("%s: %v", ts, err)
		}
	}
	for _, ts := range []string{"", "abc", "1605290265682", "1605290985682", "16052906256820000000000"} {
		if err := account.CheckTimestamp(ts, now, account.DefaultSkew); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
			t.Errorf("%q: %v, want unauthenticated", ts, err)
		}
	}
}

func mac(secret, message string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(message))
	return m.Sum(nil)
}

func TestBootstrapAndAuthentication(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var key account.MasterKey
			copy(key[:], "0123456789abcdef0123456789abcdef")
			svc := account.New(store, key)
			cfg := account.BootstrapConfig{DefaultInstance: "ssoins-12345", AdminAccessKey: "test-access-key",
				AdminSecretKey: "test-secret-key-long"}
			res, err := svc.Bootstrap(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := res.Generated["IAMD_ADMIN_PASSWORD"]; !ok || res.Generated["IAMD_ADMIN_API_TOKEN"] == "" {
				t.Fatalf("generated: %v keys", len(res.Generated))
			}
			if _, ok := res.Generated["IAMD_ADMIN_SECRET_KEY"]; ok {
				t.Fatal("a secret was generated although one was given")
			}
			again, err := svc.Bootstrap(ctx, cfg)
			if err != nil || len(again.Generated) != 0 || again.AdminUserID != res.AdminUserID {
				t.Fatalf("second bootstrap: %v, generated %d", err, len(again.Generated))
			}

			p, err := svc.VerifyHMAC(ctx, "test-access-key", []byte("message"), mac("test-secret-key-long", "message"))
			if err != nil {
				t.Fatal(err)
			}
			if p.UserID != res.AdminUserID || !p.PlatformAdmin || p.InstanceID != "ssoins-12345" || len(p.Privileges) != len(iamd.AllPrivileges) {
				t.Fatalf("principal %+v", p)
			}
			for _, c := range []struct{ key, secret, msg string }{
				{"test-access-key", "test-secret-key-long", "other message"},
				{"test-access-key", "wrong-secret-key-long", "message"},
				{"unknown-access-key", "test-secret-key-long", "message"},
			} {
				_, err := svc.VerifyHMAC(ctx, c.key, []byte("message"), mac(c.secret, c.msg))
				if iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED || iamd.ErrorMessage(err) != "Authentication failed." {
					t.Errorf("%+v: %v", c, err)
				}
			}
			tp, err := svc.AuthenticateToken(ctx, res.Generated["IAMD_ADMIN_API_TOKEN"])
			if err != nil || tp.UserID != res.AdminUserID {
				t.Fatalf("token: %v", err)
			}
			if _, err := svc.AuthenticateToken(ctx, "iamd_not-a-token"); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("bad token: %v", err)
			}

			// A user without privileges may hold a key, which then may do nothing but sign in.
			admin := iamd.NewContextWithPrincipal(ctx, p)
			u := &iamd.User{ID: iamd.NewID(), InstanceID: "ssoins-12345", LoginName: "plain", Status: iamd.UserActive, Version: 1}
			if err := store.CreateUser(ctx, iamd.UserWrite{User: u, Event: iamd.Event{InstanceID: "ssoins-12345"}}); err != nil {
				t.Fatal(err)
			}
			k, secret, err := svc.CreateAccessKey(admin, "ssoins-12345", u.ID, iamd.CredentialOptions{Description: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			if len(k.ID) != 20 || len(secret) != 40 || strings.Contains(string(k.SecretEncrypted), secret) {
				t.Fatalf("key %q, secret length %d", k.ID, len(secret))
			}
			up, err := svc.VerifyHMAC(ctx, k.ID, []byte("m"), mac(secret, "m"))
			if err != nil || up.PlatformAdmin || len(up.Privileges) != 0 || up.Name != "plain" {
				t.Fatalf("plain user's principal %+v, %v", up, err)
			}
			if _, _, err := svc.CreateAccessKey(iamd.NewContextWithPrincipal(ctx, up), "ssoins-12345", res.AdminUserID, iamd.CredentialOptions{}); iamd.ErrorCode(err) != iamd.EFORBIDDEN {
				t.Fatalf("a plain user made a key for the admin: %v", err)
			}
			if _, _, err := svc.CreateAccessKey(iamd.NewContextWithPrincipal(ctx, up), "other", res.AdminUserID, iamd.CredentialOptions{}); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Fatalf("another instance: %v", err)
			}
			// A suspended owner's keys stop working.
			u.Status, u.Version = iamd.UserSuspended, 2
			if err := store.UpdateUser(ctx, iamd.UserWrite{User: u, ExpectedVersion: 1, Event: iamd.Event{InstanceID: "ssoins-12345"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.VerifyHMAC(ctx, k.ID, []byte("m"), mac(secret, "m")); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("suspended owner: %v", err)
			}
		})
	}
}

func TestConcurrentBootstrapMakesOneAdmin(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var key account.MasterKey
			var wg sync.WaitGroup
			errs := make([]error, 3)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = account.New(store, key).Bootstrap(ctx, account.BootstrapConfig{AdminPassword: "a fine password"})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			page, err := store.ListUsers(ctx, iamd.UserFilter{InstanceID: "default"})
			if err != nil || page.Total != 1 {
				t.Fatalf("%d users after concurrent bootstraps (%v)", page.Total, err)
			}
		})
	}
}

// The administrator's password chosen at bootstrap is held to the policy's length and
// common-password rules: a server does not start with admin/password123.
func TestBootstrapRefusesACommonAdminPassword(t *testing.T) {
	for name, store := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var key account.MasterKey
			svc := account.New(store, key, account.WithHasher(fastHasher))
			for _, pw := range []string{"password123", "short"} {
				_, err := svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "x", AdminPassword: pw})
				if err == nil || !strings.Contains(err.Error(), "IAMD_ADMIN_PASSWORD") || strings.Contains(err.Error(), pw) {
					t.Fatalf("bootstrap with %q: %v", pw, err)
				}
			}
			if _, err := store.GetUserByLogin(ctx, "x", "admin"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Fatalf("a refused bootstrap made the administrator: %v", err)
			}
		})
	}
}
