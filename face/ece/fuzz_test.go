package ece_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"iamd/internal/servertest"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one. Whatever the
// body, the answer is never a 5xx, and an error is in ECE's shape with its header.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{
		`{"user_name":"fz","security":{"roles":["ece_platform_viewer"],"password":"a long enough passphrase 7"}}`,
		`{"user_name":"fz","security":{"roles":null,"enabled":false,"elevated_permissions":{"enabled":true,"expires_at":"2999-01-01T00:00:00Z"}}}`,
		`{"security":{},"user_name":"admin"}`,
		`{"full_name":null,"email":"x@example.com","security":{"elevated_permissions":null}}`,
		`{"security":{"security_realm":{"type":"ldap","id":"x"}}}`,
		`{"username":"admin","password":"x","login_state":{"path":"//evil"}}`,
		`{"description":"k","expiration":"999999w"}`,
		`{"keys":["a","b"]}`, `{"user_api_keys":[{"user_id":"admin","api_key_id":"x","extra":1}]}`,
		`{"user_name":"\u0000"}`, `[]`, `null`, `{"security":[]}`, `{"security":{"roles":"x"}}`, ``, `{`,
	}
	e := start(f, storetest.OpenSQLite(f))
	var routes []servertest.Route
	for _, r := range [][2]string{
		{"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/readonly"}, {"PATCH", "/api/v1/users/admin"},
		{"PATCH", "/api/v1/user"}, {"POST", "/api/v1/users/auth/_login"}, {"POST", "/api/v1/users/auth/keys"},
		{"DELETE", "/api/v1/users/auth/keys"}, {"DELETE", "/api/v1/users/auth/keys/_all"},
	} {
		routes = append(routes, servertest.Route{Method: r[0], URL: e.url + r[1]})
	}
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"ApiKey " + adminToken}}
	servertest.FuzzBodies(f, seeds, routes, header, func(resp *http.Response, body []byte) bool {
		var reply struct {
			Errors []struct{ Code, Message string } `json:"errors"`
		}
		return json.Unmarshal(body, &reply) == nil && len(reply.Errors) == 1 && reply.Errors[0].Code != "" &&
			resp.Header.Get("x-cloud-error-codes") == reply.Errors[0].Code
	})
}
