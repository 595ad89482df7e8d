package ece_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one. Whatever the
// body, the answer is never a 5xx, and an error is in ECE's shape with its header.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"user_name":"fz","security":{"roles":["ece_platform_viewer"],"password":"a long enough passphrase 7"}}`,
		`{"user_name":"fz","security":{"roles":null,"enabled":false,"elevated_permissions":{"enabled":true,"expires_at":"2999-01-01T00:00:00Z"}}}`,
		`{"security":{},"user_name":"admin"}`,
		`{"full_name":null,"email":"x@example.com","security":{"elevated_permissions":null}}`,
		`{"security":{"security_realm":{"type":"ldap","id":"x"}}}`,
		`{"username":"admin","password":"x","login_state":{"path":"//evil"}}`,
		`{"description":"k","expiration":"999999w"}`,
		`{"keys":["a","b"]}`, `{"user_api_keys":[{"user_id":"admin","api_key_id":"x","extra":1}]}`,
		`{"user_name":"\u0000"}`, `[]`, `null`, `{"security":[]}`, `{"security":{"roles":"x"}}`, ``, `{`,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(3))
	}
	e := start(f, storetest.OpenSQLite(f))
	routes := []struct{ method, path string }{
		{"POST", "/api/v1/users"}, {"PATCH", "/api/v1/users/readonly"}, {"PATCH", "/api/v1/users/admin"},
		{"PATCH", "/api/v1/user"}, {"POST", "/api/v1/users/auth/_login"}, {"POST", "/api/v1/users/auth/keys"},
		{"DELETE", "/api/v1/users/auth/keys"}, {"DELETE", "/api/v1/users/auth/keys/_all"},
	}
	f.Fuzz(func(t *testing.T, body string, route uint8) {
		r := routes[int(route)%len(routes)]
		req, err := http.NewRequest(r.method, e.url+r.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "ApiKey "+adminToken)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q → %d %s", r.method, r.path, body, resp.StatusCode, out)
		}
		if resp.StatusCode >= 400 {
			var reply struct {
				Errors []struct{ Code, Message string } `json:"errors"`
			}
			if json.Unmarshal(out, &reply) != nil || len(reply.Errors) != 1 || reply.Errors[0].Code == "" ||
				resp.Header.Get("x-cloud-error-codes") != reply.Errors[0].Code {
				t.Fatalf("%s %s %q → %d, not ECE's error shape: %s", r.method, r.path, body, resp.StatusCode, out)
			}
		}
	})
}
