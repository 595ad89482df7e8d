package vikingcloud_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"iamd"
	"iamd/account"
	"iamd/face/vikingcloud"
	"iamd/internal/facetest"
	"iamd/internal/openapitest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const (
	instance   = "tenant"
	adminToken = "iamd_vikingcloud_test_token_0123456789"
	mfaSecret  = "JBSWY3DPEHPK3PXPJBSWY3DP"
	goodPass   = "a long enough passphrase 5"
)

// seedUser is the seed's request body with every attribute it lists, read-only ones
// included, and values the checks accept.
func seedUser(username string) string {
	return `{"userKey":{"username":"` + username + `","authenticator":"local"},"password":"` + goodPass + `","orgId":"org-1",
		"email":"` + username + `@example.com","enabled":true,"locked":false,"forcePasswordChange":false,"expired":false,
		"credentialsExpired":false,"usingMfa":false,"mfaSecret":"","sharedSecret":"","notes":"from the seed",
		"createdInstant":"2019-08-24T14:15:22Z","lastUpdatedInstant":"2019-08-24T14:15:22Z","createdBy":"string","lastUpdatedBy":"string",
		"lastName":"Doe","firstName":"Jane","primaryPhone":"010-1234-5678","primaryPhoneCountryCode":"82","primaryPhoneExtension":"12",
		"lastSuccessfulAuthAttempt":"2019-08-24T14:15:22Z","lastFailedAuthAttempt":"2019-08-24T14:15:22Z","timeZone":"Asia/Seoul",
		"locale":"ko-KR","roles":[{"name":"iamd_viewer"}],"privileges":[{"name":"AUDIT_READ"}],"allRoles":[],"allPrivileges":[],
		"id":"string","isSsoUser":false}`
}

type env struct {
	t     testing.TB
	base  string
	check *openapitest.Validator
	store iamd.Store
	acct  *account.Service
	spent *atomic.Int64 // how far the core's clock is ahead of the wall clock, in ns
}

func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	eachStoreWith(t, nil, fn)
}

// eachStoreWith is eachStore with the face's accounts made by wrap from the core's (nil:
// the core's own).
func eachStoreWith(t *testing.T, wrap func(*account.Service) vikingcloud.Accounts, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { fn(t, startWith(t, engine.Open(t), wrap)) })
	}
}

func start(t testing.TB, store iamd.Store) *env { return startWith(t, store, nil) }

func startWith(t testing.TB, store iamd.Store, wrap func(*account.Service) vikingcloud.Accounts) *env {
	spent := new(atomic.Int64)
	now := func() time.Time { return time.Now().Add(time.Duration(spent.Load())) }
	core := facetest.StartWithClock(t, store, account.BootstrapConfig{DefaultInstance: instance, AdminAPIToken: adminToken}, now)
	logs, logger, acct := core.Logs, core.Logger, core.Accounts
	var accounts vikingcloud.Accounts = acct
	if wrap != nil {
		accounts = wrap(acct)
	}
	face, err := vikingcloud.New(vikingcloud.Config{Directory: core.Directory, Accounts: accounts, Instance: instance, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	root := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store), Mounts: []server.Mount{{Prefix: "/vikingcloud", Face: face}}, Logger: logger, Ready: store.Ping})["main"]
	e := &env{t: t, base: root + "/vikingcloud", store: store, acct: acct, spent: spent}
	e.check = openapitest.New(t, vikingcloud.OpenAPIDocument(), e.base, "Error")
	t.Cleanup(func() { logs.CheckNoSecrets(t, adminToken, goodPass, mfaSecret) })
	return e
}

// pass makes d pass on the core's clock.
func (e *env) pass(d time.Duration) { e.spent.Add(int64(d)) }

type reply struct {
	status int
	raw    string
	obj    map[string]any
	list   []any
}

// do sends a request with headers given as name, value pairs ("Authorization: Bearer …"
// by default; a pair with an empty name sends nothing).
func (e *env) do(method, path, body string, header ...string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if len(header) == 0 {
		header = []string{"Authorization", "Bearer " + adminToken}
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if body != "" {
		req.Body = io.NopCloser(strings.NewReader(body))
	}
	e.check.Check(e.t, req, resp.StatusCode, resp.Header, raw)
	out := reply{status: resp.StatusCode, raw: string(raw)}
	if strings.HasPrefix(strings.TrimSpace(string(raw)), "[") {
		json.Unmarshal(raw, &out.list)
	} else if len(raw) > 0 {
		json.Unmarshal(raw, &out.obj)
	}
	for _, secret := range []string{goodPass, mfaSecret, `"password"`, `"mfaSecret"`} {
		if strings.Contains(string(raw), secret) {
			e.t.Fatalf("%s %s: the response shows a secret: %s", method, path, raw)
		}
	}
	return out
}

// wantError checks Spring Boot's error shape and that the message names what it says.
func (e *env) wantError(r reply, status int, mentions string) {
	e.t.Helper()
	if r.status != status || r.obj["status"] != float64(status) || r.obj["error"] != http.StatusText(status) ||
		r.obj["path"] == nil || r.obj["timestamp"] == nil || !strings.Contains(fmt.Sprint(r.obj["message"]), mentions) {
		e.t.Fatalf("got %d %s, want %d naming %q", r.status, r.raw, status, mentions)
	}
}

func roleNames(v any) string {
	var out []string
	list, _ := v.([]any)
	for _, r := range list {
		out = append(out, r.(map[string]any)["name"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// The seed's body, with every attribute it lists, creates the user: its roles and
// privileges as written, its effective sets computed, no secret in the answer; a second
// create of the same userKey is 409.
func TestSeedCreateUser(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("PUT", "/user-service/v1/user", seedUser("jane"))
		if r.status != 200 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		key := r.obj["userKey"].(map[string]any)
		if key["username"] != "jane" || key["authenticator"] != "local" || r.obj["orgId"] != "org-1" || r.obj["enabled"] != true ||
			r.obj["primaryPhoneCountryCode"] != "+82" || r.obj["notes"] != "from the seed" || r.obj["id"] == "string" ||
			roleNames(r.obj["roles"]) != "iamd_viewer" || roleNames(r.obj["privileges"]) != "AUDIT_READ" ||
			roleNames(r.obj["allRoles"]) != "iamd_viewer" || !strings.Contains(roleNames(r.obj["allPrivileges"]), "USER_READ") ||
			!strings.Contains(roleNames(r.obj["allPrivileges"]), "AUDIT_READ") || r.obj["lastSuccessfulAuthAttempt"] != nil {
			t.Fatalf("created: %s", r.raw)
		}
		if r.obj["roles"].([]any)[0].(map[string]any)["privileges"] == nil {
			t.Fatalf("roles are objects with their privileges: %s", r.raw)
		}
		e.wantError(e.do("PUT", "/user-service/v1/user", seedUser("jane")), 409, "jane")
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("x"), `"iamd_viewer"`, `"no_such_role"`, 1)), 400, "no_such_role")
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("y"), `"AUDIT_READ"`, `"LAUNCH_MISSILES"`, 1)), 400, "LAUNCH_MISSILES")
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("z"), goodPass, "short", 1)), 400, "password")
		for _, bad := range []string{"a/b", "a%2Fb", ""} {
			e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("bad"), `"username":"bad"`, `"username":"`+bad+`"`, 1)), 400, "userKey.username")
		}
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("w"), `"primaryPhoneCountryCode":"82"`, `"primaryPhoneCountryCode":""`, 1)), 400, "primaryPhoneCountryCode")
		e.wantError(e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"t"},"enabled":"yes"}`), 400, "enabled")
		if r := e.do("POST", "/user-service/v1/user/search", `{}`); len(r.list) != 2 { // admin and jane: nothing refused was stored
			t.Fatalf("users after the refusals: %s", r.raw)
		}
	})
}

// Update (POST) by userKey, find, delete; the SSO authenticator; locked, expired and
// MFA drive the accounts core.
func TestUpdateFindDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("PUT", "/user-service/v1/user", seedUser("max"))
		r := e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"max","authenticator":"local"},"firstName":"Maxine",
			"locked":true,"roles":[],"privileges":[{"name":"USER_READ"}]}`)
		if r.status != 200 || r.obj["firstName"] != "Maxine" || r.obj["lastName"] != "Doe" || r.obj["locked"] != true ||
			roleNames(r.obj["roles"]) != "" || roleNames(r.obj["privileges"]) != "USER_READ" {
			t.Fatalf("update: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("POST", "/auth-service/v1/token", `{"username":"max","password":"`+goodPass+`"}`, "", ""), 401, "")
		r = e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"max"},"locked":false,"usingMfa":true,"mfaSecret":"`+mfaSecret+`"}`)
		if r.status != 200 || r.obj["locked"] != false || r.obj["usingMfa"] != true {
			t.Fatalf("unlock and MFA on: %d %s", r.status, r.raw)
		}
		// usingMfa repeated as it is (a client sending the user back) changes nothing; turning
		// MFA on needs the secret.
		if r := e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"max"},"usingMfa":true}`); r.status != 200 || r.obj["usingMfa"] != true {
			t.Fatalf("usingMfa repeated: %d %s", r.status, r.raw)
		}
		e.do("PUT", "/user-service/v1/user", seedUser("zed"))
		e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"zed"},"usingMfa":true}`), 400, "mfaSecret")
		e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"max"},"primaryPhone":"010-9999-8888"}`), 400, "primaryPhoneCountryCode")
		e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"nobody"},"firstName":"x"}`), 404, "nobody")
		if r := e.do("GET", "/user-service/v1/user/local/max", ""); r.status != 200 || r.obj["firstName"] != "Maxine" || r.obj["primaryPhone"] == "010-9999-8888" {
			t.Fatalf("find: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/user-service/v1/user/local/zed", ""); r.status != 200 || r.obj["usingMfa"] != false {
			t.Fatalf("zed after a refused MFA change: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/user-service/v1/user/sso/max", ""), 404, "max")
		e.wantError(e.do("GET", "/user-service/v1/user/local/a%2Fb", ""), 400, "userKey.username")

		sso := strings.Replace(strings.Replace(seedUser("idp-user"), `"authenticator":"local"`, `"authenticator":"sso"`, 1), `"password":"`+goodPass+`",`, "", 1)
		if r := e.do("PUT", "/user-service/v1/user", sso); r.status != 200 || r.obj["isSsoUser"] != true || r.obj["userKey"].(map[string]any)["authenticator"] != "sso" {
			t.Fatalf("an SSO user: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("idp-2"), `"authenticator":"local"`, `"authenticator":"sso"`, 1)), 400, "password")
		e.wantError(e.do("PUT", "/user-service/v1/user", strings.Replace(seedUser("ldap"), `"authenticator":"local"`, `"authenticator":"ldap"`, 1)), 400, "authenticator")

		if r := e.do("DELETE", "/user-service/v1/user/local/max", ""); r.status != 200 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/user-service/v1/user/local/max", ""), 404, "max")
		e.wantError(e.do("GET", "/user-service/v1/user/local/max", "", "", ""), 401, "")
	})
}

// Search: every criterion, ANDed.
func TestSearchByEachCriterion(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("POST", "/user-service/v1/role", `{"name":"auditor","description":"reads the log","privileges":[{"name":"AUDIT_READ"}]}`)
		for _, u := range []string{
			`{"userKey":{"username":"ann"},"password":"` + goodPass + `","orgId":"org-a","firstName":"Ann","lastName":"Lee","email":"ann@example.com","roles":[{"name":"auditor"}]}`,
			`{"userKey":{"username":"ben"},"password":"` + goodPass + `","orgId":"org-b","firstName":"Ben","lastName":"Lee","email":"ben@corp.example","enabled":false,"expired":true,"privileges":[{"name":"USER_READ"}]}`,
			`{"userKey":{"username":"cat","authenticator":"sso"},"orgId":"org-a","firstName":"Cat","lastName":"Kim","email":"cat@example.com","credentialsExpired":true,"usingMfa":true,"mfaSecret":"` + mfaSecret + `","locked":true}`,
		} {
			if r := e.do("PUT", "/user-service/v1/user", u); r.status != 200 {
				t.Fatalf("create: %d %s", r.status, r.raw)
			}
		}
		before := time.Now().Add(-time.Second)
		if r := e.do("POST", "/auth-service/v1/token", `{"username":"ann","password":"`+goodPass+`"}`, "", ""); r.status != 200 {
			t.Fatalf("ann signs in: %d %s", r.status, r.raw)
		}
		after := time.Now().Add(time.Second)
		for criteria, want := range map[string]string{
			`{"orgId":"org-a"}`:                            "ann,cat",
			`{"orgIds":["org-b","org-x"]}`:                 "ben",
			`{"enabled":false}`:                            "ben",
			`{"locked":true}`:                              "cat",
			`{"expired":true}`:                             "ben",
			`{"credentialsExpired":true}`:                  "cat",
			`{"usingMfa":true}`:                            "cat",
			`{"lastName":"LEE","firstName":"ben"}`:         "ben",
			`{"roles":["auditor"]}`:                        "ann",
			`{"privilegeRoles":["auditor"]}`:               "ann",
			`{"privileges":["AUDIT_READ"]}`:                "admin,ann", // admin holds it through iamd_admin
			`{"privileges":["USER_READ"],"enabled":false}`: "ben",
			`{"username":"CAT"}`:                           "cat",
			`{"email":"ben@corp.example"}`:                 "ben",
			`{"basic":"corp"}`:                             "ben",
			`{"authenticator":"sso"}`:                      "cat",
			`{"authenticators":["sso"],"authenticatorInclude":false,"orgId":"org-a"}`:                                                  "ann",
			`{"startTimestamp":"` + before.UTC().Format(time.RFC3339) + `","endTimestamp":"` + after.UTC().Format(time.RFC3339) + `"}`: "ann",
		} {
			r := e.do("POST", "/user-service/v1/user/search", criteria)
			var got []string
			for _, u := range r.list {
				got = append(got, u.(map[string]any)["userKey"].(map[string]any)["username"].(string))
			}
			if r.status != 200 || strings.Join(got, ",") != want {
				t.Errorf("%s: %d %v, want %s", criteria, r.status, got, want)
			}
		}
		if r := e.do("POST", "/user-service/v1/user/search?page=1&size=2", `{}`); len(r.list) != 2 { // admin, ann | ben, cat
			t.Fatalf("page 1: %s", r.raw)
		}
		e.wantError(e.do("POST", "/user-service/v1/user/search", `{"authenticator":"ldap"}`), 400, "authenticator")
		e.wantError(e.do("POST", "/user-service/v1/user/search?size=500", `{}`), 400, "size")
	})
}

// Roles are saved with their privileges, and a user's effective sets follow them.
func TestRolesAndEffectiveSets(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/user-service/v1/role", `{"name":"support","description":"helps users","privileges":[{"name":"USER_READ"},{"name":"GROUP_READ"}]}`)
		if r.status != 200 || roleNames(r.obj["privileges"]) != "GROUP_READ,USER_READ" || r.obj["internal"] != false {
			t.Fatalf("save: %d %s", r.status, r.raw)
		}
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"sam"},"password":"`+goodPass+`","roles":[{"name":"support"}],"privileges":[{"name":"AUDIT_READ"}]}`)
		u := e.do("GET", "/user-service/v1/user/local/sam", "")
		if roleNames(u.obj["allPrivileges"]) != "AUDIT_READ,GROUP_READ,USER_READ" {
			t.Fatalf("effective privileges: %s", u.raw)
		}
		e.do("POST", "/user-service/v1/role", `{"name":"support","description":"reads users","privileges":[{"name":"USER_READ"}]}`)
		if u := e.do("GET", "/user-service/v1/user/local/sam", ""); roleNames(u.obj["allPrivileges"]) != "AUDIT_READ,USER_READ" {
			t.Fatalf("after the role changed: %s", u.raw)
		}
		e.wantError(e.do("POST", "/user-service/v1/role", `{"name":"iamd_admin","privileges":[]}`), 400, "built-in")
		e.wantError(e.do("POST", "/user-service/v1/role", `{"name":"x","internal":true}`), 400, "internal")
		e.wantError(e.do("POST", "/user-service/v1/role", `{"name":"x","privileges":[{"name":"NOPE"}]}`), 400, "NOPE")
		if r := e.do("GET", "/user-service/v1/role", ""); r.status != 200 || !strings.Contains(roleNames(r.list), "support") ||
			strings.Contains(","+roleNames(r.list)+",", ",x,") {
			t.Fatalf("roles (none of the refused saves stored): %d %s", r.status, r.raw)
		} else if !slices.ContainsFunc(r.list, func(role any) bool {
			m := role.(map[string]any)
			return m["name"] == "iamd_admin" && strings.Contains(roleNames(m["privileges"]), "USER_WRITE")
		}) {
			t.Fatalf("a refused save changed the built-in iamd_admin: %s", r.raw)
		}
		if r := e.do("GET", "/user-service/v1/privilege", ""); r.status != 200 || strings.Contains(roleNames(r.list), "INSTANCE_ADMIN") || !strings.Contains(roleNames(r.list), "USER_WRITE") {
			t.Fatalf("privileges: %d %s", r.status, r.raw)
		}
	})
}

// The token API: tokens for a password, the access token and ID token both open the
// API, refresh rotates, privileges gate writes, MFA and a temporary password are
// answered clearly, and five wrong passwords lock the user.
func TestTokenFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"reader"},"password":"`+goodPass+`","privileges":[{"name":"USER_READ"}]}`)
		r := e.do("POST", "/auth-service/v1/token", `{"username":"reader","password":"`+goodPass+`"}`, "", "")
		if r.status != 200 || r.obj["tokenType"] != "Bearer" || r.obj["expiresIn"] != 3600.0 || strings.Count(r.obj["idToken"].(string), ".") != 2 {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		access, id, refresh := r.obj["accessToken"].(string), r.obj["idToken"].(string), r.obj["refreshToken"].(string)
		for _, h := range [][2]string{{"Authorization", "Bearer " + access}, {"x-jwt-assertion", id}, {"x-auth-token", adminToken}} {
			if r := e.do("GET", "/user-service/v1/user/local/reader", "", h[0], h[1]); r.status != 200 {
				t.Fatalf("%s: %d %s", h[0], r.status, r.raw)
			}
		}
		e.wantError(e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"nope"}}`, "Authorization", "Bearer "+access), 403, "")
		e.wantError(e.do("GET", "/user-service/v1/user/local/nope", ""), 404, "nope") // the refused create stored nothing
		r = e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+refresh+`"}`, "", "")
		if r.status != 200 || r.obj["accessToken"] == access {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/user-service/v1/user/local/reader", "", "Authorization", "Bearer "+access), 401, "")
		e.wantError(e.do("GET", "/user-service/v1/user/local/reader", "", "x-jwt-assertion", id), 401, "")

		// MFA: the code is asked for by name.
		e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"reader"},"usingMfa":true,"mfaSecret":"`+mfaSecret+`"}`)
		e.wantError(e.do("POST", "/auth-service/v1/token", `{"username":"reader","password":"`+goodPass+`"}`, "", ""), 401, "mfaCode")
		code, _ := totp.GenerateCodeCustom(mfaSecret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if r := e.do("POST", "/auth-service/v1/token", `{"username":"reader","password":"`+goodPass+`","mfaCode":"`+code+`"}`, "", ""); r.status != 200 {
			t.Fatalf("with the code: %d %s", r.status, r.raw)
		}

		// A temporary password: 403 until a new one is sent with it.
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"temp"},"password":"`+goodPass+`","forcePasswordChange":true}`)
		e.wantError(e.do("POST", "/auth-service/v1/token", `{"username":"temp","password":"`+goodPass+`"}`, "", ""), 403, "newPassword")
		if r := e.do("POST", "/auth-service/v1/token", `{"username":"temp","password":"`+goodPass+`","newPassword":"another long passphrase 8"}`, "", ""); r.status != 200 {
			t.Fatalf("with newPassword: %d %s", r.status, r.raw)
		}

		// The same for a user with MFA: the code is asked once.
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"temp-mfa"},"password":"`+goodPass+`","forcePasswordChange":true,
			"usingMfa":true,"mfaSecret":"`+mfaSecret+`"}`)
		code, _ = totp.GenerateCodeCustom(mfaSecret, time.Now().Add(30*time.Second), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		r = e.do("POST", "/auth-service/v1/token", `{"username":"temp-mfa","password":"`+goodPass+`","mfaCode":"`+code+`","newPassword":"another long passphrase 9"}`, "", "")
		if r.status != 200 {
			t.Fatalf("MFA and a temporary password: %d %s", r.status, r.raw)
		}
		// A full session: refused for want of USER_READ, not for a password to change.
		e.wantError(e.do("GET", "/user-service/v1/user/local/temp-mfa", "", "Authorization", "Bearer "+r.obj["accessToken"].(string)), 403, "USER_READ")

		// Lockout: five wrong passwords, then even the right one is refused.
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"guess"},"password":"`+goodPass+`"}`)
		for range 5 {
			e.wantError(e.do("POST", "/auth-service/v1/token", `{"username":"guess","password":"wrong wrong wrong"}`, "", ""), 401, "")
		}
		e.wantError(e.do("POST", "/auth-service/v1/token", `{"username":"guess","password":"`+goodPass+`"}`, "", ""), 401, "")
		if r := e.do("GET", "/user-service/v1/user/local/guess", ""); r.obj["locked"] != true || r.obj["lastFailedAuthAttempt"] == nil {
			t.Fatalf("the locked user: %s", r.raw)
		}
	})
}
