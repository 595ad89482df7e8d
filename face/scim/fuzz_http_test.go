package scim_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"iamd/face/scim"
	"iamd/internal/servertest"
	"iamd/storetest"
)

// FuzzRequestBodies sends arbitrary bodies to every route that reads one: never a 5xx,
// and every refusal in SCIM's error shape.
func FuzzRequestBodies(f *testing.F) {
	seeds := []string{
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
		`{"schemas":["` + scim.SchemaUser + `"],"userName":"fz-c","emails":[{"Value":"a@b.c","Primary":true},{"value":"A@b.c","primary":"TRUE"},"x"],"name":{"Formatted":"F"}}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"phoneNumbers","value":[{"value":"+1 555","primary":true}]},{"op":"replace","path":"userName","value":"fz-d"}]}`,
		`{"Operations":[{"method":"PUT","path":"/Users/../Groups"}]}`, `[]`, `null`, ``, `{`, `{"schemas":"x"}`,
	}
	e := start(f, storetest.OpenSQLite(f))
	admin := e.do("GET", "/Me", adminToken, "").body["id"].(string)
	var routes []servertest.Route
	for _, r := range [][2]string{
		{"POST", "/Users"}, {"PUT", "/Users/" + admin}, {"PATCH", "/Users/" + admin}, {"POST", "/Users/.search"},
		{"POST", "/.search"}, {"POST", "/Groups"}, {"POST", "/Bulk"}, {"PATCH", "/Me"}, {"POST", "/Groups/.search"},
	} {
		routes = append(routes, servertest.Route{Method: r[0], URL: e.base + r[1]})
	}
	header := http.Header{"Content-Type": {"application/scim+json"}, "Authorization": {"Bearer " + adminToken}}
	servertest.FuzzBodies(f, seeds, routes, header, func(_ *http.Response, body []byte) bool {
		var reply struct {
			Schemas []string
			Status  string
		}
		return json.Unmarshal(body, &reply) == nil && len(reply.Schemas) == 1 && reply.Schemas[0] == scim.SchemaError && reply.Status != ""
	})
}
