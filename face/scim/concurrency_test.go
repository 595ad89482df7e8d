package scim_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"iamd/face/scim"
)

// rounds is how many times each race is run: a lost update shows in a few of them.
const rounds = 100

// send makes one request from any goroutine: no t.Fatal, the status and body returned.
func (e *env) send(method, path, body string, header ...string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("not JSON: %s", raw)
		}
	}
	return resp.StatusCode, out, nil
}

// race runs each of fns at once and returns their statuses.
func race(t *testing.T, fns ...func() (int, error)) []int {
	t.Helper()
	statuses := make([]int, len(fns))
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], errs[i] = fn()
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return statuses
}

// Concurrent PATCHes of different attributes, all answered 200, all take effect: the
// core applies each PATCH's operations to the user as it is when it writes.
func TestConcurrentPatchesLoseNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		attrs := []struct{ path, value string }{
			{"displayName", `"Display %d"`}, {"title", `"Title %d"`}, {"nickName", `"Nick %d"`}, {"locale", `"en-GB"`},
			{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", `"Dept %d"`},
			{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", `"E%d"`},
		}
		for round := range rounds {
			id, _ := e.create(fmt.Sprintf(`{"schemas":["%s"],"userName":"racer-%d"}`, scim.SchemaUser, round))
			var fns []func() (int, error)
			for _, a := range attrs {
				value := strings.ReplaceAll(a.value, "%d", fmt.Sprint(round))
				fns = append(fns, func() (int, error) {
					status, _, err := e.send("PATCH", "/Users/"+id, patch(`{"op":"replace","path":"`+a.path+`","value":`+value+`}`))
					return status, err
				})
			}
			for i, status := range race(t, fns...) {
				if status != 200 {
					t.Fatalf("round %d: PATCH %s answered %d", round, attrs[i].path, status)
				}
			}
			got := e.do("GET", "/Users/"+id, adminToken, "")
			ent, _ := got.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
			if got.body["displayName"] != fmt.Sprintf("Display %d", round) || got.body["title"] != fmt.Sprintf("Title %d", round) ||
				got.body["nickName"] != fmt.Sprintf("Nick %d", round) || got.body["locale"] != "en-GB" ||
				ent["department"] != fmt.Sprintf("Dept %d", round) || ent["employeeNumber"] != fmt.Sprintf("E%d", round) {
				t.Fatalf("round %d: a PATCH was lost: %s", round, got.raw)
			}
			if want := fmt.Sprintf(`W/"%d"`, 1+len(attrs)); got.header.Get("ETag") != want {
				t.Fatalf("round %d: version %s after %d changes, want %s", round, got.header.Get("ETag"), len(attrs), want)
			}
		}
	})
}

// Concurrent PUTs that name one version in If-Match: exactly one wins; the others get
// 412, and the user is the winner's.
func TestConcurrentPutsWithOneIfMatch(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const writers = 6
		for round := range rounds {
			id, version := e.create(fmt.Sprintf(`{"schemas":["%s"],"userName":"put-%d"}`, scim.SchemaUser, round))
			var fns []func() (int, error)
			for w := range writers {
				body := fmt.Sprintf(`{"schemas":["%s"],"userName":"put-%d","displayName":"writer %d"}`, scim.SchemaUser, round, w)
				fns = append(fns, func() (int, error) {
					status, _, err := e.send("PUT", "/Users/"+id, body, "If-Match", version)
					return status, err
				})
			}
			won, winner := 0, -1
			for w, status := range race(t, fns...) {
				switch status {
				case 200:
					won, winner = won+1, w
				case 412:
				default:
					t.Fatalf("round %d: a PUT answered %d", round, status)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d PUTs with one If-Match won, want exactly 1", round, won)
			}
			if got := e.do("GET", "/Users/"+id, adminToken, ""); got.body["displayName"] != fmt.Sprintf("writer %d", winner) ||
				got.header.Get("ETag") != `W/"2"` {
				t.Fatalf("round %d: the user is not the winner's: %s %s", round, got.header.Get("ETag"), got.raw)
			}
		}
	})
}

// Concurrent creates of groups of one name (in different cases): exactly one wins, the
// others get 409 uniqueness; concurrent PATCHes adding different members all land.
func TestConcurrentGroupCreatesAndMemberships(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		const creators = 6
		for round := range rounds {
			var fns []func() (int, error)
			for c := range creators {
				name := fmt.Sprintf("Team %d", round)
				if c%2 == 1 {
					name = strings.ToUpper(name)
				}
				fns = append(fns, func() (int, error) {
					status, _, err := e.send("POST", "/Groups", `{"schemas":["`+scim.SchemaGroup+`"],"displayName":"`+name+`"}`)
					return status, err
				})
			}
			won := 0
			for _, status := range race(t, fns...) {
				switch status {
				case 201:
					won++
				case 409:
				default:
					t.Fatalf("round %d: a create answered %d", round, status)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d groups named alike were created, want exactly 1", round, won)
			}
			if got := e.do("GET", fmt.Sprintf(`/Groups?filter=displayName%%20eq%%20%%22team%%20%d%%22`, round), adminToken, ""); total(got) != 1 {
				t.Fatalf("round %d: %d groups stored", round, total(got))
			}
		}
		group := e.createGroup(`"displayName":"Everyone"`)
		var members []string
		for i := range 8 {
			id, _ := e.create(fmt.Sprintf(`{"schemas":["%s"],"userName":"member-%d"}`, scim.SchemaUser, i))
			members = append(members, id)
		}
		var fns []func() (int, error)
		for _, m := range members {
			fns = append(fns, func() (int, error) {
				status, _, err := e.send("PATCH", "/Groups/"+group, patch(`{"op":"add","path":"members","value":[{"value":"`+m+`"}]}`))
				return status, err
			})
		}
		for _, status := range race(t, fns...) {
			if status != 200 {
				t.Fatalf("a member PATCH answered %d", status)
			}
		}
		if got := e.do("GET", "/Groups/"+group, adminToken, ""); len(got.body["members"].([]any)) != len(members) {
			t.Fatalf("concurrent member additions lost some: %s", got.raw)
		}
	})
}
