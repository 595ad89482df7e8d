package ece_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/cloud-sdk-go/pkg/api"
	"github.com/elastic/cloud-sdk-go/pkg/api/userapi"
	authapi "github.com/elastic/cloud-sdk-go/pkg/api/userapi/authapi"
	"github.com/elastic/cloud-sdk-go/pkg/auth"
	"github.com/elastic/cloud-sdk-go/pkg/models"
	openapiruntime "github.com/go-openapi/runtime"
	httptransport "github.com/go-openapi/runtime/client"
	"github.com/go-openapi/strfmt"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/face/ece"
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
	adminToken    = "iamd_ece_test_token_0123456789abcdef"
)

type env struct {
	t       testing.TB
	check   *openapitest.Validator
	url     string // the face at the root of its own listener, as Elastic's clients need
	main    string // the main listener, where the face sits under /ece
	store   iamd.Store
	dir     *directory.Service // the core the faces share, for users made as another face makes them
	logs    *logtest.Capture
	secrets []string
}

func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { fn(t, start(t, engine.Open(t))) })
	}
}

func start(t testing.TB, store iamd.Store) *env { return startWith(t, store, nil) }

// startWith is start with the face given wrap(the core's directory), when wrap is not
// nil: a test double of what the face asks of the core.
func startWith(t testing.TB, store iamd.Store, wrap func(ece.Directory) ece.Directory) *env {
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: "platform",
		AdminPassword: adminPassword, AdminAPIToken: adminToken})
	logs, logger := core.Logs, core.Logger
	var dir ece.Directory = core.Directory
	if wrap != nil {
		dir = wrap(dir)
	}
	face, err := ece.New(ece.Config{Directory: dir, Accounts: core.Accounts, Instance: core.Boot.InstanceID, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // idempotent
		if err := face.EnsureBuiltinUsers(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	urls := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store), Mounts: []server.Mount{{Prefix: "/ece", Face: face}},
		FaceAddrs: map[string]string{"ece": "127.0.0.1:0"}, Logger: logger, Ready: store.Ping})
	e := &env{t: t, url: urls["ece"], main: urls["main"], store: store, dir: core.Directory, logs: logs, secrets: []string{adminPassword, adminToken},
		check: openapitest.New(t, ece.OpenAPIDocument(), urls["ece"]+"/api/v1", "BasicFailedReply")}
	t.Cleanup(func() { logs.CheckNoSecrets(t, e.secrets...) })
	return e
}

// checking is a transport that holds every response to the face's OpenAPI document
// and looks in it for the secrets the test knows.
type checking struct{ e *env }

func (c checking) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.e.inspect(req, resp.StatusCode, resp.Header, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// inspect checks one response: against the OpenAPI document, and for secrets other than
// the ones a login or a new key hands out.
func (e *env) inspect(req *http.Request, status int, header http.Header, body []byte) {
	e.t.Helper()
	e.check.Check(e.t, req, status, header, body)
	issuing := strings.HasSuffix(req.URL.Path, "/_login") || strings.HasSuffix(req.URL.Path, "/_refresh") ||
		(req.Method == "POST" && strings.HasSuffix(req.URL.Path, "/auth/keys"))
	for _, s := range e.secrets {
		if bytes.Contains(body, []byte(s)) && !issuing {
			e.t.Errorf("%s %s: the response carries a secret: %s", req.Method, req.URL.Path, body)
		}
	}
}

// client is Elastic's Go client pointed at the face.
func (e *env) client(w auth.Writer) *api.API {
	e.t.Helper()
	a, err := api.NewAPI(api.Config{Client: &http.Client{Transport: checking{e}}, AuthWriter: w, Host: e.url, SkipLogin: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// basicAuth wraps go-openapi's BasicAuth as an auth.Writer: Elastic's client has none.
type basicAuth struct{ user, password string }

func (b basicAuth) AuthenticateRequest(r openapiruntime.ClientRequest, reg strfmt.Registry) error {
	return httptransport.BasicAuth(b.user, b.password).AuthenticateRequest(r, reg)
}

func (b basicAuth) AuthRequest(req *http.Request) *http.Request {
	req.SetBasicAuth(b.user, b.password)
	return req
}

// noRedirects shows a redirect as it is answered.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// raw sends one request as it is and returns the status, header and body.
func (e *env) raw(method, path, authz string, body string) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" || method == "DELETE" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if body != "" || method == "DELETE" { // the validator reads the request body again
		req.Body = io.NopCloser(strings.NewReader(body))
	}
	e.inspect(req, resp.StatusCode, resp.Header, out)
	return resp.StatusCode, resp.Header, out
}

// wantError checks ECE's error shape, its header and the code.
func (e *env) wantError(status int, header http.Header, body []byte, wantStatus int, wantCode string) {
	e.t.Helper()
	var reply struct {
		Errors []struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Fields  []string `json:"fields"`
		} `json:"errors"`
	}
	if status != wantStatus || json.Unmarshal(body, &reply) != nil || len(reply.Errors) != 1 ||
		reply.Errors[0].Code != wantCode || reply.Errors[0].Message == "" || header.Get("x-cloud-error-codes") != wantCode {
		e.t.Fatalf("got %d %s (x-cloud-error-codes %q), want %d %s", status, body, header.Get("x-cloud-error-codes"), wantStatus, wantCode)
	}
}

func names(users []*models.User) []string {
	var out []string
	for _, u := range users {
		out = append(out, *u.UserName)
	}
	slices.Sort(out)
	return out
}

func TestElasticClientManagesUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw, pw+"!")
		created, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "jane", FullName: "Jane Doe",
			Email: "jane@example.com", Password: []byte(pw), Roles: []string{"ece_deployment_viewer"}})
		if err != nil {
			t.Fatal(err)
		}
		if *created.UserName != "jane" || created.FullName != "Jane Doe" || !*created.Security.Enabled ||
			!slices.Equal(created.Security.Roles, []string{"ece_deployment_viewer"}) || *created.Security.SecurityRealm.Type != "native" {
			t.Fatalf("created %+v", created)
		}
		got, err := userapi.Get(userapi.GetParams{API: admin, UserName: "JANE"})
		if err != nil || got.Email != "jane@example.com" || got.Metadata == nil || got.Metadata.CreatedAt.String() == "" {
			t.Fatalf("get: %+v, %v", got, err)
		}

		updated, err := userapi.Update(userapi.UpdateParams{API: admin, UserName: "jane", FullName: "Jane Q. Doe",
			Roles: []string{"ece_deployment_manager"}})
		if err != nil {
			t.Fatal(err)
		}
		if updated.FullName != "Jane Q. Doe" || updated.Email != "jane@example.com" ||
			!slices.Equal(updated.Security.Roles, []string{"ece_deployment_manager"}) {
			t.Fatalf("update (absent fields must stay): %+v", updated)
		}

		disabled, err := userapi.Enable(userapi.EnableParams{API: admin, UserName: "jane", Enabled: false})
		if err != nil || *disabled.Security.Enabled {
			t.Fatalf("disable: %+v, %v", disabled, err)
		}
		active, err := userapi.List(userapi.ListParams{API: admin})
		if err != nil {
			t.Fatal(err)
		}
		all, err := userapi.List(userapi.ListParams{API: admin, IncludeDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names(active.Users), "jane") || !slices.Contains(names(all.Users), "jane") {
			t.Fatalf("list without disabled %v, with %v", names(active.Users), names(all.Users))
		}
		if _, err := userapi.Enable(userapi.EnableParams{API: admin, UserName: "jane", Enabled: true}); err != nil {
			t.Fatal(err)
		}

		// Jane, with her password over Basic, changes her own details.
		jane := e.client(basicAuth{"jane", pw})
		me, err := userapi.UpdateCurrent(userapi.UpdateParams{API: jane, UserName: "jane", Email: "jane@example.org",
			Password: []byte(pw + "!")})
		if err != nil {
			t.Fatal(err)
		}
		if me.Email != "jane@example.org" {
			t.Fatalf("update current: %+v", me)
		}
		if _, err := userapi.GetCurrent(userapi.GetCurrentParams{API: e.client(basicAuth{"jane", pw})}); err == nil {
			t.Fatal("the old password still works")
		}
		current, err := userapi.GetCurrent(userapi.GetCurrentParams{API: e.client(basicAuth{"jane", pw + "!"})})
		if err != nil || *current.UserName != "jane" || current.Email != "jane@example.org" {
			t.Fatalf("the new password: %+v, %v", current, err)
		}
		// Her roles do not let her read other users, nor change her own roles.
		if _, err := userapi.Get(userapi.GetParams{API: e.client(basicAuth{"jane", pw + "!"}), UserName: "admin"}); err == nil {
			t.Fatal("a deployment manager read another user")
		}
		if _, err := userapi.UpdateCurrent(userapi.UpdateParams{API: e.client(basicAuth{"jane", pw + "!"}), UserName: "jane",
			Roles: []string{"ece_platform_admin"}}); err == nil {
			t.Fatal("a user granted itself a role")
		}
		if got, err := userapi.Get(userapi.GetParams{API: admin, UserName: "jane"}); err != nil ||
			!slices.Equal(got.Security.Roles, []string{"ece_deployment_manager"}) {
			t.Fatalf("jane after her refused role change: %+v, %v", got, err)
		}

		if err := userapi.Delete(userapi.DeleteParams{API: admin, UserName: "jane"}); err != nil {
			t.Fatal(err)
		}
		if _, err := userapi.Get(userapi.GetParams{API: admin, UserName: "jane"}); err == nil || !strings.Contains(err.Error(), "user.not_found") {
			t.Fatalf("get after delete: %v", err)
		}
	})
}

func TestErrorCodes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := "ApiKey " + adminToken
		create := func(body string) (int, http.Header, []byte) { return e.raw("POST", "/api/v1/users", admin, body) }
		s, _, b := create(`{"user_name":"bob","security":{"roles":["ece_platform_viewer"],"password":"a long enough passphrase 7"}}`)
		if s != 200 {
			t.Fatalf("create: %d %s", s, b)
		}
		s, h, b := create(`{"user_name":"BOB","security":{"roles":[]}}`)
		e.wantError(s, h, b, 409, ece.CodeUserNameConflict)
		s, h, b = create(`{"user_name":"bad name!","security":{}}`)
		e.wantError(s, h, b, 400, ece.CodeUserNameInvalid)
		s, h, b = create(`{"user_name":"carol","security":{"roles":["superuser"]}}`)
		e.wantError(s, h, b, 400, ece.CodeRolesInvalid)
		s, h, b = create(`{"user_name":"carol","security":{"roles":["ece_platform_admin","ece_platform_viewer"]}}`)
		e.wantError(s, h, b, 400, ece.CodeRolesForbidden)
		s, h, b = create(`{"user_name":"carol","security":{"roles":["ece_deployment_manager","ece_deployment_viewer"]}}`)
		e.wantError(s, h, b, 400, ece.CodeRolesForbidden)
		s, h, b = create(`{"user_name":"carol","security":{},"builtin":true}`)
		e.wantError(s, h, b, 400, ece.CodeRestrictedField)
		s, h, b = create(`{"user_name":"carol","security":{},"metadata":{}}`)
		e.wantError(s, h, b, 400, ece.CodeRestrictedField)
		s, h, b = e.raw("PATCH", "/api/v1/users/bob", admin, `{"user_name":"bob","security":{},"metadata":{"created_by":"x"}}`)
		e.wantError(s, h, b, 400, ece.CodeRestrictedField)
		s, h, b = e.raw("PATCH", "/api/v1/users/bob", admin, `{"user_name":"robert","security":{}}`)
		e.wantError(s, h, b, 400, ece.CodeRestrictedField) // user names never change
		s, h, b = e.raw("GET", "/api/v1/users/nobody", admin, "")
		e.wantError(s, h, b, 404, ece.CodeUserNotFound)
		s, h, b = e.raw("DELETE", "/api/v1/users/admin", admin, "")
		e.wantError(s, h, b, 400, ece.CodeRestrictedDeletion)
		s, h, b = e.raw("GET", "/api/v1/users", "", "")
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
		s, h, b = e.raw("GET", "/api/v1/users", "ApiKey not-a-key", "")
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
		s, h, b = e.raw("GET", "/api/v1/users", "Basic "+basic("admin", "wrong"), "")
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
		s, h, b = create(`{"user_name":`)
		e.wantError(s, h, b, 400, ece.CodeMalformed)

		// A refused write changes nothing.
		s, _, b = e.raw("GET", "/api/v1/users/bob", admin, "")
		if s != 200 || !strings.Contains(string(b), `"ece_platform_viewer"`) {
			t.Fatalf("bob after the refusals: %d %s", s, b)
		}
		s, h, b = e.raw("GET", "/api/v1/users/carol", admin, "")
		e.wantError(s, h, b, 404, ece.CodeUserNotFound)
		if s, _, b := e.raw("GET", "/api/v1/users/admin", admin, ""); s != 200 {
			t.Fatalf("the admin after a refused delete: %d %s", s, b)
		}
		// The exact bodies Elastic's client sends: user_name repeated, "security":{}, an
		// empty DELETE body with a JSON content type.
		s, _, b = e.raw("PATCH", "/api/v1/users/bob", admin, `{"security":{},"user_name":"bob"}`)
		if s != 200 {
			t.Fatalf("patch with an empty security: %d %s", s, b)
		}
		s, _, b = e.raw("DELETE", "/api/v1/users/bob", admin, "")
		if s != 200 || strings.TrimSpace(string(b)) != "{}" {
			t.Fatalf("delete: %d %s", s, b)
		}
	})
}

func basic(user, password string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(user, password)
	return strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")
}

// A user made through ECE is the same user, with the same id, in the other faces' core.
func TestUsersAreTheCoreUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		s, _, b := e.raw("POST", "/api/v1/users", "ApiKey "+adminToken, `{"user_name":"dana","full_name":"Dana","security":{"roles":["ece_platform_viewer"]}}`)
		if s != 200 {
			t.Fatalf("create: %d %s", s, b)
		}
		u, err := e.store.GetUserByLogin(context.Background(), "platform", "dana")
		if err != nil || u.DisplayName != "Dana" || !slices.Contains(u.Roles, "ece_platform_viewer") {
			t.Fatalf("core user: %+v, %v", u, err)
		}
		// Under /ece on the main listener too.
		resp, err := http.Get(e.main + "/ece/api/v1/users/dana")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("/ece/api/v1/users/dana without credentials: %d, want 401", resp.StatusCode)
		}
	})
}

// Login through Elastic's UserLogin auth writer (which logs in, then refreshes), and an
// API key made with Elastic's authapi, then used as an ApiKey.
func TestElasticClientLogsInAndUsesAPIKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		login, err := auth.NewUserLogin("admin", adminPassword)
		if err != nil {
			t.Fatal(err)
		}
		a, err := api.NewAPI(api.Config{Client: &http.Client{Transport: checking{e}}, AuthWriter: login, Host: e.url, ErrorDevice: io.Discard})
		if err != nil {
			t.Fatal(err) // NewAPI logs in with the writer
		}
		first := login.Holder.Token()
		e.secrets = append(e.secrets, first)
		if err := login.RefreshTokenOnce(a.V1API); err != nil {
			t.Fatal(err)
		}
		if login.Holder.Token() == first {
			t.Fatal("refresh handed back the same token")
		}
		e.secrets = append(e.secrets, login.Holder.Token())
		if s, h, b := e.raw("GET", "/api/v1/users", "Bearer "+first, ""); s != 401 {
			t.Fatalf("the refreshed-away token still works: %d %s %v", s, b, h)
		}

		key, err := authapi.CreateKey(authapi.CreateKeyParams{API: a, Description: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		if key.Key == "" || *key.Description != "ci" || key.UserID != "admin" {
			t.Fatalf("created key %+v", key)
		}
		e.secrets = append(e.secrets, key.Key)
		withKey := e.client(auth.APIKey(key.Key))
		list, err := authapi.ListKeys(authapi.ListKeysParams{API: withKey})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, k := range list.Keys { // the new key beside the bootstrap token
			found = found || *k.ID == *key.ID
			if k.Key != "" {
				t.Fatalf("a listed key shows its secret: %+v", k)
			}
		}
		if !found || len(list.Keys) != 2 {
			t.Fatalf("keys listed with the key: %d, new one found: %v", len(list.Keys), found)
		}
		if got, err := authapi.GetKey(authapi.GetKeyParams{API: withKey, ID: *key.ID}); err != nil || got.Key != "" {
			t.Fatalf("get key: %+v, %v", got, err)
		}
		if _, err := userapi.List(userapi.ListParams{API: withKey}); err != nil {
			t.Fatalf("the key does not act as its owner: %v", err)
		}
		if err := authapi.DeleteKey(authapi.DeleteKeyParams{API: a, ID: *key.ID}); err != nil {
			t.Fatal(err)
		}
		if _, err := userapi.List(userapi.ListParams{API: withKey}); err == nil {
			t.Fatal("a deleted key still works")
		}

		s, h, b := e.raw("POST", "/api/v1/users/auth/keys", "Bearer "+login.Holder.Token(), `{"description":"x","expiration":"3 days"}`)
		e.wantError(s, h, b, 400, "api_keys.invalid_input")
		s, _, b = e.raw("GET", "/api/v1/users/auth/keys", "Bearer "+login.Holder.Token(), "")
		var left struct {
			Keys []struct {
				Description string `json:"description"`
			} `json:"keys"`
		}
		if s != 200 || json.Unmarshal(b, &left) != nil || len(left.Keys) != 1 || left.Keys[0].Description == "x" {
			t.Fatalf("the keys after a refused create, want the bootstrap token alone: %d %s", s, b)
		}
		s, _, b = e.raw("POST", "/api/v1/users/auth/keys", "Bearer "+login.Holder.Token(), `{"description":"short","expiration":"3h"}`)
		var short struct {
			Key            string `json:"key"`
			ExpirationDate string `json:"expiration_date"`
		}
		if s != 201 || json.Unmarshal(b, &short) != nil || short.ExpirationDate == "" {
			t.Fatalf("a key with an expiration: %d %s", s, b)
		}
		e.secrets = append(e.secrets, short.Key)
		s, h, b = e.raw("GET", "/api/v1/users/auth/keys/nope", "Bearer "+login.Holder.Token(), "")
		e.wantError(s, h, b, 404, "api_keys.key_not_found")
		s, h, b = e.raw("GET", "/api/v1/users/nobody/auth/keys", "Bearer "+login.Holder.Token(), "")
		e.wantError(s, h, b, 404, "api_keys.user_not_found")

		// Logout ends the session; a wrong password gets root.unauthenticated.
		if s, _, b := e.raw("POST", "/api/v1/users/auth/_logout", "Bearer "+login.Holder.Token(), ""); s != 200 {
			t.Fatalf("logout: %d %s", s, b)
		}
		s, h, b = e.raw("POST", "/api/v1/users/auth/_refresh", "Bearer "+login.Holder.Token(), "")
		e.wantError(s, h, b, 401, ece.CodeUnauthorized)
		s, h, b = e.raw("POST", "/api/v1/users/auth/_login", "", `{"username":"admin","password":"wrong"}`)
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
		s, h, b = e.raw("POST", "/api/v1/users/auth/_login", "", `{"username":"admin","password":"`+adminPassword+`","login_state":{"path":"https://evil.example/"}}`)
		e.wantError(s, h, b, 400, ece.CodeUserInvalid)
		if s, _, b := e.raw("GET", "/api/v1/users/auth/methods", "", ""); s != 200 || !strings.Contains(string(b), `"password":true`) {
			t.Fatalf("methods: %d %s", s, b)
		}
	})
}

// admin and readonly are built in: listed as such, not deletable, not modifiable by
// another user.
func TestBuiltinUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		all, err := userapi.List(userapi.ListParams{API: admin, IncludeDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		builtin := map[string][]string{}
		for _, u := range all.Users {
			if u.Builtin != nil && *u.Builtin {
				builtin[*u.UserName] = u.Security.Roles
			}
		}
		if !slices.Equal(builtin["admin"], []string{"ece_platform_admin"}) || !slices.Equal(builtin["readonly"], []string{"ece_platform_viewer"}) || len(builtin) != 2 {
			t.Fatalf("built-in users %v", builtin)
		}
		for _, name := range []string{"admin", "readonly"} {
			s, h, b := e.raw("DELETE", "/api/v1/users/"+name, "ApiKey "+adminToken, "")
			e.wantError(s, h, b, 400, ece.CodeRestrictedDeletion)
		}
		s, h, b := e.raw("PATCH", "/api/v1/users/readonly", "ApiKey "+adminToken, `{"full_name":"Renamed"}`)
		e.wantError(s, h, b, 400, ece.CodeCannotModify)
		s, _, b = e.raw("GET", "/api/v1/users/readonly", "ApiKey "+adminToken, "")
		if s != 200 || strings.Contains(string(b), "Renamed") || !strings.Contains(string(b), `"roles":["ece_platform_viewer"]`) {
			t.Fatalf("readonly after the refusals: %d %s", s, b)
		}
		// Not even by themselves: the admin can neither disable nor rename nor demote itself
		// (ecctl user disable admin), through either path.
		for _, c := range []struct{ path, body string }{
			{"/api/v1/users/admin", `{"user_name":"admin","security":{"enabled":false}}`},
			{"/api/v1/users/admin", `{"full_name":"The Admin"}`},
			{"/api/v1/users/admin", `{"security":{"roles":["ece_platform_viewer"]}}`},
			{"/api/v1/user", `{"full_name":"The Admin"}`},
		} {
			s, h, b := e.raw("PATCH", c.path, "ApiKey "+adminToken, c.body)
			e.wantError(s, h, b, 400, ece.CodeCannotModify)
		}
		// Sending itself back as it is, as Elastic's client does, changes nothing and is allowed.
		if s, _, b := e.raw("PATCH", "/api/v1/user", "ApiKey "+adminToken,
			`{"user_name":"admin","security":{"roles":["ece_platform_admin"]}}`); s != 200 {
			t.Fatalf("admin sending itself back: %d %s", s, b)
		}
		s, _, b = e.raw("GET", "/api/v1/users/admin", "ApiKey "+adminToken, "")
		if s != 200 || !strings.Contains(string(b), `"enabled":true`) || !strings.Contains(string(b), `"full_name":"Administrator"`) ||
			!strings.Contains(string(b), `"roles":["ece_platform_admin"]`) {
			t.Fatalf("the admin after the refusals: %d %s", s, b)
		}
	})
}

func TestPermissionsElevationAndExternalUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := "ApiKey " + adminToken
		s, _, b := e.raw("POST", "/api/v1/users", admin, `{"user_name":"vic","security":{"roles":["ece_deployment_viewer"]}}`)
		var vic struct {
			Security struct {
				Permissions []string `json:"permissions"`
				Elevated    struct {
					Enabled   bool   `json:"enabled"`
					ExpiresAt string `json:"expires_at"`
				} `json:"elevated_permissions"`
			} `json:"security"`
		}
		if s != 200 || json.Unmarshal(b, &vic) != nil {
			t.Fatalf("create: %d %s", s, b)
		}
		p := vic.Security.Permissions
		for _, want := range []string{"get-deployment", "list-deployments", "get-current-user", "create-api-key"} {
			if !slices.Contains(p, want) {
				t.Errorf("a deployment viewer lacks %s", want)
			}
		}
		for _, not := range []string{"create-deployment", "create-user", "get-users"} {
			if slices.Contains(p, not) {
				t.Errorf("a deployment viewer may %s", not)
			}
		}
		s, _, b = e.raw("GET", "/api/v1/users/admin", admin, "")
		if s != 200 || !strings.Contains(string(b), `"create-deployment"`) || !strings.Contains(string(b), `"delete-user"`) {
			t.Fatalf("the platform admin's permissions: %d %.300s", s, b)
		}

		// Elevation: granted until a time, shown, then reported disabled once past it.
		until := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
		s, _, b = e.raw("PATCH", "/api/v1/users/vic", admin, `{"security":{"elevated_permissions":{"enabled":true,"expires_at":"`+until+`"}}}`)
		if s != 200 || json.Unmarshal(b, &vic) != nil || !vic.Security.Elevated.Enabled || vic.Security.Elevated.ExpiresAt != until {
			t.Fatalf("elevate: %d %s", s, b)
		}
		s, h, b := e.raw("PATCH", "/api/v1/users/vic", admin, `{"security":{"elevated_permissions":{"enabled":true,"expires_at":"2001-01-01T00:00:00Z"}}}`)
		e.wantError(s, h, b, 400, ece.CodeUserInvalid)
		s, _, b = e.raw("GET", "/api/v1/users/vic", admin, "")
		vic.Security.Elevated.Enabled, vic.Security.Elevated.ExpiresAt = false, ""
		if s != 200 || json.Unmarshal(b, &vic) != nil || !vic.Security.Elevated.Enabled || vic.Security.Elevated.ExpiresAt != until {
			t.Fatalf("a refused elevation changed the user: %d %s", s, b)
		}
		past := time.Now().Add(-time.Minute)
		u, err := e.store.GetUserByLogin(context.Background(), "platform", "vic")
		if err != nil {
			t.Fatal(err)
		}
		next := *u
		next.ElevatedUntil, next.Version = &past, u.Version+1
		if err := e.store.UpdateUser(context.Background(), iamd.UserWrite{User: &next, ExpectedVersion: u.Version, Event: iamd.Event{InstanceID: "platform"}}); err != nil {
			t.Fatal(err)
		}
		s, _, b = e.raw("GET", "/api/v1/users/vic", admin, "")
		vic.Security.Elevated.Enabled = true
		if s != 200 || json.Unmarshal(b, &vic) != nil || vic.Security.Elevated.Enabled {
			t.Fatalf("an expired elevation is shown enabled: %d %s", s, b)
		}
		s, _, b = e.raw("PATCH", "/api/v1/users/vic", admin, `{"security":{"elevated_permissions":null}}`)
		if s != 200 || strings.Contains(string(b), `"expires_at"`) {
			t.Fatalf("revoke: %d %s", s, b)
		}

		// A user of another realm is managed there.
		ext := &iamd.User{ID: iamd.NewID(), InstanceID: "platform", LoginName: "ldap-ann", Realm: "ldap:corp",
			Status: iamd.UserActive, Version: 1}
		if err := e.store.CreateUser(context.Background(), iamd.UserWrite{User: ext, Event: iamd.Event{InstanceID: "platform"}}); err != nil {
			t.Fatal(err)
		}
		s, _, b = e.raw("GET", "/api/v1/users/ldap-ann", admin, "")
		if s != 200 || !strings.Contains(string(b), `"security_realm":{"type":"ldap","id":"corp"}`) {
			t.Fatalf("an LDAP user: %d %s", s, b)
		}
		s, h, b = e.raw("PATCH", "/api/v1/users/ldap-ann", admin, `{"full_name":"Ann"}`)
		e.wantError(s, h, b, 400, ece.CodeCannotModifyExternal)
		s, h, b = e.raw("DELETE", "/api/v1/users/ldap-ann", admin, "")
		e.wantError(s, h, b, 400, ece.CodeCannotModifyExternal)
		if got, err := e.store.GetUser(context.Background(), "platform", ext.ID); err != nil || got.DisplayName != "" || got.Version != ext.Version {
			t.Fatalf("an LDAP user after the refusals: %+v, %v", got, err)
		}
	})
}

func TestEveryUsersKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := "ApiKey " + adminToken
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		if s, _, b := e.raw("POST", "/api/v1/users", admin, `{"user_name":"kim","security":{"roles":["ece_platform_viewer"],"password":"`+pw+`"}}`); s != 200 {
			t.Fatalf("create: %d %s", s, b)
		}
		s, _, b := e.raw("POST", "/api/v1/users/auth/keys", "Basic "+basic("kim", pw), `{"description":"kim's"}`)
		var kims struct {
			ID, Key string
		}
		if s != 201 || json.Unmarshal(b, &kims) != nil {
			t.Fatalf("kim's key: %d %s", s, b)
		}
		e.secrets = append(e.secrets, kims.Key)
		s, _, b = e.raw("GET", "/api/v1/users/auth/keys/_all", admin, "")
		if s != 200 || !strings.Contains(string(b), `"user_id":"kim"`) || !strings.Contains(string(b), `"user_id":"admin"`) {
			t.Fatalf("every user's keys: %d %s", s, b)
		}
		s, h, b := e.raw("DELETE", "/api/v1/users/auth/keys/_all", admin, `{"user_api_keys":[{"user_id":"admin","api_key_id":"`+kims.ID+`"}]}`)
		e.wantError(s, h, b, 404, "api_keys.key_not_found") // not admin's key
		s, h, b = e.raw("DELETE", "/api/v1/users/auth/keys/_all", admin, `{"user_api_keys":[{"user_id":"kim"}]}`)
		e.wantError(s, h, b, 400, "api_keys.invalid_input")
		if s, _, b := e.raw("GET", "/api/v1/user", "ApiKey "+kims.Key, ""); s != 200 {
			t.Fatalf("kim's key after the refused deletes: %d %s", s, b)
		}
		if s, _, b := e.raw("DELETE", "/api/v1/users/auth/keys/_all", admin, `{"user_api_keys":[{"user_id":"kim","api_key_id":"`+kims.ID+`"}]}`); s != 200 {
			t.Fatalf("delete kim's key: %d %s", s, b)
		}
		if s, _, _ := e.raw("GET", "/api/v1/user", "ApiKey "+kims.Key, ""); s != 401 {
			t.Fatalf("a deleted key still works: %d", s)
		}
		s, _, b = e.raw("POST", "/api/v1/users/auth/keys", "Basic "+basic("kim", pw), `{"description":"kim's second"}`)
		var second struct{ ID, Key string }
		if s != 201 || json.Unmarshal(b, &second) != nil || second.Key == "" {
			t.Fatalf("kim's second key: %d %s", s, b)
		}
		e.secrets = append(e.secrets, second.Key)
		// Kim, a platform viewer, holds USER_READ: she lists everyone's keys, and no key's secret.
		s, _, b = e.raw("GET", "/api/v1/users/auth/keys/_all", "Basic "+basic("kim", pw), "")
		var listed struct {
			Keys []map[string]any `json:"keys"`
		}
		if s != 200 || json.Unmarshal(b, &listed) != nil {
			t.Fatalf("a viewer listing every key: %d %s", s, b)
		}
		adminKey := ""
		for _, k := range listed.Keys {
			if _, shown := k["key"]; shown {
				t.Fatalf("a listed key shows its secret: %s", b)
			}
			if k["user_id"] == "admin" {
				adminKey, _ = k["id"].(string)
			}
		}
		if len(listed.Keys) != 2 || adminKey == "" || !strings.Contains(string(b), `"id":"`+second.ID+`"`) {
			t.Fatalf("a viewer's listing of every key, want admin's and kim's second: %s", b)
		}
		// USER_READ is not USER_WRITE: her delete of the admin's key is refused and the key still works.
		s, h, b = e.raw("DELETE", "/api/v1/users/auth/keys/_all", "Basic "+basic("kim", pw), `{"user_api_keys":[{"user_id":"admin","api_key_id":"`+adminKey+`"}]}`)
		e.wantError(s, h, b, 403, ece.CodeUnauthorized)
		if s, _, b := e.raw("GET", "/api/v1/user", admin, ""); s != 200 {
			t.Fatalf("the admin's key after a viewer's refused delete: %d %s", s, b)
		}
		// Dee's role gives no USER_READ: she may not list everyone's keys, nor delete any.
		if s, _, b := e.raw("POST", "/api/v1/users", admin, `{"user_name":"dee","security":{"roles":["ece_deployment_viewer"],"password":"`+pw+`"}}`); s != 200 {
			t.Fatalf("create: %d %s", s, b)
		}
		s, h, b = e.raw("GET", "/api/v1/users/auth/keys/_all", "Basic "+basic("dee", pw), "")
		e.wantError(s, h, b, 403, ece.CodeUnauthorized)
		s, h, b = e.raw("DELETE", "/api/v1/users/auth/keys/_all", "Basic "+basic("dee", pw), `{"user_api_keys":[{"user_id":"kim","api_key_id":"`+second.ID+`"}]}`)
		e.wantError(s, h, b, 403, ece.CodeUnauthorized)
		if s, _, b := e.raw("GET", "/api/v1/user", "ApiKey "+second.Key, ""); s != 200 {
			t.Fatalf("kim's key after a refused delete: %d %s", s, b)
		}
	})
}

// Sign-in stamps and lockout come from the accounts core.
func TestLoginStampsAndLockout(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := "ApiKey " + adminToken
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		if s, _, b := e.raw("POST", "/api/v1/users", admin, `{"user_name":"lee","security":{"roles":["ece_platform_viewer"],"password":"`+pw+`"}}`); s != 200 || strings.Contains(string(b), "last_login_at") {
			t.Fatalf("create: %d %s", s, b)
		}
		s, _, b := e.raw("POST", "/api/v1/users/auth/_login", "", `{"username":"lee","password":"`+pw+`"}`)
		var tok struct {
			Token string `json:"token"`
		}
		if s != 200 || json.Unmarshal(b, &tok) != nil || tok.Token == "" {
			t.Fatalf("login: %d %s", s, b)
		}
		e.secrets = append(e.secrets, tok.Token)
		s, _, b = e.raw("GET", "/api/v1/users/auth", "Bearer "+tok.Token, "")
		if s != 200 || !strings.Contains(string(b), `"user_id":"lee"`) || !strings.Contains(string(b), `"refresh_token_url"`) {
			t.Fatalf("auth info: %d %s", s, b)
		}
		resp, err := http.Get(e.url + "/api/v1/api-docs/openapi.json") // the document, not in itself
		if err != nil {
			t.Fatal(err)
		}
		doc, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(doc, ece.OpenAPIDocument()) {
			t.Fatalf("the served OpenAPI document: %d %.100s", resp.StatusCode, doc)
		}
		s, _, b = e.raw("GET", "/api/v1/user", "Bearer "+tok.Token, "")
		if s != 200 || !strings.Contains(string(b), `"first_login_at"`) || !strings.Contains(string(b), `"last_login_at"`) {
			t.Fatalf("after a login: %d %s", s, b)
		}
		for range 5 { // the default policy locks after 5 failures
			s, h, b := e.raw("GET", "/api/v1/user", "Basic "+basic("lee", "wrong password"), "")
			e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
		}
		s, h, b := e.raw("GET", "/api/v1/user", "Basic "+basic("lee", pw), "")
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated) // locked
		s, h, b = e.raw("POST", "/api/v1/users/auth/_login", "", `{"username":"lee","password":"`+pw+`"}`)
		e.wantError(s, h, b, 401, ece.CodeUnauthenticated)
	})
}

// An update that sets a password beside other changes is refused whole when any part is.
func TestRefusedUpdatesChangeNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := "ApiKey " + adminToken
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		if s, _, b := e.raw("POST", "/api/v1/users", admin, `{"user_name":"ray","full_name":"Ray","security":{"roles":["ece_platform_viewer"],"password":"`+pw+`"}}`); s != 200 {
			t.Fatalf("create: %d %s", s, b)
		}
		// A password the policy refuses, with a role change and a new name: nothing changes.
		s, _, b := e.raw("PATCH", "/api/v1/users/ray", admin, `{"full_name":"Raymond","security":{"roles":["ece_deployment_viewer"],"password":"short"}}`)
		if s != 400 {
			t.Fatalf("a weak password: %d %s", s, b)
		}
		s, _, b = e.raw("GET", "/api/v1/users/ray", admin, "")
		if s != 200 || !strings.Contains(string(b), `"ece_platform_viewer"`) || !strings.Contains(string(b), `"full_name":"Ray"`) {
			t.Fatalf("a refused PATCH changed the user: %s", b)
		}
		// Ray's own update: a refused email keeps the old password.
		s, _, b = e.raw("PATCH", "/api/v1/user", "Basic "+basic("ray", pw), `{"email":"not an email","security":{"password":"`+pw+`!"}}`)
		if s != 400 {
			t.Fatalf("a bad email: %d %s", s, b)
		}
		if s, _, b := e.raw("GET", "/api/v1/user", "Basic "+basic("ray", pw), ""); s != 200 {
			t.Fatalf("the old password after a refused update: %d %s", s, b)
		}
	})
}
