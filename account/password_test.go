package account_test

import (
	"strings"
	"testing"

	"iamd"
	"iamd/account"
)

// Hashes made by other implementations: Python's hashlib (PBKDF2, as Keycloak stores
// it), glibc's crypt (bcrypt) and the Argon2 reference implementation's README (argon2i).
const (
	keycloakSecretData     = `{"value":"juc8ubYB2RONXshhb1ha17ejpEQW1AVEBwpVhSVLFZ085+1lGmEinDGwoQ69s2vsD92aPYkqUNBvcJnSwP6dcA==","salt":"AAECAwQFBgcICQoLDA0ODw==","additionalParameters":{}}`
	keycloakCredentialData = `{"hashIterations":210000,"algorithm":"pbkdf2-sha512","additionalParameters":{}}`
	keycloakPassword       = "Keycloak-Pa55word"
	pbkdf2SHA256Hash       = "$pbkdf2-sha256$i=27500$AAECAwQFBgcICQoLDA0ODw$YTNcrvfgoTRGujbonK9oo/F7WlXEAz5xkxaP10cmYKo"
	bcryptHash             = "$2b$10$FGX3q2hp6SzcpVyUUTx/A.wUPOh6WsGR4kfhe7Hg3X0rLorAjN1lO"
	bcryptPassword         = "Bcrypt-Pa55word"
	argon2iReference       = "$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
)

func TestImportedHashesVerifyAndAskForRehash(t *testing.T) {
	keycloak, err := account.KeycloakHash(keycloakSecretData, keycloakCredentialData)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(keycloak, "$pbkdf2-sha512$i=210000$") {
		t.Fatalf("Keycloak credential converted to %q", keycloak)
	}
	h := account.DefaultHasher
	for _, tc := range []struct{ hash, password string }{
		{keycloak, keycloakPassword},
		{pbkdf2SHA256Hash, keycloakPassword},
		{bcryptHash, bcryptPassword},
		{argon2iReference, "password"},
	} {
		if err := account.CheckHash(tc.hash); err != nil {
			t.Fatalf("%s: %v", tc.hash, err)
		}
		ok, rehash, err := h.Verify(tc.hash, tc.password)
		if !ok || !rehash || err != nil {
			t.Fatalf("%s: ok %v, rehash %v, err %v; want a match asking for rehash", tc.hash, ok, rehash, err)
		}
		if ok, _, _ := h.Verify(tc.hash, tc.password+"x"); ok {
			t.Fatalf("%s: a wrong password matched", tc.hash)
		}
	}
}

func TestRehashWhenParametersChange(t *testing.T) {
	current, err := account.DefaultHasher.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, err := account.DefaultHasher.Verify(current, "correct horse battery"); !ok || rehash || err != nil {
		t.Fatalf("current hash: ok %v rehash %v err %v", ok, rehash, err)
	}
	stronger, err := account.NewHasher(account.Params{Memory: 32 * 1024, Time: 3, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ok, rehash, _ := stronger.Verify(current, "correct horse battery"); !ok || !rehash {
		t.Fatalf("a hash with old parameters: ok %v, rehash %v; want both", ok, rehash)
	}
	if !strings.HasPrefix(must(stronger.Hash("x")), "$argon2id$v=19$m=32768,t=3,p=1$") {
		t.Fatal("new hashes must use the configured parameters")
	}
	if _, err := account.NewHasher(account.Params{Memory: 1, Time: 1, Threads: 1}); err == nil {
		t.Fatal("parameters the verifier would refuse were accepted")
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

func TestUnsupportedAndHostileHashes(t *testing.T) {
	for _, bad := range []string{
		"", "plain", "$md5$x", "$pbkdf2-sha1$i=1000$AAECAwQFBgcICQoLDA0ODw$YTNcrvfgoTRGujbonK9oo/F7WlXEAz5xkxaP10cmYKo",
		"$pbkdf2-sha256$i=900000000$AAECAwQFBgcICQoLDA0ODw$YTNcrvfgoTRGujbonK9oo/F7WlXEAz5xkxaP10cmYKo",
		"$2b$31$FGX3q2hp6SzcpVyUUTx/A.wUPOh6WsGR4kfhe7Hg3X0rLorAjN1lO",
		"$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
	} {
		if err := account.CheckHash(bad); err == nil {
			t.Errorf("CheckHash(%q) accepted it", bad)
		}
	}
	if _, err := account.KeycloakHash(`{"value":"x"}`, `{"algorithm":"md5"}`); err == nil {
		t.Error("a Keycloak credential of another algorithm was accepted")
	}
}

func TestPasswordPolicyRules(t *testing.T) {
	u := &iamd.User{LoginName: "johnsmith", Email: "john.smith@example.com"}
	p := iamd.DefaultAccountPolicy
	for pw, rule := range map[string]string{
		"short":                       "minimum length",
		strings.Repeat("x", 257):      "maximum length",
		"baseball":                    "common password",
		"PASSWORD1":                   "common password",
		"password123":                 "common password",
		"p@ssw0rd":                    "common password",
		"admin123":                    "common password",
		"Password123!":                "common password",
		"qwerty12345":                 "common password",
		"my-johnsmith-pw":             "login name",
		"JOHN.SMITH is here":          "email",
		"\xff\xfe invalid utf-8 here": "encoding",
	} {
		err := account.CheckPassword(p, u, pw)
		if iamd.ErrorCode(err) != iamd.EINVALID || !strings.Contains(err.Error(), "(rule: "+rule+")") {
			t.Errorf("%q: %v; want the %s rule", pw, err, rule)
		}
	}
	if err := account.CheckPassword(p, u, "correct horse battery staple"); err != nil {
		t.Fatalf("a good password: %v", err)
	}
	p.PasswordMinLength = 30
	if err := account.CheckPassword(p, u, "correct horse battery staple"); err == nil {
		t.Fatal("the instance's minimum length was not applied")
	}
}
