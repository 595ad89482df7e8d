package scp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/face/scp"
	"iamd/internal/facetest"
	"iamd/internal/openapitest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const (
	instanceID = "ssoins-12345"
	accessKey  = "test-access-key"
	secretKey  = "test-secret-key-for-iamd"
	group1     = "39520424-440c-41c0-9b9c-f22b2129f6f9"
	group2     = "80c53fe1-4e27-4cce-92be-151cf0f2873e"
)

// The three vectors of faces.md §1.
func TestSignatureVectors(t *testing.T) {
	for _, v := range []struct{ method, url, want string }{
		{"POST", "http://127.0.0.1:8080/v1/users", "DoqtiMhzEDcXNFJX/JN51RtTehDHf7KDstRzQv9Nm7c="},
		{"PATCH", "http://127.0.0.1:8080/v1/users/138c2fc8c29a449dbfa8681f8f1d78e2", "OIwSiyT+sGL0qGta1HAKi45HqbWm113qQYvJVEMuhJI="},
		{"GET", "http://127.0.0.1:8080/v1/users?instance_id=ssoins-12345&page=0&size=20", "aJOuqGEIjPBo23W0mOPzK0GGatjPHH55/VneW66TqCg="},
	} {
		if got := scp.Sign("test-secret-key", v.method, v.url, "1605290625682", "test-access-key", "", "Openapi"); got != v.want {
			t.Errorf("%s %s: %s, want %s", v.method, v.url, got, v.want)
		}
	}
}

type env struct {
	t       *testing.T
	base    string // http://host:port
	store   iamd.Store
	dir     *directory.Service
	acct    *account.Service
	core    *facetest.Core
	admin   context.Context
	check   *openapitest.Validator
	key     string
	secret  string
	version string
	now     func() time.Time
}

// eachStore runs test against a real server over each real store.
func eachStore(t *testing.T, policy string, test func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			test(t, start(t, engine.Open(t), policy))
		})
	}
}

func start(t *testing.T, store iamd.Store, policy string) *env {
	ctx := context.Background()
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: instanceID, AdminPassword: "admin password",
		AdminAccessKey: accessKey, AdminSecretKey: secretKey, AdminAPIToken: "iamd_test_token_0123456789"})
	acct, dir, boot := core.Accounts, core.Directory, core.Boot
	e := &env{t: t, store: store, dir: dir, acct: acct, core: core, key: accessKey, secret: secretKey, now: time.Now}
	logs, logger := core.Logs, core.Logger
	t.Cleanup(func() {
		logs.CheckNoSecrets(t, secretKey, "admin password", "iamd_test_token_0123456789", "first violet staple",
			"second violet staple", "third violet staple")
	})
	face, err := scp.New(scp.Config{Users: dir, Groups: dir, Auth: acct, VersionPolicy: policy,
		Now:    func() time.Time { return e.now() },
		Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e.base = servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store), Mounts: []server.Mount{{Prefix: "/scp", Face: face}},
		Logger: logger, Ready: store.Ping})["main"]
	e.check = openapitest.New(t, scp.OpenAPIDocument(), e.base+"/scp", "ErrorResponse")
	admin, err := acct.VerifyHMAC(ctx, accessKey, []byte("x"), mac(secretKey, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if admin.UserID != boot.AdminUserID {
		t.Fatal("bootstrap admin mismatch")
	}
	e.admin = iamd.NewContextWithPrincipal(ctx, admin)
	return e
}

func mac(secret, msg string) []byte {
	sig, _ := decodeB64(scp.Sign(secret, "", msg, "", "", "", ""))
	return sig
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %s", r.body)
	}
	return m
}

// errorOf returns the first error item of an SCP error response.
func (r response) errorOf(t *testing.T) map[string]any {
	t.Helper()
	errs, _ := r.json(t)["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("status %d without an errors array: %s", r.status, r.body)
	}
	return errs[0].(map[string]any)
}

// do sends a signed request (body: nil, a string of raw bytes, or a value to marshal) and
// validates the response against the OpenAPI document.
func (e *env) do(method, path string, body any, mutate ...func(*http.Request)) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, e.base+path, bytes.NewReader(raw))
	if err != nil {
		e.t.Fatal(err)
	}
	if raw == nil {
		req.Body, req.ContentLength = nil, 0
	}
	ts := strconv.FormatInt(e.now().UnixMilli(), 10)
	req.Header.Set("Scp-Accesskey", e.key) // clients spell it this way; headers match case-insensitively
	req.Header.Set("Scp-Signature", scp.Sign(e.secret, method, e.base+path, ts, e.key, "", "Openapi"))
	req.Header.Set("Scp-Timestamp", ts)
	req.Header.Set("Scp-ClientType", "Openapi")
	req.Header.Set("Scp-AccountId", "")
	req.Header.Set("Accept-Language", "en-US")
	req.Header.Set("Content-Type", "application/json")
	if e.version != "" {
		req.Header.Set("Scp-Api-Version", e.version)
	}
	for _, m := range mutate {
		m(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	check, _ := http.NewRequest(method, e.base+path, nil)
	e.check.Check(e.t, check, resp.StatusCode, resp.Header, out)
	return response{resp.StatusCode, resp.Header, out}
}

func (e *env) mustStatus(r response, want int) response {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

func (e *env) userCount() int {
	e.t.Helper()
	r := e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID, nil), 200)
	return int(r.json(e.t)["count"].(float64))
}

func (e *env) createGroups() {
	for i, id := range []string{group1, group2} {
		e.mustStatus(e.do("POST", "/scp/v1/groups", map[string]any{"instance_id": instanceID, "id": id, "name": fmt.Sprintf("Group %d", i+1)}), 201)
	}
}

// The seeds' requests, sent as they are.
const seedCreate = `{
"business_unit": "Business Unit A",
"department": "Department X",
"description": "Description of John Doe",
"email": "john.doe@example.com",
"employee_id": "emp-12345",
"group_ids": [
"39520424-440c-41c0-9b9c-f22b2129f6f9",
"80c53fe1-4e27-4cce-92be-151cf0f2873e"
],
"instance_id": "ssoins-12345",
"manager": "Alice Smith",
"name": "John Doe",
"nation_id": "+82",
"password": "",
"phone_number": "010-1234-5678",
"temporary_password": true,
"user_id": "johndoe"
}`

const seedSet = `{
    "business_unit": "Business Unit A",
    "department": "Department X",
    "description": "Description of John Doe",
    "email": "john.doe@example.com",
    "employee_id": "emp-12345",
    "instance_id": "ssoins-12345",
    "manager": "Alice Smith",
    "name": "John Doe",
    "nation_id": "+82",
    "phone_number": "010-1234-5678",
    "tz_id": "Asia/Seoul"
}`

var documentedFields = strings.Fields(`business_unit created_at created_by creator_name department description email
	email_authenticated employee_id groups id instance_id last_login_at last_password_update_at manager modified_at
	modified_by modifier_name name nation_id password password_failed_count password_reuse_count phone_authenticated
	phone_number temporary_password tz_id user_id`)

func TestSeedExamples(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		e.createGroups()
		// The create seed sends 1.1, whose Not Before date is 2026-05-31: send it the day before.
		e.at(time.Date(2026, 5, 30, 0, 0, 0, 0, time.UTC))
		e.version = "iam-identity-center 1.1"
		r := e.mustStatus(e.do("POST", "/scp/v1/users", seedCreate), 201)
		e.version = ""
		user := r.json(t)["user"].(map[string]any)
		if len(user) != len(documentedFields) {
			t.Fatalf("user has %d fields, want the %d documented", len(user), len(documentedFields))
		}
		for _, f := range documentedFields {
			if _, ok := user[f]; !ok {
				t.Errorf("field %s missing", f)
			}
		}
		want := map[string]any{
			"business_unit": "Business Unit A", "department": "Department X", "description": "Description of John Doe",
			"email": "john.doe@example.com", "email_authenticated": false, "employee_id": "emp-12345",
			"instance_id": instanceID, "manager": "Alice Smith", "name": "John Doe", "nation_id": "+82", "password": "",
			"phone_authenticated": false, "phone_number": "010-1234-5678", "temporary_password": "true", "user_id": "johndoe",
			"creator_name": "Administrator", "modifier_name": "Administrator", "password_failed_count": 0.0,
			"password_reuse_count": 0.0, "tz_id": nil, "last_login_at": nil, "last_password_update_at": nil,
		}
		for k, v := range want {
			if user[k] != v {
				t.Errorf("%s = %#v, want %#v", k, user[k], v)
			}
		}
		id := user["id"].(string)
		if len(id) != 32 || strings.ToLower(id) != id {
			t.Errorf("id %q is not 32 lowercase hex", id)
		}
		admin := iamd.PrincipalFromContext(e.admin)
		if user["created_by"] != admin.UserID || user["modified_by"] != admin.UserID {
			t.Errorf("created_by %v, modified_by %v, want the caller %s", user["created_by"], user["modified_by"], admin.UserID)
		}
		if _, err := time.Parse(time.RFC3339, user["created_at"].(string)); err != nil {
			t.Errorf("created_at: %v", err)
		}
		if groups := user["groups"].([]any); len(groups) != 2 {
			t.Errorf("groups %v, want both seed groups", groups)
		}

		e.version = "iam-identity-center 1.4"
		r = e.mustStatus(e.do("PATCH", "/scp/v1/users/"+id, seedSet), 200)
		user = r.json(t)["user"].(map[string]any)
		if user["tz_id"] != "Asia/Seoul" || user["name"] != "John Doe" || len(user) != len(documentedFields) {
			t.Fatalf("after set: %s", r.body)
		}
		shown := e.mustStatus(e.do("GET", "/scp/v1/users/"+id+"?instance_id="+instanceID, nil), 200).json(t)["user"].(map[string]any)
		if shown["tz_id"] != "Asia/Seoul" || shown["modified_at"] != user["modified_at"] {
			t.Fatalf("show after set: %v", shown)
		}
		list := e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID+"&user_id=JohnDoe", nil), 200).json(t)
		if list["count"] != 1.0 || list["users"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("list by user_id: %v", list)
		}
	})
}

func TestSetSemantics(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "jane", "name": "Jane",
			"email": "jane@example.com", "department": "Ops"}), 201)
		id := r.json(t)["user"].(map[string]any)["id"].(string)
		user := e.mustStatus(e.do("PATCH", "/scp/v1/users/"+id, `{"instance_id":"ssoins-12345","email":null,"manager":"Bob"}`), 200).json(t)["user"].(map[string]any)
		if user["email"] != nil || user["department"] != "Ops" || user["manager"] != "Bob" {
			t.Fatalf("null clears, absent stays: %v", user)
		}
		if _, err := e.dir.CreateInstance(e.admin, &iamd.Instance{ID: "other"}); err != nil {
			t.Fatal(err)
		}
		r = e.do("PATCH", "/scp/v1/users/"+id, `{"instance_id":"other","manager":"Eve"}`)
		if r.status != 404 {
			t.Fatalf("instance_id of another instance: %d %s", r.status, r.body)
		}
		r = e.do("PATCH", "/scp/v1/users/"+id, `{"instance_id":"ssoins-12345","name":null}`)
		if r.status != 400 || r.errorOf(t)["field"] != "name" {
			t.Fatalf("clearing name: %d %s", r.status, r.body)
		}
		r = e.do("PATCH", "/scp/v1/users/"+id, `{"manager":"Eve"}`)
		if r.status != 400 || r.errorOf(t)["field"] != "instance_id" {
			t.Fatalf("missing instance_id: %d %s", r.status, r.body)
		}
		shown := e.mustStatus(e.do("GET", "/scp/v1/users/"+id+"?instance_id="+instanceID, nil), 200).json(t)["user"].(map[string]any)
		if shown["manager"] != "Bob" || shown["name"] != "Jane" || shown["modified_at"] != user["modified_at"] {
			t.Fatalf("the refused PATCHes changed the user: %v", shown)
		}
	})
}

func decodeB64(s string) ([]byte, error) {
	return (&jsonB64{}).decode(s)
}

type jsonB64 struct{}

func (jsonB64) decode(s string) ([]byte, error) {
	var b []byte
	err := json.Unmarshal([]byte(`"`+s+`"`), &b)
	return b, err
}

func TestAuthentication(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		cases := map[string]func(*http.Request){
			"timestamp 6 minutes old": func(r *http.Request) {
				ts := strconv.FormatInt(e.now().Add(-6*time.Minute).UnixMilli(), 10)
				r.Header.Set("Scp-Timestamp", ts)
				r.Header.Set("Scp-Signature", scp.Sign(secretKey, r.Method, e.base+r.URL.RequestURI(), ts, accessKey, "", "Openapi"))
			},
			"changed path": func(r *http.Request) { r.URL.Path = "/scp/v1/groups" },
			"unknown key": func(r *http.Request) {
				ts := r.Header.Get("Scp-Timestamp")
				r.Header.Set("Scp-AccessKey", "unknown-access-key")
				r.Header.Set("Scp-Signature", scp.Sign(secretKey, r.Method, e.base+r.URL.RequestURI(), ts, "unknown-access-key", "", "Openapi"))
			},
			"wrong secret": func(r *http.Request) {
				r.Header.Set("Scp-Signature", scp.Sign("another-secret", r.Method, e.base+r.URL.RequestURI(), r.Header.Get("Scp-Timestamp"), accessKey, "", "Openapi"))
			},
			"changed query":     func(r *http.Request) { r.URL.RawQuery = "instance_id=other" },
			"no signature":      func(r *http.Request) { r.Header.Del("Scp-Signature") },
			"garbage signature": func(r *http.Request) { r.Header.Set("Scp-Signature", "%%%") },
		}
		for name, mutate := range cases {
			r := e.do("GET", "/scp/v1/users?instance_id="+instanceID, nil, mutate)
			if r.status != 401 || r.errorOf(t)["code"] != scp.CodeUnauthorized {
				t.Errorf("%s: %d %s", name, r.status, r.body)
			}
		}
		e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID, nil), 200)
	})
}

func TestConcurrentCreatesOfOneUserID(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		const n = 100
		statuses := make([]int, n)
		codes := make([]any, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "racer", "name": fmt.Sprint("Racer ", i)})
				statuses[i] = r.status
				if r.status != 201 {
					codes[i] = r.errorOf(t)["code"]
				}
			}()
		}
		wg.Wait()
		created := 0
		for i, s := range statuses {
			switch {
			case s == 201:
				created++
			case s != 400 || codes[i] != scp.CodeDuplicateUserID:
				t.Errorf("request %d: %d %v", i, s, codes[i])
			}
		}
		if created != 1 {
			t.Fatalf("%d creates succeeded, want exactly 1", created)
		}
		if c := e.userCount(); c != 2 { // the admin and the racer
			t.Fatalf("%d users, want 2", c)
		}
	})
}

func TestBadInputChangesNothing(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		e.createGroups()
		before := e.userCount()
		ok := `"instance_id":"ssoins-12345","user_id":"bad","name":"Bad"`
		cases := []struct {
			name, body string
			status     int
			field      string
		}{
			{"malformed JSON", `{"instance_id":`, 400, ""},
			{"trailing data", `{` + ok + `} {}`, 400, ""},
			{"not an object", `["x"]`, 400, ""},
			{"wrong type", `{"instance_id":"ssoins-12345","user_id":"bad","name":5}`, 400, "name"},
			{"wrong type bool", `{` + ok + `,"temporary_password":"yes"}`, 400, "temporary_password"},
			{"wrong type array", `{` + ok + `,"group_ids":"x"}`, 400, "group_ids"},
			{"unknown field", `{` + ok + `,"is_admin":true}`, 400, "is_admin"},
			{"bad UTF-8", "{" + ok + ",\"description\":\"\xff\xfe\"}", 400, ""},
			{"missing user_id", `{"instance_id":"ssoins-12345","name":"Bad"}`, 400, "user_id"},
			{"missing name", `{"instance_id":"ssoins-12345","user_id":"bad"}`, 400, "name"},
			{"bad email", `{` + ok + `,"email":"not-an-email"}`, 400, "email"},
			{"bad nation_id", `{` + ok + `,"nation_id":"82"}`, 400, "nation_id"},
			{"bad phone", `{` + ok + `,"phone_number":"call me"}`, 400, "phone_number"},
			{"bad tz_id", `{` + ok + `,"tz_id":"Mars/Olympus"}`, 400, "tz_id"},
			{"long name", `{"instance_id":"ssoins-12345","user_id":"bad","name":"` + strings.Repeat("n", 129) + `"}`, 400, "name"},
			{"control characters", `{` + ok + `,"department":"a\u0000b"}`, 400, "department"},
			{"unknown group", `{` + ok + `,"group_ids":["` + group1 + `","00000000-0000-0000-0000-000000000000"]}`, 400, "group_ids"},
			{"short password", `{` + ok + `,"password":"short"}`, 400, "password"},
			{"2 MiB body", `{` + ok + `,"description":"` + strings.Repeat("x", 2<<20) + `"}`, 413, ""},
		}
		for _, c := range cases {
			r := e.do("POST", "/scp/v1/users", c.body)
			if r.status != c.status {
				t.Errorf("%s: status %d, want %d: %.300s", c.name, r.status, c.status, r.body)
				continue
			}
			item := r.errorOf(t)
			if item["status"] != float64(c.status) || item["detail"] == "" {
				t.Errorf("%s: error item %v", c.name, item)
			}
			if c.field != "" && item["field"] != c.field {
				t.Errorf("%s: field %v, want %s (%v)", c.name, item["field"], c.field, item["detail"])
			}
			// The detail speaks SCP's names, never the core's where they differ.
			for _, core := range []string{"login_name", "display_name", "phone_country_code", "employee_number", "time_zone"} {
				if detail, _ := item["detail"].(string); strings.Contains(detail, core) {
					t.Errorf("%s: detail names the core's %s: %s", c.name, core, detail)
				}
			}
		}
		// Streamed without Content-Length, the body limit still holds.
		r := e.do("POST", "/scp/v1/users", nil, func(req *http.Request) {
			req.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"description":"`), strings.NewReader(strings.Repeat("x", 2<<20))))
			req.ContentLength = -1
		})
		if r.status != 413 {
			t.Errorf("streamed 2 MiB: %d", r.status)
		}
		if after := e.userCount(); after != before {
			t.Fatalf("bad input stored users: %d → %d", before, after)
		}
		for _, q := range []string{"", "&page=-1", "&size=0", "&size=1001", "&sort=password", "&sort=name:sideways"} {
			path := "/scp/v1/users?instance_id=" + instanceID + q
			if q == "" {
				path = "/scp/v1/users"
			}
			if r := e.do("GET", path, nil); r.status != 400 {
				t.Errorf("GET %s: %d", path, r.status)
			}
		}
		if r := e.do("GET", "/scp/v1/users/not-an-id", nil); r.status != 400 || r.errorOf(t)["field"] != "user_uuid" {
			t.Errorf("bad user_uuid: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/scp/v1/nothing-here", nil); r.status != 404 || r.errorOf(t)["code"] != scp.CodeNotFound {
			t.Errorf("unknown path: %d %s", r.status, r.body)
		}
	})
}

// versionCase is what one request naming a version should get at one instant.
type versionCase struct {
	version     string // "1.1"; "" sends no header
	served      bool
	sunset      string // the Sunset header, "" for none
	deprecation string // the Deprecation header, "" for none
}

// at sets the server's clock, which also signs the requests.
func (e *env) at(t time.Time) { e.now = func() time.Time { return t } }

// checkVersion sends a signed read naming c.version and checks the answer.
func (e *env) checkVersion(t *testing.T, c versionCase) {
	t.Helper()
	e.version = ""
	if c.version != "" {
		e.version = scp.ServiceName + " " + c.version
	}
	defer func() { e.version = "" }()
	r := e.do("GET", "/scp/v1/users?instance_id="+instanceID, nil)
	if c.served && r.status != 200 || !c.served && r.status != 400 {
		t.Errorf("%s at %s: %d, served %v: %s", c.version, e.now().Format(time.RFC3339), r.status, c.served, r.body)
		return
	}
	if got := r.header.Get("Sunset"); got != c.sunset {
		t.Errorf("%s at %s: Sunset %q, want %q", c.version, e.now().Format(time.RFC3339), got, c.sunset)
	}
	if got := r.header.Get("Deprecation"); got != c.deprecation {
		t.Errorf("%s at %s: Deprecation %q, want %q", c.version, e.now().Format(time.RFC3339), got, c.deprecation)
	}
	if !c.served {
		item := r.errorOf(t)
		if item["code"] != scp.CodeUnsupportedVersion || item["field"] != "Scp-Api-Version" || item["status"] != 400.0 ||
			!strings.Contains(item["detail"].(string), "no longer supported") {
			t.Errorf("%s at %s: %v", c.version, e.now().Format(time.RFC3339), item)
		}
	}
}

// listed returns each version's status in the version list.
func (e *env) listed(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range e.mustStatus(e.do("GET", "/scp/", nil), 200).json(t)["versions"].([]any) {
		item := v.(map[string]any)
		out[item["id"].(string)] = item["status"].(string)
	}
	return out
}

// Each dated version on each side of its Not Before date (00:00 UTC), under each policy:
// before it, served with Sunset (and Deprecation if DEPRECATED); from it on, refused with
// SCP's error shape by default and under enforce, served with both headers under warn.
func TestVersionDates(t *testing.T) {
	dated := []struct {
		version, status string
		notBefore       time.Time
	}{
		{"1.3", "SUPPORTED", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"1.2", "SUPPORTED", time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)},
		{"1.1", "DEPRECATED", time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC)},
		{"1.0", "DEPRECATED", time.Date(2026, 2, 23, 0, 0, 0, 0, time.UTC)},
	}
	for _, policy := range []string{"", scp.PolicyEnforce, scp.PolicyWarn} {
		name := policy
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			eachStore(t, policy, func(t *testing.T, e *env) {
				for _, d := range dated {
					sunset := d.notBefore.Format(http.TimeFormat)
					deprecation := "@" + strconv.FormatInt(d.notBefore.Unix(), 10)
					for _, now := range []time.Time{d.notBefore.Add(-time.Second), d.notBefore, d.notBefore.Add(24 * time.Hour)} {
						e.at(now)
						arrived := !now.Before(d.notBefore)
						c := versionCase{version: d.version, served: !arrived || policy == scp.PolicyWarn, sunset: sunset}
						if arrived || d.status == "DEPRECATED" {
							c.deprecation = deprecation
						}
						e.checkVersion(t, c)
						e.checkVersion(t, versionCase{version: "1.4", served: true})
						e.checkVersion(t, versionCase{served: true})
						want := d.status
						if arrived {
							want = "DEPRECATED"
						}
						if got := e.listed(t)["v"+d.version]; got != want {
							t.Errorf("%s listed %s at %s, want %s", d.version, got, now.Format(time.RFC3339), want)
						}
					}
				}
			})
		})
	}
}

// The day of issue 16 (2026-12-01): every dated version's Not Before date has arrived.
// By default only 1.4 is served, and a refused write changes nothing; warn serves them all.
func TestVersionsOnIssueDay(t *testing.T) {
	day := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	t.Run("default", func(t *testing.T) {
		eachStore(t, "", func(t *testing.T, e *env) {
			e.at(day)
			for _, v := range []string{"1.0", "1.1", "1.2", "1.3"} {
				e.version = scp.ServiceName + " " + v
				r := e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "v" + v, "name": "Old client"})
				if r.status != 400 || r.errorOf(t)["code"] != scp.CodeUnsupportedVersion {
					t.Errorf("%s: %d %s", v, r.status, r.body)
				} else if detail := r.errorOf(t)["detail"].(string); !strings.Contains(detail, "Callable versions: 1.4 ") {
					t.Errorf("%s: the detail should name only 1.4 as callable: %s", v, detail)
				}
			}
			e.version = ""
			if n := e.userCount(); n != 1 {
				t.Fatalf("%d users after refused creates, want the admin only", n)
			}
			e.version = scp.ServiceName + " 1.4"
			e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "current", "name": "Current client"}), 201)
			e.version = ""
			listed := e.listed(t)
			if listed["v1.4"] != "CURRENT" || listed["v1.3"] != "DEPRECATED" || listed["v1.0"] != "DEPRECATED" || len(listed) != len(scp.Versions) {
				t.Errorf("version list: %v", listed)
			}
		})
	})
	t.Run("warn", func(t *testing.T) {
		eachStore(t, scp.PolicyWarn, func(t *testing.T, e *env) {
			e.at(day)
			for _, v := range []string{"1.0", "1.1", "1.2", "1.3"} {
				e.version = scp.ServiceName + " " + v
				r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "v" + v, "name": "Old client"}), 201)
				if r.header.Get("Deprecation") == "" || r.header.Get("Sunset") == "" {
					t.Errorf("%s under warn: Deprecation %q Sunset %q", v, r.header.Get("Deprecation"), r.header.Get("Sunset"))
				}
			}
		})
	})
}

// The header's syntax, and versions that never get served.
func TestVersionHeader(t *testing.T) {
	eachStore(t, scp.PolicyWarn, func(t *testing.T, e *env) {
		e.at(time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)) // before every Not Before date
		list := e.mustStatus(e.do("GET", "/scp/", nil), 200).json(t)
		versions := list["versions"].([]any)
		first := versions[0].(map[string]any)
		if len(versions) != len(scp.Versions) || first["id"] != "v1.4" || first["status"] != "CURRENT" || first["not_before"] != nil {
			t.Fatalf("versions: %s", list)
		}
		path := "/scp/v1/users?instance_id=" + instanceID
		for _, c := range []struct {
			header string
			status int
		}{
			{"", 200},
			{"iam-identity-center 1.4", 200},
			{"IAM-Identity-Center v1.4", 200},
			{"iam-identity-center 9.9", 400},
			{"iam-identity-center", 400},
			{"billing 1.4", 400},
		} {
			e.version = c.header
			r := e.do("GET", path, nil)
			if r.status != c.status {
				t.Errorf("%q: %d %s", c.header, r.status, r.body)
				continue
			}
			if r.header.Get("Deprecation") != "" || r.header.Get("Sunset") != "" {
				t.Errorf("%q: Deprecation %q Sunset %q", c.header, r.header.Get("Deprecation"), r.header.Get("Sunset"))
			}
			if r.status == 400 {
				item := r.errorOf(t)
				if item["code"] != scp.CodeUnsupportedVersion || !strings.Contains(item["detail"].(string), "1.4, 1.3, 1.2, 1.1, 1.0") {
					t.Errorf("%q: %v", c.header, item)
				}
			}
		}
		e.version = ""
	})
}

func TestPrivilegesAndInstances(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		if _, err := e.dir.CreateInstance(e.admin, &iamd.Instance{ID: "other"}); err != nil {
			t.Fatal(err)
		}
		r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": "other", "user_id": "stranger", "name": "Stranger"}), 201)
		strangerID := r.json(t)["user"].(map[string]any)["id"].(string)
		r = e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "plain", "name": "Plain"}), 201)
		plainID := r.json(t)["user"].(map[string]any)["id"].(string)
		k, secret, err := e.acct.CreateAccessKey(e.admin, instanceID, plainID, iamd.CredentialOptions{Description: "test"})
		if err != nil {
			t.Fatal(err)
		}
		e.key, e.secret = k.ID, secret
		if r := e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "x", "name": "X"}); r.status != 403 || r.errorOf(t)["code"] != scp.CodeForbidden {
			t.Fatalf("create without USER_WRITE: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/scp/v1/users/"+strangerID+"?instance_id=other", nil); r.status != 404 {
			t.Fatalf("another instance's user: %d %s", r.status, r.body)
		}
		if r := e.do("GET", "/scp/v1/users?instance_id=other", nil); r.status != 404 {
			t.Fatalf("another instance's list: %d %s", r.status, r.body)
		}
		if r := e.do("DELETE", "/scp/v1/users/"+strangerID+"?instance_id=other", nil); r.status != 404 {
			t.Fatalf("delete in another instance: %d %s", r.status, r.body)
		}
		if u, err := e.dir.GetUser(e.admin, "other", strangerID); err != nil || u.LoginName != "stranger" {
			t.Fatalf("the other instance's user after a refused delete: %+v, %v", u, err)
		}
		if _, err := e.dir.FindUserByLogin(e.admin, instanceID, "x"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
			t.Fatalf("a create refused for want of USER_WRITE stored the user: %v", err)
		}
	})
}

func TestDeleteAndGroups(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		e.createGroups()
		var ids []string
		for i := range 3 {
			r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": fmt.Sprint("u", i), "name": fmt.Sprint("U ", i)}), 201)
			ids = append(ids, r.json(t)["user"].(map[string]any)["id"].(string))
		}
		g := e.mustStatus(e.do("POST", "/scp/v1/groups/"+group1+"/users", map[string]any{"instance_id": instanceID, "user_ids": ids}), 200).json(t)
		if g["group"].(map[string]any)["member_count"] != 3.0 {
			t.Fatalf("after adding: %v", g)
		}
		list := e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID+"&excluded_group_id="+group1, nil), 200).json(t)
		if list["count"] != 1.0 { // only the admin
			t.Fatalf("excluded_group_id: %v", list)
		}
		g = e.mustStatus(e.do("DELETE", "/scp/v1/groups/"+group1+"/users", map[string]any{"instance_id": instanceID, "user_ids": ids[:1]}), 200).json(t)
		if g["group"].(map[string]any)["member_count"] != 2.0 {
			t.Fatalf("after removing: %v", g)
		}
		groups := e.mustStatus(e.do("GET", "/scp/v1/groups?instance_id="+instanceID, nil), 200).json(t)
		if groups["count"] != 2.0 {
			t.Fatalf("groups: %v", groups)
		}
		e.mustStatus(e.do("GET", "/scp/v1/groups/"+group2, nil), 200)

		r := e.mustStatus(e.do("DELETE", "/scp/v1/users/"+ids[0]+"?instance_id="+instanceID, nil), 200).json(t)
		if len(r["success"].([]any)) != 1 {
			t.Fatalf("delete: %v", r)
		}
		missing := "00000000000000000000000000000000"
		r = e.mustStatus(e.do("DELETE", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_ids": []string{ids[1], missing, ids[2]}}), 200).json(t)
		if len(r["success"].([]any)) != 2 || len(r["fail"].([]any)) != 1 || r["fail"].([]any)[0].(map[string]any)["id"] != missing {
			t.Fatalf("bulk delete: %v", r)
		}
		admin := iamd.PrincipalFromContext(e.admin)
		r = e.mustStatus(e.do("DELETE", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_ids": []string{admin.UserID}}), 200).json(t)
		if len(r["fail"].([]any)) != 1 {
			t.Fatalf("deleting the built-in admin: %v", r)
		}
		if c := e.userCount(); c != 1 {
			t.Fatalf("%d users left, want the admin", c)
		}
		e.mustStatus(e.do("DELETE", "/scp/v1/groups/"+group2, nil), 204)
		e.mustStatus(e.do("GET", "/scp/v1/groups/"+group2, nil), 404)
	})
}

func TestPagingAndSort(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		for _, name := range []string{"delta", "Alpha", "charlie", "bravo"} {
			e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": name, "name": strings.ToUpper(name)}), 201)
		}
		var got []string
		for page := 0; page < 3; page++ {
			q := url.Values{"instance_id": {instanceID}, "page": {strconv.Itoa(page)}, "size": {"2"}, "sort": {"user_id:asc"}}
			r := e.mustStatus(e.do("GET", "/scp/v1/users?"+q.Encode(), nil), 200).json(t)
			if r["count"] != 5.0 || r["size"] != 2.0 || r["page"] != float64(page) || r["sort"].([]any)[0] != "user_id:asc" {
				t.Fatalf("page %d: %v", page, r)
			}
			for _, u := range r["users"].([]any) {
				got = append(got, u.(map[string]any)["user_id"].(string))
			}
		}
		if want := "admin Alpha bravo charlie delta"; strings.Join(got, " ") != want {
			t.Fatalf("pages: %v, want %s", got, want)
		}
		r := e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID+"&size=1", nil), 200).json(t)
		if r["sort"].([]any)[0] != "created_at:desc" || r["users"].([]any)[0].(map[string]any)["user_id"] != "bravo" {
			t.Fatalf("default sort newest first: %v", r)
		}
	})
}

// The account fields SCP shows are the core's real state, not placeholders.
func TestAccountStateIsShown(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "jane", "name": "Jane",
			"password": "first violet staple", "temporary_password": true}), 201)
		id := r.json(t)["user"].(map[string]any)["id"].(string)
		ctx := context.Background()
		signIn := func(pw string) error {
			_, err := e.acct.SignIn(ctx, iamd.SignIn{InstanceID: instanceID, LoginName: "jane", Password: pw})
			return err
		}
		for range 2 {
			if err := signIn("not her password"); iamd.ErrorCode(err) != iamd.EUNAUTHENTICATED {
				t.Fatal(err)
			}
		}
		user := e.mustStatus(e.do("GET", "/scp/v1/users/"+id+"?instance_id="+instanceID, nil), 200).json(t)["user"].(map[string]any)
		if user["password_failed_count"] != 2.0 || user["last_login_at"] != nil || user["temporary_password"] != "true" {
			t.Fatalf("after two failures: %v", user)
		}
		if err := signIn("first violet staple"); err != nil {
			t.Fatal(err)
		}
		for _, pw := range []string{"second violet staple", "third violet staple"} {
			e.core.SetPassword(t, e.admin, instanceID, id, pw, false)
		}
		user = e.mustStatus(e.do("GET", "/scp/v1/users/"+id+"?instance_id="+instanceID, nil), 200).json(t)["user"].(map[string]any)
		if user["password_failed_count"] != 0.0 || user["last_login_at"] == nil || user["password_reuse_count"] != 2.0 ||
			user["temporary_password"] != "false" || user["last_password_update_at"] == nil || user["password"] != "" {
			t.Fatalf("after a sign-in and two changes: %v", user)
		}
	})
}

// A key whose owner holds only a read role reads, and gets 403 on every write.
func TestReadOnlyRole(t *testing.T) {
	eachStore(t, "", func(t *testing.T, e *env) {
		if err := e.dir.EnsureBuiltinRoles(e.admin); err != nil {
			t.Fatal(err)
		}
		r := e.mustStatus(e.do("POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "viewer", "name": "Viewer"}), 201)
		viewerID := r.json(t)["user"].(map[string]any)["id"].(string)
		e.core.GrantRoles(t, e.admin, instanceID, viewerID, "iamd_viewer")
		k, secret, err := e.acct.CreateAccessKey(e.admin, instanceID, viewerID, iamd.CredentialOptions{})
		if err != nil {
			t.Fatal(err)
		}
		before, err := e.dir.GetUser(e.admin, instanceID, viewerID)
		if err != nil {
			t.Fatal(err)
		}
		e.key, e.secret = k.ID, secret
		e.mustStatus(e.do("GET", "/scp/v1/users?instance_id="+instanceID, nil), 200)
		e.mustStatus(e.do("GET", "/scp/v1/users/"+viewerID+"?instance_id="+instanceID, nil), 200)
		e.mustStatus(e.do("GET", "/scp/v1/groups?instance_id="+instanceID, nil), 200)
		for _, w := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/scp/v1/users", map[string]any{"instance_id": instanceID, "user_id": "x", "name": "X"}},
			{"PATCH", "/scp/v1/users/" + viewerID, map[string]any{"instance_id": instanceID, "name": "Y"}},
			{"DELETE", "/scp/v1/users/" + viewerID + "?instance_id=" + instanceID, nil},
			{"POST", "/scp/v1/groups", map[string]any{"instance_id": instanceID, "name": "G"}},
		} {
			if r := e.do(w.method, w.path, w.body); r.status != 403 {
				t.Fatalf("%s %s with a read-only role: %d %s", w.method, w.path, r.status, r.body)
			}
		}
		// Nothing was written: the viewer is as it was, no user x, no group.
		after, err := e.dir.GetUser(e.admin, instanceID, viewerID)
		if err != nil || after.Version != before.Version || after.DisplayName != "Viewer" {
			t.Fatalf("the viewer after its refused writes: %+v, %v", after, err)
		}
		if _, err := e.dir.FindUserByLogin(e.admin, instanceID, "x"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
			t.Fatalf("a refused create stored the user: %v", err)
		}
		if groups, err := e.dir.ListGroups(e.admin, iamd.GroupFilter{InstanceID: instanceID}); err != nil || groups.Total != 0 {
			t.Fatalf("a refused create stored a group: %+v, %v", groups, err)
		}
	})
}
