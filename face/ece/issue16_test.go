package ece_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/cloud-sdk-go/pkg/api/userapi"
	"github.com/elastic/cloud-sdk-go/pkg/auth"
	"github.com/elastic/cloud-sdk-go/pkg/models"

	"iamd"
	"iamd/face/ece"
	"iamd/storetest"
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

// metaStamps reads metadata.created_by and updated_by from a user body.
func metaStamps(t *testing.T, body []byte) [2]string {
	t.Helper()
	var u struct {
		Metadata struct {
			CreatedBy string `json:"created_by"`
			UpdatedBy string `json:"updated_by"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		t.Fatalf("not a user: %s", body)
	}
	return [2]string{u.Metadata.CreatedBy, u.Metadata.UpdatedBy}
}

// A caller without USER_READ resolves to user names only itself and the stamps of its
// own record: a user it may change but not read shows the user ids of its other actors.
// A user without USER_READ still reads and changes itself with its stamps by user name.
func TestStampsOfUsersTheCallerMayNotReadStayIDs(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		const pw = "a long enough passphrase 7"
		e.secrets = append(e.secrets, pw)
		if _, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "ola", Password: []byte(pw),
			Roles: []string{"ece_platform_admin"}}); err != nil {
			t.Fatal(err)
		}
		if s, _, b := e.raw("POST", "/api/v1/users", "Basic "+basic("ola", pw), `{"user_name":"tom"}`); s != 200 {
			t.Fatalf("tom, made by ola: %d %s", s, b)
		}
		if _, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "mia", Password: []byte(pw),
			Roles: []string{"ece_deployment_viewer"}}); err != nil {
			t.Fatal(err)
		}
		// Wendy may change users but not read them: a grant made through the core.
		adminUser, err := e.store.GetUserByLogin(context.Background(), "platform", "admin")
		if err != nil {
			t.Fatal(err)
		}
		asAdmin := iamd.NewContextWithPrincipal(context.Background(),
			&iamd.Principal{UserID: adminUser.ID, InstanceID: "platform", Name: adminUser.DisplayName, PlatformAdmin: true})
		if _, err := e.dir.CreateUser(asAdmin, &iamd.User{InstanceID: "platform", LoginName: "wendy",
			Privileges: []string{iamd.PrivilegeUserWrite}}, iamd.CreateUserOptions{Password: pw}); err != nil {
			t.Fatal(err)
		}
		ola, err := e.store.GetUserByLogin(context.Background(), "platform", "ola")
		if err != nil {
			t.Fatal(err)
		}

		s, _, b := e.raw("PATCH", "/api/v1/users/tom", "Basic "+basic("wendy", pw), `{"full_name":"Tom T."}`)
		if got := metaStamps(t, b); s != 200 || got != [2]string{ola.ID, "wendy"} {
			t.Fatalf("tom, changed by wendy, who may not read ola: %d %v, want [%s wendy]", s, got, ola.ID)
		}
		s, _, b = e.raw("GET", "/api/v1/users/tom", "Basic "+basic("ola", pw), "")
		if got := metaStamps(t, b); s != 200 || got != [2]string{"ola", "wendy"} {
			t.Fatalf("tom, read by ola: %d %v", s, got)
		}
		for _, c := range []struct {
			method, user, body string
			want               [2]string
		}{
			{"GET", "wendy", "", [2]string{"admin", "admin"}},
			{"GET", "mia", "", [2]string{"admin", "admin"}},
			{"PATCH", "mia", `{"full_name":"Mia"}`, [2]string{"admin", "mia"}},
			{"GET", "mia", "", [2]string{"admin", "mia"}},
		} {
			s, _, b := e.raw(c.method, "/api/v1/user", "Basic "+basic(c.user, pw), c.body)
			if got := metaStamps(t, b); s != 200 || got != c.want {
				t.Fatalf("%s /user as %s: %d %v, want %v", c.method, c.user, s, got, c.want)
			}
		}
	})
}

// failingLogins is the core's directory with ActorLogins failing, as a store might.
type failingLogins struct{ ece.Directory }

func (failingLogins) ActorLogins(context.Context, string, []string) (map[string]string, error) {
	return nil, errors.New("the store is unavailable")
}

// When the actors' user names cannot be read, a user is answered with its stamps as
// stored, by user id, not an error: a create or update that happened is answered as
// such, and a client does not retry a create into a conflict.
func TestStampsAsStoredWhenActorsCannotBeRead(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := startWith(t, engine.Open(t), func(d ece.Directory) ece.Directory { return failingLogins{d} })
			adminUser, err := e.store.GetUserByLogin(context.Background(), "platform", "admin")
			if err != nil {
				t.Fatal(err)
			}
			const pw = "a long enough passphrase 7"
			e.secrets = append(e.secrets, pw)
			ids := [2]string{adminUser.ID, adminUser.ID}
			s, _, b := e.raw("POST", "/api/v1/users", "ApiKey "+adminToken,
				`{"user_name":"ola","security":{"password":"`+pw+`","roles":["ece_platform_viewer"]}}`)
			if got := metaStamps(t, b); s != 200 || got != ids {
				t.Fatalf("create: %d %v, want the stamps %v", s, got, ids)
			}
			ola, err := e.store.GetUserByLogin(context.Background(), "platform", "ola")
			if err != nil {
				t.Fatalf("ola after the create: %v", err)
			}
			for _, c := range []struct {
				method, path, authz, body string
				want                      [2]string
			}{
				{"PATCH", "/api/v1/users/ola", "ApiKey " + adminToken, `{"full_name":"Ola"}`, ids},
				{"GET", "/api/v1/users/ola", "ApiKey " + adminToken, "", ids},
				{"GET", "/api/v1/user", "Basic " + basic("ola", pw), "", ids},
				{"PATCH", "/api/v1/user", "Basic " + basic("ola", pw), `{"full_name":"Ola N."}`, [2]string{adminUser.ID, ola.ID}},
			} {
				s, _, b := e.raw(c.method, c.path, c.authz, c.body)
				if got := metaStamps(t, b); s != 200 || got != c.want {
					t.Fatalf("%s %s: %d %v, want the stamps %v", c.method, c.path, s, got, c.want)
				}
			}
			s, _, b = e.raw("GET", "/api/v1/users", "ApiKey "+adminToken, "")
			if s != 200 || !strings.Contains(string(b), `"created_by":"`+adminUser.ID+`"`) {
				t.Fatalf("list: %d %s", s, b)
			}
			if logs := e.logs.String(); !strings.Contains(logs, "shown by user id") || strings.Contains(logs, "store is unavailable") {
				t.Fatalf("the logs: %s", logs)
			}
		})
	}
}

// login_state.path is refused when a browser would read it as another host: a backslash
// is a slash to it, and tabs, newlines and other control characters are dropped, so
// "/\evil.example" and "/\t/evil.example" are "//evil.example". Nobody is signed in.
func TestLoginRedirectRefusesPathsBrowsersReadAsAnotherHost(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, path := range []string{`/\\evil.example`, `/\\/evil.example`, `/a\\b`, `/\t/evil.example`, `/\n/evil.example`,
			`/\r/evil.example`, `/\u0000/evil.example`, `/\u001f/evil.example`, `/\u007f/evil.example`, `/\u0085/evil.example`,
			`//evil.example`, `\\/evil.example`, `https://evil.example`} {
			s, h, b := e.raw("POST", "/api/v1/users/auth/_login", "",
				`{"username":"admin","password":"`+adminPassword+`","login_state":{"path":"`+path+`"}}`)
			e.wantError(s, h, b, 400, ece.CodeUserInvalid)
			if got := errorFields(t, b); !slices.Equal(got, []string{"login_state.path"}) || h.Get("Location") != "" {
				t.Fatalf("%s: fields %v, Location %q", path, got, h.Get("Location"))
			}
		}
		adminUser, err := e.store.GetUserByLogin(context.Background(), "platform", "admin")
		if err != nil {
			t.Fatal(err)
		}
		if sessions, err := e.store.ListSessions(context.Background(), "platform", adminUser.ID, time.Now()); err != nil || len(sessions) != 0 {
			t.Fatalf("sessions after the refused logins: %d, %v", len(sessions), err)
		}
		// A path with what a browser keeps as it is still redirects.
		for _, path := range []string{"/deployments/%5Cx?q=a%09b", "/deployments/ø"} {
			s, h, b := e.raw("POST", "/api/v1/users/auth/_login", "",
				`{"username":"admin","password":"`+adminPassword+`","login_state":{"path":"`+path+`"}}`)
			if s != 302 || !strings.HasPrefix(h.Get("Location"), "/sso/token#") {
				t.Fatalf("%s: %d %s", path, s, b)
			}
			rest, _ := strings.CutPrefix(h.Get("Location"), "/sso/token#")
			token, _, _ := strings.Cut(rest, "?")
			e.secrets = append(e.secrets, token)
		}
	})
}

// A core refusal is worded in ECE's field names: full_name, not the core's display_name.
func TestErrorsInECEVocabulary(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for _, c := range []struct{ body, field string }{
			{`{"user_name":"vocab","full_name":"` + strings.Repeat("n", 300) + `"}`, "full_name"},
			{`{"user_name":"vocab","email":"not an email"}`, "email"},
		} {
			status, header, body := e.raw("POST", "/api/v1/users", "ApiKey "+adminToken, c.body)
			e.wantError(status, header, body, 400, ece.CodeUserInvalid)
			var reply struct{ Errors []struct{ Message string } }
			if err := json.Unmarshal(body, &reply); err != nil || len(reply.Errors) == 0 {
				t.Fatalf("%s: %v: %s", c.field, err, body)
			}
			msg := reply.Errors[0].Message
			if fields := errorFields(t, body); !slices.Equal(fields, []string{c.field}) || !strings.HasPrefix(msg, c.field+" ") ||
				regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`).FindString(strings.ReplaceAll(msg, c.field, "")) != "" {
				t.Errorf("%s: %s", c.field, body)
			}
			if _, err := e.store.GetUserByLogin(context.Background(), "platform", "vocab"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Errorf("%s: the refused user was stored (%v)", c.field, err)
			}
		}
	})
}

// PATCH /user with "roles": [] asks to drop the caller's roles: a restricted field, as any
// other change of them; null names none and changes nothing.
func TestCurrentUserEmptyRolesAreAChange(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := e.client(auth.APIKey(adminToken))
		const pw = "a long enough passphrase 8"
		e.secrets = append(e.secrets, pw)
		if _, err := userapi.Create(userapi.CreateParams{API: admin, UserName: "rey", FullName: "Rey", Email: "rey@example.com",
			Password: []byte(pw), Roles: []string{"ece_deployment_viewer"}}); err != nil {
			t.Fatal(err)
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("rey:"+pw))
		status, header, body := e.raw("PATCH", "/api/v1/user", basic, `{"security":{"roles":[]}}`)
		e.wantError(status, header, body, 400, ece.CodeRestrictedField)
		if status, _, body := e.raw("PATCH", "/api/v1/user", basic, `{"full_name":"Rey S","security":{"roles":null}}`); status != 200 {
			t.Fatalf("roles null: %d %s", status, body)
		}
		u, err := e.store.GetUserByLogin(context.Background(), "platform", "rey")
		if err != nil || !slices.Equal(u.Roles, []string{"ece_deployment_viewer"}) || u.DisplayName != "Rey S" {
			t.Fatalf("after: %+v, %v", u, err)
		}
	})
}

// A field of a nested object is named by its whole path, as ECE's fields are.
func TestNestedFieldsNamedByTheirPath(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		for body, field := range map[string]string{
			`{"user_name":"nested","security":{"password":7}}`:                                  "security.password",
			`{"user_name":"nested","security":{"elevated_permissions":{"enabled":"yes"}}}`:      "security.elevated_permissions.enabled",
			`{"user_name":"nested","security":{"elevated_permissions":{"enabled":true,"x":1}}}`: "security.elevated_permissions.x",
		} {
			status, header, raw := e.raw("POST", "/api/v1/users", "ApiKey "+adminToken, body)
			e.wantError(status, header, raw, 400, ece.CodeUserInvalid)
			var reply struct{ Errors []struct{ Message string } }
			if err := json.Unmarshal(raw, &reply); err != nil || len(reply.Errors) != 1 {
				t.Fatalf("%s: %s", body, raw)
			}
			if fields := errorFields(t, raw); !slices.Equal(fields, []string{field}) || !strings.Contains(reply.Errors[0].Message, field) {
				t.Errorf("%s: %s, want %s named", body, raw, field)
			}
		}
		if _, err := e.store.GetUserByLogin(context.Background(), "platform", "nested"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
			t.Fatalf("a refused create stored the user: %v", err)
		}
	})
}
