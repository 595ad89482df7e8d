package vikingcloud_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"iamd/internal/servertest"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one: never a 5xx,
// and every refusal in Spring Boot's error shape.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{seedUser("fz"), `{"userKey":{"username":"fz"},"locked":true,"usingMfa":true,"mfaSecret":"` + mfaSecret + `"}`,
		`{"userKey":{"username":"a/b","authenticator":"sso"},"password":"x"}`, `{"basic":"x","roles":["r"],"startTimestamp":"nope"}`,
		`{"name":"r","privileges":[{"name":"USER_READ"}]}`, `{"username":"admin","password":"x","mfaCode":"123456"}`,
		`{"refreshToken":"iamds_x"}`, `{"userKey":null}`, `[]`, `null`, ``, `{`,
	}
	e := start(f, storetest.OpenSQLite(f))
	var routes []servertest.Route
	for _, r := range [][2]string{{"PUT", "/user-service/v1/user"}, {"POST", "/user-service/v1/user"}, {"POST", "/user-service/v1/user/search"},
		{"POST", "/user-service/v1/role"}, {"POST", "/auth-service/v1/token"}, {"POST", "/auth-service/v1/token/refresh"}} {
		routes = append(routes, servertest.Route{Method: r[0], URL: e.base + r[1]})
	}
	header := http.Header{"Content-Type": {"application/json"}, "X-Auth-Token": {adminToken}}
	servertest.FuzzBodies(f, seeds, routes, header, func(_ *http.Response, body []byte) bool {
		var reply struct {
			Message string
			Status  int
			Error   string
		}
		return json.Unmarshal(body, &reply) == nil && reply.Status >= 400 && reply.Error != "" && reply.Message != ""
	})
}
