package crossface_test

import (
	"net/http"
	"strings"
	"testing"

	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

// A user renamed through SCIM (Entra ID's UPN change) is renamed in every face: each
// shows the new name and finds the user by it, and the old name finds nobody (that the
// new name signs in is TestUserNameRenames in face/scim).
func TestRenameShowsInEveryFace(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
			c := e.newUser("before")
			old, renamed := c.user.LoginName, "after-"+c.user.LoginName
			if r := admin.send("PATCH", "/scim/v2", "/Users/"+c.user.ID, scimPatch(`{"op":"replace","path":"userName","value":"`+renamed+`"}`)); r.status != 200 {
				t.Fatalf("SCIM rename: %s", r)
			}
			for _, look := range []struct {
				face, path string
				status     int
			}{
				{"/ece", "/api/v1/users/" + renamed, 200},
				{"/ece", "/api/v1/users/" + old, 404},
				{"/vikingcloud", "/user-service/v1/user/local/" + renamed, 200},
				{"/vikingcloud", "/user-service/v1/user/local/" + old, 404},
				{"/ncloud", "/api/v1/users/" + ncloudID(c.user), 200},
				{"/scp", "/v1/users/" + c.user.ID + "?instance_id=" + inst, 200},
				{"/scim/v2", "/Users/" + c.user.ID, 200},
			} {
				r := admin.send("GET", look.face, look.path, "")
				if r.status != look.status || look.status == 200 && (!strings.Contains(r.raw, `"`+renamed+`"`) || strings.Contains(r.raw, `"`+old+`"`)) {
					t.Errorf("GET %s%s after the rename: %s", look.face, look.path, r)
				}
			}
		})
	}
}

// Every face also serves at the root of a listener of its own (--face-addr), where it
// registers its routes with no prefix.
func TestEveryFaceServesAtTheRootOfItsOwnListener(t *testing.T) {
	e := start(t, storetest.OpenSQLite(t))
	addrs := map[string]string{}
	for _, m := range e.mounts {
		addrs[m.Face.Name()] = "127.0.0.1:0"
	}
	urls := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(e.store), Logger: e.core.Logger, Mounts: e.mounts, FaceAddrs: addrs})
	for _, c := range []struct {
		face, method, path string
		status             int
	}{
		{"scim", "GET", "/Users", 200},
		{"scim", "GET", "/?filter=userName%20eq%20%22admin%22", 200},
		{"scim", "GET", "/users/", 200},
		{"vikingcloud", "DELETE", "/user-service/v1/user", 405},
		{"ece", "GET", "/api/v1/users", 200},
		{"scp", "GET", "/", 200},
	} {
		req, _ := http.NewRequest(c.method, urls[c.face]+c.path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		if c.face == "ece" {
			req.Header.Set("Authorization", "ApiKey "+adminToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%s at its own listener: %s %s → %d, want %d", c.face, c.method, c.path, resp.StatusCode, c.status)
		}
	}
}
