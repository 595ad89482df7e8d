package vikingcloud_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/face/vikingcloud"
)

// spy is the core's accounts counting the token lookups (access and API tokens) and, if
// narrowKeys, taking USER_WRITE from API tokens' callers: what a key's caller would be
// were the user's rights read before a change and its sign-in's after.
type spy struct {
	*account.Service
	narrowKeys bool
	lookups    atomic.Int32
}

func (s *spy) AuthenticateToken(ctx context.Context, token string) (*iamd.Principal, error) {
	s.lookups.Add(1)
	p, err := s.Service.AuthenticateToken(ctx, token)
	if err == nil && p.SessionID == "" && s.narrowKeys {
		p.Privileges = slices.DeleteFunc(p.Privileges, func(priv string) bool { return priv == iamd.PrivilegeUserWrite })
	}
	return p, err
}

// jwt is a compact JWS of header and claims with a signature nobody made.
func jwt(header, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(claims)) + "." + enc([]byte("not a signature"))
}

// apiToken creates a user with privileges, signs it in, and issues it an API token.
func (e *env) apiToken(username string, privileges ...string) (access, id, token string) {
	e.t.Helper()
	body := `{"userKey":{"username":"` + username + `"},"password":"` + goodPass + `","privileges":[`
	for i, p := range privileges {
		if i > 0 {
			body += ","
		}
		body += `{"name":"` + p + `"}`
	}
	r := e.do("PUT", "/user-service/v1/user", body+`]}`)
	if r.status != 200 {
		e.t.Fatalf("create %s: %d %s", username, r.status, r.raw)
	}
	ctx := context.Background()
	admin, err := e.acct.AuthenticateToken(ctx, adminToken)
	if err != nil {
		e.t.Fatal(err)
	}
	_, token, err = e.acct.CreateAPIToken(iamd.NewContextWithPrincipal(ctx, admin), instance, r.obj["id"].(string), iamd.CredentialOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	access, id, _ = e.signIn(username)
	return access, id, token
}

// Tokens sent together run the request as the most restricted of them, whichever
// header each came in and whichever is a sign-in's: here the API token's caller lacks
// USER_WRITE that the sign-in's holds, and the request may not write.
func TestTokensTogetherRunAsTheMostRestricted(t *testing.T) {
	eachStoreWith(t, func(a *account.Service) vikingcloud.Accounts { return &spy{Service: a, narrowKeys: true} }, func(t *testing.T, e *env) {
		access, id, key := e.apiToken("writer", "USER_READ", "USER_WRITE")
		create := func(username string, header ...string) reply {
			return e.do("PUT", "/user-service/v1/user", `{"userKey":{"username":"`+username+`"}}`, header...)
		}
		if r := create("by-session", "Authorization", "Bearer "+access); r.status != 200 {
			t.Fatalf("the sign-in alone writes: %d %s", r.status, r.raw)
		}
		e.wantError(create("by-key", "x-auth-token", key), 403, "USER_WRITE")
		e.wantError(e.do("GET", "/user-service/v1/user/local/by-key", ""), 404, "by-key")
		for name, pair := range map[string][]string{
			"the sign-in's first":   {"Authorization", "Bearer " + access, "x-auth-token", key},
			"the key first":         {"Authorization", "Bearer " + key, "x-jwt-assertion", id},
			"all three":             {"Authorization", "Bearer " + id, "x-jwt-assertion", access, "x-auth-token", key},
			"the key in the middle": {"Authorization", "Bearer " + id, "x-jwt-assertion", key, "x-auth-token", access},
		} {
			if r := create("together", pair...); r.status != 403 {
				t.Fatalf("%s: %d %s, want 403: the key's caller may not write", name, r.status, r.raw)
			}
			e.wantError(create("together", pair...), 403, "USER_WRITE")
		}
		e.wantError(e.do("GET", "/user-service/v1/user/local/together", ""), 404, "together")
		// What both allow, they do together.
		if r := e.do("GET", "/user-service/v1/user/local/writer", "", "Authorization", "Bearer "+access, "x-auth-token", key); r.status != 200 {
			t.Fatalf("reading with both: %d %s", r.status, r.raw)
		}
	})
}

// An API gateway (WSO2's) puts a JWT of its own, signed by itself, in x-jwt-assertion:
// beside a credential that holds, a JWT that is not iamd's is ignored. iamd's own ID
// token there is verified all the same: a bad signature, a forged one or an expired
// token refuses the request.
func TestGatewayAssertionIgnored(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		access, id, key := e.apiToken("reader", "USER_READ")
		get := func(header ...string) reply { return e.do("GET", "/user-service/v1/user/local/reader", "", header...) }
		exp := time.Now().Add(time.Hour).Unix()
		gateway := map[string]string{
			"WSO2's": jwt(`{"typ":"JWT","alg":"RS256","x5t":"NTAxZmMxNDMyZDg3MTU1ZGM0MzEzODJhZWI4NDNlZDU1OGFkNjFiMQ","kid":"gateway_certificate_alias"}`,
				`{"iss":"wso2.org/products/am","sub":"admin","exp":`+strconv.FormatInt(exp, 10)+`}`),
			"HS256 of another issuer": jwt(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"https://gateway.example","sub":"reader"}`),
		}
		check := func() {
			t.Helper()
			for name, assertion := range gateway {
				for _, cred := range [][]string{{"Authorization", "Bearer " + access}, {"Authorization", "Bearer " + id}, {"x-auth-token", key}} {
					if r := get(append(cred, "x-jwt-assertion", assertion)...); r.status != 200 || r.obj["userKey"].(map[string]any)["username"] != "reader" {
						t.Fatalf("%s assertion beside %s: %d %s", name, cred[0], r.status, r.raw)
					}
				}
				// Alone it is no credential; elsewhere than x-jwt-assertion it is checked.
				e.wantError(get("x-jwt-assertion", assertion), 401, "the x-jwt-assertion sent is not iamd's")
				e.wantError(get("Authorization", "Bearer "+assertion, "x-auth-token", key), 401, "The credential in Authorization was refused")
			}
		}
		check()
		for _, token := range []string{
			alterSignature(id), // an altered signature
			jwt(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"iamd","sub":"reader","exp":`+strconv.FormatInt(exp, 10)+`}`), // a forged ID token
		} {
			for _, cred := range [][]string{{"Authorization", "Bearer " + access}, {"x-auth-token", key}} {
				e.wantError(get(append(cred, "x-jwt-assertion", token)...), 401, "The credential in x-jwt-assertion was refused")
			}
		}

		e.pass(account.DefaultSessionTTL + time.Minute) // the sign-in, and its ID token, expire; the API token does not
		if r := get("x-auth-token", key); r.status != 200 {
			t.Fatalf("the API token after the sign-in expired: %d %s", r.status, r.raw)
		}
		e.wantError(get("x-auth-token", key, "x-jwt-assertion", id), 401, "The credential in x-jwt-assertion was refused")
		for name, assertion := range gateway {
			if r := get("x-auth-token", key, "x-jwt-assertion", assertion); r.status != 200 {
				t.Fatalf("%s assertion beside the API token: %d %s", name, r.status, r.raw)
			}
		}
	})
}

// A token shaped as iamd's ID token is that or nothing: one that fails as an ID token is
// not looked up as an API token too. Another JWT may be an API token (one may hold
// dots), and is looked up.
func TestIDTokenNotLookedUpAsAPIToken(t *testing.T) {
	var s *spy
	eachStoreWith(t, func(a *account.Service) vikingcloud.Accounts { s = &spy{Service: a}; return s }, func(t *testing.T, e *env) {
		_, id, _ := e.apiToken("reader", "USER_READ")
		for _, token := range []string{alterSignature(id), jwt(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"iamd","sub":"reader"}`)} {
			for _, h := range [][]string{{"Authorization", "Bearer " + token}, {"x-jwt-assertion", token}, {"x-auth-token", token}} {
				before := s.lookups.Load()
				r := e.do("GET", "/user-service/v1/user/local/reader", "", h...)
				if n := s.lookups.Load() - before; n != 0 {
					t.Fatalf("%s: a bad ID token was looked up as an API token (%d lookups)", h[0], n)
				}
				e.wantError(r, 401, "The credential in "+h[0]+" was refused")
			}
		}
		before := s.lookups.Load()
		e.wantError(e.do("GET", "/user-service/v1/user/local/reader", "", "Authorization", "Bearer "+jwt(`{"alg":"RS256"}`, `{"iss":"else"}`)), 401, "Authorization")
		if n := s.lookups.Load() - before; n != 1 {
			t.Fatalf("another JWT was looked up %d times as an API token, want 1", n)
		}
	})
}

// alterSignature changes one whole character of a JWT's signature: its last characters
// carry padding bits a decoder may ignore, so changing them may change nothing.
func alterSignature(token string) string {
	i := len(token) - 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
