package ece_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// _login with login_state.path redirects as the apidocs say,
// '/sso/token#BEARER_TOKEN?state=LOGIN_STATE': the session token in the fragment, and
// the login state (the LoginState object as JSON, query-escaped) after it.
func TestLoginRedirectCarriesTheToken(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const path = "/deployments/abc?tab=edit&x=1"
		s, h, b := e.raw("POST", "/api/v1/users/auth/_login", "",
			`{"username":"admin","password":"`+adminPassword+`","login_state":{"path":"`+path+`"}}`)
		loc := h.Get("Location")
		rest, ok := strings.CutPrefix(loc, "/sso/token#")
		token, query, _ := strings.Cut(rest, "?")
		if s != 302 || !ok || token == "" || strings.TrimSpace(string(b)) != "{}" {
			t.Fatalf("login with a redirect: %d %q %s", s, loc, b)
		}
		e.secrets = append(e.secrets, token)
		q, err := url.ParseQuery(query)
		var state struct {
			Path string `json:"path"`
		}
		if err != nil || len(q) != 1 || json.Unmarshal([]byte(q.Get("state")), &state) != nil || state.Path != path ||
			query != "state="+url.QueryEscape(`{"path":"`+path+`"}`) {
			t.Fatalf("the redirect's state: %q", query)
		}
		s, _, b = e.raw("GET", "/api/v1/user", "Bearer "+token, "")
		if s != 200 || !strings.Contains(string(b), `"user_name":"admin"`) {
			t.Fatalf("the redirect's token: %d %s", s, b)
		}
		// Without a path, the token is in the body, as before.
		s, _, b = e.raw("POST", "/api/v1/users/auth/_login", "", `{"username":"admin","password":"`+adminPassword+`","login_state":{}}`)
		var tok struct {
			Token string `json:"token"`
		}
		if s != 200 || json.Unmarshal(b, &tok) != nil || tok.Token == "" {
			t.Fatalf("login with an empty login_state: %d %s", s, b)
		}
		e.secrets = append(e.secrets, tok.Token)
	})
}
