package ece_test

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/cloud-sdk-go/pkg/api/userapi"
	"github.com/elastic/cloud-sdk-go/pkg/auth"

	"iamd"
	"iamd/face/ece"
)

// errorFields returns the fields of an ECE error body's one error.
func errorFields(t *testing.T, body []byte) []string {
	t.Helper()
	var reply struct {
		Errors []struct {
			Fields []string `json:"fields"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &reply) != nil || len(reply.Errors) != 1 {
		t.Fatalf("not one ECE error: %s", body)
	}
	return reply.Errors[0].Fields
}

// PATCH /user: what a user may not change of itself — its roles, its state, its elevated
// permissions, like its user name, permissions and metadata — is a restricted field (400
// user.restricted_field, as the apidocs list), not a refused caller, and nothing changes.
// Sent back as they are, as Elastic's clients do, they are no change.
func TestCurrentUserRestrictedFields(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw, pw+"!")
		if _, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "sam", FullName: "Sam", Email: "sam@example.com",
			Password: []byte(pw), Roles: []string{"ece_deployment_viewer"}}); err != nil {
			t.Fatal(err)
		}
		before, err := e.store.GetUserByLogin(context.Background(), "platform", "sam")
		if err != nil {
			t.Fatal(err)
		}

		// Elastic's client: a role change beside a new name and password.
		sam := e.client(basicAuth{"sam", pw})
		_, err = userapi.UpdateCurrent(userapi.UpdateParams{API: sam, UserName: "sam", FullName: "Samuel",
			Password: []byte(pw + "!"), Roles: []string{"ece_platform_admin"}})
		if err == nil || !strings.Contains(err.Error(), ece.CodeRestrictedField) {
			t.Fatalf("a user granting itself a role: %v, want %s", err, ece.CodeRestrictedField)
		}
		for _, c := range []struct{ body, field string }{
			{`{"security":{"roles":["ece_platform_admin"]}}`, "security.roles"},
			{`{"full_name":"Samuel","security":{"roles":["ece_platform_viewer"],"password":"` + pw + `!"}}`, "security.roles"},
			{`{"security":{"enabled":false}}`, "security.enabled"},
			{`{"security":{"elevated_permissions":{"enabled":true}}}`, "security.elevated_permissions"},
			{`{"user_name":"samuel"}`, "user_name"},
			{`{"security":{"permissions":["create-user"]}}`, "security.permissions"},
			{`{"metadata":{"created_by":"sam"}}`, "metadata"},
		} {
			s, h, b := e.raw("PATCH", "/api/v1/user", "Basic "+basic("sam", pw), c.body)
			e.wantError(s, h, b, 400, ece.CodeRestrictedField)
			if got := errorFields(t, b); !slices.Equal(got, []string{c.field}) {
				t.Errorf("%s: fields %v, want [%s]", c.body, got, c.field)
			}
		}
		after, err := e.store.GetUserByLogin(context.Background(), "platform", "sam")
		if err != nil || after.Version != before.Version || after.DisplayName != "Sam" || after.Status != iamd.UserActive ||
			!slices.Equal(after.Roles, []string{"ece_deployment_viewer"}) || after.ElevatedUntil != nil {
			t.Fatalf("sam after the refusals: %+v, %v", after, err)
		}
		if _, err := userapi.GetCurrent(userapi.GetCurrentParams{API: e.client(basicAuth{"sam", pw})}); err != nil {
			t.Fatalf("the old password after the refusals: %v", err)
		}

		// Sent back as they are, roles, state and elevation are no change.
		s, _, b := e.raw("PATCH", "/api/v1/user", "Basic "+basic("sam", pw),
			`{"user_name":"sam","full_name":"Samuel","security":{"roles":["ece_deployment_viewer"],"enabled":true,"elevated_permissions":{"enabled":false}}}`)
		if s != 200 || !strings.Contains(string(b), `"full_name":"Samuel"`) {
			t.Fatalf("sam sending himself back with a new name: %d %s", s, b)
		}
	})
}

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
