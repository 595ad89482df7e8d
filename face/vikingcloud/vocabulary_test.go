package vikingcloud_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"iamd"
)

// canonicalFields are the core's snake_case field names, which no VikingCloud message
// may show.
var canonicalFields = []string{iamd.FieldInstanceID, iamd.FieldLoginName, iamd.FieldDisplayName, iamd.FieldGivenName,
	iamd.FieldFamilyName, iamd.FieldPhoneCountryCode, iamd.FieldPhoneNumber, iamd.FieldPhoneExtension,
	iamd.FieldEmployeeNumber, iamd.FieldBusinessUnit, iamd.FieldTimeZone, iamd.FieldExternalID, iamd.FieldMFASecret,
	iamd.FieldGroupIDs, iamd.FieldCurrentPassword, iamd.FieldExpiresAt, iamd.FieldPasswordHash, iamd.FieldElevatedUntil,
	iamd.FieldUserIDs, iamd.FieldMemberGroupIDs, iamd.FieldAccessKey, iamd.FieldCreatedAt, iamd.FieldPasswordMinLen,
	iamd.FieldPasswordHistory, iamd.FieldPasswordMaxAge, iamd.FieldLockoutThreshold, iamd.FieldLockoutDuration,
	iamd.FieldUpdatedAt, iamd.FieldLastLoginAt, iamd.FieldEmailVerify, iamd.FieldPhoneVerify,
	iamd.FieldCredentialsExpired, iamd.FieldMFAEnabled, iamd.FieldLockedUntil}

// goTypes are what Go's type names look like in a message: a package-qualified name,
// a slice, map or pointer, or a Go-only type word.
var goTypes = regexp.MustCompile(`\b(vikingcloud|iamd|wire|account|json|time|reflect)\.[A-Za-z]|\[\][a-z*]|map\[|\*[a-z]+\.|\b(u?int(8|16|32|64)?|float(32|64)|bool|struct|interface)\b`)

// checkVocabulary fails unless msg speaks VikingCloud: no core field name, no Go type.
func checkVocabulary(t *testing.T, what, msg string) {
	t.Helper()
	for _, f := range canonicalFields {
		if !strings.Contains(f, "_") {
			t.Fatalf("%s is not a snake_case field name", f)
		}
		if strings.Contains(msg, f) {
			t.Errorf("%s: the message names the core's field %s: %s", what, f, msg)
		}
	}
	if m := goTypes.FindString(msg); m != "" {
		t.Errorf("%s: the message names a Go type (%q): %s", what, m, msg)
	}
}

// Every refusal of bad input, on every route that reads a body, is a 400 naming the field
// as VikingCloud spells it, in JSON's words for a wrong type, and never a Go type or a
// field name of the core (or of another face); and none of them stores anything.
func TestErrorsSpeakVikingCloud(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	eachStore(t, func(t *testing.T, e *env) {
		if r := e.do("PUT", "/user-service/v1/user", seedUser("vera")); r.status != 200 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"temp"},"password":"`+goodPass+`","forcePasswordChange":true}`)
		before := e.do("GET", "/user-service/v1/user/local/vera", "").raw
		roles := e.do("GET", "/user-service/v1/role", "").raw

		// A case about userKey itself replaces it: a body names each field once.
		key := func(username, attrs string) string {
			if strings.HasPrefix(attrs, `"userKey":`) {
				return ""
			}
			return `"userKey":{"username":"` + username + `"},`
		}
		create := func(attrs string) string {
			return `{` + key("nobody", attrs) + `"password":"` + goodPass + `",` + attrs + `}`
		}
		update := func(attrs string) string { return `{` + key("vera", attrs) + attrs + `}` }
		type bad struct{ body, mentions string }
		// The user attributes each path refuses, by the names VikingCloud gives them.
		userCases := []bad{
			{`"userKey":"x"`, `"userKey" must be an object`},
			{`"roles":"x"`, `"roles" must be an array`},
			{`"roles":[5]`, `"roles[]" must be an object`},
			{`"roles":[{"name":5}]`, `"roles[].name" must be a string`},
			{`"privileges":{}`, `"privileges" must be an array`},
			{`"enabled":"yes"`, `"enabled" must be true or false`},
			{`"usingMfa":1`, `"usingMfa" must be true or false`},
			{`"firstName":7`, `"firstName" must be a string`},
			{`"firstName":"` + long(201) + `"`, `Field "firstName": must be at most 200 characters`},
			{`"lastName":"` + long(201) + `"`, `Field "lastName": must be at most 200 characters`},
			{`"firstName":"a\u0001b"`, `Field "firstName": must not contain control characters`},
			{`"primaryPhone":"call me","primaryPhoneCountryCode":"82"`, `Field "primaryPhone": may hold only digits`},
			{`"primaryPhone":"010-1234-5678","primaryPhoneCountryCode":"abc"`, `Field "primaryPhoneCountryCode": must be`},
			{`"primaryPhoneExtension":"` + long(17) + `"`, `Field "primaryPhoneExtension": must be at most 16`},
			{`"email":"nope"`, `Field "email": must be an email address`},
			{`"timeZone":"Mars/Olympus"`, `Field "timeZone": must be an IANA time zone`},
			{`"notes":"` + long(1025) + `"`, `Field "notes": must be at most 1024`},
			{`"orgId":"` + long(256) + `"`, `Field "orgId": must be at most 255`},
			{`"locale":"` + long(36) + `"`, `Field "locale": must be at most 35`},
			{`"usingMfa":true,"mfaSecret":"not base32!"`, `Field "mfaSecret"`},
			{`"usingMfa":true,"sharedSecret":"not base32!"`, `Field "sharedSecret"`},
			{`"roles":[{"name":"no_such_role"}]`, `Field "roles"`},
			{`"privileges":[{"name":"NO_SUCH"}]`, `Field "privileges"`},
		}
		var cases []struct{ method, path, body, mentions string }
		add := func(method, path, body, mentions string) {
			cases = append(cases, struct{ method, path, body, mentions string }{method, path, body, mentions})
		}
		for _, c := range userCases {
			add("PUT", "/user-service/v1/user", create(c.body), c.mentions)
			add("POST", "/user-service/v1/user", update(c.body), c.mentions)
		}
		for _, path := range []string{"/user-service/v1/user", "/user-service/v1/user/search", "/user-service/v1/role",
			"/auth-service/v1/token", "/auth-service/v1/token/refresh"} {
			add("POST", path, `[]`, "the request body must be an object")
			add("POST", path, `"x"`, "the request body must be an object")
		}
		add("PUT", "/user-service/v1/user", `{"userKey":{"username":5}}`, `"userKey.username" must be a string`)
		add("PUT", "/user-service/v1/user", `{"userKey":{"username":"nobody","username":"again"}}`, `userKey.username appears twice`)
		add("POST", "/user-service/v1/user", update(`"firstName":"a","firstName":"b"`), `firstName appears twice`)
		add("POST", "/user-service/v1/user", update("\"firstName\":\"\xff\xfe\""), `UTF-8`)
		add("PUT", "/user-service/v1/user", `{"userKey":{"username":"nobody"},"password":"short"}`, `Field "password": must be at least`)
		add("PUT", "/user-service/v1/user", `{"userKey":{"username":" lead"},"password":"`+goodPass+`"}`, `Field "userKey.username"`)
		add("POST", "/user-service/v1/user", update(`"password":"short"`), `Field "password": must be at least`)
		add("POST", "/user-service/v1/user/search", `{"orgIds":"x"}`, `"orgIds" must be an array`)
		add("POST", "/user-service/v1/user/search", `{"roles":[5]}`, `"roles[]" must be a string`)
		add("POST", "/user-service/v1/user/search", `{"enabled":"x"}`, `"enabled" must be true or false`)
		add("POST", "/user-service/v1/user/search", `{"startTimestamp":"nope"}`, `"startTimestamp" must be a date-time`)
		add("POST", "/user-service/v1/user/search", `{"endTimestamp":5}`, `"endTimestamp" must be a string`)
		add("POST", "/user-service/v1/user/search", `{"authenticator":"ldap"}`, `Field "authenticator": unknown authenticator "ldap"`)
		add("POST", "/user-service/v1/user/search", `{"authenticators":["sso","ldap"]}`, `Field "authenticators": unknown authenticator "ldap"`)
		add("POST", "/user-service/v1/role", `{"name":5}`, `"name" must be a string`)
		add("POST", "/user-service/v1/role", `{"name":"r","privileges":"x"}`, `"privileges" must be an array`)
		add("POST", "/user-service/v1/role", `{"name":"r","privileges":[{"name":"NOPE"}]}`, `Field "privileges"`)
		add("POST", "/user-service/v1/role", `{"name":"r","description":"`+long(1025)+`"}`, `Field "description": must be at most 1024`)
		add("POST", "/user-service/v1/role", `{"name":"`+long(65)+`"}`, `Field "name"`)
		add("POST", "/user-service/v1/role", `{"name":"r","internal":"no"}`, `"internal" must be true or false`)
		add("POST", "/auth-service/v1/token", `{"username":5,"password":"x"}`, `"username" must be a string`)
		add("POST", "/auth-service/v1/token", `{"username":"temp","password":"`+goodPass+`","newPassword":"short"}`, `Field "newPassword": must be at least`)
		add("POST", "/auth-service/v1/token/refresh", `{"refreshToken":5}`, `"refreshToken" must be a string`)

		for _, c := range cases {
			header := []string{"Authorization", "Bearer " + adminToken}
			if strings.HasPrefix(c.path, "/auth-service") {
				header = []string{"", ""}
			}
			r := e.do(c.method, c.path, c.body, header...)
			what := fmt.Sprintf("%s %s %.80s", c.method, c.path, c.body)
			if r.status != 400 || !strings.Contains(fmt.Sprint(r.obj["message"]), c.mentions) {
				t.Errorf("%s: %d %s, want 400 naming %s", what, r.status, r.raw, c.mentions)
			}
			checkVocabulary(t, what, fmt.Sprint(r.obj["message"]))
		}
		if r := e.do("GET", "/user-service/v1/user/local/nobody", ""); r.status != 404 {
			t.Fatalf("a refused create stored the user: %d %s", r.status, r.raw)
		}
		if after := e.do("GET", "/user-service/v1/user/local/vera", "").raw; after != before {
			t.Fatalf("refused updates changed the user:\n%s\n%s", before, after)
		}
		if after := e.do("GET", "/user-service/v1/role", "").raw; after != roles {
			t.Fatalf("refused role saves changed the roles:\n%s\n%s", roles, after)
		}
	})
}

// Calling codes are the core's one rule: "999" is assigned to no country and is refused
// on create and update naming primaryPhoneCountryCode, and nothing changes; an assigned
// code is stored with its "+".
func TestUnassignedCallingCode(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		code := func(body, cc string) string {
			return strings.Replace(body, `"primaryPhoneCountryCode":"82"`, `"primaryPhoneCountryCode":"`+cc+`"`, 1)
		}
		for _, cc := range []string{"999", "+999", "0", "+0"} {
			r := e.do("PUT", "/user-service/v1/user", code(seedUser("nina"), cc))
			e.wantError(r, 400, `Field "primaryPhoneCountryCode"`)
			checkVocabulary(t, "create with "+cc, r.obj["message"].(string))
		}
		e.wantError(e.do("GET", "/user-service/v1/user/local/nina", ""), 404, "nina")

		if r := e.do("PUT", "/user-service/v1/user", code(seedUser("nina"), "1")); r.status != 200 || r.obj["primaryPhoneCountryCode"] != "+1" {
			t.Fatalf("create with 1: %d %s", r.status, r.raw)
		}
		before := e.do("GET", "/user-service/v1/user/local/nina", "").raw
		for _, body := range []string{
			`{"userKey":{"username":"nina"},"primaryPhoneCountryCode":"999"}`,
			`{"userKey":{"username":"nina"},"primaryPhone":"010-9999-8888","primaryPhoneCountryCode":"999","firstName":"Changed"}`,
		} {
			r := e.do("POST", "/user-service/v1/user", body)
			e.wantError(r, 400, `Field "primaryPhoneCountryCode"`)
			checkVocabulary(t, "update with 999", r.obj["message"].(string))
		}
		if after := e.do("GET", "/user-service/v1/user/local/nina", "").raw; after != before {
			t.Fatalf("a refused update changed the user:\n%s\n%s", before, after)
		}
	})
}
