package crossface_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"iamd"
	"iamd/face/scim"
	"iamd/storetest"
)

// Rules that once held in one face only hold in every face: ECE's exclusive roles, the
// built-in users, users of another realm, unique group names.
func TestRulesHoldInEveryFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
			bad := func(how string, r reply, status int, says string) {
				t.Helper()
				if r.status != status || !strings.Contains(r.raw, says) {
					t.Errorf("%s: %s, want %d saying %q", how, r, status, says)
				}
			}

			// ECE's exclusive roles, sent through SCIM and VikingCloud.
			bad("SCIM create with exclusive roles", admin.send("POST", "/scim/v2", "/Users", `{"schemas":["`+scim.SchemaUser+
				`"],"userName":"both","roles":[{"value":"ece_platform_admin"},{"value":"ece_platform_viewer"}]}`), 400, "cannot be held together")
			bad("VikingCloud create with exclusive roles", admin.send("PUT", "/vikingcloud", "/user-service/v1/user",
				`{"userKey":{"username":"both","authenticator":"local"},"roles":[{"name":"ece_deployment_manager"},{"name":"ece_deployment_viewer"}]}`),
				400, "cannot be held together")
			bad("ECE create with exclusive roles", admin.send("POST", "/ece", "/api/v1/users",
				`{"user_name":"both","security":{"roles":["ece_platform_admin","ece_deployment_viewer"]}}`), 400, "user.roles.forbidden")
			if _, err := e.core.Directory.FindUserByLogin(e.admin, inst, "both"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
				t.Fatalf("a refused create stored the user: %v", err)
			}

			// The built-in readonly user, and a user of another realm, through every face.
			readonly, err := e.core.Directory.FindUserByLogin(e.admin, inst, "readonly")
			if err != nil {
				t.Fatal(err)
			}
			ldap := &iamd.User{ID: iamd.NewID(), InstanceID: inst, LoginName: "ldap-ann", Realm: "ldap:corp", Status: iamd.UserActive, Version: 1}
			if err := e.store.CreateUser(context.Background(), iamd.UserWrite{User: ldap, Event: iamd.Event{InstanceID: inst}}); err != nil {
				t.Fatal(err)
			}
			for _, u := range []*iamd.User{readonly, ldap} {
				u = e.current(u)
				bad("SCIM PATCH of "+u.LoginName, admin.send("PATCH", "/scim/v2", "/Users/"+u.ID,
					scimPatch(`{"op":"replace","path":"displayName","value":"Changed"}`)), 400, "mutability")
				bad("SCIM DELETE of "+u.LoginName, admin.send("DELETE", "/scim/v2", "/Users/"+u.ID, ""), 400, "mutability")
				bad("SCP PATCH of "+u.LoginName, admin.send("PATCH", "/scp", "/v1/users/"+u.ID, `{"instance_id":"`+inst+`","name":"Changed"}`),
					400, "UserNotModifiable")
				bad("SCP DELETE of "+u.LoginName, admin.send("DELETE", "/scp", "/v1/users/"+u.ID+"?instance_id="+inst, ""), 400, "UserNotModifiable")
				bad("Ncloud PUT of "+u.LoginName, admin.send("PUT", "/ncloud", "/api/v1/users/"+ncloudID(u),
					`{"description":"changed","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`), 400, "")
				bad("Ncloud disable of "+u.LoginName, admin.send("POST", "/ncloud", "/api/v1/users/disable", `{"userIds":["`+ncloudID(u)+`"]}`),
					200, `"success":false`)
				bad("VikingCloud lock of "+u.LoginName, admin.send("POST", "/vikingcloud", "/user-service/v1/user", vk(u, `,"locked":true`)), 400, "")
				bad("ECE disable of "+u.LoginName, admin.send("PATCH", "/ece", "/api/v1/users/"+u.LoginName, `{"security":{"enabled":false}}`),
					400, "user.cannot_modify")
				e.unchanged("changes of "+u.LoginName, u, "")
			}

			// Group names are unique in the instance, whichever face creates or renames them.
			if r := admin.send("POST", "/scp", "/v1/groups", `{"instance_id":"`+inst+`","name":"Ops"}`); r.status != http.StatusCreated {
				t.Fatalf("SCP group create: %s", r)
			}
			groupCount := func() int {
				t.Helper()
				page, err := e.store.ListGroups(context.Background(), iamd.GroupFilter{InstanceID: inst})
				if err != nil {
					t.Fatal(err)
				}
				return page.Total
			}
			groups := groupCount()
			bad("SCIM group of a taken name", admin.send("POST", "/scim/v2", "/Groups", `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"OPS"}`),
				409, "uniqueness")
			bad("Ncloud group of a taken name", admin.send("POST", "/ncloud", "/api/v1/groups", `{"groupName":"ops"}`), 409, "")
			if n := groupCount(); n != groups {
				t.Errorf("refused creates of a taken name: %d groups, then %d", groups, n)
			}
			dev := admin.send("POST", "/scim/v2", "/Groups", `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Dev"}`)
			if dev.status != http.StatusCreated {
				t.Fatalf("SCIM group create: %s", dev)
			}
			id := between(dev.raw, `"id":"`, `"`)
			bad("SCIM rename onto a taken name", admin.send("PATCH", "/scim/v2", "/Groups/"+id,
				scimPatch(`{"op":"replace","path":"displayName","value":"ops"}`)), 409, "uniqueness")
			if g, err := e.store.GetGroup(context.Background(), inst, id); err != nil || g.Name != "Dev" {
				t.Errorf("refused rename: the group is %+v (%v), want Dev", g, err)
			}
			if n := groupCount(); n != groups+1 {
				t.Errorf("refused rename: %d groups, want %d", n, groups+1)
			}
		})
	}
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	out, _, _ := strings.Cut(rest, to)
	return out
}

// A SCIM PATCH needs ROLE_WRITE only when it changes roles: an editor without it changes
// the display name of a user who holds roles, and is refused adding one.
func TestSCIMPatchNeedsRoleWriteOnlyForRoles(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			if _, err := e.core.Directory.CreateRole(e.admin, &iamd.Role{InstanceID: inst, Name: "editor", Privileges: []string{
				iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite, iamd.PrivilegeGroupRead, iamd.PrivilegeRoleRead, iamd.PrivilegeAuditRead}}); err != nil {
				t.Fatal(err)
			}
			editor := e.newUser("editor", "editor")
			reader := e.newUser("reader", "iamd_viewer")
			if r := editor.send("PATCH", "/scim/v2", "/Users/"+reader.user.ID, scimPatch(`{"op":"replace","path":"displayName","value":"Renamed"}`)); r.status != 200 ||
				!strings.Contains(r.raw, `"displayName":"Renamed"`) || !strings.Contains(r.raw, `"value":"iamd_viewer"`) {
				t.Fatalf("an editor's PATCH of the display name: %s", r)
			}
			before := e.current(reader.user)
			if r := editor.send("PATCH", "/scim/v2", "/Users/"+reader.user.ID, scimPatch(`{"op":"add","path":"roles","value":[{"value":"editor"}]}`)); r.status != 403 {
				t.Fatalf("an editor's PATCH of roles: %s", r)
			}
			e.unchanged("a refused role PATCH", before, "")
		})
	}
}

// Every answer that carries a credential — sign-in, refresh, a new key or token — is
// never cached (and no face answer is).
func TestCredentialAnswersAreNotCached(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			const pw = "sign in with this passphrase"
			u, err := e.core.Directory.CreateUser(e.admin, &iamd.User{InstanceID: inst, LoginName: "signer"}, iamd.CreateUserOptions{Password: pw})
			if err != nil {
				t.Fatal(err)
			}
			_, token, err := e.core.Accounts.CreateAPIToken(e.admin, inst, u.ID, iamd.CredentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := caller{e: e, user: u, password: pw, token: token}
			anon := caller{e: e}
			login := anon.send("POST", "/ece", "/api/v1/users/auth/_login", `{"username":"signer","password":"`+pw+`"}`)
			session := caller{e: e, token: between(login.raw, `"token":"`, `"`)}
			answers := map[string]reply{
				"ECE _login":          login,
				"ECE API key":         c.send("POST", "/ece", "/api/v1/users/auth/keys", `{"description":"laptop"}`),
				"VikingCloud token":   anon.send("POST", "/vikingcloud", "/auth-service/v1/token", `{"username":"signer","password":"`+pw+`"}`),
				"native sign-in":      anon.send("POST", "/iamd", "/v1/instances/"+inst+"/sign-in", `{"login_name":"signer","password":"`+pw+`"}`),
				"native API token":    c.send("POST", "/iamd", "/v1/me/api-tokens", `{"description":"ci"}`),
				"native access key":   c.send("POST", "/iamd", "/v1/me/access-keys", `{"description":"ci"}`),
				"SCIM user":           caller{e: e, token: adminToken}.send("GET", "/scim/v2", "/Users/"+u.ID, ""),
				"VikingCloud refresh": reply{},
			}
			refreshToken := between(answers["VikingCloud token"].raw, `"refreshToken":"`, `"`)
			answers["VikingCloud refresh"] = anon.send("POST", "/vikingcloud", "/auth-service/v1/token/refresh", `{"refreshToken":"`+refreshToken+`"}`)
			req, _ := http.NewRequest("POST", e.base+"/ece/api/v1/users/auth/_refresh", nil)
			req.Header.Set("Authorization", "Bearer "+session.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			answers["ECE _refresh"] = reply{status: resp.StatusCode, header: resp.Header}
			for what, r := range answers {
				if r.status >= 300 || r.header.Get("Cache-Control") != "no-store" {
					t.Errorf("%s: %d, Cache-Control %q", what, r.status, r.header.Get("Cache-Control"))
				}
			}
		})
	}
}
