package scim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"iamd/face/scim"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one: never a 5xx,
// and every refusal in SCIM's error shape.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["` + scim.SchemaUser + `"],"userName":"fz","emails":[{"value":"a@b.c","primary":"true"}],"active":"False"}`,
		`{"schemas":["` + scim.SchemaUser + `"],"userName":"fz","` + scim.SchemaEnterprise + `":{"manager":"m"},"password":"pw"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"active":false}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"x\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"userName sw \"f\"","count":-1}`,
		`{"schemas":["` + scim.SchemaGroup + `"],"displayName":"G","members":[{"value":"x","type":"Group"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"failOnErrors":2,"Operations":[
			{"method":"POST","path":"/Users","bulkId":"a","data":{"schemas":["` + scim.SchemaUser + `"],"userName":"fz-b"}},
			{"method":"PATCH","path":"/Users/bulkId:a","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"displayName","value":"bulkId:a"}]}},
			{"method":"POST","path":"/Groups","bulkId":"g","data":{"schemas":["` + scim.SchemaGroup + `"],"displayName":"fz","members":[{"value":"bulkId:a"},{"value":"bulkId:g"}]}},
			{"method":"DELETE","path":"/Users/bulkId:a"}]}`,
		`{"Operations":[{"method":"PUT","path":"/Users/../Groups"}]}`, `[]`, `null`, ``, `{`, `{"schemas":"x"}`,
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(5))
	}
	e := start(f, storetest.OpenSQLite(f))
	admin := e.do("GET", "/Me", adminToken, "").body["id"].(string)
	routes := []struct{ method, path string }{
		{"POST", "/Users"}, {"PUT", "/Users/" + admin}, {"PATCH", "/Users/" + admin}, {"POST", "/Users/.search"},
		{"POST", "/.search"}, {"POST", "/Groups"}, {"POST", "/Bulk"}, {"PATCH", "/Me"},
	}
	f.Fuzz(func(t *testing.T, body string, route uint8) {
		r := routes[int(route)%len(routes)]
		req, err := http.NewRequest(r.method, e.base+r.path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/scim+json")
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
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
				Schemas []string
				Status  string
			}
			if json.Unmarshal(out, &reply) != nil || len(reply.Schemas) != 1 || reply.Schemas[0] != scim.SchemaError || reply.Status == "" {
				t.Fatalf("%s %s %q → %d, not SCIM's error shape: %s", r.method, r.path, body, resp.StatusCode, out)
			}
		}
	})
}
