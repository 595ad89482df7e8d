package scim_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"iamd"
	"iamd/face/scim"
	"iamd/storetest"
)

const userSchema = `"schemas":["` + scim.SchemaUser + `"]`

// values returns a multi-valued attribute of a resource as its list of objects.
func values(body map[string]any, attr string) []map[string]any {
	var out []map[string]any
	list, _ := body[attr].([]any)
	for _, v := range list {
		m, _ := v.(map[string]any)
		out = append(out, m)
	}
	return out
}

// primaries lists the values of attr that are primary.
func primaries(body map[string]any, attr string) []string {
	var out []string
	for _, v := range values(body, attr) {
		if v["primary"] == true {
			out = append(out, v["value"].(string))
		}
	}
	return out
}

// RFC 7643 §2.4: primary true MUST appear no more than once; RFC 7644 §3.5.2: a PATCH
// that makes a value primary SHALL make the others not. Emails and phone numbers alike.
func TestRFC7643_2_4_OnePrimary(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, attr := range []string{"emails", "phoneNumbers"} {
			a, b := `"a@example.com"`, `"b@example.com"`
			if attr == "phoneNumbers" {
				a, b = `"+1 555 0100"`, `"+1 555 0199"`
			}
			two := `{` + userSchema + `,"userName":"two-` + attr + `","` + attr + `":[{"value":` + a + `,"type":"work","primary":true},{"value":` + b + `,"type":"home","primary":true}]}`
			e.wantError(e.do("POST", "/Users", adminToken, two), 400, scim.TypeInvalidValue)
			if r := e.do("GET", `/Users?filter=userName%20eq%20%22two-`+attr+`%22`, adminToken, ""); total(r) != 0 {
				t.Fatalf("%s: a refused create left a user: %s", attr, r.raw)
			}

			id, _ := e.create(`{` + userSchema + `,"userName":"one-` + attr + `","` + attr + `":[{"value":` + a + `,"type":"work","primary":true}]}`)
			one := e.do("GET", "/Users/"+id, adminToken, "").raw
			e.wantError(e.do("PUT", "/Users/"+id, adminToken, strings.Replace(two, "two-", "one-", 1)), 400, scim.TypeInvalidValue)
			if after := e.do("GET", "/Users/"+id, adminToken, "").raw; after != one {
				t.Fatalf("%s: a refused replace changed the user:\n%s\n%s", attr, one, after)
			}

			r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"add","path":"`+attr+`","value":[{"value":`+b+`,"type":"home","primary":true}]}`))
			if got := primaries(r.body, attr); r.status != 200 || len(got) != 1 || `"`+got[0]+`"` != b || len(values(r.body, attr)) != 2 {
				t.Fatalf("%s: add of a primary value: %d %s", attr, r.status, r.raw)
			}
			r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"`+attr+`[type eq \"work\"].primary","value":true}`))
			if got := primaries(r.body, attr); r.status != 200 || len(got) != 1 || `"`+got[0]+`"` != a {
				t.Fatalf("%s: replace of primary: %d %s", attr, r.status, r.raw)
			}
			u := e.user(id)
			if canonical := map[string]string{"emails": u.Email, "phoneNumbers": u.PhoneCountryCode + " " + u.PhoneNumber}[attr]; `"`+canonical+`"` != a {
				t.Fatalf("%s: the core holds %q, not the primary value", attr, canonical)
			}
			before := e.do("GET", "/Users/"+id, adminToken, "").raw
			e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"add","path":"`+attr+`","value":[{"value":"x","type":"other","primary":true},{"value":"y","type":"other","primary":"True"}]}`)),
				400, scim.TypeInvalidValue)
			if after := e.do("GET", "/Users/"+id, adminToken, "").raw; after != before {
				t.Fatalf("%s: a refused patch changed the user:\n%s\n%s", attr, before, after)
			}
		}
	})
}

// RFC 7643 §2.4: a (type, value) pair SHOULD NOT repeat; §2.1: attribute names are
// case-insensitive, and answered as the schema spells them.
func TestRFC7643_2_4_NoRepeatsAndSchemaCase(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Users", adminToken, `{`+userSchema+`,"userName":"repeats",
			"emails":[{"Value":"a@example.com","Type":"work"},{"value":"A@example.com","type":"WORK","PRIMARY":true},{"value":"b@example.com","type":"home"}],
			"phoneNumbers":[{"value":"+1 555 0100","type":"work"},{"value":"+1-555-0100","type":"work"}],
			"name":{"GivenName":"Ann","Formatted":"Ann Example","MiddleName":"B"},
			"addresses":[{"StreetAddress":"1 Main St","Type":"work","Primary":"true"},{"streetAddress":"1 Main St","type":"work"}]}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		emails := values(r.body, "emails")
		if len(emails) != 2 || emails[0]["value"] != "a@example.com" || emails[0]["type"] != "work" || emails[0]["primary"] != true ||
			emails[1]["value"] != "b@example.com" {
			t.Fatalf("emails: %s", r.raw)
		}
		if len(values(r.body, "phoneNumbers")) != 1 || len(values(r.body, "addresses")) != 1 {
			t.Fatalf("repeated phone numbers or addresses kept: %s", r.raw)
		}
		address := values(r.body, "addresses")[0]
		name, _ := r.body["name"].(map[string]any)
		if address["streetAddress"] != "1 Main St" || address["type"] != "work" || address["primary"] != true ||
			name["givenName"] != "Ann" || name["formatted"] != "Ann Example" || name["middleName"] != "B" {
			t.Fatalf("sub-attributes not in the schema's case: %s", r.raw)
		}
		for _, sent := range []string{`"Value"`, `"Type"`, `"PRIMARY"`, `"Primary"`, `"StreetAddress"`, `"GivenName"`, `"Formatted"`, `"MiddleName"`} {
			if strings.Contains(r.raw, sent) {
				t.Fatalf("%s echoed as sent: %s", sent, r.raw)
			}
		}
		if got := e.do("GET", "/Users/"+r.body["id"].(string), adminToken, ""); got.raw != r.raw {
			t.Fatalf("read back otherwise:\n%s\n%s", r.raw, got.raw)
		}
	})
}

// RFC 7643 §4.1.1: displayName and name.formatted are two attributes; RFC 7644
// §3.5.2.2/§3.5.2.3: removing one, or replacing it with "", unassigns it alone.
func TestRFC7643_4_1_1_DisplayNameApartFromFormatted(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Users", adminToken, `{`+userSchema+`,"userName":"babs","displayName":"Babs Jensen",
			"name":{"formatted":"Ms. Barbara J Jensen, III","givenName":"Barbara","familyName":"Jensen"}}`)
		id, _ := r.body["id"].(string)
		name, _ := r.body["name"].(map[string]any)
		if r.status != 201 || r.body["displayName"] != "Babs Jensen" || name["formatted"] != "Ms. Barbara J Jensen, III" {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"displayName"}`))
		name, _ = r.body["name"].(map[string]any)
		if r.status != 200 || r.body["displayName"] != nil || name["formatted"] != "Ms. Barbara J Jensen, III" || e.user(id).DisplayName != "" {
			t.Fatalf("remove displayName: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"displayName","value":"Barbara"}`))
		if r.status != 200 || r.body["displayName"] != "Barbara" {
			t.Fatalf("replace displayName: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"displayName","value":""}`))
		if r.status != 200 || r.body["displayName"] != nil || e.user(id).DisplayName != "" {
			t.Fatalf("replace displayName with \"\": %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"name.formatted","value":"Dr. Barbara Jensen"},{"op":"add","path":"displayName","value":"BJ"}`))
		name, _ = r.body["name"].(map[string]any)
		if r.status != 200 || r.body["displayName"] != "BJ" || name["formatted"] != "Dr. Barbara Jensen" {
			t.Fatalf("set each alone: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"name.formatted"}`))
		name, _ = r.body["name"].(map[string]any)
		if r.status != 200 || r.body["displayName"] != "BJ" || name["formatted"] != nil || name["givenName"] != "Barbara" {
			t.Fatalf("remove name.formatted: %d %s", r.status, r.raw)
		}
	})
}

// Entra ID renames with PATCH replace userName, Okta with a PUT (RFC 7643: userName is
// readWrite). The new name signs in and the old one is free; a taken one, in any case,
// is 409 uniqueness and changes nothing.
func TestUserNameRenames(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const pw = "renamed user passphrase 9"
		e.secrets = append(e.secrets, pw)
		id, _ := e.create(`{` + userSchema + `,"userName":"old@example.com","password":"` + pw + `"}`)
		e.create(`{` + userSchema + `,"userName":"taken@example.com"}`)

		r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"userName","value":"new@example.com"}`))
		if r.status != 200 || r.body["userName"] != "new@example.com" || e.user(id).LoginName != "new@example.com" {
			t.Fatalf("PATCH rename: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/Me", basic("new@example.com", pw), ""); r.status != 200 || r.body["id"] != id {
			t.Fatalf("the new name does not sign in: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/Me", basic("old@example.com", pw), ""), 401, "")
		if r := e.do("GET", `/Users?filter=userName%20eq%20%22new@example.com%22`, adminToken, ""); total(r) != 1 {
			t.Fatalf("filter on the new name: %s", r.raw)
		}
		e.create(`{` + userSchema + `,"userName":"old@example.com"}`) // the old name is free

		r = e.do("PUT", "/Users/"+id, adminToken, `{`+userSchema+`,"userName":"put@example.com","displayName":"Put"}`)
		if r.status != 200 || r.body["userName"] != "put@example.com" {
			t.Fatalf("PUT rename: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","value":{"userName":"Put@Example.com"}}`))
		if r.status != 200 || r.body["userName"] != "Put@Example.com" {
			t.Fatalf("rename to another case: %d %s", r.status, r.raw)
		}
		before := e.do("GET", "/Users/"+id, adminToken, "").raw
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"userName","value":"TAKEN@example.com"}`)), 409, scim.TypeUniqueness)
		e.wantError(e.do("PUT", "/Users/"+id, adminToken, `{`+userSchema+`,"userName":"taken@example.com","displayName":"Put"}`), 409, scim.TypeUniqueness)
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"userName","value":" padded"}`)), 400, scim.TypeInvalidValue)
		if after := e.do("GET", "/Users/"+id, adminToken, "").raw; after != before {
			t.Fatalf("a refused rename changed the user:\n%s\n%s", before, after)
		}
	})
}

// raw makes a request the OpenAPI document has no path for (it lists each path as RFC
// 7644 spells it), returning the status and body.
func (e *env) raw(method, path, body string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// Paths as real clients write them: a trailing slash, a resource type in another case;
// and a query of the server root (RFC 7644 §3.4.2.1).
func TestLiberalPathsAndRootQuery(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, _ := e.create(`{` + userSchema + `,"userName":"paths"}`)
		group := e.createGroup(`"displayName":"paths-group"`)
		one := e.do("GET", "/Users/"+id, adminToken, "").raw
		for _, path := range []string{"/Users/" + id + "/", "/users/" + id, "/USERS/" + id + "/"} {
			if status, got := e.raw("GET", path, ""); status != 200 || got != one {
				t.Fatalf("GET %s: %d %s", path, status, got)
			}
		}
		list := e.do("GET", "/Users", adminToken, "").raw
		for _, path := range []string{"/Users/", "/users", "/users/"} {
			if status, got := e.raw("GET", path, ""); status != 200 || got != list {
				t.Fatalf("GET %s: %d %s", path, status, got)
			}
		}
		if status, got := e.raw("POST", "/users/.SEARCH", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName eq \"paths\""}`); status != 200 ||
			!strings.Contains(got, `"totalResults":1`) {
			t.Fatalf("POST /users/.SEARCH: %d %s", status, got)
		}
		if status, got := e.raw("PATCH", "/users/"+id+"/", patch(`{"op":"replace","path":"displayName","value":"Slash"}`)); status != 200 ||
			!strings.Contains(got, `"displayName":"Slash"`) {
			t.Fatalf("PATCH with a trailing slash: %d %s", status, got)
		}
		if status, got := e.raw("GET", "/groups/"+group+"/", ""); status != 200 || !strings.Contains(got, "paths-group") {
			t.Fatalf("GET /groups/ID/: %d %s", status, got)
		}
		if status, _ := e.raw("GET", "/Userz", ""); status != 404 {
			t.Fatalf("an unknown resource type: %d", status)
		}

		r := e.do("GET", `/?filter=userName%20eq%20%22paths%22`, adminToken, "")
		resources, _ := r.body["Resources"].([]any)
		if r.status != 200 || total(r) != 1 || len(resources) != 1 || resources[0].(map[string]any)["id"] != id {
			t.Fatalf("GET /?filter=: %d %s", r.status, r.raw)
		}
		r = e.do("GET", `/?filter=displayName%20eq%20%22paths-group%22`, adminToken, "")
		if r.status != 200 || total(r) != 1 {
			t.Fatalf("GET /?filter= on groups: %d %s", r.status, r.raw)
		}
		if status, got := e.raw("GET", `?filter=userName%20eq%20%22paths%22`, ""); status != 200 || !strings.Contains(got, `"totalResults":1`) {
			t.Fatalf("GET the root without its slash: %d %s", status, got)
		}
		e.wantError(e.do("GET", "/?filter=nonsense", adminToken, ""), 400, scim.TypeInvalidFilter)
		e.wantError(e.do("GET", "/", "", ""), 401, "")
	})
}

var snakeCase = regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`)

// Errors name attributes as SCIM's schemas do, never the core's field names.
func TestErrorsInSCIMVocabulary(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id, _ := e.create(`{` + userSchema + `,"userName":"vocabulary"}`)
		before := e.do("GET", "/Users/"+id, adminToken, "")
		if before.status != 200 {
			t.Fatalf("vocabulary: %d %s", before.status, before.raw)
		}
		unchanged := func(what string) {
			t.Helper()
			if after := e.do("GET", "/Users/"+id, adminToken, "").raw; after != before.raw {
				t.Errorf("%s: a refused replace changed the user:\n%s\n%s", what, before.raw, after)
			}
		}
		for _, c := range []struct{ body, names string }{
			{`"emails":[{"value":"not an email"}]`, "emails"},
			{`"phoneNumbers":[{"value":"call me"}]`, "phoneNumbers"},
			{`"phoneNumbers":[{"value":"+999 1234 5678"}]`, "phoneNumbers"},
			{`"timezone":"Mars/Olympus"`, "timezone"},
			{`"displayName":"` + strings.Repeat("x", 300) + `"`, "displayName"},
			{`"name":{"givenName":"` + strings.Repeat("x", 300) + `"}`, "givenName"},
			{`"externalId":"` + strings.Repeat("x", 300) + `"`, "externalId"},
			{`"displayName":42`, "displayName must be a string"},
			{`"emails":[{"value":7}]`, "emails[].value must be a string"},
		} {
			r := e.do("PUT", "/Users/"+id, adminToken, `{`+userSchema+`,"userName":"vocabulary",`+c.body+`}`)
			e.wantError(r, 400, scim.TypeInvalidValue)
			detail, _ := r.body["detail"].(string)
			if !strings.Contains(detail, c.names) || snakeCase.MatchString(detail) {
				t.Errorf("%s: detail %q does not name %s in SCIM's terms", c.body, detail, c.names)
			}
			unchanged(c.body)
		}
		e.create(`{` + userSchema + `,"userName":"taken-name"}`)
		for _, c := range []struct {
			body     string
			status   int
			scimType string
		}{
			{`{` + userSchema + `,"userName":" padded"}`, 400, scim.TypeInvalidValue},
			{`{` + userSchema + `,"userName":"TAKEN-NAME"}`, 409, scim.TypeUniqueness},
		} {
			r := e.do("PUT", "/Users/"+id, adminToken, c.body)
			e.wantError(r, c.status, c.scimType)
			if detail, _ := r.body["detail"].(string); !strings.HasPrefix(detail, "userName ") && !strings.Contains(detail, "with userName ") ||
				strings.Contains(detail, "login name") || snakeCase.MatchString(detail) {
				t.Errorf("%s: detail %q is not in SCIM's terms", c.body, detail)
			}
			unchanged(c.body)
		}
	})
}

// user reads a user as the core holds it.
func (e *env) user(id string) *iamd.User {
	e.t.Helper()
	u, err := e.store.GetUser(context.Background(), "tenant", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// A path is rewritten only in its endpoint segments: an escaped slash stays in its
// segment, and a dot segment is not resolved into another resource.
func TestCanonicalPathsKeepTheirSegments(t *testing.T) {
	e := start(t, storetest.OpenSQLite(t))
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/users/a%2Fb", 404},
		{"/users/%2E%2E/Schemas", 404},
		{"/Users/x/", 404},
	} {
		status, body := e.raw("GET", c.path, "")
		if status != c.status || !strings.Contains(body, scim.SchemaError) {
			t.Errorf("GET %s: %d %s", c.path, status, body)
		}
	}
}

// primary is a boolean (or its name as a string); a value naming a sub-attribute twice in
// two cases is refused rather than read one way at random; caseExact values (photos) are
// repeats only when equal in case too.
func TestMultiValuedEdges(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ values, scimType string }{
			{`"emails":[{"value":"a@example.com","primary":"yes"}]`, scim.TypeInvalidValue},
			{`"emails":[{"value":"a@example.com","primary":1}]`, scim.TypeInvalidValue},
			{`"emails":[{"value":"a@example.com","primary":true,"Primary":false}]`, scim.TypeInvalidSyntax},
			{`"name":{"givenName":"A","GivenName":"B"}`, scim.TypeInvalidSyntax},
		} {
			e.wantError(e.do("POST", "/Users", adminToken, `{`+userSchema+`,"userName":"edges",`+c.values+`}`), 400, c.scimType)
		}
		if r := e.do("GET", `/Users?filter=userName%20eq%20%22edges%22`, adminToken, ""); total(r) != 0 {
			t.Fatalf("a refused create left a user: %s", r.raw)
		}
		r := e.do("POST", "/Users", adminToken, `{`+userSchema+`,"userName":"edges","photos":[{"value":"https://example.com/A.png","type":"photo"},{"value":"https://example.com/a.png","type":"photo"}]}`)
		if r.status != 201 || len(values(r.body, "photos")) != 2 {
			t.Fatalf("photos differing in case: %d %s", r.status, r.raw)
		}
	})
}
