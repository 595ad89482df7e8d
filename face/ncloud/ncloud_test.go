package ncloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"iamd"
	"iamd/account"
	"iamd/face/ncloud"
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
	account_   = "acct-1"
	accessKey  = "NCPTESTACCESSKEY0001"
	secretKey  = "ncloud-test-secret-key-0123456789"
	seedCreate = `{"loginId":"jdoe@example.com","description":"string","userProfile":{"firstName":"John","lastName":"Doe",
		"email":"jdoe@example.com","empNo":"E-1","phoneCountryCode":"82","phoneNo":"010-1234-5678","deptName":"Dev"},
		"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":false}}`
)

type env struct {
	t     testing.TB
	base  string // the face's root: …/ncloud
	check *openapitest.Validator
	store iamd.Store
	acct  *account.Service
	core  *facetest.Core
	logs  *logtest.Capture
	now   func() time.Time
}

func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { fn(t, start(t, engine.Open(t))) })
	}
}

func start(t testing.TB, store iamd.Store) *env {
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: account_,
		AdminAccessKey: accessKey, AdminSecretKey: secretKey, AdminPassword: "admin password"})
	logs, logger := core.Logs, core.Logger
	e := &env{t: t, store: store, acct: core.Accounts, core: core, logs: logs, now: time.Now}
	face, err := ncloud.New(ncloud.Config{Directory: core.Directory, Accounts: core.Accounts, Logger: logger,
		Now: func() time.Time { return e.now() }})
	if err != nil {
		t.Fatal(err)
	}
	root := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store), Mounts: []server.Mount{{Prefix: "/ncloud", Face: face}}, Logger: logger, Ready: store.Ping})["main"]
	e.base = root + "/ncloud"
	e.check = openapitest.New(t, ncloud.OpenAPIDocument(), e.base+ncloud.BasePath, "GatewayError")
	t.Cleanup(func() { logs.CheckNoSecrets(t, secretKey, "admin password") })
	return e
}

type reply struct {
	status int
	raw    string
	obj    map[string]any
	list   []any
}

// do sends a request signed as NAVER Cloud's documented recipe has it, over the URI as
// sent (the face's prefix included).
func (e *env) do(method, uri, body string) reply {
	e.t.Helper()
	return e.send(method, uri, body, func(req *http.Request) {
		ts := strconv.FormatInt(e.now().UnixMilli(), 10)
		for _, h := range ncloud.SignedHeaders(secretKey, method, req.URL.RequestURI(), ts, accessKey) {
			req.Header.Set(h[0], h[1])
		}
	})
}

func (e *env) send(method, uri, body string, sign func(*http.Request)) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+uri, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sign != nil {
		sign(req)
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
	} else {
		json.Unmarshal(raw, &out.obj)
	}
	return out
}

// wantAPIError checks {"errorCode": status, "message": …} naming what it says.
func (e *env) wantAPIError(r reply, status int, mentions string) {
	e.t.Helper()
	if r.status != status || r.obj["errorCode"] != float64(status) || !strings.Contains(fmt.Sprint(r.obj["message"]), mentions) {
		e.t.Fatalf("got %d %s, want %d naming %q", r.status, r.raw, status, mentions)
	}
}

// wantGatewayError checks the gateway's {"error": {errorCode, message, details}}.
func (e *env) wantGatewayError(r reply, status int, code string) {
	e.t.Helper()
	inner, _ := r.obj["error"].(map[string]any)
	if r.status != status || inner["errorCode"] != code {
		e.t.Fatalf("got %d %s, want %d with gateway code %s", r.status, r.raw, status, code)
	}
}

// The seed's request body, sent as it is (with the booleans as JSON booleans), creates
// the user: 200 and the whole user, which is the same user every face sees.
func TestSeedCreateUser(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/users", seedCreate)
		if r.status != 200 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.obj["userId"].(string)
		prof := r.obj["userProfile"].(map[string]any)
		rules := r.obj["accessRules"].(map[string]any)
		if r.obj["loginId"] != "jdoe@example.com" || r.obj["nrn"] != "nrn:PUB:SSO::"+account_+":User/"+id || r.obj["status"] != "active" ||
			prof["firstName"] != "John" || prof["phoneCountryCode"] != "+82" || prof["deptName"] != "Dev" ||
			rules["consoleAccessAllowed"] != true || rules["apiAccessAllowed"] != false || r.obj["lastLoginAt"] != nil {
			t.Fatalf("created: %s", r.raw)
		}
		u, err := e.store.GetUser(context.Background(), account_, strings.ReplaceAll(id, "-", ""))
		if err != nil || u.LoginName != "jdoe@example.com" || u.GivenName != "John" || !u.APIDenied || u.ConsoleDenied || u.Department != "Dev" {
			t.Fatalf("the core's user: %+v, %v", u, err)
		}
		if got := e.do("GET", "/api/v1/users/"+id, ""); got.status != 200 || got.obj["userId"] != id {
			t.Fatalf("get: %d %s", got.status, got.raw)
		}
		e.wantAPIError(e.do("POST", "/api/v1/users", seedCreate), 409, "jdoe@example.com")
		if page := e.do("GET", "/api/v1/users", ""); page.status != 200 || page.obj["totalItems"] != 2.0 { // admin and jdoe
			t.Fatalf("users after a refused duplicate: %s", page.raw)
		}
	})
}

// Signature v2: the three vectors are in sign_test.go; here, what the gateway refuses —
// no signature, a wrong one, a stale timestamp — and that responseFormatType=json, which
// one community client adds to every request and signs, is accepted.
func TestSignatureV2(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.wantGatewayError(e.send("GET", "/api/v1/users", "", nil), 401, "200")
		e.wantGatewayError(e.send("GET", "/api/v1/users", "", func(req *http.Request) {
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			for _, h := range ncloud.SignedHeaders("not the secret", "GET", req.URL.RequestURI(), ts, accessKey) {
				req.Header.Set(h[0], h[1])
			}
		}), 401, "200")
		e.wantGatewayError(e.send("GET", "/api/v1/users", "", func(req *http.Request) {
			ts := strconv.FormatInt(time.Now().Add(-6*time.Minute).UnixMilli(), 10)
			for _, h := range ncloud.SignedHeaders(secretKey, "GET", req.URL.RequestURI(), ts, accessKey) {
				req.Header.Set(h[0], h[1])
			}
		}), 401, "200")
		// A signature over another path does not open this one.
		e.wantGatewayError(e.send("GET", "/api/v1/users?page=1", "", func(req *http.Request) {
			ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
			for _, h := range ncloud.SignedHeaders(secretKey, "GET", "/ncloud/api/v1/users?page=0", ts, accessKey) {
				req.Header.Set(h[0], h[1])
			}
		}), 401, "200")
		if r := e.do("GET", "/api/v1/users?page=0&size=20&responseFormatType=json", ""); r.status != 200 {
			t.Fatalf("responseFormatType=json: %d %s", r.status, r.raw)
		}
		e.wantGatewayError(e.do("GET", "/api/v1/nowhere", ""), 404, "300")
	})
}

// faces.md §2's limits, each at its edge: description and profile fields in UTF-8 bytes
// (a Korean syllable is three), loginId in characters.
func TestValidationLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		body := func(login, desc, first string) string {
			return fmt.Sprintf(`{"loginId":%q,"description":%q,"userProfile":{"firstName":%q},"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`,
				login, desc, first)
		}
		login := func(n int) string { return strings.Repeat("a", n-len("@example.com")) + "@example.com" }
		n := 0
		next := func() string { n++; return fmt.Sprintf("u%02d@example.com", n) }
		for _, c := range []struct {
			name, body string
			ok         bool
			mentions   string
		}{
			{"description 299 bytes", body(next(), strings.Repeat("d", 299), ""), true, ""},
			{"description 300 bytes", body(next(), strings.Repeat("d", 300), ""), true, ""},
			{"description 301 bytes", body(next(), strings.Repeat("d", 301), ""), false, "description"},
			{"description 100 Korean syllables (300 bytes)", body(next(), strings.Repeat("한", 100), ""), true, ""},
			{"description 101 Korean syllables (303 bytes)", body(next(), strings.Repeat("한", 101), ""), false, "description"},
			{"firstName 66 Korean syllables (198 bytes)", body(next(), "", strings.Repeat("김", 66)), true, ""},
			{"firstName 199 bytes", body(next(), "", strings.Repeat("f", 199)), true, ""},
			{"firstName 200 bytes", body(next(), "", strings.Repeat("f", 200)), true, ""},
			{"firstName 201 bytes", body(next(), "", strings.Repeat("f", 201)), false, "userProfile.firstName"},
			{"firstName 67 Korean syllables (201 bytes)", body(next(), "", strings.Repeat("김", 67)), false, "userProfile.firstName"},
			{"loginId 59 characters", body(login(59), "", ""), true, ""},
			{"loginId 60 characters", body(login(60), "", ""), true, ""},
			{"loginId 61 characters", body(login(61), "", ""), false, "loginId"},
			{"loginId not an email", body("not-an-email", "", ""), false, "loginId"},
			{"no accessRules", `{"loginId":"` + next() + `"}`, false, "accessRules"},
			{"accessRules half", `{"loginId":"` + next() + `","accessRules":{"consoleAccessAllowed":true}}`, false, "accessRules.apiAccessAllowed"},
			{"profile email", `{"loginId":"` + next() + `","userProfile":{"email":"nope"},"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`, false, "userProfile.email"},
			{"calling code 999", `{"loginId":"` + next() + `","userProfile":{"phoneCountryCode":"999","phoneNo":"1234567"},"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`, false, "userProfile.phoneCountryCode"},
			{"a Seoul landline as a mobile", `{"loginId":"` + next() + `","userProfile":{"phoneCountryCode":"82","phoneNo":"02-1234-5678"},"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`, false, "userProfile.phoneNo"},
			{"unknown field", `{"loginId":"` + next() + `","nickname":"x","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`, false, "nickname"},
		} {
			r := e.do("POST", "/api/v1/users", c.body)
			if c.ok && r.status != 200 {
				t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			}
			if !c.ok {
				if r.status != 400 || !strings.Contains(fmt.Sprint(r.obj["message"]), c.mentions) || r.obj["errorCode"] != 400.0 {
					t.Errorf("%s: %d %s, want 400 naming %s", c.name, r.status, r.raw, c.mentions)
				}
			}
		}
		// What was refused was not stored.
		if page := e.do("GET", "/api/v1/users?size=100", ""); page.obj["totalItems"] != 9.0 { // the eight accepted above, and admin
			t.Fatalf("users after the limits: %s", page.raw)
		}
	})
}

// The rest of the user routes: list with each searchColumn and its page envelope, PUT
// (accessRules required, loginId immutable), enable and disable, check-login-id, delete
// one and batch delete (a missing user fails alone).
func TestUserRoutes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var ids []string
		for i := range 3 {
			r := e.do("POST", "/api/v1/users", fmt.Sprintf(`{"loginId":"list%d@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`, i))
			ids = append(ids, r.obj["userId"].(string))
		}
		r := e.do("GET", "/api/v1/users?page=1&size=2", "")
		if r.status != 200 || r.obj["page"] != 1.0 || r.obj["totalItems"] != 4.0 || r.obj["totalPages"] != 2.0 || r.obj["isLast"] != true ||
			r.obj["hasPrevious"] != true || r.obj["hasNext"] != false || len(r.obj["items"].([]any)) != 2 {
			t.Fatalf("page 1: %s", r.raw)
		}
		for query, want := range map[string]float64{
			"searchColumn=loginId&searchWord=LIST": 3, "searchColumn=userId&searchWord=" + ids[1]: 1,
			"searchColumn=nrn&searchWord=nrn:PUB:SSO::" + account_ + ":User/" + ids[2]: 1,
			"searchColumn=nrn&searchWord=nrn:PUB:SSO::other:User/" + ids[2]:            0, "searchColumn=status&searchWord=suspended": 0,
		} {
			if r := e.do("GET", "/api/v1/users?"+query, ""); r.status != 200 || r.obj["totalItems"] != want {
				t.Errorf("%s: %d %s, want %v", query, r.status, r.raw, want)
			}
		}
		e.wantAPIError(e.do("GET", "/api/v1/users?searchColumn=name&searchWord=x", ""), 400, "searchColumn")
		e.wantAPIError(e.do("GET", "/api/v1/users?size=101", ""), 400, "size")

		r = e.do("PUT", "/api/v1/users/"+ids[0], `{"description":"설명","userProfile":{"firstName":"Jane"},"accessRules":{"consoleAccessAllowed":false,"apiAccessAllowed":true}}`)
		if r.status != 200 || r.obj["success"] != true || r.obj["id"] != ids[0] {
			t.Fatalf("put: %d %s", r.status, r.raw)
		}
		got := e.do("GET", "/api/v1/users/"+ids[0], "")
		if got.obj["description"] != "설명" || got.obj["userProfile"].(map[string]any)["firstName"] != "Jane" ||
			got.obj["accessRules"].(map[string]any)["consoleAccessAllowed"] != false {
			t.Fatalf("after put: %s", got.raw)
		}
		e.wantAPIError(e.do("PUT", "/api/v1/users/"+ids[0], `{"description":"x"}`), 400, "accessRules")
		e.wantAPIError(e.do("PUT", "/api/v1/users/"+ids[0], `{"loginId":"other@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`), 400, "loginId")
		if again := e.do("GET", "/api/v1/users/"+ids[0], ""); again.raw != got.raw {
			t.Fatalf("a refused PUT changed the user: %s, before %s", again.raw, got.raw)
		}
		e.wantAPIError(e.do("GET", "/api/v1/users/00000000-0000-0000-0000-000000000000", ""), 404, "userId")

		r = e.do("POST", "/api/v1/users/disable", `{"userIds":["`+ids[0]+`","`+ids[1]+`"]}`)
		if r.status != 200 || len(r.list) != 2 || r.list[0].(map[string]any)["success"] != true {
			t.Fatalf("disable: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users?searchColumn=status&searchWord=suspended", ""); r.obj["totalItems"] != 2.0 {
			t.Fatalf("suspended after disable: %s", r.raw)
		}
		if r := e.do("POST", "/api/v1/users/enable", `{"userIds":["`+ids[0]+`"]}`); r.status != 200 {
			t.Fatalf("enable: %d %s", r.status, r.raw)
		}
		if got := e.do("GET", "/api/v1/users/"+ids[0], ""); got.obj["status"] != "active" {
			t.Fatalf("after enable: %s", got.raw)
		}

		for login, free := range map[string]bool{"list0@example.com": false, "LIST0@example.com": false, "free@example.com": true} {
			if r := e.do("GET", "/api/v1/users/check-login-id?loginId="+login, ""); r.status != 200 || r.obj["available"] != free {
				t.Errorf("check %s: %s", login, r.raw)
			}
		}

		if r := e.do("DELETE", "/api/v1/users/"+ids[2], ""); r.status != 200 || r.obj["success"] != true {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		r = e.do("POST", "/api/v1/users/delete", `{"userIds":["`+ids[1]+`","`+ids[2]+`"]}`)
		if r.status != 200 || len(r.list) != 2 || r.list[0].(map[string]any)["success"] != true ||
			r.list[1].(map[string]any)["success"] != false || r.list[1].(map[string]any)["message"] == "" {
			t.Fatalf("batch delete: %d %s", r.status, r.raw)
		}
		e.wantAPIError(e.do("POST", "/api/v1/users/delete", `{"userIds":[]}`), 400, "userIds")
	})
}

// Per user: access rules, profile, group membership (and a group's members); and the
// bulk create, whose refused users fail alone.
func TestUserSubresources(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string)
		if r := e.do("GET", "/api/v1/users/"+id+"/access-rules", ""); r.status != 200 || r.obj["apiAccessAllowed"] != false {
			t.Fatalf("access rules: %d %s", r.status, r.raw)
		}
		if r := e.do("PUT", "/api/v1/users/"+id+"/access-rules", `{"consoleAccessAllowed":false,"apiAccessAllowed":true}`); r.status != 200 || r.obj["success"] != true {
			t.Fatalf("put access rules: %d %s", r.status, r.raw)
		}
		e.wantAPIError(e.do("PUT", "/api/v1/users/"+id+"/access-rules", `{"consoleAccessAllowed":true}`), 400, "apiAccessAllowed")
		if r := e.do("GET", "/api/v1/users/"+id+"/access-rules", ""); r.obj["consoleAccessAllowed"] != false || r.obj["apiAccessAllowed"] != true {
			t.Fatalf("after put: %s", r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/profiles", ""); r.status != 200 || r.obj["lastName"] != "Doe" {
			t.Fatalf("profile: %d %s", r.status, r.raw)
		}

		var groups []string
		for _, name := range []string{"Dev", "Ops"} {
			g := e.do("POST", "/api/v1/groups", `{"groupName":"`+name+`","description":"the `+name+` team"}`)
			if g.status != 200 || g.obj["groupName"] != name {
				t.Fatalf("create group: %d %s", g.status, g.raw)
			}
			groups = append(groups, g.obj["groupId"].(string))
		}
		if r := e.do("GET", "/api/v1/groups?size=1&page=1", ""); r.status != 200 || r.obj["totalItems"] != 2.0 || r.obj["items"].([]any)[0].(map[string]any)["groupName"] != "Ops" {
			t.Fatalf("list groups: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/groups/"+groups[0], ""); r.status != 200 || r.obj["description"] != "the Dev team" {
			t.Fatalf("get group: %d %s", r.status, r.raw)
		}
		e.wantAPIError(e.do("POST", "/api/v1/groups", `{"description":"x"}`), 400, "groupName")
		if r := e.do("GET", "/api/v1/groups", ""); r.status != 200 || r.obj["totalItems"] != 2.0 {
			t.Fatalf("groups after a refused create: %d %s", r.status, r.raw)
		}
		// The groups are joined in one change: a group that is not there refuses it all,
		// and each item says why.
		r := e.do("POST", "/api/v1/users/"+id+"/groups", `{"groupIds":["`+groups[0]+`","`+groups[1]+`","00000000-0000-0000-0000-000000000000"]}`)
		if r.status != 200 || len(r.list) != 3 {
			t.Fatalf("add to groups: %d %s", r.status, r.raw)
		}
		for _, item := range r.list {
			if item := item.(map[string]any); item["success"] != false || !strings.Contains(item["message"].(string), "00000000-0000-0000-0000-000000000000") {
				t.Fatalf("a refused join: %s", r.raw)
			}
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/groups", ""); r.obj["totalItems"] != 0.0 {
			t.Fatalf("a refused join joined: %s", r.raw)
		}
		// A user that is not there is the API's 404, not a failed item per group.
		missing := "00000000-0000-0000-0000-0000000000aa"
		for _, path := range []string{"/groups", "/groups/delete"} {
			e.wantAPIError(e.do("POST", "/api/v1/users/"+missing+path, `{"groupIds":["`+groups[0]+`"]}`), 404, "userId")
		}
		if r := e.do("GET", "/api/v1/groups/"+groups[0]+"/users", ""); r.obj["totalItems"] != 0.0 {
			t.Fatalf("a refused join joined: %s", r.raw)
		}
		r = e.do("POST", "/api/v1/users/"+id+"/groups", `{"groupIds":["`+groups[0]+`","`+groups[1]+`"]}`)
		if r.status != 200 || len(r.list) != 2 || r.list[0].(map[string]any)["success"] != true || r.list[1].(map[string]any)["success"] != true {
			t.Fatalf("add to groups: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/groups", ""); r.obj["totalItems"] != 2.0 {
			t.Fatalf("the user's groups: %s", r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/groups/"+groups[1], ""); r.status != 200 || r.obj["groupName"] != "Ops" {
			t.Fatalf("one group: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/groups/"+groups[0]+"/users", ""); r.status != 200 || r.obj["totalItems"] != 1.0 {
			t.Fatalf("the group's users: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", "/api/v1/users/"+id+"/groups/delete", `{"groupIds":["`+groups[1]+`"]}`); r.status != 200 {
			t.Fatalf("remove from a group: %d %s", r.status, r.raw)
		}
		e.wantAPIError(e.do("GET", "/api/v1/users/"+id+"/groups/"+groups[1], ""), 404, "not a member")
		e.wantAPIError(e.do("GET", "/api/v1/groups/00000000-0000-0000-0000-000000000000/users", ""), 404, "groupId")

		r = e.do("POST", "/api/v1/users/bulk", `{"params":[
			{"loginId":"bulk1@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},
			{"loginId":"not-an-email","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},
			{"loginId":"jdoe@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}]}`)
		if r.status != 200 || len(r.list) != 3 {
			t.Fatalf("bulk: %d %s", r.status, r.raw)
		}
		first, second, third := r.list[0].(map[string]any), r.list[1].(map[string]any), r.list[2].(map[string]any)
		if first["success"] != true || first["name"] != "bulk1@example.com" || second["success"] != false ||
			!strings.Contains(second["message"].(string), "loginId") || third["success"] != false {
			t.Fatalf("bulk results: %s", r.raw)
		}
		e.wantAPIError(e.do("POST", "/api/v1/users/bulk", `{"params":[]}`), 400, "params")
	})
}

// Sessions are the accounts core's sign-in tokens: listed by id, expired all at once (the
// token stops working); the MFA device is the core's TOTP, which an administrator resets.
func TestSessionsAndMFA(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string)
		coreID := strings.ReplaceAll(id, "-", "")
		admin := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: "root", Name: "Root", PlatformAdmin: true})
		const password = "a long enough passphrase 9"
		e.core.SetPassword(t, admin, account_, coreID, password, false)
		var tokens []string
		for range 2 {
			grant, err := e.acct.SignIn(context.Background(), iamd.SignIn{InstanceID: account_, LoginName: "jdoe@example.com", Password: password})
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, grant.Token)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/sessions", ""); r.status != 200 || r.obj["totalItems"] != 2.0 {
			t.Fatalf("sessions: %d %s", r.status, r.raw)
		}
		if r := e.do("POST", "/api/v1/users/"+id+"/sessions/expire", ""); r.status != 200 || r.obj["success"] != true {
			t.Fatalf("expire: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/sessions", ""); r.obj["totalItems"] != 0.0 {
			t.Fatalf("sessions after expiry: %s", r.raw)
		}
		for _, token := range tokens {
			if _, err := e.acct.AuthenticateToken(context.Background(), token); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatalf("an expired session still works: %v", err)
			}
		}

		if r := e.do("GET", "/api/v1/users/"+id+"/mfa-devices", ""); r.status != 200 || r.obj["totalItems"] != 0.0 {
			t.Fatalf("no MFA yet: %d %s", r.status, r.raw)
		}
		self := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: coreID, InstanceID: account_, Name: "John"})
		enrolment, err := e.acct.EnrolTOTP(self)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := totp.GenerateCodeCustom(enrolment.Secret, time.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if _, err := e.acct.ConfirmTOTP(self, code); err != nil {
			t.Fatal(err)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/mfa-devices", ""); r.obj["totalItems"] != 1.0 {
			t.Fatalf("MFA enrolled: %s", r.raw)
		}
		if r := e.do("DELETE", "/api/v1/users/"+id+"/mfa-devices", ""); r.status != 200 || r.obj["success"] != true {
			t.Fatalf("reset MFA: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/mfa-devices", ""); r.obj["totalItems"] != 0.0 {
			t.Fatalf("after reset: %s", r.raw)
		}
	})
}

// The seed's request, signed by NAVER Cloud's documented recipe — openssl for the HMAC,
// curl to send it (scripts/ncloud-curl.sh) — creates the user.
func TestVendorRecipeWithOpenSSLAndCurl(t *testing.T) {
	for _, tool := range []string{"bash", "openssl", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed to run the vendor's recipe: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	e := start(t, storetest.OpenSQLite(t))
	cmd := exec.Command("bash", "../../scripts/ncloud-curl.sh", "POST", e.base+"/api/v1/users", seedCreate)
	cmd.Env = append(os.Environ(), "NCP_ACCESS_KEY="+accessKey, "NCP_SECRET_KEY="+secretKey)
	out, err := cmd.CombinedOutput()
	var created struct{ UserID, LoginID string }
	if err != nil || json.Unmarshal(out, &created) != nil || created.LoginID != "jdoe@example.com" || created.UserID == "" {
		t.Fatalf("the recipe: %v\n%s", err, out)
	}
	cmd = exec.Command("bash", "../../scripts/ncloud-curl.sh", "GET", e.base+"/api/v1/users?searchColumn=loginId&searchWord=jdoe&page=0&size=20")
	cmd.Env = append(os.Environ(), "NCP_ACCESS_KEY="+accessKey, "NCP_SECRET_KEY="+secretKey)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), `"totalItems":1`) {
		t.Fatalf("a signed query by the recipe: %v\n%s", err, out)
	}
}

// Tags: set (a key set again takes the new value), listed by key, removed by key, within
// the core's bounds.
func TestUserTags(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string)
		for _, body := range []string{`{"tags":[{"tagKey":"team","tagValue":"blue"},{"tagKey":"팀","tagValue":"파랑"}]}`,
			`{"tags":[{"tagKey":"team","tagValue":"red"}]}`} {
			if r := e.do("POST", "/api/v1/users/"+id+"/tags", body); r.status != 200 || r.obj["success"] != true {
				t.Fatalf("put tags: %d %s", r.status, r.raw)
			}
		}
		r := e.do("GET", "/api/v1/users/"+id+"/tags", "")
		if r.status != 200 || r.obj["totalItems"] != 2.0 || r.obj["items"].([]any)[0].(map[string]any)["tagValue"] != "red" {
			t.Fatalf("tags: %d %s", r.status, r.raw)
		}
		e.wantAPIError(e.do("POST", "/api/v1/users/"+id+"/tags", `{"tags":[{"tagKey":"","tagValue":"x"}]}`), 400, "tags")
		e.wantAPIError(e.do("POST", "/api/v1/users/"+id+"/tags", `{"tags":[]}`), 400, "tags")
		if r := e.do("POST", "/api/v1/users/"+id+"/tags/delete", `{"tagKeys":["team"]}`); r.status != 200 {
			t.Fatalf("delete tags: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/tags", ""); r.obj["totalItems"] != 1.0 {
			t.Fatalf("after delete: %s", r.raw)
		}
	})
}

// Bad input in a batch is named like any other bad input: the item fails with the field
// at fault, never "Internal error", and nothing is logged as the server's error.
func TestBulkBadInputIsNamed(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/users/bulk", `{"params":[
			{"loginId":"fine@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},
			{"loginId":"odd@example.com","nickname":"x","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},
			{"loginId":"typed@example.com","description":7,"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},
			"not an object"]}`)
		if r.status != 200 || len(r.list) != 4 {
			t.Fatalf("bulk: %d %s", r.status, r.raw)
		}
		for i, want := range []string{"", "nickname", "description", "JSON object"} {
			item := r.list[i].(map[string]any)
			msg, _ := item["message"].(string)
			if (want == "") != (item["success"] == true) || !strings.Contains(msg, want) || strings.Contains(msg, "Internal error") {
				t.Errorf("item %d: %v, want it to name %q", i, item, want)
			}
		}
		e.logs.CheckNoErrors(t)
		if page := e.do("GET", "/api/v1/users?searchColumn=loginId&searchWord=odd", ""); page.obj["totalItems"] != 0.0 {
			t.Fatalf("a refused item was stored: %s", page.raw)
		}
	})
}
