package scim_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/face/scim"
	"iamd/internal/facetest"
	"iamd/internal/openapitest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const adminToken = "iamd_scim_test_token_0123456789abcdef"

type env struct {
	t       testing.TB
	check   *openapitest.Validator
	base    string
	store   iamd.Store
	secrets []string
}

func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { fn(t, start(t, engine.Open(t))) })
	}
}

func start(t testing.TB, store iamd.Store, configure ...func(*scim.Config)) *env {
	return startAt(t, store, time.Now, configure...)
}

// startAt is start with the core reading time from now.
func startAt(t testing.TB, store iamd.Store, now func() time.Time, configure ...func(*scim.Config)) *env {
	return startServer(t, store, now, server.Config{}, configure...)
}

// startServer is startAt with srv's server settings besides the face.
func startServer(t testing.TB, store iamd.Store, now func() time.Time, srv server.Config, configure ...func(*scim.Config)) *env {
	core := facetest.StartWithClock(t, store, account.BootstrapConfig{DefaultInstance: "tenant", AdminAPIToken: adminToken}, now)
	logs, logger := core.Logs, core.Logger
	cfg := scim.Config{Directory: core.Directory, Accounts: core.Accounts, Instance: core.Boot.InstanceID, Logger: logger}
	for _, c := range configure {
		c(&cfg)
	}
	face, err := scim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.RequestContext, srv.Mounts, srv.Logger, srv.Ready = server.ReadScope(store), []server.Mount{{Prefix: "/scim/v2", Face: face}}, logger, store.Ping
	urls := servertest.Serve(t, srv)
	e := &env{t: t, base: urls["main"] + "/scim/v2", store: store, secrets: []string{adminToken},
		check: openapitest.New(t, scim.OpenAPIDocument(), urls["main"]+"/scim/v2", "Error")}
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
	switch {
	case strings.HasPrefix(token, "Basic "):
		req.Header.Set("Authorization", token)
	case token != "":
		req.Header.Set("Authorization", "Bearer "+token)
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

		// sensitive: a password in a request URI (§7.5.2) is refused with 403 before
		// anything runs; in a POST body it is just a filter no attribute can answer.
		e.wantError(e.do("GET", `/Users?filter=password%20eq%20%22hunter2%22`, adminToken, ""), 403, scim.TypeSensitive)
		e.wantError(e.do("GET", `/Users?filter=userName%20eq%20%22a%22%20or%20not%20(password%20pr)`, adminToken, ""), 403, scim.TypeSensitive)
		e.wantError(e.do("POST", "/Users/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
			"filter":"password eq \"x\""}`), 400, scim.TypeInvalidFilter)

		// tooMany: more comparisons than the server evaluates in one request.
		many := make([]string, iamd.MaxWhereTerms+1)
		for i := range many {
			many[i] = `userName eq \"u` + strconv.Itoa(i) + `\"`
		}
		e.wantError(e.do("POST", "/Users/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
			"filter":"`+strings.Join(many, " or ")+`"}`), 400, scim.TypeTooMany)

		// invalidVers: another protocol version's path.
		resp, err := http.Get(strings.TrimSuffix(e.base, "/v2") + "/v1/Users")
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 400 || body["scimType"] != scim.TypeInvalidVers || body["status"] != "400" {
			t.Fatalf("/v1: %d %v", resp.StatusCode, body)
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

func (e *env) create(body string) (id, version string) {
	e.t.Helper()
	r := e.do("POST", "/Users", adminToken, body)
	if r.status != 201 {
		e.t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string), r.header.Get("ETag")
}

func patch(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

// Okta deactivates with PATCH active=false (some versions as the string "false"), and
// reactivates the same way.
func TestOktaDeactivateAndReactivate(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"okta-user","emails":[{"value":"o@example.com","primary":true}]}`)
		r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","value":{"active":false}}`))
		if r.status != 200 || r.body["active"] != false {
			t.Fatalf("deactivate: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"active","value":"True"}`))
		if r.status != 200 || r.body["active"] != true {
			t.Fatalf("reactivate with a string: %d %s", r.status, r.raw)
		}
		if u, err := e.store.GetUser(context.Background(), "tenant", id); err != nil || u.Status != iamd.UserActive {
			t.Fatalf("core user: %+v, %v", u, err)
		}
	})
}

// RFC 7644 §3.5.2: add, replace and remove, with paths, value filters, sub-attributes
// and URNs; Entra's PascalCase ops, path-less values keyed by paths, and the manager as
// a plain string.
func TestRFC7644_3_5_2_Patch(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"pat","displayName":"Pat","emails":[{"value":"old@example.com","type":"work"}]}`)
		r := e.do("PATCH", "/Users/"+id, adminToken, patch(`
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"},
			{"op":"Add","path":"name.givenName","value":"Patricia"},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Ops"},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"mgr-7"},
			{"op":"add","value":{"name.familyName":"Jones","displayName":"Pat Jones","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"division":"EMEA"}}}`))
		ent, _ := r.body[scim.SchemaEnterprise].(map[string]any)
		name, _ := r.body["name"].(map[string]any)
		if r.status != 200 || r.body["emails"].([]any)[0].(map[string]any)["value"] != "new@example.com" || name["givenName"] != "Patricia" ||
			name["familyName"] != "Jones" || r.body["displayName"] != "Pat Jones" || ent["department"] != "Ops" || ent["division"] != "EMEA" ||
			ent["manager"].(map[string]any)["value"] != "mgr-7" {
			t.Fatalf("patch: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"name.givenName"},{"op":"Remove","path":"emails"}`))
		if r.status != 200 || r.body["emails"] != nil || r.body["name"].(map[string]any)["givenName"] != nil {
			t.Fatalf("remove: %d %s", r.status, r.raw)
		}
		for _, c := range []struct {
			ops, scimType string
		}{
			{`{"op":"remove"}`, scim.TypeNoTarget},
			{`{"op":"replace","path":"favoriteColor","value":"x"}`, scim.TypeInvalidPath},
			{`{"op":"replace","path":"name.givenName.first","value":"x"}`, scim.TypeInvalidPath},
			{`{"op":"replace","path":"id","value":"x"}`, scim.TypeMutability},
			{`{"op":"remove","path":"userName"}`, scim.TypeInvalidValue},
			{`{"op":"replace","path":"displayName","value":42}`, scim.TypeInvalidValue},
			{`{"op":"replace","path":"emails[type eq \"home\"].value","value":"x@example.com"}`, scim.TypeNoTarget},
			{`{"op":"replace","path":"emails[type eq].value","value":"x"}`, scim.TypeInvalidPath},
			{`{"op":"copy","path":"displayName","value":"x"}`, scim.TypeInvalidSyntax},
		} {
			e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(c.ops)), 400, c.scimType)
		}
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, `{"Operations":[]}`), 400, scim.TypeInvalidSyntax)
		if got := e.do("GET", "/Users/"+id, adminToken, ""); got.body["displayName"] != "Pat Jones" {
			t.Fatalf("a refused patch changed the user: %s", got.raw)
		}
	})
}

// RFC 7644 §3.5.1: PUT replaces; RFC 7644 §3.14: versions as weak ETags, If-Match and
// If-None-Match.
func TestRFC7644_3_5_1_PutAnd3_14_Versions(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, v1 := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"put-user","displayName":"Before","locale":"en-US"}`)
		if !strings.HasPrefix(v1, `W/"`) {
			t.Fatalf("ETag %q is not weak", v1)
		}
		put := func(ifMatch, body string) reply {
			req, _ := http.NewRequest("PUT", e.base+"/Users/"+id, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json") // accepted beside application/scim+json
			if ifMatch != "" {
				req.Header.Set("If-Match", ifMatch)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			out := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
			json.Unmarshal(raw, &out.body)
			return out
		}
		r := put(v1, `{"schemas":["`+scim.SchemaUser+`"],"userName":"PUT-USER","displayName":"After"}`)
		if r.status != 200 || r.body["displayName"] != "After" || r.body["locale"] != nil || r.header.Get("ETag") == v1 {
			t.Fatalf("put: %d %s", r.status, r.raw)
		}
		e.wantError(put(v1, `{"schemas":["`+scim.SchemaUser+`"],"userName":"put-user","displayName":"Stale"}`), 412, "")
		v2 := r.header.Get("ETag")
		req, _ := http.NewRequest("GET", e.base+"/Users/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("If-None-Match", v2)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Fatalf("If-None-Match with the current version: %d", resp.StatusCode)
		}
		del := func(ifMatch string) int {
			req, _ := http.NewRequest("DELETE", e.base+"/Users/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("If-Match", ifMatch)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if s := del(v1); s != 412 {
			t.Fatalf("delete with a stale version: %d", s)
		}
		if s := del(v2); s != 204 {
			t.Fatalf("delete with the current version: %d", s)
		}
	})
}

// RFC 7644 §3.4.2.3 sorting, §3.4.2.5 attributes and excludedAttributes, §3.4.3 POST
// .search.
func TestRFC7644_3_4_Query(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, n := range []string{"q-b", "q-c", "q-a"} {
			e.create(`{"schemas":["` + scim.SchemaUser + `","` + scim.SchemaEnterprise + `"],"userName":"` + n + `","displayName":"D ` + n +
				`","name":{"givenName":"G","familyName":"F"},"` + scim.SchemaEnterprise + `":{"department":"Dep","division":"Div"}}`)
		}
		names := func(r reply) []string {
			var out []string
			for _, res := range r.body["Resources"].([]any) {
				out = append(out, res.(map[string]any)["userName"].(string))
			}
			return out
		}
		r := e.do("GET", `/Users?filter=userName%20sw%20%22q-%22&sortBy=userName&sortOrder=descending`, adminToken, "")
		if got := strings.Join(names(r), ","); got != "q-c,q-b,q-a" {
			t.Fatalf("sorted descending: %s", got)
		}
		e.wantError(e.do("GET", `/Users?sortBy=title`, adminToken, ""), 400, scim.TypeInvalidValue)
		e.wantError(e.do("GET", `/Users?sortBy=userName&sortOrder=sideways`, adminToken, ""), 400, scim.TypeInvalidValue)

		r = e.do("GET", `/Users?filter=userName%20eq%20%22q-a%22&attributes=userName,name.givenName,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, adminToken, "")
		one := r.body["Resources"].([]any)[0].(map[string]any)
		ent, _ := one[scim.SchemaEnterprise].(map[string]any)
		if one["id"] == nil || one["userName"] != "q-a" || one["displayName"] != nil || one["meta"] != nil ||
			one["name"].(map[string]any)["familyName"] != nil || one["name"].(map[string]any)["givenName"] != "G" ||
			ent["department"] != "Dep" || ent["division"] != nil {
			t.Fatalf("attributes: %s", r.raw)
		}
		r = e.do("GET", `/Users?filter=userName%20eq%20%22q-a%22&excludedAttributes=meta,name.familyName,id`, adminToken, "")
		one = r.body["Resources"].([]any)[0].(map[string]any)
		if one["meta"] != nil || one["id"] == nil || one["name"].(map[string]any)["familyName"] != nil || one["displayName"] == nil {
			t.Fatalf("excludedAttributes (id is always returned): %s", r.raw)
		}

		for _, path := range []string{"/Users/.search", "/.search"} {
			r = e.do("POST", path, adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
				"filter":"userName sw \"q-\"","sortBy":"userName","startIndex":2,"count":1,"attributes":["userName"]}`)
			if r.status != 200 || total(r) != 3 || strings.Join(names(r), ",") != "q-b" {
				t.Fatalf("POST %s: %d %s", path, r.status, r.raw)
			}
		}
		e.wantError(e.do("POST", "/.search", adminToken, `{"filter":"userName pr"}`), 400, scim.TypeInvalidSyntax)
		e.wantError(e.do("POST", "/Users/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName zz 1"}`),
			400, scim.TypeInvalidFilter)
	})
}

// RFC 7644 §4: discovery, without credentials, accurate to what the server does.
func TestRFC7644_4_Discovery(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		spc := e.do("GET", "/ServiceProviderConfig", "", "")
		if spc.status != 200 || spc.body["patch"].(map[string]any)["supported"] != true || spc.body["changePassword"].(map[string]any)["supported"] != true ||
			spc.body["filter"].(map[string]any)["maxResults"] != 1000.0 || spc.body["etag"].(map[string]any)["supported"] != true ||
			spc.body["sort"].(map[string]any)["supported"] != true {
			t.Fatalf("ServiceProviderConfig: %s", spc.raw)
		}
		types := e.do("GET", "/ResourceTypes", "", "")
		if types.status != 200 || total(types) != 2 || !strings.Contains(types.raw, `"endpoint":"/Users"`) || !strings.Contains(types.raw, `"endpoint":"/Groups"`) {
			t.Fatalf("ResourceTypes: %s", types.raw)
		}
		if r := e.do("GET", "/ResourceTypes/User", "", ""); r.body["schema"] != scim.SchemaUser {
			t.Fatalf("ResourceTypes/User: %s", r.raw)
		}
		e.wantError(e.do("GET", "/ResourceTypes/Nope", "", ""), 404, "")
		schemas := e.do("GET", "/Schemas", "", "")
		if schemas.status != 200 || total(schemas) != 3 {
			t.Fatalf("Schemas: %s", schemas.raw)
		}
		user := e.do("GET", "/Schemas/"+scim.SchemaUser, "", "")
		found := map[string]map[string]any{}
		for _, a := range user.body["attributes"].([]any) {
			found[a.(map[string]any)["name"].(string)] = a.(map[string]any)
		}
		if found["userName"]["uniqueness"] != "server" || found["userName"]["caseExact"] != false ||
			found["userName"]["mutability"] != "readWrite" || found["password"]["returned"] != "never" || found["password"]["mutability"] != "writeOnly" || found["groups"]["multiValued"] != true {
			t.Fatalf("User schema: %s", user.raw)
		}
		// Every attribute the schema lists can be filtered on or set: it describes this server.
		for name, a := range found {
			kept := strings.Contains(a["description"].(string), "cannot be filtered on")
			if name == "password" || name == "groups" || name == "roles" || kept { // password is write-only; the others are shown, not searched
				continue
			}
			if r := e.do("GET", "/Users?filter="+name+"%20pr", adminToken, ""); r.status != 200 {
				t.Errorf("the schema lists %s, which cannot be filtered on: %s", name, r.raw)
			}
		}
		// …and every attribute it says is kept comes back as it was set.
		id, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"schema-kept"}`)
		for name, a := range found {
			if !strings.Contains(a["description"].(string), "Kept as written") {
				continue
			}
			value := `"v"`
			if a["multiValued"] == true {
				value = `[{"value":"v","type":"other"}]`
			}
			r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"`+name+`","value":`+value+`}`))
			if r.status != 200 || r.body[name] == nil || e.do("GET", "/Users/"+id, adminToken, "").body[name] == nil {
				t.Errorf("the schema says %s is kept: %d %s", name, r.status, r.raw)
			}
		}
		if !strings.Contains(user.raw, `"location":"`+e.base+`/Schemas/`) {
			t.Fatalf("schema location: %s", user.raw)
		}
	})
}

// RFC 7644 §3.11: /Me is the caller's own resource.
func TestRFC7644_3_11_Me(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		me := e.do("GET", "/Me", adminToken, "")
		if me.status != 200 || me.body["userName"] != "admin" || me.header.Get("ETag") == "" {
			t.Fatalf("GET /Me: %d %s", me.status, me.raw)
		}
		// The built-in administrator cannot be modified, not even by itself.
		e.wantError(e.do("PATCH", "/Me", adminToken, patch(`{"op":"replace","path":"displayName","value":"The Admin"}`)), 400, scim.TypeMutability)
		if again := e.do("GET", "/Me", adminToken, ""); again.body["displayName"] != me.body["displayName"] || again.header.Get("ETag") != me.header.Get("ETag") {
			t.Fatalf("a refused PATCH /Me changed the admin: %s", again.raw)
		}
		// Another user changes itself with the privileges changing any user takes.
		const pw = "a long passphrase for jo"
		id, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"jo","password":"` + pw + `","roles":[{"value":"iamd_admin"}]}`)
		jo := "Basic " + base64.StdEncoding.EncodeToString([]byte("jo:"+pw))
		r := e.do("PATCH", "/Me", jo, patch(`{"op":"replace","path":"displayName","value":"Jo"}`))
		if r.status != 200 || r.body["id"] != id || r.body["displayName"] != "Jo" {
			t.Fatalf("PATCH /Me: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/Me", "", ""), 401, "")
	})
}

// Group provisioning as Okta and Entra do it: look up by displayName, create with
// members, add and remove members by PATCH, rename, replace, delete.
func TestGroupProvisioning(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		u1, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"g-one"}`)
		u2, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"g-two"}`)
		memberIDs := func(r reply) []string {
			var out []string
			for _, m := range r.body["members"].([]any) {
				out = append(out, m.(map[string]any)["value"].(string))
			}
			return out
		}
		if r := e.do("GET", `/Groups?filter=displayName%20eq%20%22Engineering%22&excludedAttributes=members`, adminToken, ""); r.status != 200 || total(r) != 0 {
			t.Fatalf("look-up before create: %d %s", r.status, r.raw)
		}
		g := e.do("POST", "/Groups", adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Engineering","members":[{"value":"`+u1+`"}]}`)
		if g.status != 201 || g.header.Get("Location") == "" || strings.Join(memberIDs(g), ",") != u1 {
			t.Fatalf("create: %d %s", g.status, g.raw)
		}
		id := g.body["id"].(string)
		e.wantError(e.do("POST", "/Groups", adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"engineering"}`), 409, scim.TypeUniqueness)
		e.wantError(e.do("POST", "/Groups", adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"X","members":[{"value":"nobody"}]}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Groups", adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Y","members":[{"value":"`+id+`","type":"User"}]}`), 400, scim.TypeInvalidValue)
		if r := e.do("GET", `/Groups?filter=displayName%20eq%20%22X%22`, adminToken, ""); total(r) != 0 {
			t.Fatalf("a refused create left a group: %s", r.raw)
		}

		r := e.do("PATCH", "/Groups/"+id, adminToken, patch(`{"op":"Add","path":"members","value":[{"value":"`+u2+`"}]}`))
		if r.status != 200 || len(memberIDs(r)) != 2 {
			t.Fatalf("add a member: %d %s", r.status, r.raw)
		}
		if u := e.do("GET", "/Users/"+u2, adminToken, ""); !strings.Contains(u.raw, id) {
			t.Fatalf("the user does not show the group: %s", u.raw)
		}
		r = e.do("PATCH", "/Groups/"+id, adminToken, patch(`{"op":"remove","path":"members[value eq \"`+u1+`\"]"},{"op":"Replace","value":{"displayName":"Eng"}}`))
		if r.status != 200 || strings.Join(memberIDs(r), ",") != u2 || r.body["displayName"] != "Eng" {
			t.Fatalf("remove a member and rename: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("PATCH", "/Groups/"+id, adminToken, patch(`{"op":"remove","path":"members[display eq \"x\"]"}`)), 400, scim.TypeInvalidPath)
		e.wantError(e.do("PATCH", "/Groups/"+id, adminToken, patch(`{"op":"replace","path":"owner","value":"x"}`)), 400, scim.TypeInvalidPath)
		if got := e.do("GET", "/Groups/"+id, adminToken, ""); got.body["displayName"] != "Eng" || strings.Join(memberIDs(got), ",") != u2 ||
			got.header.Get("ETag") != r.header.Get("ETag") {
			t.Fatalf("a refused PATCH changed the group: %s", got.raw)
		}

		r = e.do("PUT", "/Groups/"+id, adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Engineering","members":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`)
		if r.status != 200 || len(memberIDs(r)) != 2 || r.body["displayName"] != "Engineering" {
			t.Fatalf("put: %d %s", r.status, r.raw)
		}
		if r := e.do("PATCH", "/Groups/"+id, adminToken, patch(`{"op":"remove","path":"members"}`)); r.status != 200 || len(memberIDs(r)) != 0 {
			t.Fatalf("remove every member: %d %s", r.status, r.raw)
		}
		list := e.do("GET", `/Groups?filter=displayName%20eq%20%22ENGINEERING%22`, adminToken, "")
		if total(list) != 1 {
			t.Fatalf("look-up ignoring case: %s", list.raw)
		}
		e.wantError(e.do("GET", `/Groups?filter=displayName%20co%20%22Eng%22`, adminToken, ""), 400, scim.TypeInvalidFilter)
		if del := e.do("DELETE", "/Groups/"+id, adminToken, ""); del.status != 204 {
			t.Fatalf("delete: %d %s", del.status, del.raw)
		}
		e.wantError(e.do("GET", "/Groups/"+id, adminToken, ""), 404, "")
	})
}
