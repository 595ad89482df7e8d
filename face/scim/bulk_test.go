package scim_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"iamd/face/scim"
	"iamd/server"
	"iamd/storetest"
)

const bulkSchema = `"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]`

func bulkOps(r reply) []map[string]any {
	var out []map[string]any
	ops, _ := r.body["Operations"].([]any)
	for _, op := range ops {
		out = append(out, op.(map[string]any))
	}
	return out
}

// RFC 7644 §3.7: a bulk request runs each operation, answers each in order, resolves
// bulkId references (forward ones too), and says what failed without undoing what ran.
func TestRFC7644_3_7_Bulk(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		// The group refers to a user created after it in the request: it waits for it.
		r := e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[
			{"method":"POST","path":"/Groups","bulkId":"g1","data":{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Bulk Team",
				"members":[{"type":"User","value":"bulkId:u1"},{"value":"bulkId:u2"}]}},
			{"method":"POST","path":"/Users","bulkId":"u1","data":{"schemas":["`+scim.SchemaUser+`"],"userName":"bulk-1"}},
			{"method":"POST","path":"/Users","bulkId":"u2","data":{"schemas":["`+scim.SchemaUser+`"],"userName":"bulk-2"}},
			{"method":"PATCH","path":"/Users/bulkId:u1","data":{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
				"Operations":[{"op":"replace","path":"displayName","value":"First"}]}},
			{"method":"POST","path":"/Users","bulkId":"dup","data":{"schemas":["`+scim.SchemaUser+`"],"userName":"BULK-1"}}]}`)
		ops := bulkOps(r)
		if r.status != 200 || len(ops) != 5 {
			t.Fatalf("bulk: %d %s", r.status, r.raw)
		}
		for i, want := range []string{"201", "201", "201", "200", "409"} {
			if ops[i]["status"] != want {
				t.Fatalf("operation %d: status %v, want %s: %s", i, ops[i]["status"], want, r.raw)
			}
		}
		if ops[0]["bulkId"] != "g1" || !strings.Contains(ops[0]["location"].(string), "/Groups/") || ops[0]["version"] == nil {
			t.Fatalf("the group's result: %v", ops[0])
		}
		if ops[4]["response"].(map[string]any)["scimType"] != scim.TypeUniqueness {
			t.Fatalf("the failed operation carries no error: %v", ops[4])
		}
		group := e.do("GET", strings.TrimPrefix(ops[0]["location"].(string), e.base), adminToken, "")
		members := fmt.Sprint(group.body["members"])
		u1 := strings.TrimPrefix(ops[1]["location"].(string), e.base+"/Users/")
		u2 := strings.TrimPrefix(ops[2]["location"].(string), e.base+"/Users/")
		if !strings.Contains(members, u1) || !strings.Contains(members, u2) {
			t.Fatalf("members %s, want %s and %s", members, u1, u2)
		}
		if got := e.do("GET", "/Users/"+u1, adminToken, ""); got.body["displayName"] != "First" {
			t.Fatalf("the PATCH by bulkId path did not apply: %s", got.raw)
		}

		// version is If-Match; failOnErrors stops after that many failures, and only
		// what ran is answered.
		r = e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"failOnErrors":1,"Operations":[
			{"method":"PUT","path":"/Users/`+u2+`","version":"W/\"999\"","data":{"schemas":["`+scim.SchemaUser+`"],"userName":"bulk-2"}},
			{"method":"DELETE","path":"/Users/`+u2+`"}]}`)
		if ops = bulkOps(r); len(ops) != 1 || ops[0]["status"] != "412" {
			t.Fatalf("failOnErrors 1: %s", r.raw)
		}
		if e.do("GET", "/Users/"+u2, adminToken, "").status != 200 {
			t.Fatal("an operation after failOnErrors ran")
		}

		// References that cannot resolve: a failed POST (409), a cycle (409), an unknown
		// bulkId (400); and an operation no bulk request may hold.
		r = e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[
			{"method":"POST","path":"/Users","bulkId":"bad","data":{"schemas":["`+scim.SchemaUser+`"]}},
			{"method":"POST","path":"/Groups","bulkId":"g2","data":{"schemas":["`+scim.SchemaGroup+`"],"displayName":"Refers to bad","members":[{"value":"bulkId:bad"}]}},
			{"method":"POST","path":"/Groups","bulkId":"a","data":{"schemas":["`+scim.SchemaGroup+`"],"displayName":"A","members":[{"value":"bulkId:b"}]}},
			{"method":"POST","path":"/Groups","bulkId":"b","data":{"schemas":["`+scim.SchemaGroup+`"],"displayName":"B","members":[{"value":"bulkId:a"}]}},
			{"method":"DELETE","path":"/Users/bulkId:nowhere"},
			{"method":"GET","path":"/Users"},
			{"method":"POST","path":"/Users","data":{"schemas":["`+scim.SchemaUser+`"],"userName":"no-bulk-id"}},
			{"method":"POST","path":"/Schemas","bulkId":"s","data":{}}]}`)
		ops = bulkOps(r)
		var got []string
		for _, op := range ops {
			got = append(got, op["status"].(string)+":"+op["response"].(map[string]any)["scimType"].(string))
		}
		if want := "400:invalidValue 409:invalidValue 409:invalidValue 409:invalidValue 400:invalidValue 400:invalidValue 400:invalidValue 400:invalidValue"; strings.Join(got, " ") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
		if r := e.do("GET", `/Groups?filter=displayName%20eq%20%22A%22`, adminToken, ""); total(r) != 0 {
			t.Fatalf("a group of the cycle was created: %s", r.raw)
		}
	})
}

// RFC 7644 §3.7.4: maxOperations and maxPayloadSize, advertised and enforced with 413.
func TestRFC7644_3_7_4_BulkLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		bulk := e.do("GET", "/ServiceProviderConfig", "", "").body["bulk"].(map[string]any)
		maxOps, maxPayload := int(bulk["maxOperations"].(float64)), int(bulk["maxPayloadSize"].(float64))
		if bulk["supported"] != true || maxOps != 1000 || maxPayload != scim.DefaultBulkMaxPayload {
			t.Fatalf("bulk: %v", bulk)
		}
		ops := strings.Repeat(`{"method":"DELETE","path":"/Users/x"},`, maxOps+1)
		e.wantError(e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[`+strings.TrimSuffix(ops, ",")+`]}`), 413, "")
		big := `{` + bulkSchema + `,"Operations":[{"method":"POST","path":"/Users","bulkId":"x","data":{"schemas":["` + scim.SchemaUser +
			`"],"userName":"big","displayName":"` + strings.Repeat("x", maxPayload) + `"}}]}`
		r := e.do("POST", "/Bulk", adminToken, big) // the server's body limit, the same number, answers first
		e.wantError(r, 413, "")
		if !strings.Contains(r.body["detail"].(string), strconv.Itoa(maxPayload)) {
			t.Fatalf("413 without naming the limit: %s", r.raw)
		}
		e.wantError(e.do("POST", "/Bulk", adminToken, `{"Operations":[]}`), 400, scim.TypeInvalidSyntax)
		e.wantError(e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"failOnErrors":0,"Operations":[]}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[
			{"method":"POST","path":"/Users","bulkId":"x","data":{}},{"method":"POST","path":"/Users","bulkId":"x","data":{}}]}`), 400, scim.TypeInvalidValue)
		e.wantError(e.do("POST", "/Bulk", "", `{`+bulkSchema+`,"Operations":[]}`), 401, "")
		if r := e.do("GET", `/Users?filter=userName%20eq%20%22big%22`, adminToken, ""); total(r) != 0 {
			t.Fatal("an oversized bulk request wrote")
		}
	})
	// A face configured below the server's body limit enforces and advertises its own.
	for _, engine := range storetest.Engines[:1] {
		e := start(t, engine.Open(t), func(c *scim.Config) { c.BulkMaxPayload = 4096 })
		if got := e.do("GET", "/ServiceProviderConfig", "", "").body["bulk"].(map[string]any)["maxPayloadSize"]; got != 4096.0 {
			t.Fatalf("maxPayloadSize %v", got)
		}
		r := e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[{"method":"DELETE","path":"/Users/`+strings.Repeat("x", 4096)+`"}]}`)
		e.wantError(r, 413, "")
		if !strings.Contains(r.body["detail"].(string), "maxPayloadSize (4096)") {
			t.Fatalf("413: %s", r.raw)
		}
	}
}

// A bulk request that outlives the server's request deadline answers what ran, and
// refuses the operations it did not reach with 503 instead of running them: each
// created user is one the response reports, and the rest can be sent again.
func TestBulkPastTheDeadline(t *testing.T) {
	e := startServer(t, storetest.Engines[0].Open(t), time.Now, server.Config{RequestTimeout: 150 * time.Millisecond})
	total := func() int {
		r := e.do("GET", "/Users?count=0", adminToken, "")
		n, _ := r.body["totalResults"].(float64)
		return int(n)
	}
	before := total()
	var ops []string
	for i := range 1000 { // the most a bulk request may hold: far longer than the deadline in all
		ops = append(ops, fmt.Sprintf(`{"method":"POST","path":"/Users","bulkId":"u%d","data":{"schemas":["%s"],"userName":"late%d","password":"Bulk-Deadline-%d!x"}}`,
			i, scim.SchemaUser, i, i))
	}
	r := e.do("POST", "/Bulk", adminToken, `{`+bulkSchema+`,"Operations":[`+strings.Join(ops, ",")+`]}`)
	if r.status != 200 {
		t.Fatalf("bulk: %d %s", r.status, r.raw)
	}
	created, refused := 0, 0
	for i, op := range bulkOps(r) {
		switch op["status"] {
		case "201":
			if refused > 0 {
				t.Errorf("operation %d ran after one was refused for time: %v", i, op)
			}
			created++
		case "503":
			// The one in flight when the deadline passed fails at the store; the rest
			// are refused before running (run, each would spend its password hash and
			// then fail at the store, in the store's words).
			if detail := fmt.Sprint(op["response"]); refused > 0 && !strings.Contains(detail, "ran out of time") {
				t.Errorf("operation %d was run past the deadline: %v", i, op)
			}
			refused++
		default:
			t.Errorf("operation %d: %v", i, op)
		}
	}
	if refused == 0 {
		t.Fatalf("no operation was refused: the deadline did not reach the bulk request (%d created)", created)
	}
	if got := total() - before; got != created {
		t.Errorf("%d users were created; the response reports %d", got, created)
	}
}
