package ncloud_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"iamd/face/ncloud"
	"iamd/internal/servertest"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies, properly signed, to every route that reads
// one: never a 5xx, and every refusal in the API's or the gateway's error shape.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{seedCreate,
		`{"loginId":"a@b.co","description":"한","userProfile":{"phoneCountryCode":"+82","phoneNo":"010"},"accessRules":{"consoleAccessAllowed":false,"apiAccessAllowed":true}}`,
		`{"userIds":["x","00000000-0000-0000-0000-000000000000"]}`, `{"userIds":[]}`, `{"accessRules":null}`,
		`{"userProfile":[],"accessRules":{"consoleAccessAllowed":"true"}}`, `[]`, `null`, ``, `{`,
		`{"params":[{"loginId":"b@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}},{}]}`,
		`{"groupIds":["00000000-0000-0000-0000-000000000000","x"]}`, `{"tags":[{"tagKey":"k","tagValue":"v"}]}`, `{"tagKeys":["k"]}`, `{"groupName":"G","description":"d"}`, `{"consoleAccessAllowed":true,"apiAccessAllowed":false}`,
	}
	e := start(f, storetest.OpenSQLite(f))
	admin := e.do("GET", "/api/v1/users?searchColumn=loginId&searchWord=admin", "").obj["items"].([]any)[0].(map[string]any)["userId"].(string)
	var routes []servertest.Route
	for _, r := range [][2]string{
		{"POST", "/api/v1/users"}, {"PUT", "/api/v1/users/" + admin}, {"POST", "/api/v1/users/delete"},
		{"POST", "/api/v1/users/enable"}, {"POST", "/api/v1/users/disable"}, {"POST", "/api/v1/users/bulk"},
		{"PUT", "/api/v1/users/" + admin + "/access-rules"}, {"POST", "/api/v1/users/" + admin + "/groups"},
		{"POST", "/api/v1/users/" + admin + "/groups/delete"}, {"POST", "/api/v1/users/" + admin + "/tags"},
		{"POST", "/api/v1/users/" + admin + "/tags/delete"}, {"POST", "/api/v1/groups"},
	} {
		u, _ := url.Parse(e.base + r[1])
		h := http.Header{}
		for _, kv := range ncloud.SignedHeaders(secretKey, r[0], u.RequestURI(), strconv.FormatInt(time.Now().UnixMilli(), 10), accessKey) {
			h.Set(kv[0], kv[1])
		}
		routes = append(routes, servertest.Route{Method: r[0], URL: u.String(), Header: h})
	}
	// The routes' signatures hold: a valid body through the first one creates a user.
	req, _ := http.NewRequest(routes[0].Method, routes[0].URL, strings.NewReader(`{"loginId":"fuzz-setup@example.com",
		"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`))
	req.Header = routes[0].Header.Clone()
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		f.Fatalf("the fuzzed routes are not signed right: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	servertest.FuzzBodies(f, seeds, routes, http.Header{"Content-Type": {"application/json"}}, func(_ *http.Response, body []byte) bool {
		var api struct {
			ErrorCode *int `json:"errorCode"`
			Message   string
			Error     *struct{ ErrorCode, Message string } `json:"error"`
		}
		if json.Unmarshal(body, &api) != nil {
			return false
		}
		return (api.ErrorCode != nil && api.Message != "") || (api.Error != nil && api.Error.ErrorCode != "")
	})
}
