package native_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"iamd/internal/servertest"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route of the native API that reads
// one: never a 5xx, and every refusal in the face's {"error":{code, message}} shape.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{`{"login_name":"fz","email":"fz@example.com","password":"a long enough password","roles":[],"status":"active"}`,
		`{"version":1,"department":"x","login_name":"fz2","locked":false}`, `{"version":"1"}`, `{"version":1e3}`,
		`{"password":"a long enough password","temporary":true}`, `{"name":"G","user_ids":["x"]}`,
		`{"version":1,"add_user_ids":["x"],"remove_group_ids":[1]}`, `{"roles":["iamd_viewer"]}`,
		`{"name":"r","privileges":["USER_READ"]}`, `{"id":"fz-inst","name":"F"}`,
		`{"password_min_length":8,"password_history":1,"password_max_age_days":1e20,"lockout_threshold":1,"lockout_duration_seconds":-1}`,
		`{"description":"k","expires_at":"2030-01-01T00:00:00Z"}`, `{"login_name":"admin","password":"x"}`,
		`[]`, `null`, ``, `{`, `{"login_name":"\ud800"}`,
	}
	e := start(f, storetest.OpenSQLite(f))
	admin := e.adminID()
	routes := []servertest.Route{}
	for _, r := range [][2]string{{"POST", "/iamd/v1/instances/team-a/users"}, {"PATCH", "/iamd/v1/instances/team-a/users/" + admin},
		{"PUT", "/iamd/v1/instances/team-a/users/" + admin + "/password"}, {"POST", "/iamd/v1/instances/team-a/groups"},
		{"PUT", "/iamd/v1/instances/team-a/policy"}, {"POST", "/iamd/v1/instances"}, {"POST", "/iamd/v1/instances/team-a/roles"},
		{"PUT", "/iamd/v1/instances/team-a/roles/fz"}, {"POST", "/iamd/v1/instances/team-a/users/" + admin + "/access-keys"},
		{"POST", "/iamd/v1/instances/team-a/sign-in"}, {"PUT", "/iamd/v1/me/password"}} {
		routes = append(routes, servertest.Route{Method: r[0], URL: e.base + r[1]})
	}
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + adminToken}}
	servertest.FuzzBodies(f, seeds, routes, header, func(_ *http.Response, body []byte) bool {
		var reply struct {
			Error struct{ Code, Message string }
		}
		return json.Unmarshal(body, &reply) == nil && reply.Error.Code != "" && reply.Error.Message != ""
	})
}
