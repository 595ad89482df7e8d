package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/face/scim"
	"iamd/internal/logtest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const adminToken = "iamd_scim_test_token_0123456789abcdef"

type env struct {
	t       *testing.T
	base    string
	store   iamd.Store
	secrets []string
}

func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { fn(t, start(t, engine.Open(t))) })
	}
}

func start(t *testing.T, store iamd.Store) *env {
	var key account.MasterKey
	copy(key[:], "an example master key, 32 bytes.")
	fast, _ := account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1})
	acct := account.New(store, key, account.WithHasher(fast))
	boot, err := acct.Bootstrap(context.Background(), account.BootstrapConfig{DefaultInstance: "tenant", AdminAPIToken: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.New(store, directory.WithPasswordHasher(fast.Hash))
	logs, logger := logtest.New()
	face, err := scim.New(scim.Config{Directory: dir, Accounts: acct, Instance: boot.InstanceID, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	urls := servertest.Serve(t, server.Config{Mounts: []server.Mount{{Prefix: "/scim/v2", Face: face}}, Logger: logger, Ready: store.Ping})
	e := &env{t: t, base: urls["main"] + "/scim/v2", store: store, secrets: []string{adminToken}}
	t.Cleanup(func() { logs.CheckNoSecrets(t, e.secrets...) })
	return e
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(method, path, token, body string) reply {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.base+path, rd)
	req.Header.Set("Content-Type", "application/scim+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: not a JSON object: %s", method, path, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	for _, s := range e.secrets {
		if strings.Contains(string(raw), s) {
			e.t.Fatalf("%s %s: the response carries a secret: %s", method, path, raw)
		}
	}
	return out
}

// wantError checks RFC 7644 §3.12's error shape: the Error schema, status as a string.
func (e *env) wantError(r reply, status int, scimType string) {
	e.t.Helper()
	schemas, _ := r.body["schemas"].([]any)
	if r.status != status || len(schemas) != 1 || schemas[0] != scim.SchemaError || r.body["status"] != strconv.Itoa(status) ||
		(scimType != "" && r.body["scimType"] != scimType) {
		e.t.Fatalf("got %d %s, want %d %s", r.status, r.raw, status, scimType)
	}
}

func total(r reply) int { n, _ := r.body["totalResults"].(float64); return int(n) }

// Okta's provisioning steps: look the user up by userName, create it, meet a duplicate
// with 409 uniqueness, read it back; then deletion.
func TestOktaStyleCreate(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		look := e.do("GET", `/Users?filter=userName%20eq%20%22jdoe%40example.com%22&startIndex=1&count=100`, adminToken, "")
		if look.status != 200 || total(look) != 0 {
			t.Fatalf("look-up before create: %d %s", look.status, look.raw)
		}
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jdoe@example.com",
			"name":{"givenName":"John","familyName":"Doe"},"emails":[{"primary":true,"value":"jdoe@example.com","type":"work"}],
			"displayName":"John Doe","locale":"en-US","externalId":"00u1","groups":[],"password":"` + pw + `","active":"true",
			"title":"ignored: iamd keeps no title"}`
		created := e.do("POST", "/Users", adminToken, body)
		if created.status != 201 || created.body["id"] == "" || created.header.Get("Location") == "" || created.header.Get("ETag") == "" {
			t.Fatalf("create: %d %v %s", created.status, created.header, created.raw)
		}
		if created.body["active"] != true || created.body["userName"] != "jdoe@example.com" || strings.Contains(created.raw, "password") {
			t.Fatalf("created user: %s", created.raw)
		}
		e.wantError(e.do("POST", "/Users", adminToken, body), 409, scim.TypeUniqueness)
		id := created.body["id"].(string)
		look = e.do("GET", `/Users?filter=userName%20eq%20%22JDOE%40EXAMPLE.COM%22`, adminToken, "")
		if total(look) != 1 || look.body["Resources"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("look-up ignoring case: %s", look.raw)
		}
		got := e.do("GET", "/Users/"+id, adminToken, "")
		if got.status != 200 || got.header.Get("ETag") != created.header.Get("ETag") {
			t.Fatalf("get: %d %s", got.status, got.raw)
		}
		if del := e.do("DELETE", "/Users/"+id, adminToken, ""); del.status != 204 {
			t.Fatalf("delete: %d %s", del.status, del.raw)
		}
		e.wantError(e.do("GET", "/Users/"+id, adminToken, ""), 404, "")
	})
}

func TestRFC7644_3_4_2_4_Paging(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, n := range []string{"p1", "p2", "p3"} {
			if r := e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"`+n+`"}`); r.status != 201 {
				t.Fatalf("create %s: %d %s", n, r.status, r.raw)
			}
		}
		page := e.do("GET", `/Users?filter=userName%20sw%20%22p%22&startIndex=2&count=1`, adminToken, "")
		res, _ := page.body["Resources"].([]any)
		if page.status != 200 || total(page) != 3 || len(res) != 1 || page.body["startIndex"] != 2.0 || page.body["itemsPerPage"] != 1.0 ||
			res[0].(map[string]any)["userName"] != "p2" {
			t.Fatalf("page: %s", page.raw)
		}
		if counted := e.do("GET", `/Users?filter=userName%20sw%20%22p%22&count=0`, adminToken, ""); total(counted) != 3 ||
			len(counted.body["Resources"].([]any)) != 0 {
			t.Fatalf("count=0: %s", counted.raw)
		}
		if low := e.do("GET", `/Users?filter=userName%20sw%20%22p%22&startIndex=-4`, adminToken, ""); low.body["startIndex"] != 1.0 {
			t.Fatalf("startIndex below 1: %s", low.raw)
		}
	})
}

func TestRFC7644_3_12_Errors(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.wantError(e.do("GET", "/Users", "", ""), 401, "")
		e.wantError(e.do("GET", "/Users", "iamd_not_a_token", ""), 401, "")
		e.wantError(e.do("GET", `/Users?filter=userName%20xx%20%22a%22`, adminToken, ""), 400, scim.TypeInvalidFilter)
		e.wantError(e.do("GET", `/Users?filter=title%20eq%20%22a%22`, adminToken, ""), 400, scim.TypeInvalidFilter)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"]}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Users", adminToken, `{"userName":"x"}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"x","active":"maybe"}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":["x"]}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":`), 400, scim.TypeInvalidSyntax)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"x","password":"short"}`), 400, scim.TypeInvalidValue)
		if r := e.do("GET", `/Users?filter=userName%20eq%20%22x%22`, adminToken, ""); total(r) != 0 {
			t.Fatalf("a refused create left a user: %s", r.raw)
		}
	})
}

// Entra ID sends the enterprise manager as a plain string.
func TestEntraManagerAsString(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`","`+scim.SchemaEnterprise+`"],"userName":"entra-user",
			"active":false,"`+scim.SchemaEnterprise+`":{"department":"Sales","manager":"mgr-42"}}`)
		ent, _ := r.body[scim.SchemaEnterprise].(map[string]any)
		if r.status != 201 || r.body["active"] != false || ent["department"] != "Sales" || ent["manager"].(map[string]any)["value"] != "mgr-42" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
	})
}
