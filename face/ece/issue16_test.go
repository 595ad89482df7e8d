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
	"github.com/elastic/cloud-sdk-go/pkg/models"

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

func stamps(u *models.User) [2]string {
	if u == nil || u.Metadata == nil {
		return [2]string{}
	}
	return [2]string{u.Metadata.CreatedBy, u.Metadata.UpdatedBy}
}

// metadata.created_by and updated_by are "the Id of the user": its user name, whichever
// face acted, not the actor's full name.
func TestMetadataNamesActorsByUserName(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		ola, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "ola", FullName: "Ola Nordmann",
			Password: []byte(pw), Roles: []string{"ece_platform_admin"}})
		if err != nil || stamps(ola) != [2]string{"admin", "admin"} {
			t.Fatalf("ola, made by the admin: %v, %v", stamps(ola), err)
		}
		mia, err := userapi.Create(userapi.CreateParams{API: e.client(basicAuth{"ola", pw}), UserName: "mia", FullName: "Mia",
			Password: []byte(pw), Roles: []string{"ece_deployment_viewer"}})
		if err != nil || stamps(mia) != [2]string{"ola", "ola"} {
			t.Fatalf("mia, made by ola: %v, %v", stamps(mia), err)
		}
		mia, err = userapi.Update(userapi.UpdateParams{API: admin, UserName: "mia", FullName: "Mia Hansen"})
		if err != nil || stamps(mia) != [2]string{"ola", "admin"} {
			t.Fatalf("mia, changed by the admin: %v, %v", stamps(mia), err)
		}
		// Mia, who may not read other users, changes herself and reads herself.
		miaAPI := e.client(basicAuth{"mia", pw})
		mia, err = userapi.UpdateCurrent(userapi.UpdateParams{API: miaAPI, UserName: "mia", Email: "mia@example.com"})
		if err != nil || stamps(mia) != [2]string{"ola", "mia"} {
			t.Fatalf("mia, changed by herself: %v, %v", stamps(mia), err)
		}
		if mia, err = userapi.GetCurrent(userapi.GetCurrentParams{API: miaAPI}); err != nil || stamps(mia) != [2]string{"ola", "mia"} {
			t.Fatalf("mia, read by herself: %v, %v", stamps(mia), err)
		}

		// A user made by the core call every other face makes, as the admin.
		adminUser, err := e.store.GetUserByLogin(context.Background(), "platform", "admin")
		if err != nil {
			t.Fatal(err)
		}
		asAdmin := iamd.NewContextWithPrincipal(context.Background(),
			&iamd.Principal{UserID: adminUser.ID, InstanceID: "platform", Name: adminUser.DisplayName, PlatformAdmin: true})
		if _, err := e.dir.CreateUser(asAdmin, &iamd.User{InstanceID: "platform", LoginName: "sid", DisplayName: "Sid",
			Roles: []string{"ece_platform_viewer"}}, iamd.CreateUserOptions{}); err != nil {
			t.Fatal(err)
		}
		// Listed: every stamp a user name; the built-in users were made by iamd itself.
		all, err := userapi.List(userapi.ListParams{API: admin, IncludeDisabled: true})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][2]string{"admin": {"iamd", "iamd"}, "readonly": {"iamd", "iamd"}, "ola": {"admin", "admin"},
			"mia": {"ola", "mia"}, "sid": {"admin", "admin"}}
		got := map[string][2]string{}
		for _, u := range all.Users {
			got[*u.UserName] = stamps(u)
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s's stamps: %v, want %v", name, got[name], w)
			}
		}

		// An actor since deleted is named by the id the store keeps of it.
		olaUser, err := e.store.GetUserByLogin(context.Background(), "platform", "ola")
		if err != nil {
			t.Fatal(err)
		}
		if err := userapi.Delete(userapi.DeleteParams{API: admin, UserName: "ola"}); err != nil {
			t.Fatal(err)
		}
		if mia, err = userapi.Get(userapi.GetParams{API: admin, UserName: "mia"}); err != nil || stamps(mia) != [2]string{olaUser.ID, "mia"} {
			t.Fatalf("mia after ola's deletion: %v, %v", stamps(mia), err)
		}
	})
}
