package ncloud_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"iamd"
)

// accessRules.consoleAccessAllowed and apiAccessAllowed are required booleans wherever
// NAVER documents them (create, PUT /users/{id}, PUT /users/{id}/access-rules): null,
// absent or not a boolean is a 400 naming the field, and nothing changes — never a null
// read as false, which would lock the user out.
func TestAccessRulesRequired(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		rules := func(console, api string) string {
			var fields []string
			if console != "" {
				fields = append(fields, `"consoleAccessAllowed":`+console)
			}
			if api != "" {
				fields = append(fields, `"apiAccessAllowed":`+api)
			}
			return "{" + strings.Join(fields, ",") + "}"
		}
		bad := []struct {
			name, console, api, field string
		}{
			{"console null", "null", "true", "consoleAccessAllowed"},
			{"api null", "true", "null", "apiAccessAllowed"},
			{"both null", "null", "null", "consoleAccessAllowed"},
			{"console absent", "", "true", "consoleAccessAllowed"},
			{"api absent", "true", "", "apiAccessAllowed"},
			{"console a string", `"true"`, "true", "consoleAccessAllowed"},
			{"api a number", "true", "1", "apiAccessAllowed"},
		}
		// Create: the whole object is required too, as the seed has it.
		for i, c := range bad {
			body := fmt.Sprintf(`{"loginId":"bad%d@example.com","accessRules":%s}`, i, rules(c.console, c.api))
			e.wantAPIError(e.do("POST", "/api/v1/users", body), 400, "accessRules."+c.field)
		}
		for _, body := range []string{`{"loginId":"none@example.com"}`, `{"loginId":"none@example.com","accessRules":null}`} {
			e.wantAPIError(e.do("POST", "/api/v1/users", body), 400, "accessRules")
		}
		if page := e.do("GET", "/api/v1/users", ""); page.obj["totalItems"] != 1.0 { // admin alone
			t.Fatalf("refused creates stored users: %s", page.raw)
		}

		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string) // console allowed, API not
		before := e.do("GET", "/api/v1/users/"+id, "")
		for _, c := range bad {
			body := `{"description":"changed","accessRules":` + rules(c.console, c.api) + `}`
			e.wantAPIError(e.do("PUT", "/api/v1/users/"+id, body), 400, "accessRules."+c.field)
			// The access-rules body is the rules themselves: the field is named as sent.
			r := e.do("PUT", "/api/v1/users/"+id+"/access-rules", rules(c.console, c.api))
			e.wantAPIError(r, 400, c.field)
			if msg := r.obj["message"].(string); strings.Contains(msg, "accessRules.") {
				t.Errorf("%s: the access-rules body has no accessRules object, yet: %s", c.name, msg)
			}
		}
		e.wantAPIError(e.do("PUT", "/api/v1/users/"+id, `{"description":"changed","accessRules":null}`), 400, "accessRules")
		e.wantAPIError(e.do("PUT", "/api/v1/users/"+id+"/access-rules", `{}`), 400, "consoleAccessAllowed")
		if after := e.do("GET", "/api/v1/users/"+id, ""); after.raw != before.raw {
			t.Fatalf("a refused change changed the user: %s, before %s", after.raw, before.raw)
		}

		// What is given is what is kept, false included.
		if r := e.do("PUT", "/api/v1/users/"+id+"/access-rules", rules("false", "true")); r.status != 200 {
			t.Fatalf("put access rules: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/users/"+id+"/access-rules", ""); r.obj["consoleAccessAllowed"] != false || r.obj["apiAccessAllowed"] != true {
			t.Fatalf("after put: %s", r.raw)
		}
	})
}

// The country calling code is the core's rule, the one every face holds users to: an
// unassigned code is refused on create, PUT and in a bulk item with the core's
// refusal, worded with NAVER's field name; an assigned one is taken with or without
// its "+" (NAVER's clients send "82").
func TestCallingCodeIsTheCores(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string)
		before := e.do("GET", "/api/v1/users/"+id, "")
		const rules = `"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}`
		for i, code := range []string{"999", "+999", "0", "+0", "+", "82a", "1234", "+8 2"} {
			coreErr := iamd.CheckCallingCode(iamd.FieldPhoneCountryCode, iamd.CallingCode(code))
			if coreErr == nil {
				t.Fatalf("the core takes %q", code)
			}
			want := "Invalid request. userProfile.phoneCountryCode: " + strings.TrimPrefix(
				iamd.ErrorMessageIn(coreErr, map[string]string{iamd.FieldPhoneCountryCode: "userProfile.phoneCountryCode"}),
				"userProfile.phoneCountryCode ")
			profile := `"userProfile":{"phoneCountryCode":` + strconv.Quote(code) + `},` + rules
			for _, r := range []reply{
				e.do("POST", "/api/v1/users", fmt.Sprintf(`{"loginId":"cc%d@example.com",%s}`, i, profile)),
				e.do("PUT", "/api/v1/users/"+id, `{`+profile+`}`),
			} {
				if r.status != 400 || r.obj["message"] != want {
					t.Errorf("%q: %d %s, want 400 %q", code, r.status, r.raw, want)
				}
			}
			r := e.do("POST", "/api/v1/users/bulk", fmt.Sprintf(`{"params":[{"loginId":"cc%d@example.com",%s}]}`, i, profile))
			if item := r.list[0].(map[string]any); item["success"] != false ||
				item["message"] != strings.Replace(want, "userProfile", "params[0].userProfile", 1) {
				t.Errorf("bulk %q: %s", code, r.raw)
			}
		}
		if after := e.do("GET", "/api/v1/users/"+id, ""); after.raw != before.raw {
			t.Fatalf("a refused PUT changed the user: %s, before %s", after.raw, before.raw)
		}
		if page := e.do("GET", "/api/v1/users", ""); page.obj["totalItems"] != 2.0 {
			t.Fatalf("refused creates stored users: %s", page.raw)
		}
		for i, c := range [][2]string{{"82", "+82"}, {"+82", "+82"}, {"1", "+1"}, {"+7", "+7"}, {"358", "+358"}, {"", ""}} {
			r := e.do("POST", "/api/v1/users", fmt.Sprintf(`{"loginId":"ok%d@example.com","userProfile":{"phoneCountryCode":%q},%s}`, i, c[0], rules))
			if r.status != 200 || r.obj["userProfile"].(map[string]any)["phoneCountryCode"] != c[1] {
				t.Errorf("%q: %d %s, want it kept as %q", c[0], r.status, r.raw, c[1])
			}
		}
	})
}

// canonicalFields are the core's snake_case field names (the Field* constants of
// user.go), which no message of this face may show.
func canonicalFields(t *testing.T) []string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "../../user.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(file, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range spec.Names {
			if !strings.HasPrefix(name.Name, "Field") || i >= len(spec.Values) {
				continue
			}
			if lit, ok := spec.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, _ := strconv.Unquote(lit.Value); strings.Contains(v, "_") {
					names = append(names, v)
				}
			}
		}
		return true
	})
	if len(names) < 10 {
		t.Fatalf("found only %v in user.go", names)
	}
	return names
}

// goWords betray a Go type or package in a message.
var goWords = []string{"Go value", "Go struct", "of type", "json:", "unmarshal", "iamd", "wire.", "[]string", "map[",
	"RawMessage", "float64", "int64", "*ncloud", "BodyError"}

// Every refusal of bad input, on every route that reads input, is a 400 (or the
// documented status) in the API's shape that names the field as NAVER spells it — on
// nested objects the whole path, "userProfile.foo" — and shows neither the core's
// snake_case field names nor Go's types. A refused item of a batch says the same.
func TestErrorsInNcloudVocabulary(t *testing.T) {
	fields := canonicalFields(t)
	eachStore(t, func(t *testing.T, e *env) {
		id := e.do("POST", "/api/v1/users", seedCreate).obj["userId"].(string)
		group := e.do("POST", "/api/v1/groups", `{"groupName":"Dev"}`).obj["groupId"].(string)
		before := e.do("GET", "/api/v1/users/"+id, "")
		user := "/api/v1/users/" + id
		const rules = `"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}`
		create := func(extra string) string { return `{"loginId":"new@example.com",` + extra + rules + `}` }
		profile := func(p string) string { return create(`"userProfile":{` + p + `},`) }
		put := func(extra string) string { return `{` + extra + rules + `}` }
		cases := []struct {
			method, uri, body string
			status            int
			names             string
		}{
			{"POST", "/api/v1/users", create(`"nickname":"x",`), 400, "nickname"},
			{"POST", "/api/v1/users", profile(`"foo":"x"`), 400, "userProfile.foo"},
			{"POST", "/api/v1/users", create(`"userProfile":"x",`), 400, "userProfile"},
			{"POST", "/api/v1/users", create(`"userProfile":[],`), 400, "userProfile"},
			{"POST", "/api/v1/users", profile(`"firstName":7`), 400, "userProfile.firstName"},
			{"POST", "/api/v1/users", profile(`"email":"nope"`), 400, "userProfile.email"},
			{"POST", "/api/v1/users", profile(`"empNo":"` + strings.Repeat("e", 201) + `"`), 400, "userProfile.empNo"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"999"`), 400, "userProfile.phoneCountryCode"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"+0"`), 400, "userProfile.phoneCountryCode"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"82a"`), 400, "userProfile.phoneCountryCode"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"1","phoneNo":"call me"`), 400, "userProfile.phoneNo"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"1","phoneNo":"12"`), 400, "userProfile.phoneNo"},
			{"POST", "/api/v1/users", profile(`"phoneCountryCode":"82","phoneNo":"02-1234-5678"`), 400, "userProfile.phoneNo"},
			{"POST", "/api/v1/users", profile(`"phoneNo":"abc"`), 400, "userProfile.phoneNo"},
			{"POST", "/api/v1/users", profile(`"deptName":"\u0007"`), 400, "userProfile.deptName"},
			{"POST", "/api/v1/users", `{"loginId":"new@example.com","accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true,"ips":[]}}`, 400, "accessRules.ips"},
			{"POST", "/api/v1/users", `{"loginId":"new@example.com","accessRules":[]}`, 400, "accessRules"},
			{"POST", "/api/v1/users", `{"loginId":7,` + rules + `}`, 400, "loginId"},
			{"POST", "/api/v1/users", `{` + rules + `}`, 400, "loginId"},
			{"POST", "/api/v1/users", `{"loginId":"a b@example.com",` + rules + `}`, 400, "loginId"},
			{"POST", "/api/v1/users", `{"loginId":"jdoe@example.com",` + rules + `}`, 409, "loginId"},
			{"POST", "/api/v1/users", create(`"description":["x"],`), 400, "description"},
			{"POST", "/api/v1/users", create(`"description":"\u0000",`), 400, "description"},
			{"PUT", user, put(`"loginId":"other@example.com",`), 400, "loginId"},
			{"PUT", user, put(`"userProfile":{"lastname":"x"},`), 400, "userProfile.lastname"},
			{"PUT", user, put(`"userProfile":{"phoneCountryCode":"999"},`), 400, "userProfile.phoneCountryCode"},
			{"PUT", user, put(`"userProfile":{"phoneNo":"010-12a4-5678"},`), 400, "userProfile.phoneNo"},
			{"PUT", user, put(`"userProfile":{"firstName":"` + strings.Repeat("f", 201) + `"},`), 400, "userProfile.firstName"},
			{"PUT", user, put(`"description":7,`), 400, "description"},
			{"PUT", user, put(`"status":"active",`), 400, "status"},
			{"PUT", user + "/access-rules", `{"consoleAccessAllowed":true,"apiAccessAllowed":true,"foo":1}`, 400, "foo"},
			{"PUT", user + "/access-rules", `{"consoleAccessAllowed":"Y","apiAccessAllowed":true}`, 400, "consoleAccessAllowed"},
			{"GET", "/api/v1/users?size=0", "", 400, "size"},
			{"GET", "/api/v1/users?page=-1", "", 400, "page"},
			{"GET", "/api/v1/users?searchColumn=name&searchWord=x", "", 400, "searchColumn"},
			{"GET", "/api/v1/users?searchColumn=loginId", "", 400, "searchWord"},
			{"GET", "/api/v1/users?searchColumn=status&searchWord=gone", "", 400, "searchWord"},
			{"GET", "/api/v1/users/check-login-id?loginId=nope", "", 400, "loginId"},
			{"POST", "/api/v1/users/delete", `{"userIds":"x"}`, 400, "userIds"},
			{"POST", "/api/v1/users/delete", `{"ids":["x"]}`, 400, "ids"},
			{"POST", "/api/v1/users/enable", `{"userIds":[]}`, 400, "userIds"},
			{"POST", "/api/v1/users/disable", `{}`, 400, "userIds"},
			{"POST", "/api/v1/users/bulk", `{"params":{}}`, 400, "params"},
			{"POST", "/api/v1/users/bulk", `{"users":[]}`, 400, "users"},
			{"POST", user + "/groups", `{"groupIds":[7]}`, 400, "groupIds"},
			{"POST", user + "/groups/delete", `{"groupIds":[]}`, 400, "groupIds"},
			{"POST", user + "/tags", `{"tags":[{"tagKey":"","tagValue":"x"}]}`, 400, "tags"},
			{"POST", user + "/tags", `{"tags":[{"key":"k"}]}`, 400, "tags"},
			{"POST", user + "/tags/delete", `{"tagKeys":"k"}`, 400, "tagKeys"},
			{"POST", "/api/v1/groups", `{"description":"x"}`, 400, "groupName"},
			{"POST", "/api/v1/groups", `{"groupName":"Dev"}`, 409, "groupName"},
			{"POST", "/api/v1/groups", `{"groupName":"G","description":"` + strings.Repeat("d", 301) + `"}`, 400, "description"},
			{"POST", "/api/v1/groups", `{"groupName":"` + strings.Repeat("g", 300) + `"}`, 400, "groupName"},
			{"GET", "/api/v1/groups?size=1000", "", 400, "size"},
		}
		check := func(where, msg, names string) {
			t.Helper()
			if !strings.Contains(msg, names) {
				t.Errorf("%s: %q does not name %s", where, msg, names)
			}
			for _, f := range fields {
				if strings.Contains(msg, f) {
					t.Errorf("%s: %q shows the core's field name %s", where, msg, f)
				}
			}
			for _, w := range goWords {
				if strings.Contains(msg, w) {
					t.Errorf("%s: %q shows Go's %q", where, msg, w)
				}
			}
		}
		for _, c := range cases {
			where := c.method + " " + c.uri + " " + c.body
			r := e.do(c.method, c.uri, c.body)
			if r.status != c.status || r.obj["errorCode"] != float64(c.status) {
				t.Errorf("%s: %d %s, want %d", where, r.status, r.raw, c.status)
				continue
			}
			check(where, r.obj["message"].(string), c.names)
		}

		// A batch's refused items say the same as the call would.
		r := e.do("POST", "/api/v1/users/bulk", `{"params":[`+profile(`"phoneCountryCode":"999"`)+`,`+
			profile(`"phoneCountryCode":"1","phoneNo":"call me"`)+`,`+profile(`"foo":1`)+`,"x",`+
			`{"loginId":"jdoe@example.com",`+rules+`},{"loginId":"n2@example.com","accessRules":{"consoleAccessAllowed":null,"apiAccessAllowed":true}}]}`)
		if r.status != 200 || len(r.list) != 6 {
			t.Fatalf("bulk: %d %s", r.status, r.raw)
		}
		for i, names := range []string{"userProfile.phoneCountryCode", "userProfile.phoneNo", "userProfile.foo", "params[3]", "loginId",
			"accessRules.consoleAccessAllowed"} {
			item := r.list[i].(map[string]any)
			msg, _ := item["message"].(string)
			if item["success"] != false {
				t.Errorf("bulk item %d: %v", i, item)
			}
			check(fmt.Sprintf("bulk item %d", i), msg, names)
		}
		r = e.do("POST", user+"/groups", `{"groupIds":["`+group+`","00000000-0000-0000-0000-000000000000"]}`)
		if r.status != 200 || len(r.list) != 2 {
			t.Fatalf("groups: %d %s", r.status, r.raw)
		}
		for i, item := range r.list {
			check(fmt.Sprintf("group item %d", i), item.(map[string]any)["message"].(string), "00000000-0000-0000-0000-000000000000")
		}

		if after := e.do("GET", "/api/v1/users/"+id, ""); after.raw != before.raw {
			t.Fatalf("refused changes changed the user: %s, before %s", after.raw, before.raw)
		}
		if page := e.do("GET", "/api/v1/users", ""); page.obj["totalItems"] != 2.0 { // admin and jdoe
			t.Fatalf("refused creates stored users: %s", page.raw)
		}
		if r := e.do("GET", user+"/tags", ""); r.status != 200 || r.obj["totalItems"] != 0.0 {
			t.Errorf("refused tags were stored: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/api/v1/groups", ""); r.status != 200 || r.obj["totalItems"] != 1.0 { // Dev
			t.Errorf("refused group creates stored groups: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", user+"/groups", ""); r.status != 200 || r.obj["totalItems"] != 0.0 {
			t.Errorf("a refused join added the user to a group: %d %s", r.status, r.raw)
		}
		e.logs.CheckNoErrors(t)
	})
}
