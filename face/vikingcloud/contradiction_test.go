package vikingcloud_test

import (
	"strings"
	"testing"
)

// A body that contradicts itself is refused naming both attributes, and changes nothing:
// isSsoUser true with a local userKey (which once made the user sso, so that its own key
// found nothing), and usingMfa false with an MFA secret (which once turned MFA on).
func TestContradictionsRefused(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		sso := strings.Replace(seedUser("sal"), `"isSsoUser":false`, `"isSsoUser":true`, 1)
		r := e.do("PUT", "/user-service/v1/user", sso)
		e.wantError(r, 400, `Fields "isSsoUser" and "userKey.authenticator"`)
		r = e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"sal","authenticator":"local"},"isSsoUser":true}`)
		e.wantError(r, 400, `Fields "isSsoUser" and "userKey.authenticator"`)
		for _, path := range []string{"/user-service/v1/user/local/sal", "/user-service/v1/user/sso/sal"} {
			e.wantError(e.do("GET", path, ""), 404, "sal")
		}
		mfaOff := func(body, secretField string) string {
			return strings.Replace(body, `"`+secretField+`":""`, `"`+secretField+`":"`+mfaSecret+`"`, 1)
		}
		e.wantError(e.do("PUT", "/user-service/v1/user", mfaOff(seedUser("mo"), "mfaSecret")), 400, `Fields "usingMfa" and "mfaSecret"`)
		e.wantError(e.do("PUT", "/user-service/v1/user", mfaOff(seedUser("mo"), "sharedSecret")), 400, `Fields "usingMfa" and "sharedSecret"`)
		e.wantError(e.do("GET", "/user-service/v1/user/local/mo", ""), 404, "mo")

		// Said without contradiction, each is done: isSsoUser true with no authenticator
		// is an sso user; isSsoUser false beside an sso authenticator is the default a
		// client sends unasked; usingMfa true with the secret turns MFA on.
		if r := e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"sal"},"isSsoUser":true}`); r.status != 200 ||
			r.obj["isSsoUser"] != true || r.obj["userKey"].(map[string]any)["authenticator"] != "sso" {
			t.Fatalf("isSsoUser without an authenticator: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/user-service/v1/user/sso/sal", ""); r.status != 200 {
			t.Fatalf("sal by its key: %d %s", r.status, r.raw)
		}
		if r := e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"idp","authenticator":"sso"},"isSsoUser":false}`); r.status != 200 || r.obj["isSsoUser"] != true {
			t.Fatalf("an sso authenticator with isSsoUser false: %d %s", r.status, r.raw)
		}
		on := strings.Replace(mfaOff(seedUser("mo"), "mfaSecret"), `"usingMfa":false`, `"usingMfa":true`, 1)
		if r := e.do("PUT", "/user-service/v1/user", on); r.status != 200 || r.obj["usingMfa"] != true {
			t.Fatalf("usingMfa true with the secret: %d %s", r.status, r.raw)
		}

		// Updates: the same refusals, on a user without MFA and on one with it.
		e.do("PUT", "/user-service/v1/user", seedUser("lu"))
		for _, name := range []string{"lu", "mo"} {
			before := e.do("GET", "/user-service/v1/user/local/"+name, "").raw
			e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"`+name+`","authenticator":"local"},"isSsoUser":true,"firstName":"X"}`),
				400, `Fields "isSsoUser" and "userKey.authenticator"`)
			e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"`+name+`"},"usingMfa":false,"mfaSecret":"`+mfaSecret+`","firstName":"X"}`),
				400, `Fields "usingMfa" and "mfaSecret"`)
			e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"`+name+`"},"usingMfa":false,"sharedSecret":"`+mfaSecret+`","firstName":"X"}`),
				400, `Fields "usingMfa" and "sharedSecret"`)
			if after := e.do("GET", "/user-service/v1/user/local/"+name, "").raw; after != before {
				t.Fatalf("%s: a refused update changed the user:\n%s\n%s", name, before, after)
			}
		}
		e.wantError(e.do("GET", "/user-service/v1/user/sso/lu", ""), 404, "lu")
		if r := e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"mo"},"usingMfa":false}`); r.status != 200 || r.obj["usingMfa"] != false {
			t.Fatalf("usingMfa false alone turns MFA off: %d %s", r.status, r.raw)
		}
	})
}

// An update names its user by userKey alone, its authenticator local when left out, as
// every lookup by key does: isSsoUser true beside it contradicts that (400 naming both)
// rather than sending the update to an sso user of that name. The body is checked once
// the core has authorized the caller — a caller without USER_WRITE is refused first —
// and then whether or not the user is there.
func TestUpdateNamesItsUserByUserKey(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("PUT", "/user-service/v1/user", seedUser("lu"))
		before := e.do("GET", "/user-service/v1/user/local/lu", "").raw
		contradictions := map[string]string{
			`{"userKey":{"username":"lu"},"isSsoUser":true,"firstName":"X"}`:                               `Fields "isSsoUser" and "userKey.authenticator"`,
			`{"userKey":{"username":"ghost"},"isSsoUser":true,"firstName":"X"}`:                            `Fields "isSsoUser" and "userKey.authenticator"`,
			`{"userKey":{"username":"ghost","authenticator":"local"},"isSsoUser":true}`:                    `Fields "isSsoUser" and "userKey.authenticator"`,
			`{"userKey":{"username":"ghost"},"usingMfa":false,"mfaSecret":"` + mfaSecret + `"}`:            `Fields "usingMfa" and "mfaSecret"`,
			`{"userKey":{"username":"ghost"},"primaryPhone":"010-1234-5678","primaryPhoneCountryCode":""}`: `"primaryPhoneCountryCode"`,
		}
		for body, names := range contradictions {
			if r := e.do("POST", "/user-service/v1/user", body); r.status != 400 {
				t.Fatalf("%s: %d %s, want 400", body, r.status, r.raw)
			}
			e.wantError(e.do("POST", "/user-service/v1/user", body), 400, names)
		}
		if after := e.do("GET", "/user-service/v1/user/local/lu", "").raw; after != before {
			t.Fatalf("a refused update changed lu:\n%s\n%s", before, after)
		}
		e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"ghost"},"firstName":"X"}`), 404, "ghost")

		// Said without contradiction, the key finds its user: local when left out, sso when named.
		if r := e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"lu"},"isSsoUser":false,"firstName":"Y"}`); r.status != 200 ||
			r.obj["firstName"] != "Y" || r.obj["userKey"].(map[string]any)["authenticator"] != "local" {
			t.Fatalf("lu by its key: %d %s", r.status, r.raw)
		}
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"sal","authenticator":"sso"}}`)
		if r := e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"sal","authenticator":"sso"},"isSsoUser":true,"firstName":"S"}`); r.status != 200 || r.obj["firstName"] != "S" {
			t.Fatalf("sal by its key: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("POST", "/user-service/v1/user", `{"userKey":{"username":"sal"},"firstName":"T"}`), 404, "sal")

		// Authorized before validated: a reader is refused the write, whatever the body says.
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"reader"},"password":"`+goodPass+`","privileges":[{"name":"USER_READ"}]}`)
		access, _, _ := e.signIn("reader")
		luBefore := e.do("GET", "/user-service/v1/user/local/lu", "")
		if luBefore.status != 200 {
			t.Fatalf("lu: %d %s", luBefore.status, luBefore.raw)
		}
		for body := range contradictions {
			e.wantError(e.do("POST", "/user-service/v1/user", body, "Authorization", "Bearer "+access), 403, "USER_WRITE")
		}
		if after := e.do("GET", "/user-service/v1/user/local/lu", "").raw; after != luBefore.raw {
			t.Fatalf("a refused write changed lu:\n%s\n%s", luBefore.raw, after)
		}
		e.wantError(e.do("GET", "/user-service/v1/user/local/ghost", ""), 404, "ghost")
	})
}
