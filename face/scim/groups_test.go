package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"iamd/face/scim"
)

func (e *env) createGroup(body string) string {
	e.t.Helper()
	r := e.do("POST", "/Groups", adminToken, `{"schemas":["`+scim.SchemaGroup+`"],`+body+`}`)
	if r.status != 201 {
		e.t.Fatalf("create group: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

func members(r reply) map[string]string {
	out := map[string]string{}
	list, _ := r.body["members"].([]any)
	for _, m := range list {
		m := m.(map[string]any)
		out[m["value"].(string)] = m["type"].(string)
	}
	return out
}

func userGroups(r reply) map[string]string {
	out := map[string]string{}
	list, _ := r.body["groups"].([]any)
	for _, g := range list {
		g := g.(map[string]any)
		out[g["value"].(string)] = g["type"].(string)
	}
	return out
}

// RFC 7643 §4.2: a Group's members are users and groups. A nested group's users are
// members through it (the user's groups show it as "indirect"); no group may be its own
// member; every membership change is a new version.
func TestRFC7643_4_2_NestedGroups(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		uid, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"nested-user"}`)
		team := e.createGroup(`"displayName":"Team","members":[{"value":"` + uid + `","type":"User"}]`)
		dept := e.createGroup(`"displayName":"Department","members":[{"value":"` + team + `","type":"Group"}]`)
		org := e.createGroup(`"displayName":"Org"`)

		r := e.do("GET", "/Groups/"+dept, adminToken, "")
		if got := members(r); got[team] != "Group" || len(got) != 1 || !strings.Contains(r.raw, `"$ref":"`+e.base+`/Groups/`+team+`"`) {
			t.Fatalf("Department's members: %s", r.raw)
		}
		before := r.header.Get("ETag")
		req, _ := http.NewRequest("GET", e.base+"/Groups/"+dept, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("If-None-Match", before)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 304 || resp.Header.Get("ETag") != before {
			t.Fatalf("If-None-Match on a group: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// A member without a type is found as a user, else as a group.
		r = e.do("PATCH", "/Groups/"+org, adminToken, patch(`{"op":"add","path":"members","value":[{"value":"`+dept+`"}]}`))
		if r.status != 200 || members(r)[dept] != "Group" {
			t.Fatalf("nest by PATCH: %d %s", r.status, r.raw)
		}
		u := e.do("GET", "/Users/"+uid, adminToken, "")
		if want := map[string]string{team: "direct", dept: "indirect", org: "indirect"}; !equalMaps(userGroups(u), want) {
			t.Fatalf("the user's groups %v, want %v", userGroups(u), want)
		}

		// Cycles: Org in Team would make Team its own member through Department.
		for _, cycle := range []string{
			patch(`{"op":"add","path":"members","value":[{"value":"` + org + `","type":"Group"}]}`),
			patch(`{"op":"add","path":"members","value":[{"value":"` + team + `","type":"Group"}]}`),
		} {
			e.wantError(e.do("PATCH", "/Groups/"+team, adminToken, cycle), 400, scim.TypeInvalidValue)
		}
		if r := e.do("GET", "/Groups/"+team, adminToken, ""); len(members(r)) != 1 {
			t.Fatalf("a refused nesting changed Team: %s", r.raw)
		}

		// Unnest by members[value eq …]; the user's inherited groups go with it.
		r = e.do("PATCH", "/Groups/"+dept, adminToken, patch(`{"op":"remove","path":"members[value eq \"`+team+`\"]"}`))
		if r.status != 200 || len(members(r)) != 0 || r.header.Get("ETag") == before {
			t.Fatalf("unnest: %d %s (ETag %s, before %s)", r.status, r.raw, r.header.Get("ETag"), before)
		}
		if got := userGroups(e.do("GET", "/Users/"+uid, adminToken, "")); len(got) != 1 || got[team] != "direct" {
			t.Fatalf("after unnesting the user is in %v", got)
		}
		// Removing a member that is already gone (Entra retries) succeeds.
		if r := e.do("PATCH", "/Groups/"+dept, adminToken, patch(`{"op":"Remove","path":"members","value":[{"value":"`+team+`"}]}`)); r.status != 200 {
			t.Fatalf("removing a non-member: %d %s", r.status, r.raw)
		}
		// PUT sets both kinds at once.
		r = e.do("PUT", "/Groups/"+org, adminToken, `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Org","members":[{"value":"`+uid+`"},{"value":"`+team+`","type":"Group"}]}`)
		if want := map[string]string{uid: "User", team: "Group"}; r.status != 200 || !equalMaps(members(r), want) {
			t.Fatalf("PUT with both kinds: %d %s", r.status, r.raw)
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// RFC 7644 §3.4.2 on Groups: the filters provisioners send (Entra checks a membership
// with id eq … and members[value eq …]), run by the store; attributes and
// excludedAttributes; POST /Groups/.search; anything else is invalidFilter.
func TestRFC7644_3_4_2_GroupQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		uid, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"q-member"}`)
		sales := e.createGroup(`"displayName":"Sales","members":[{"value":"` + uid + `"}]`)
		ops := e.createGroup(`"displayName":"Ops","members":[{"value":"` + sales + `","type":"Group"}]`)
		e.createGroup(`"displayName":"Empty"`)
		query := func(filter string) []string {
			t.Helper()
			r := e.do("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(filter), adminToken, "")
			if r.status != 200 {
				t.Fatalf("%s: %d %s", filter, r.status, r.raw)
			}
			var names []string
			for _, g := range r.body["Resources"].([]any) {
				g := g.(map[string]any)
				if g["members"] != nil {
					t.Fatalf("excludedAttributes=members returned members: %s", r.raw)
				}
				names = append(names, g["displayName"].(string))
			}
			return names
		}
		for filter, want := range map[string]string{
			`displayName eq "sales"`:                                           "Sales",
			`id eq "` + sales + `" and members[value eq "` + uid + `"]`:        "Sales",
			`id eq "` + ops + `" and members[value eq "` + uid + `"]`:          "", // indirect members are not members[value]
			`members.value eq "` + sales + `"`:                                 "Ops",
			`urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "Ops"`: "Ops",
			`displayName eq "Sales" and displayName eq "Ops"`:                  "",
		} {
			if got := strings.Join(query(filter), ","); got != want {
				t.Errorf("%s: got %q, want %q", filter, got, want)
			}
		}
		for _, bad := range []string{`displayName co "a"`, `displayName eq "a" or id eq "b"`, `title eq "x"`, `members[display eq "x"]`} {
			e.wantError(e.do("GET", "/Groups?filter="+url.QueryEscape(bad), adminToken, ""), 400, scim.TypeInvalidFilter)
		}
		e.wantError(e.do("GET", "/Groups?sortBy=id", adminToken, ""), 400, scim.TypeInvalidValue)

		r := e.do("POST", "/Groups/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
			"filter":"members[value eq \"`+uid+`\"]","attributes":["displayName"]}`)
		res := r.body["Resources"].([]any)
		if r.status != 200 || total(r) != 1 || len(res) != 1 || res[0].(map[string]any)["displayName"] != "Sales" ||
			res[0].(map[string]any)["members"] != nil || res[0].(map[string]any)["meta"] != nil {
			t.Fatalf("POST /Groups/.search: %d %s", r.status, r.raw)
		}

		// Listed users carry their groups too, unless left out.
		r = e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "q-member"`), adminToken, "")
		listed := reply{body: r.body["Resources"].([]any)[0].(map[string]any)}
		if want := map[string]string{sales: "direct", ops: "indirect"}; !equalMaps(userGroups(listed), want) {
			t.Fatalf("listed user's groups %v, want %v", userGroups(listed), want)
		}
		r = e.do("GET", "/Users?excludedAttributes=groups&filter="+url.QueryEscape(`userName eq "q-member"`), adminToken, "")
		if strings.Contains(r.raw, `"groups"`) {
			t.Fatalf("excludedAttributes=groups: %s", r.raw)
		}

		// attributes on one resource (RFC 7644 §3.9).
		r = e.do("GET", "/Groups/"+sales+"?attributes=displayName", adminToken, "")
		if r.status != 200 || r.body["displayName"] != "Sales" || r.body["members"] != nil || r.body["id"] != sales {
			t.Fatalf("GET a group with attributes: %s", r.raw)
		}
		r = e.do("GET", "/Users/"+uid+"?excludedAttributes=groups,meta", adminToken, "")
		if r.status != 200 || r.body["groups"] != nil || r.body["meta"] != nil || r.body["userName"] != "q-member" {
			t.Fatalf("GET a user with excludedAttributes: %s", r.raw)
		}
	})
}

// RFC 7644 §3.4.3: a search on the server root covers every resource type — Users, then
// Groups — paged across both; a filter only one type can answer selects from that one.
func TestRFC7644_3_4_3_RootSearch(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"root-a","displayName":"Shared Name"}`)
		e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"root-b"}`)
		e.createGroup(`"displayName":"Shared Name"`)
		e.createGroup(`"displayName":"Other"`)
		search := func(body string) reply {
			t.Helper()
			r := e.do("POST", "/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],`+body+`}`)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", body, r.status, r.raw)
			}
			return r
		}
		kinds := func(r reply) string {
			var out []string
			for _, res := range r.body["Resources"].([]any) {
				res := res.(map[string]any)
				out = append(out, res["meta"].(map[string]any)["resourceType"].(string))
			}
			return strings.Join(out, ",")
		}
		// admin + 2 users, then 2 groups: five in all, a page of two from the third.
		if r := search(`"startIndex":3,"count":2`); total(r) != 5 || kinds(r) != "User,Group" {
			t.Fatalf("paged across types: %d %s", total(r), kinds(r))
		}
		if r := search(`"filter":"displayName eq \"shared name\""`); total(r) != 2 || kinds(r) != "User,Group" {
			t.Fatalf("a filter both types answer: %s", r.raw)
		}
		if r := search(`"filter":"userName sw \"root-\""`); total(r) != 2 || kinds(r) != "User,User" {
			t.Fatalf("a filter only Users answer: %s", r.raw)
		}
		if r := search(`"filter":"members[value eq \"nobody\"]","count":0`); total(r) != 0 || kinds(r) != "" {
			t.Fatalf("a filter only Groups answer: %s", r.raw)
		}
		e.wantError(e.do("POST", "/.search", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"title eq \"x\""}`),
			400, scim.TypeInvalidFilter)
	})
}

// A group of more members than one filter may name: members are checked a hundred at a
// time, every one of them kept.
func TestGroupWithManyMembers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		var ops []string
		for i := range 250 {
			ops = append(ops, fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"u%d","data":{"schemas":["%s"],"userName":"many-%d"}}`, i, scim.SchemaUser, i))
		}
		ops = append(ops, `{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Many","members":[`+
			func() string {
				var refs []string
				for i := range 250 {
					refs = append(refs, fmt.Sprintf(`{"value":"bulkId:u%d"}`, i))
				}
				return strings.Join(refs, ",")
			}()+`]}}`)
		r := e.do("POST", "/Bulk", adminToken, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`+strings.Join(ops, ",")+`]}`)
		results := r.body["Operations"].([]any)
		last := results[len(results)-1].(map[string]any)
		if r.status != 200 || len(results) != 251 || last["status"] != "201" {
			t.Fatalf("bulk: %d, %d results, last %v", r.status, len(results), last)
		}
		group := e.do("GET", strings.TrimPrefix(last["location"].(string), e.base), adminToken, "")
		if n := len(members(group)); n != 250 {
			t.Fatalf("%d members, want 250", n)
		}
	})
}
