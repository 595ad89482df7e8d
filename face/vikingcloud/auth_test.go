package vikingcloud_test

import (
	"fmt"
	"strings"
	"testing"
)

// signIn answers the access, ID and refresh tokens of a sign-in.
func (e *env) signIn(username string) (access, id, refresh string) {
	e.t.Helper()
	r := e.do("POST", "/auth-service/v1/token", `{"username":"`+username+`","password":"`+goodPass+`"}`, "", "")
	if r.status != 200 {
		e.t.Fatalf("%s signs in: %d %s", username, r.status, r.raw)
	}
	return r.obj["accessToken"].(string), r.obj["idToken"].(string), r.obj["refreshToken"].(string)
}

// Each token goes in each place VikingCloud's clients put one, the portal's own pairing
// (Authorization: Bearer <idToken>, x-jwt-assertion: <accessToken>) and the opposite
// among them; each is verified, and tokens sent together must be one user's and, for a
// sign-in's tokens, one sign-in's.
func TestEachTokenInEachPlace(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, u := range []string{"reader", "other"} {
			e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"`+u+`"},"password":"`+goodPass+`","privileges":[{"name":"USER_READ"}]}`)
		}
		access, id, refresh := e.signIn("reader")
		access2, id2, _ := e.signIn("reader") // a second sign-in of the same user
		otherAccess, otherID, _ := e.signIn("other")
		get := func(header ...string) reply { return e.do("GET", "/user-service/v1/user/local/reader", "", header...) }

		for _, token := range []string{access, id, adminToken} {
			for _, h := range [][]string{{"Authorization", "Bearer " + token}, {"x-jwt-assertion", token}, {"x-auth-token", token}} {
				if r := get(h...); r.status != 200 {
					t.Fatalf("%s: %d %s", h[0], r.status, r.raw)
				}
			}
		}
		for name, pair := range map[string][]string{
			"the token guide's pairing":    {"Authorization", "Bearer " + id, "x-jwt-assertion", access},
			"the opposite pairing":         {"Authorization", "Bearer " + access, "x-jwt-assertion", id},
			"with x-auth-token":            {"x-auth-token", access, "x-jwt-assertion", id},
			"the same token twice":         {"Authorization", "Bearer " + access, "x-jwt-assertion", access},
			"all three of one sign-in":     {"Authorization", "Bearer " + id, "x-jwt-assertion", access, "x-auth-token", id},
			"the second sign-in's pairing": {"Authorization", "Bearer " + id2, "x-jwt-assertion", access2},
		} {
			if r := get(pair...); r.status != 200 || r.obj["userKey"].(map[string]any)["username"] != "reader" {
				t.Fatalf("%s: %d %s", name, r.status, r.raw)
			}
		}
		// The caller is the token's user: reader may read, not write.
		e.wantError(e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"nope"}}`, "Authorization", "Bearer "+id, "x-jwt-assertion", access), 403, "USER_WRITE")
		e.wantError(e.do("GET", "/user-service/v1/user/local/nope", ""), 404, "nope")

		// Each refusal for its own reason: which credential was refused, or why together.
		const (
			mixed   = "different users or sign-ins"
			inAuth  = "The credential in Authorization was refused"
			inJWT   = "The credential in x-jwt-assertion was refused"
			inToken = "The credential in x-auth-token was refused"
		)
		for name, c := range map[string]struct {
			pair   []string
			reason string
		}{
			"two users' tokens":              {[]string{"Authorization", "Bearer " + id, "x-jwt-assertion", otherAccess}, mixed},
			"two users' tokens, reversed":    {[]string{"Authorization", "Bearer " + otherID, "x-jwt-assertion", access}, mixed},
			"two sign-ins of one user":       {[]string{"Authorization", "Bearer " + id, "x-jwt-assertion", access2}, mixed},
			"an API token of another user":   {[]string{"Authorization", "Bearer " + access, "x-auth-token", adminToken}, mixed},
			"a good token and a bad one":     {[]string{"Authorization", "Bearer " + id, "x-jwt-assertion", "iamds_forged"}, inJWT},
			"a bad token and a good one":     {[]string{"Authorization", "Bearer " + id + "x", "x-jwt-assertion", access}, inAuth},
			"an altered ID token":            {[]string{"x-jwt-assertion", alterSignature(id)}, inJWT},
			"an ID token under another kind": {[]string{"Authorization", "Token " + id}, inAuth},
			"the refresh token (Bearer)":     {[]string{"Authorization", "Bearer " + refresh}, inAuth},
			"the refresh token (assertion)":  {[]string{"x-jwt-assertion", refresh}, inJWT},
			"the refresh token (auth token)": {[]string{"x-auth-token", refresh}, inToken},
			"nothing":                        {[]string{"", ""}, "Full authentication is required"},
		} {
			if r := get(c.pair...); r.status != 401 || !strings.Contains(fmt.Sprint(r.obj["message"]), c.reason) {
				t.Fatalf("%s: %d %s, want 401 saying %q", name, r.status, r.raw, c.reason)
			} else {
				e.wantError(r, 401, c.reason)
			}
		}

		// Refreshed, the sign-in's tokens stop working wherever they are sent.
		if r := e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+refresh+`"}`, "", ""); r.status != 200 {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		for _, token := range []string{access, id} {
			for _, h := range [][]string{{"Authorization", "Bearer " + token}, {"x-jwt-assertion", token}, {"x-auth-token", token}} {
				e.wantError(get(h...), 401, "The credential in "+h[0]+" was refused")
			}
		}
	})
}

// The refresh token is a secret of its own: not the access token, no credential for
// the API, and the only thing that refreshes; it refreshes once, and the tokens it
// replaces stop working.
func TestRefreshTokenIsItsOwnSecret(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"reader"},"password":"`+goodPass+`","privileges":[{"name":"USER_READ"}]}`)
		access, id, refresh := e.signIn("reader")
		if refresh == access || refresh == id || refresh == "" {
			t.Fatalf("the refresh token is the access or ID token: %q", refresh)
		}
		for _, token := range []string{access, id, adminToken, "", "iamdr_x.y"} {
			r := e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+token+`"}`, "", "")
			if token == "" {
				e.wantError(r, 400, `"refreshToken"`)
			} else {
				e.wantError(r, 401, "")
			}
		}
		// The refused refreshes changed nothing: the sign-in's tokens still work.
		for _, h := range [][]string{{"Authorization", "Bearer " + access}, {"x-jwt-assertion", id}} {
			if r := e.do("GET", "/user-service/v1/user/local/reader", "", h...); r.status != 200 {
				t.Fatalf("%s after refused refreshes: %d %s", h[0], r.status, r.raw)
			}
		}

		r := e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+refresh+`"}`, "", "")
		if r.status != 200 || r.obj["accessToken"] == access || r.obj["refreshToken"] == refresh || r.obj["refreshToken"] == r.obj["accessToken"] {
			t.Fatalf("refresh: %d %s", r.status, r.raw)
		}
		next := r.obj["refreshToken"].(string)
		if r := e.do("GET", "/user-service/v1/user/local/reader", "", "Authorization", "Bearer "+r.obj["accessToken"].(string)); r.status != 200 {
			t.Fatalf("the new access token: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+refresh+`"}`, "", ""), 401, "") // once only
		if r := e.do("POST", "/auth-service/v1/token/refresh", `{"refreshToken":"`+next+`"}`, "", ""); r.status != 200 {
			t.Fatalf("the new refresh token: %d %s", r.status, r.raw)
		}
	})
}
