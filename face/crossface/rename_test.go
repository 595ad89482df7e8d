package crossface_test

import (
	"strings"
	"testing"

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
