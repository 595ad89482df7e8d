package scim_test

import (
	"net/url"
	"strings"
	"testing"

	"iamd/face/scim"
)

// An Entra ID provisioning session, request for request as Microsoft's SCIM validator
// sends it: every response is checked against the face's OpenAPI document by e.do.
func TestEntraStyleSession(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		q := func(filter string) string { return url.QueryEscape(filter) }
		const user = "Test_User_dfeef4c5-5681-4387-b016-bdf221e82081"
		if r := e.do("GET", "/Users?filter="+q(`userName eq "`+user+`"`), adminToken, ""); r.status != 200 || total(r) != 0 {
			t.Fatalf("query before create: %d %s", r.status, r.raw)
		}
		r := e.do("POST", "/Users", adminToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId":"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef","userName":"`+user+`","active":true,
			"emails":[{"primary":true,"type":"work","value":"Test_User_11bb6c6b@testuser.com"}],
			"meta":{"resourceType":"User"},"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
			"roles":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"EMP-7","department":"Eng"}}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		if r := e.do("GET", "/Users/"+id, adminToken, ""); r.status != 200 || r.body["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/Users?filter="+q(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), adminToken, ""); total(r) != 1 {
			t.Fatalf("query by externalId: %s", r.raw)
		}
		e.wantError(e.do("POST", "/Users", adminToken, `{"schemas":["`+scim.SchemaUser+`"],"userName":"`+strings.ToUpper(user)+`","active":true}`), 409, scim.TypeUniqueness)
		if r := e.do("GET", "/Users?filter="+q(`userName eq "`+user+`"`), adminToken, ""); total(r) != 1 {
			t.Fatalf("a refused duplicate was stored: %s", r.raw)
		}

		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
			{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`))
		if r.status != 200 || !strings.Contains(r.raw, "updatedEmail@microsoft.com") || r.body["name"].(map[string]any)["familyName"] != "updatedFamilyName" {
			t.Fatalf("update: %d %s", r.status, r.raw)
		}
		manager, _ := e.create(`{"schemas":["` + scim.SchemaUser + `"],"userName":"Test_User_manager"}`)
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":[{"$ref":null,"value":"`+manager+`"}]}`))
		if r.status != 200 || r.body[scim.SchemaEnterprise].(map[string]any)["manager"].(map[string]any)["value"] != manager {
			t.Fatalf("add manager: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}`))
		if r.status != 200 || r.body[scim.SchemaEnterprise].(map[string]any)["manager"] != nil {
			t.Fatalf("remove manager: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Replace","path":"active","value":"False"}`))
		if r.status != 200 || r.body["active"] != false {
			t.Fatalf("disable: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"Replace","path":"active","value":true}`))
		if r.status != 200 || r.body["active"] != true {
			t.Fatalf("enable: %d %s", r.status, r.raw)
		}

		// Groups: Entra sends an id and externalId of its own on create; the id is ignored.
		r = e.do("POST", "/Groups", adminToken, `{"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","id":"c4a87b21-ffff-4b14-aa6c-4eb9c3c2eaa1",
			"displayName":"Entra Group","meta":{"resourceType":"Group"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`)
		if r.status != 201 || r.body["id"] == "c4a87b21-ffff-4b14-aa6c-4eb9c3c2eaa1" || r.body["externalId"] != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" {
			t.Fatalf("create group: %d %s", r.status, r.raw)
		}
		gid := r.body["id"].(string)
		if r := e.do("GET", "/Groups/"+gid+"?excludedAttributes=members", adminToken, ""); r.status != 200 || r.body["members"] != nil {
			t.Fatalf("get group: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/Groups?excludedAttributes=members&filter="+q(`displayName eq "Entra Group"`), adminToken, ""); total(r) != 1 {
			t.Fatalf("group by displayName: %s", r.raw)
		}
		if r := e.do("GET", "/Groups?excludedAttributes=members&filter="+q(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`), adminToken, ""); total(r) != 1 {
			t.Fatalf("group by externalId: %s", r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"Replace","path":"externalId","value":"ext-2"}`))
		if r.status != 200 || r.body["externalId"] != "ext-2" {
			t.Fatalf("replace externalId: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"Replace","path":"displayName","value":"Entra Group updatedDisplayName"}`))
		if r.status != 200 || r.body["displayName"] != "Entra Group updatedDisplayName" {
			t.Fatalf("rename group: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}`))
		if r.status != 200 || members(r)[id] != "User" {
			t.Fatalf("add member: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/Groups?excludedAttributes=members&filter="+q(`id eq "`+gid+`" and members[value eq "`+id+`"]`), adminToken, ""); total(r) != 1 {
			t.Fatalf("membership check: %s", r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}`))
		if r.status != 200 || len(members(r)) != 0 {
			t.Fatalf("remove member: %d %s", r.status, r.raw)
		}
		if r := e.do("DELETE", "/Groups/"+gid, adminToken, ""); r.status != 204 {
			t.Fatalf("delete group: %d %s", r.status, r.raw)
		}
		if r := e.do("DELETE", "/Users/"+id, adminToken, ""); r.status != 204 {
			t.Fatalf("delete user: %d %s", r.status, r.raw)
		}
		e.wantError(e.do("GET", "/Users/"+id, adminToken, ""), 404, "")
	})
}

// An Okta provisioning session as Okta's SCIM 2.0 integration sends it: look up, create,
// read, update by PUT, deactivate, reactivate, password sync, push a group and its
// membership, and delete the group. Okta never deletes users; it deactivates them.
func TestOktaStyleSession(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const pw1, pw2 = "okta synced password 1", "okta synced password 2"
		e.secrets = append(e.secrets, pw1, pw2)
		if r := e.do("GET", `/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100`, adminToken, ""); total(r) != 0 {
			t.Fatalf("look-up: %s", r.raw)
		}
		r := e.do("POST", "/Users", adminToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
			"name":{"givenName":"Test","familyName":"User"},"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
			"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"password":"`+pw1+`","active":true}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		id := r.body["id"].(string)
		if r := e.do("GET", "/Users/"+id, adminToken, ""); r.status != 200 {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		r = e.do("PUT", "/Users/"+id, adminToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"`+id+`","userName":"test.user@okta.local",
			"name":{"givenName":"Another","familyName":"User"},"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
			"displayName":"Another User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"active":true,"meta":{"resourceType":"User"}}`)
		if r.status != 200 || r.body["displayName"] != "Another User" {
			t.Fatalf("update by PUT: %d %s", r.status, r.raw)
		}
		for _, active := range []string{"false", "true"} {
			r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","value":{"active":`+active+`}}`))
			if r.status != 200 || r.body["active"] != (active == "true") {
				t.Fatalf("active=%s: %d %s", active, r.status, r.raw)
			}
		}
		r = e.do("PATCH", "/Users/"+id, adminToken, patch(`{"op":"replace","value":{"password":"`+pw2+`"}}`))
		if r.status != 200 || e.do("GET", "/Me", basic("test.user@okta.local", pw2), "").status != 200 {
			t.Fatalf("password sync: %d %s", r.status, r.raw)
		}

		if r := e.do("GET", `/Groups?filter=displayName%20eq%20%22Okta%20Push%22`, adminToken, ""); total(r) != 0 {
			t.Fatalf("group look-up: %s", r.raw)
		}
		r = e.do("POST", "/Groups", adminToken, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta Push",
			"members":[{"value":"`+id+`","display":"test.user@okta.local"}]}`)
		if r.status != 201 || members(r)[id] != "User" {
			t.Fatalf("push group: %d %s", r.status, r.raw)
		}
		gid := r.body["id"].(string)
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"replace","value":{"id":"`+gid+`","displayName":"Okta Pushed"}}`))
		if r.status != 200 || r.body["displayName"] != "Okta Pushed" {
			t.Fatalf("rename: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"remove","path":"members[value eq \"`+id+`\"]"}`))
		if r.status != 200 || len(members(r)) != 0 {
			t.Fatalf("remove member: %d %s", r.status, r.raw)
		}
		r = e.do("PATCH", "/Groups/"+gid, adminToken, patch(`{"op":"add","path":"members","value":[{"value":"`+id+`","display":"test.user@okta.local"}]}`))
		if r.status != 200 || members(r)[id] != "User" {
			t.Fatalf("add member: %d %s", r.status, r.raw)
		}
		if r := e.do("DELETE", "/Groups/"+gid, adminToken, ""); r.status != 204 {
			t.Fatalf("delete group: %d %s", r.status, r.raw)
		}
		if r := e.do("GET", "/Users/"+id, adminToken, ""); r.status != 200 || r.body["groups"] != nil {
			t.Fatalf("the user after its group was deleted: %s", r.raw)
		}
	})
}
