package scim_test

import (
	"context"
	"encoding/base64"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/face/scim"
	"iamd/storetest"
)

func basic(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

// RFC 7643 §4.1.1: password is writeOnly and returned never; RFC 7644 §3.5.1 and §3.5.2
// set it by PUT and PATCH (ServiceProviderConfig says changePassword), held to the
// instance's password policy before anything else of the request is written.
func TestRFC7643_4_1_1_PasswordWriteOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const first, second, third = "first passphrase of pat 1", "second passphrase of pat 2", "third passphrase of pat 3"
		e.secrets = append(e.secrets, first, second, third)
		id, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"pw-user","password":"` + first + `"}`)
		if r := e.do("GET", "/Me", basic("pw-user", first), ""); r.status != 200 || r.body["id"] != id {
			t.Fatalf("sign in with the created password: %d %s", r.status, r.raw)
		}

		r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"password","value":"`+second+`"},{"op":"replace","path":"displayName","value":"Pat"}`))
		if r.status != 200 || r.body["displayName"] != "Pat" {
			t.Fatalf("patch password: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/Me", basic("pw-user", first), ""), 401, "")
		if r := e.do("GET", "/Me", basic("pw-user", second), ""); r.status != 200 {
			t.Fatalf("sign in with the patched password: %d %s", r.status, r.raw)
		}

		// Refused by the policy (too short; then the password in use): nothing changes,
		// not even the displayName sent beside it.
		for _, bad := range []string{"short", second} {
			r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","value":{"displayName":"Changed","password":"`+bad+`"}}`))
			e.wantError(r, 400, scim.TypeInvalidValue)
		}
		if got := e.do("GET", "/Users/"+id, adminToken, ""); got.body["displayName"] != "Pat" {
			t.Fatalf("a refused password changed the user: %s", got.raw)
		}
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"password"}`)), 400, scim.TypeMutability)
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"password","value":7}`)), 400, scim.TypeInvalidValue)

		// PUT sets it too; a PUT without one keeps the password in use.
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"pw-user","password":"`+third+`"}`)
		if r.status != 200 {
			t.Fatalf("put password: %d %s", r.status, r.raw)
		}
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"pw-user","displayName":"Kept"}`)
		if r.status != 200 || e.do("GET", "/Me", basic("pw-user", third), "").status != 200 {
			t.Fatalf("a PUT without a password lost it: %d %s", r.status, r.raw)
		}
	})
}

// RFC 7643 §3.1: id is the server's (one a client sends is ignored), and meta carries
// resourceType, created, lastModified, location (the Location header on create) and
// version (the ETag), which moves on every change.
func TestRFC7643_3_1_CommonAttributes(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
			e := startAt(t, engine.Open(t), clock.Now)
			r := e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"id":"client-chosen","userName":"meta-user",
				"meta":{"resourceType":"Group","version":"W/\"77\""}}`)
			meta, _ := r.body["meta"].(map[string]any)
			id, _ := r.body["id"].(string)
			if r.status != 201 || id == "" || id == "client-chosen" || meta["resourceType"] != "User" ||
				meta["location"] != r.header.Get("Location") || meta["location"] != e.base+"/Users/"+id ||
				meta["version"] != r.header.Get("ETag") || meta["created"] != meta["lastModified"] {
				t.Fatalf("create: %d %s (Location %s, ETag %s)", r.status, r.raw, r.header.Get("Location"), r.header.Get("ETag"))
			}
			if created, err := time.Parse(time.RFC3339, meta["created"].(string)); err != nil || !created.Equal(clock.Now()) {
				t.Fatalf("meta.created %v is not the core's time %v: %v", meta["created"], clock.Now(), err)
			}
			clock.Advance(time.Second) // lastModified has second precision
			r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"id":"another","userName":"meta-user","displayName":"Changed"}`)
			after, _ := r.body["meta"].(map[string]any)
			if r.status != 200 || r.body["id"] != id || after["version"] == meta["version"] || after["created"] != meta["created"] ||
				after["lastModified"] != clock.Now().Format(time.RFC3339) {
				t.Fatalf("after a change a second later: %s (before %v)", r.raw, meta)
			}
		})
	}
}

// testClock is the core's clock in a test that makes time pass by advancing it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func roleNames(r reply) string {
	var out []string
	list, _ := r.body["roles"].([]any)
	for _, role := range list {
		out = append(out, role.(map[string]any)["value"].(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// RFC 7643 §4.1.2's roles are the user's direct roles in the core (design.md's
// mapping): set at creation, added, removed by value filter and replaced by PATCH,
// replaced by a PUT that names them; an unknown role refuses the whole request.
func TestRFC7643_4_1_2_Roles(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"roled","roles":[{"value":"iamd_viewer","primary":true}]}`)
		if r.status != 201 || roleNames(r) != "iamd_viewer" {
			t.Fatalf("create with a role: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"unroled","roles":[{"value":"no_such_role"}]}`), 400, scim.TypeInvalidValue)
		if r := e.do("GET", "/Users?filter=userName%20eq%20%22unroled%22", adminToken, ""); total(r) != 0 {
			t.Fatalf("a refused create left a user: %s", r.raw)
		}

		// Entra's app-role mapping sends each role as a JSON string of its own.
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"7b1a\",\"value\":\"ece_platform_viewer\",\"displayName\":\"Viewer\"}"}]}`))
		if r.status != 200 || roleNames(r) != "ece_platform_viewer,iamd_viewer" {
			t.Fatalf("add a role: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"roles[value eq \"iamd_viewer\"]"}`))
		if r.status != 200 || roleNames(r) != "ece_platform_viewer" {
			t.Fatalf("remove a role: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"displayName","value":"Changed"},
			{"op":"replace","path":"roles","value":[{"value":"no_such_role"}]}`)), 400, scim.TypeInvalidValue)
		if r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"remove","path":"roles[display eq \"x\"]"}`)); r.status != 200 || roleNames(r) != "ece_platform_viewer" {
			t.Fatalf("removing roles no filter selects (RFC 7644 §3.5.2.2: a success that changes nothing): %d %s", r.status, r.raw)
		}
		if got := e.do("GET", "/Users/"+id, adminToken, ""); got.body["displayName"] != nil || roleNames(got) != "ece_platform_viewer" {
			t.Fatalf("a refused PATCH changed the user: %s", got.raw)
		}

		// A PUT without roles keeps them; one with roles sets them; the list shows them.
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"roled","displayName":"Kept"}`)
		if r.status != 200 || roleNames(r) != "ece_platform_viewer" {
			t.Fatalf("PUT without roles: %d %s", r.status, r.raw)
		}
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"roled","roles":["iamd_viewer","iamd_admin"]}`)
		if r.status != 200 || roleNames(r) != "iamd_admin,iamd_viewer" {
			t.Fatalf("PUT with roles: %d %s", r.status, r.raw)
		}
		listed := e.do("GET", "/Users?filter=userName%20eq%20%22roled%22", adminToken, "")
		if one := (reply{body: listed.body["Resources"].([]any)[0].(map[string]any)}); roleNames(one) != "iamd_admin,iamd_viewer" {
			t.Fatalf("listed roles: %s", listed.raw)
		}
		if r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"roled","roles":[]}`); r.status != 200 || roleNames(r) != "" {
			t.Fatalf("PUT with no roles: %d %s", r.status, r.raw)
		}
	})
}

// RFC 7643 §4.1: the attributes iamd has no canonical field for — title,
// preferredLanguage, addresses, the phone numbers and emails beyond the one it keeps —
// come back as they were written, and Entra's PATCH paths into them work: adding a
// value a filter describes, replacing a sub-attribute of the values a filter selects,
// removing them. The canonical value stays the one every other face sees.
func TestRFC7643_4_1_KeptAttributes(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`","`+scim.SchemaEnterprise+`"],"userName":"kept",
			"title":"Engineer","preferredLanguage":"en-US","nickName":"K",
			"name":{"givenName":"Kay","familyName":"Ept","middleName":"M"},
			"emails":[{"type":"work","value":"kept@example.com","primary":"true"},{"type":"home","value":"kept@home.example"}],
			"phoneNumbers":[{"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],
			"addresses":[{"type":"work","streetAddress":"1 Main St","locality":"Springfield","country":"US"}],
			"`+scim.SchemaEnterprise+`":{"costCenter":"CC-1","department":"R&D"}}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		got := e.do("GET", "/Users/"+id, adminToken, "")
		ent := got.body[scim.SchemaEnterprise].(map[string]any)
		if got.body["title"] != "Engineer" || got.body["preferredLanguage"] != "en-US" || got.body["nickName"] != "K" ||
			got.body["name"].(map[string]any)["middleName"] != "M" || len(got.body["emails"].([]any)) != 2 ||
			len(got.body["phoneNumbers"].([]any)) != 2 || ent["costCenter"] != "CC-1" || ent["department"] != "R&D" ||
			got.body["emails"].([]any)[0].(map[string]any)["primary"] != true ||
			got.body["addresses"].([]any)[0].(map[string]any)["locality"] != "Springfield" {
			t.Fatalf("read back: %s", got.raw)
		}
		if u, err := e.store.GetUser(context.Background(), "tenant", id); err != nil || u.Email != "kept@example.com" || u.PhoneCountryCode != "+1" || u.PhoneNumber != "555 0100" {
			t.Fatalf("canonical email and phone: %+v, %v", u, err)
		}

		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`
			{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555 0199"},
			{"op":"Add","path":"phoneNumbers[type eq \"fax\"].value","value":"+1 555 0102"},
			{"op":"Replace","path":"addresses[type eq \"work\"].streetAddress","value":"2 Main St"},
			{"op":"Replace","path":"title","value":"Lead"},
			{"op":"Remove","path":"emails[type eq \"home\"]"},
			{"op":"Replace","path":"`+scim.SchemaEnterprise+`:costCenter","value":"CC-2"}`))
		phones := map[string]string{}
		for _, p := range r.body["phoneNumbers"].([]any) {
			phones[p.(map[string]any)["type"].(string)] = p.(map[string]any)["value"].(string)
		}
		if r.status != 200 || phones["mobile"] != "+1 555 0199" || phones["fax"] != "+1 555 0102" || phones["work"] != "+1 555 0100" ||
			r.body["title"] != "Lead" || len(r.body["emails"].([]any)) != 1 ||
			r.body["addresses"].([]any)[0].(map[string]any)["streetAddress"] != "2 Main St" ||
			r.body[scim.SchemaEnterprise].(map[string]any)["costCenter"] != "CC-2" {
			t.Fatalf("patch kept attributes: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Replace","path":"addresses[type eq \"home\"].locality","value":"x"}`)), 400, scim.TypeNoTarget)

		// Another face changes the email: SCIM shows the new value in its place.
		u, err := e.store.GetUser(context.Background(), "tenant", id)
		if err != nil {
			t.Fatal(err)
		}
		changed := *u
		changed.Email, changed.Version = "new@example.com", u.Version+1
		if err := e.store.UpdateUser(context.Background(), iamd.UserWrite{User: &changed, ExpectedVersion: u.Version, Event: iamd.Event{InstanceID: "tenant", Action: iamd.ActionUserUpdate,
			TargetType: "user", TargetID: id, Outcome: iamd.OutcomeSuccess, Time: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		got = e.do("GET", "/Users/"+id, adminToken, "")
		if emails := got.body["emails"].([]any); len(emails) != 1 || emails[0].(map[string]any)["value"] != "new@example.com" ||
			emails[0].(map[string]any)["type"] != "work" {
			t.Fatalf("after another face's change: %s", got.raw)
		}
		// PUT replaces the kept attributes with the body's, like every other one.
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"kept","title":"Only"}`)
		if r.status != 200 || r.body["title"] != "Only" || r.body["addresses"] != nil || r.body["phoneNumbers"] != nil || r.body["nickName"] != nil {
			t.Fatalf("PUT: %d %s", r.status, r.raw)
		}
		for _, bad := range []string{`"title":42`, `"addresses":["1 Main St"]`, `"name":{"middleName":["M"]}`} {
			e.wantError(e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"kept",`+bad+`}`), 400, scim.TypeInvalidValue)
		}
		if r := e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","path":"ims","value":{"value":"k@im","type":"xmpp"}}`)); r.status != 200 ||
			len(r.body["ims"].([]any)) != 1 || r.body["title"] != "Only" {
			t.Fatalf("one value for a multi-valued attribute (the refused PUTs changing nothing): %d %s", r.status, r.raw)
		}
		big := strings.Repeat("x", iamd.MaxExtraLen)
		e.wantError(e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"kept","title":"`+big+`"}`), 400, scim.TypeInvalidValue)
		if got := e.do("GET", "/Users/"+id, adminToken, ""); got.body["title"] != "Only" || len(got.body["ims"].([]any)) != 1 {
			t.Fatalf("a refused PUT changed the user: %s", got.raw)
		}
	})
}
