package crossface_test

import (
	"testing"

	"iamd"
	"iamd/face/scim"
	"iamd/storetest"
)

// A caller that may not create users is refused as such by every face's create, before
// the face reads what it sent: a body that is also bad earns the refusal of the caller,
// never the body's, and nothing is stored.
func TestCreatesAuthorizeBeforeReadingTheBody(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			viewer := e.newUser("viewer", "iamd_viewer")
			for _, c := range []struct {
				face, method, path, body string
				refused                  func(reply) bool
			}{
				{"/scim/v2", "POST", "/Users", `{"schemas":["` + scim.SchemaUser + `"],"userName":"bad-body","emails":[{"value":"nope","primary":true},{"value":"x","primary":true}]}`, forbidden},
				{"/ncloud", "POST", "/api/v1/users", `{"loginId":"bad-body@example.com","accessRules":{"consoleAccessAllowed":null}}`, gatewayDenied},
				{"/ncloud", "POST", "/api/v1/users/bulk", `{"params":[{"loginId":"bad-body@example.com","foo":1}]}`, gatewayDenied},
				{"/vikingcloud", "PUT", "/user-service/v1/user", `{"userKey":{"username":"bad-body","authenticator":"local"},"isSsoUser":true}`, forbidden},
				{"/ece", "POST", "/api/v1/users", `{"user_name":"bad body!"}`, forbidden},
				{"/iamd", "POST", "/v1/instances/" + inst + "/users", `{"login_name":"bad-body","status":"asleep","roles":"x"}`, forbidden},
			} {
				if r := viewer.send(c.method, c.face, c.path, c.body); !c.refused(r) {
					t.Errorf("%s %s%s by a viewer: %s, want the caller refused", c.method, c.face, c.path, r)
				}
			}
			for _, login := range []string{"bad-body", "bad-body@example.com", "bad body!"} {
				if _, err := e.core.Directory.FindUserByLogin(e.admin, inst, login); iamd.ErrorCode(err) != iamd.ENOTFOUND {
					t.Errorf("a refused create stored %s: %v", login, err)
				}
			}
		})
	}
}
