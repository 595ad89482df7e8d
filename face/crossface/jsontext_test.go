package crossface_test

import (
	"strings"
	"testing"

	"iamd/face/scim"
	"iamd/storetest"
)

// Every face refuses, in its own error shape, a body no JSON text may hold: a field twice
// in one object (the decoders would keep the last, the client cannot know which) and
// bytes that are not UTF-8 (they would be stored as U+FFFD); and stores nothing.
func TestEveryFaceRefusesRepeatedNamesAndNonUTF8(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			e := start(t, engine.Open(t))
			admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
			for _, c := range []struct{ face, method, path, body, login string }{
				{"/scim/v2", "POST", "/Users", `{"schemas":["` + scim.SchemaUser + `"],"userName":"dup1","userName":"dup2"}`, "dup2"},
				{"/ncloud", "POST", "/api/v1/users", `{"loginId":"n5@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true},"loginId":"n6@example.com"}`, "n6@example.com"},
				{"/vikingcloud", "PUT", "/user-service/v1/user", `{"userKey":{"username":"vk1","authenticator":"local"},"userKey":{"username":"vk2","authenticator":"local"}}`, "vk2"},
				{"/ece", "POST", "/api/v1/users", `{"user_name":"ece1","user_name":"ece2"}`, "ece2"},
				{"/scp", "POST", "/v1/users", `{"instance_id":"` + inst + `","user_id":"scp1","name":"A","user_id":"scp2"}`, "scp2"},
				{"/scim/v2", "POST", "/Users", "{\"schemas\":[\"" + scim.SchemaUser + "\"],\"userName\":\"utf\",\"displayName\":\"\xff\xfe\"}", "utf"},
				{"/vikingcloud", "PUT", "/user-service/v1/user", "{\"userKey\":{\"username\":\"utf\"},\"firstName\":\"\xff\"}", "utf"},
			} {
				r := admin.send(c.method, c.face, c.path, c.body)
				if r.status != 400 || !strings.Contains(r.raw, "twice") && !strings.Contains(r.raw, "UTF-8") {
					t.Errorf("%s %s%s %q: %s", c.method, c.face, c.path, c.body, r)
				}
				if _, err := e.core.Directory.FindUserByLogin(e.admin, inst, c.login); err == nil {
					t.Errorf("%s: a refused body stored %s", c.face, c.login)
				}
			}
		})
	}
}
