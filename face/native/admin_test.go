package native_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// userNames reads the login names of a listing and its next cursor.
func userNames(t *testing.T, r response) ([]string, string) {
	t.Helper()
	page := r.object(t)
	var names []string
	for _, u := range page["users"].([]any) {
		names = append(names, u.(map[string]any)["login_name"].(string))
	}
	next, _ := page["next_cursor"].(string)
	return names, next
}

func TestAdministrationAPIUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const pw = "a long enough first password"
		e.secrets = append(e.secrets, pw, "the reset password 42")
		base := "/iamd/v1/instances/team-a/users"
		ids := map[string]string{}
		for _, name := range []string{"user-eve", "user-Carol", "user-alice", "user-dave", "user-bob", "user-frank", "user-grace"} {
			u := e.want(e.do("POST", base, adminToken, map[string]any{"login_name": name, "display_name": strings.ToUpper(name[5:6]) + name[6:],
				"email": name[5:] + "@example.com", "password": pw, "department": "R&D"}), 201).object(t)
			if u["login_name"] != name || u["version"].(float64) != 1 || u["department"] != "R&D" || u["status"] != "active" {
				t.Fatalf("created %+v", u)
			}
			ids[name] = u["id"].(string)
		}

		// Bad input names the field in this API's words and creates nothing.
		for body, field := range map[string]string{
			`{"display_name":"x"}`:                            "login_name",
			`{"login_name":"user-x","roles":"admin"}`:         "roles",
			`{"login_name":"user-x","email_verified":"true"}`: "email_verified",
			`{"login_name":"user-x","userName":"x"}`:          "",
			`{"login_name":"user-x","status":"asleep"}`:       "status",
			`{"login_name":"user-x","password":"short"}`:      "password",
		} {
			r := e.want(e.do("POST", base, adminToken, body), 400).object(t)["error"].(map[string]any)
			if field != "" && r["field"] != field {
				t.Errorf("%s: error %+v, want field %s", body, r, field)
			}
		}
		e.want(e.do("POST", base, adminToken, map[string]any{"login_name": "USER-EVE"}), 409)

		// Pages by login name, ignoring case, to the end; the cursor carries on.
		var all []string
		cursor := ""
		for range 10 {
			names, next := userNames(t, e.want(e.do("GET", base+"?q=user-&limit=3&cursor="+cursor, adminToken, nil), 200))
			all = append(all, names...)
			if next == "" {
				break
			}
			cursor = next
		}
		want := []string{"user-alice", "user-bob", "user-Carol", "user-dave", "user-eve", "user-frank", "user-grace"}
		if !slices.Equal(all, want) {
			t.Fatalf("paged users %v, want %v", all, want)
		}
		for query, want := range map[string][]string{"q=car": {"user-Carol"}, "email=dave@": {"user-dave"},
			"name=Gr": {"user-grace"}, "q=nobody": nil, "login_name=USER-B": {"user-bob"}} {
			if got, _ := userNames(t, e.want(e.do("GET", base+"?"+query, adminToken, nil), 200)); !slices.Equal(got, want) {
				t.Errorf("?%s found %v, want %v", query, got, want)
			}
		}
		e.want(e.do("GET", base+"?limit=0", adminToken, nil), 400)
		e.want(e.do("GET", base+"?cursor=@@@", adminToken, nil), 400)

		// A change names the version it was made from.
		bob := base + "/" + ids["user-bob"]
		r := e.want(e.do("PATCH", bob, adminToken, map[string]any{"department": "Sales"}), 400).object(t)
		if r["error"].(map[string]any)["field"] != "version" {
			t.Fatalf("change without a version: %+v", r)
		}
		e.want(e.do("PATCH", bob, adminToken, map[string]any{"version": 2, "department": "Sales"}), 409)
		u := e.want(e.do("PATCH", bob, adminToken, map[string]any{"version": 1, "department": "Sales", "login_name": "user-robert"}), 200).object(t)
		if u["department"] != "Sales" || u["login_name"] != "user-robert" || u["version"].(float64) != 2 {
			t.Fatalf("changed %+v", u)
		}
		e.want(e.do("PATCH", bob, adminToken, map[string]any{"version": 2, "department": 7}), 400)
		if got := e.want(e.do("GET", bob, adminToken, nil), 200).object(t); got["department"] != "Sales" || got["version"].(float64) != 2 {
			t.Fatalf("a refused change changed the user: %+v", got)
		}

		// Password reset, lockout and unlock, as an administrator does them.
		u = e.want(e.do("PUT", bob+"/password", adminToken, map[string]any{"password": "the reset password 42", "temporary": true}), 200).object(t)
		if u["temporary_password"] != true {
			t.Fatalf("after a temporary reset: %+v", u)
		}
		firstSignIn := e.want(e.signIn("user-robert", "the reset password 42", nil), 200).object(t)
		if firstSignIn["password_change_required"] != true {
			t.Fatalf("sign-in after a temporary reset: %+v", firstSignIn)
		}
		for range 5 {
			e.want(e.signIn("user-robert", "not the password", nil), 401)
		}
		if u := e.want(e.do("GET", bob, adminToken, nil), 200).object(t); u["locked"] != true {
			t.Fatalf("after five failures: %+v", u)
		}
		if u := e.want(e.do("POST", bob+"/unlock", adminToken, nil), 200).object(t); u["locked"] != false || u["password_failed_count"].(float64) != 0 {
			t.Fatalf("after unlock: %+v", u)
		}
		second := e.want(e.signIn("user-robert", "the reset password 42", nil), 200).object(t)["token"].(string)
		sessions := e.want(e.do("GET", bob+"/sessions", adminToken, nil), 200).object(t)["sessions"].([]any)
		if len(sessions) != 2 {
			t.Fatalf("sessions %+v", sessions)
		}
		// One session ends by its id: its token stops working, the other one goes on.
		e.want(e.do("DELETE", bob+"/sessions/nosuch", adminToken, nil), 404)
		for _, s := range sessions {
			e.want(e.do("DELETE", bob+"/sessions/"+s.(map[string]any)["id"].(string), adminToken, nil), 204)
			break
		}
		if n := len(e.want(e.do("GET", bob+"/sessions", adminToken, nil), 200).object(t)["sessions"].([]any)); n != 1 {
			t.Fatalf("%d sessions after revoking one", n)
		}
		working := 0
		for _, tok := range []string{firstSignIn["token"].(string), second} {
			if e.do("GET", "/iamd/v1/me", tok, nil).status == 200 {
				working++
			}
		}
		if working != 1 {
			t.Fatalf("%d of the two tokens work after one session was revoked", working)
		}
		if n := e.want(e.do("DELETE", bob+"/sessions", adminToken, nil), 200).object(t)["revoked"].(float64); n != 1 {
			t.Fatalf("revoked %v sessions", n)
		}
		grants := e.want(e.do("GET", bob+"/privileges", adminToken, nil), 200).object(t)
		if len(grants["privileges"].([]any)) != 0 {
			t.Fatalf("a user granted nothing has %+v", grants)
		}

		// A user without privileges reads none of this; another instance does not exist for it.
		tok := e.want(e.signIn("user-alice", pw, nil), 200).object(t)["token"].(string)
		e.want(e.do("GET", base, tok, nil), 403)
		e.want(e.do("PATCH", bob, tok, map[string]any{"version": 3, "department": "x"}), 403)
		e.want(e.do("GET", "/iamd/v1/instances/other/users", tok, nil), 404)
		e.want(e.do("GET", "/iamd/v1/instances/team-a/events", tok, nil), 403)

		// Delete holds to the version too.
		version := e.want(e.do("GET", bob, adminToken, nil), 200).object(t)["version"].(float64)
		e.want(e.do("DELETE", bob+"?version=1", adminToken, nil), 409)
		e.want(e.do("DELETE", bob+"?version=x", adminToken, nil), 400)
		e.want(e.do("DELETE", bob+fmt.Sprintf("?version=%d", int(version)), adminToken, nil), 204)
		e.want(e.do("GET", bob, adminToken, nil), 404)
	})
}

// eventList reads a page of events.
func eventList(t *testing.T, r response) ([]map[string]any, string) {
	t.Helper()
	page := r.object(t)
	var out []map[string]any
	for _, ev := range page["events"].([]any) {
		out = append(out, ev.(map[string]any))
	}
	next, _ := page["next_cursor"].(string)
	return out, next
}

func TestAuditTrail(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const pw = "a long enough first password"
		e.secrets = append(e.secrets, pw)
		users := "/iamd/v1/instances/team-a/users"
		u := e.want(e.do("POST", users, adminToken, map[string]any{"login_name": "audited", "password": pw}), 201).object(t)
		id := u["id"].(string)
		e.want(e.do("PATCH", users+"/"+id, adminToken, map[string]any{"version": 1, "department": "Ops", "email": "a@example.com"}), 200)
		e.want(e.signIn("audited", pw, nil), 200)
		e.want(e.signIn("audited", "wrong password", nil), 401)

		events := "/iamd/v1/instances/team-a/events"
		evs, _ := eventList(t, e.want(e.do("GET", events+"?target="+id, adminToken, nil), 200))
		var types []string
		for _, ev := range evs {
			types = append(types, ev["type"].(string)+"/"+ev["outcome"].(string))
			if ev["face"] != "native" {
				t.Errorf("event %+v does not name the native face", ev)
			}
			if target := ev["target"].(map[string]any); target["name"] != "audited" || target["kind"] != "user" {
				t.Errorf("event target %+v", target)
			}
		}
		if want := []string{"sign_in/failure", "sign_in/success", "user.update/success", "user.create/success"}; !slices.Equal(types, want) {
			t.Fatalf("events of the user %v, want %v", types, want)
		}
		if changes := evs[2]["changes"].([]any); fmt.Sprint(changes) != "[email department]" {
			t.Errorf("the update's changes %v", changes)
		}
		if actor := evs[2]["actor"].(map[string]any); actor["login_name"] != "admin" {
			t.Errorf("the update's actor %+v", actor)
		}
		if strings.Contains(string(e.do("GET", events, adminToken, nil).body), pw) {
			t.Fatal("the trail shows a password")
		}

		// Type filter and cursor paging, newest first, with nothing repeated.
		var seen []string
		cursor := ""
		for range 20 {
			page, next := eventList(t, e.want(e.do("GET", events+"?limit=2&cursor="+cursor, adminToken, nil), 200))
			for _, ev := range page {
				seen = append(seen, ev["id"].(string))
			}
			if next == "" {
				break
			}
			cursor = next
		}
		whole, _ := eventList(t, e.want(e.do("GET", events+"?limit=200", adminToken, nil), 200))
		if len(seen) != len(whole) || seen[0] != whole[0]["id"] {
			t.Fatalf("paged %d events, the whole trail has %d", len(seen), len(whole))
		}
		creates, _ := eventList(t, e.want(e.do("GET", events+"?type=user.create&actor="+e.adminID(), adminToken, nil), 200))
		if len(creates) != 1 || creates[0]["target"].(map[string]any)["id"] != id {
			t.Fatalf("creates by the admin %+v", creates)
		}
		future := url.QueryEscape("2999-01-01T00:00:00Z")
		if later, _ := eventList(t, e.want(e.do("GET", events+"?since="+future, adminToken, nil), 200)); len(later) != 0 {
			t.Fatalf("events after 2999: %+v", later)
		}
		if r := e.want(e.do("GET", events+"?until=yesterday", adminToken, nil), 400).object(t); r["error"].(map[string]any)["field"] != "until" {
			t.Fatalf("bad until: %+v", r)
		}
	})
}

func (e *env) adminID() string {
	e.t.Helper()
	return e.want(e.do("GET", "/iamd/v1/me", adminToken, nil), 200).object(e.t)["id"].(string)
}

func TestInstancesGroupsAndRoles(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.want(e.do("POST", "/iamd/v1/instances", adminToken, map[string]any{"id": "team-b", "name": "Team B"}), 201)
		list := e.want(e.do("GET", "/iamd/v1/instances", adminToken, nil), 200).object(t)["instances"].([]any)
		if len(list) != 2 {
			t.Fatalf("instances %+v", list)
		}
		policy := "/iamd/v1/instances/team-b/policy"
		set := map[string]any{"password_min_length": 12, "password_history": 3, "password_max_age_days": 90,
			"lockout_threshold": 4, "lockout_duration_seconds": 600}
		got := e.want(e.do("PUT", policy, adminToken, set), 200).object(t)
		if got["password_min_length"].(float64) != 12 || got["password_max_age_days"].(float64) != 90 {
			t.Fatalf("policy %+v", got)
		}
		bad := map[string]any{"password_min_length": -1, "password_history": 3, "password_max_age_days": 90,
			"lockout_threshold": 4, "lockout_duration_seconds": 600}
		if r := e.want(e.do("PUT", policy, adminToken, bad), 400).object(t); r["error"].(map[string]any)["field"] != "password_min_length" {
			t.Fatalf("bad policy: %+v", r)
		}
		if got := e.want(e.do("GET", policy, adminToken, nil), 200).object(t); got["password_min_length"].(float64) != 12 {
			t.Fatalf("a refused policy changed it: %+v", got)
		}

		u := e.want(e.do("POST", "/iamd/v1/instances/team-b/users", adminToken, map[string]any{"login_name": "member"}), 201).object(t)
		g := e.want(e.do("POST", "/iamd/v1/instances/team-b/groups", adminToken, map[string]any{"name": "Readers",
			"user_ids": []string{u["id"].(string)}}), 201).object(t)
		one := e.want(e.do("GET", "/iamd/v1/instances/team-b/groups/"+g["id"].(string), adminToken, nil), 200).object(t)
		if members := one["members"].([]any); len(members) != 1 || members[0].(map[string]any)["login_name"] != "member" {
			t.Fatalf("group %+v", one)
		}
		groups := e.want(e.do("GET", "/iamd/v1/instances/team-b/groups", adminToken, nil), 200).object(t)["groups"].([]any)
		if len(groups) != 1 {
			t.Fatalf("groups %+v", groups)
		}
		groupPath := "/iamd/v1/instances/team-b/groups/" + g["id"].(string)
		other := e.want(e.do("POST", "/iamd/v1/instances/team-b/users", adminToken, map[string]any{"login_name": "other"}), 201).object(t)
		e.want(e.do("PATCH", groupPath, adminToken, map[string]any{"version": 9, "name": "x"}), 409)
		changed := e.want(e.do("PATCH", groupPath, adminToken, map[string]any{"version": 1, "description": "Read only",
			"add_user_ids": []string{other["id"].(string)}, "remove_user_ids": []string{u["id"].(string)}}), 200).object(t)
		if changed["description"] != "Read only" || changed["member_count"].(float64) != 1 || changed["version"].(float64) != 2 {
			t.Fatalf("changed group %+v", changed)
		}

		// Roles: a custom one, replaced, granted through the group, deleted.
		rolesPath := "/iamd/v1/instances/team-b/roles"
		e.want(e.do("POST", rolesPath, adminToken, map[string]any{"name": "reader", "privileges": []string{"USER_READ"}}), 201)
		e.want(e.do("POST", rolesPath, adminToken, map[string]any{"name": "bad", "privileges": []string{"FLY"}}), 400)
		role := e.want(e.do("PUT", rolesPath+"/reader", adminToken, map[string]any{"description": "Reads users",
			"privileges": []string{"USER_READ", "GROUP_READ"}}), 200).object(t)
		if len(role["privileges"].([]any)) != 2 {
			t.Fatalf("replaced role %+v", role)
		}
		granted := e.want(e.do("PUT", groupPath+"/roles", adminToken, map[string]any{"roles": []string{"reader"}}), 200).object(t)
		if fmt.Sprint(granted["roles"]) != "[reader]" {
			t.Fatalf("group roles %+v", granted)
		}
		grants := e.want(e.do("GET", "/iamd/v1/instances/team-b/users/"+other["id"].(string)+"/privileges", adminToken, nil), 200).object(t)
		if fmt.Sprint(grants["privileges"]) != "[GROUP_READ USER_READ]" {
			t.Fatalf("a member's grants %+v", grants)
		}
		e.want(e.do("DELETE", rolesPath+"/reader", adminToken, nil), 204)
		e.want(e.do("DELETE", groupPath+"?version=3", adminToken, nil), 204)
		roles := e.want(e.do("GET", rolesPath, adminToken, nil), 200).object(t)["roles"].([]any)
		if len(roles) == 0 {
			t.Fatal("no roles")
		}

		// An access key issued to a user by the administrator, shown once, revoked by id.
		keyPath := "/iamd/v1/instances/team-b/users/" + other["id"].(string) + "/access-keys"
		key := e.want(e.do("POST", keyPath, adminToken, map[string]any{"description": "ci"}), 201).object(t)
		secret := key["secret_key"].(string)
		e.secrets = append(e.secrets, secret)
		if list := e.do("GET", keyPath, adminToken, nil); strings.Contains(string(list.body), secret) || !strings.Contains(string(list.body), key["access_key"].(string)) {
			t.Fatalf("key list %s", list.body)
		}
		// Through another user's path the key is no such key, and stays.
		e.want(e.do("DELETE", "/iamd/v1/instances/team-b/users/"+u["id"].(string)+"/access-keys/"+key["access_key"].(string), adminToken, nil), 404)
		if list := e.do("GET", keyPath, adminToken, nil); !strings.Contains(string(list.body), key["access_key"].(string)) {
			t.Fatalf("a refused revoke removed the key: %s", list.body)
		}
		e.want(e.do("DELETE", "/iamd/v1/instances/team-b/access-keys/"+key["access_key"].(string), adminToken, nil), 204)

		// Deleting an instance takes all of it; the administrator's own is not its to delete.
		e.want(e.do("DELETE", "/iamd/v1/instances/team-a", adminToken, nil), 400)
		e.want(e.do("DELETE", "/iamd/v1/instances/team-b", adminToken, nil), 204)
		e.want(e.do("GET", "/iamd/v1/instances/team-b", adminToken, nil), 404)
		e.want(e.do("GET", "/iamd/v1/instances/team-b/users/"+other["id"].(string), adminToken, nil), 404)
		e.want(e.do("DELETE", "/iamd/v1/instances/team-b", adminToken, nil), 404)
	})
}
