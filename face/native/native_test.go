package native_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"iamd"
	"iamd/account"
	"iamd/face/native"
	"iamd/internal/facetest"
	"iamd/internal/logtest"
	"iamd/internal/openapitest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const (
	adminPassword = "the bootstrap admin passphrase"
	adminToken    = "iamd_native_test_token_0123456789"
)

type env struct {
	t     testing.TB
	base  string
	check *openapitest.Validator
	logs  *logtest.Capture
	store iamd.Store
	acct  *account.Service
	core  *facetest.Core
	// secrets lists every password, secret and token the test has seen; none may appear
	// in a log line or in a response that did not issue it.
	secrets []string
}

func start(t testing.TB, store iamd.Store) *env {
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: "team-a",
		AdminPassword: adminPassword, AdminAPIToken: adminToken})
	logs, logger, acct := core.Logs, core.Logger, core.Accounts
	face, err := native.New(native.Config{Accounts: acct, Directory: core.Directory, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	base := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store), Mounts: []server.Mount{{Prefix: "/iamd", Face: face}},
		Logger: logger, Ready: store.Ping})["main"]
	e := &env{t: t, base: base, logs: logs, store: store, acct: acct, core: core,
		check:   openapitest.New(t, native.OpenAPIDocument(), base+"/iamd", "Error"),
		secrets: []string{adminPassword, adminToken}}
	t.Cleanup(func() { logs.CheckNoSecrets(t, e.secrets...) })
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not a JSON object: %s", r.body)
	}
	return m
}

// do sends a request with an optional bearer token, checks the answer against the
// OpenAPI document, and checks that it carries no secret but those in allowed.
func (e *env) do(method, path, token string, body any, allowed ...string) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, e.base+path, bytes.NewReader(raw))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	check, _ := http.NewRequest(method, e.base+path, nil)
	e.check.Check(e.t, check, resp.StatusCode, resp.Header, out)
	for _, s := range e.secrets {
		if strings.Contains(string(out), s) && !contains(allowed, s) {
			e.t.Fatalf("%s %s answered with a secret: %s", method, path, out)
		}
	}
	return response{resp.StatusCode, resp.Header, out}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (e *env) want(r response, status int) response {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (e *env) signIn(login, password string, extra map[string]any) response {
	body := map[string]any{"login_name": login, "password": password}
	for k, v := range extra {
		body[k] = v
	}
	return e.do("POST", "/iamd/v1/instances/team-a/sign-in", "", body)
}

func eachStore(t *testing.T, test func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { test(t, start(t, engine.Open(t))) })
	}
}

func TestSignInSessionAndPassword(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := iamd.NewContextWithPrincipal(context.Background(), mustToken(t, e.acct, adminToken))
		u := &iamd.User{ID: iamd.NewID(), InstanceID: "team-a", LoginName: "alice", Email: "alice@example.com", Status: iamd.UserActive, Version: 1}
		if err := e.store.CreateUser(context.Background(), iamd.UserWrite{User: u, Event: iamd.Event{InstanceID: "team-a"}}); err != nil {
			t.Fatal(err)
		}
		const temporary, chosen = "temporary violet 7", "my own long passphrase"
		e.secrets = append(e.secrets, temporary, chosen)
		e.core.SetPassword(t, admin, "team-a", u.ID, temporary, true)

		wrong := e.want(e.signIn("alice", "not the password", nil), 401)
		unknown := e.want(e.signIn("nobody", temporary, nil), 401)
		if string(wrong.body) != string(unknown.body) || wrong.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("failures differ: %s vs %s", wrong.body, unknown.body)
		}
		e.want(e.do("POST", "/iamd/v1/instances/team-a/sign-in", "", `{"login_name":"alice"}`), 400)
		r := e.want(e.do("POST", "/iamd/v1/instances/team-a/sign-in", "", `{"login_name":"alice","password":"x","extra":1}`), 400)
		if r.object(t)["error"].(map[string]any)["field"] != "extra" {
			t.Fatalf("unknown field: %s", r.body)
		}

		tok := e.want(e.signIn("alice", temporary, nil), 200).object(t)
		session := tok["token"].(string)
		e.secrets = append(e.secrets, session)
		if tok["password_change_required"] != true || tok["token_type"] != "Bearer" {
			t.Fatalf("a temporary password's session: %v", tok)
		}
		e.want(e.do("GET", "/iamd/v1/me/access-keys", session, nil), 403)
		r = e.want(e.do("PUT", "/iamd/v1/me/password", session, map[string]any{"current_password": temporary, "new_password": "password1"}), 400)
		if msg := r.object(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "rule: common password") {
			t.Fatalf("a common password: %s", r.body)
		}
		e.want(e.do("PUT", "/iamd/v1/me/password", session, map[string]any{"current_password": temporary, "new_password": chosen}), 204)
		e.want(e.do("POST", "/iamd/v1/session/sign-out", session, nil), 204)
		e.want(e.do("GET", "/iamd/v1/me", session, nil), 401)

		tok = e.want(e.signIn("alice", chosen, nil), 200).object(t)
		session = tok["token"].(string)
		e.secrets = append(e.secrets, session)
		me := e.want(e.do("GET", "/iamd/v1/me", session, nil), 200).object(t)
		if me["login_name"] != "alice" || me["temporary_password"] != false || me["last_login_at"] == nil {
			t.Fatalf("me: %v", me)
		}
		next := e.want(e.do("POST", "/iamd/v1/session/refresh", session, nil), 200).object(t)["token"].(string)
		e.secrets = append(e.secrets, next)
		e.want(e.do("GET", "/iamd/v1/me", session, nil), 401)
		e.want(e.do("GET", "/iamd/v1/me", next, nil), 200)
		e.want(e.do("GET", "/iamd/v1/me", "", nil), 401)
		e.want(e.do("GET", "/iamd/v1/nowhere", next, nil), 404)
	})
}

func TestMFAAndCredentialsOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		tok := e.want(e.signIn("admin", adminPassword, nil), 200).object(t)["token"].(string)
		e.secrets = append(e.secrets, tok)
		enrol := e.want(e.do("POST", "/iamd/v1/me/mfa/totp", tok, nil), 201)
		secret := enrol.object(t)["secret"].(string)
		e.secrets = append(e.secrets, secret)
		e.want(e.do("POST", "/iamd/v1/me/mfa/totp/confirm", tok, map[string]any{"code": "12345"}), 400)
		code, _ := totp.GenerateCodeCustom(secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		codes := e.want(e.do("POST", "/iamd/v1/me/mfa/totp/confirm", tok, map[string]any{"code": code}), 200).object(t)["recovery_codes"].([]any)
		recovery := codes[0].(string)
		e.secrets = append(e.secrets, recovery)
		e.want(e.do("POST", "/iamd/v1/me/mfa/totp", tok, nil), 409)

		r := e.want(e.signIn("admin", adminPassword, nil), 401)
		if !strings.Contains(string(r.body), "one-time code is required") {
			t.Fatalf("a missing code: %s", r.body)
		}
		e.want(e.signIn("admin", adminPassword, map[string]any{"recovery_code": recovery}), 200)
		e.want(e.signIn("admin", adminPassword, map[string]any{"recovery_code": recovery}), 401)

		created := e.want(e.do("POST", "/iamd/v1/me/access-keys", tok, map[string]any{"description": "laptop",
			"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}), 201).object(t)
		keySecret := created["secret_key"].(string)
		e.secrets = append(e.secrets, keySecret)
		e.want(e.do("POST", "/iamd/v1/me/access-keys", tok, map[string]any{"expires_at": "tomorrow"}), 400)
		list := e.want(e.do("GET", "/iamd/v1/me/access-keys", tok, nil), 200)
		if keys, _ := list.object(t)["access_keys"].([]any); len(keys) != 2 || !strings.Contains(string(list.body), created["access_key"].(string)) {
			t.Fatalf("want the bootstrap key and the new one listed, the refused one not made: %s", list.body)
		}
		e.want(e.do("DELETE", "/iamd/v1/me/access-keys/"+created["access_key"].(string), tok, nil), 204)
		e.want(e.do("DELETE", "/iamd/v1/me/access-keys/"+created["access_key"].(string), tok, nil), 404)

		apiTok := e.want(e.do("POST", "/iamd/v1/me/api-tokens", tok, map[string]any{"description": "bot"}), 201).object(t)
		bot := apiTok["token"].(string)
		e.secrets = append(e.secrets, bot)
		if me := e.want(e.do("GET", "/iamd/v1/me", bot, nil), 200).object(t); me["login_name"] != "admin" {
			t.Fatalf("me by API token: %v", me)
		}
		e.want(e.do("GET", "/iamd/v1/me/api-tokens", tok, nil), 200)
		e.want(e.do("DELETE", "/iamd/v1/me/api-tokens/"+apiTok["id"].(string), tok, nil), 204)
		e.want(e.do("GET", "/iamd/v1/me", bot, nil), 401)
		e.want(e.do("DELETE", "/iamd/v1/me/mfa/totp", tok, nil), 204)
		e.want(e.signIn("admin", adminPassword, nil), 200)
	})
}

func mustToken(t *testing.T, acct *account.Service, token string) *iamd.Principal {
	t.Helper()
	p, err := acct.AuthenticateToken(context.Background(), token)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
