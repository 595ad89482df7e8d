package vikingcloud_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// A path the face serves, asked with a method it does not take, answers 405 with an
// Allow header and Spring's error body, authenticated or not, and changes nothing; a
// path it does not serve is still 404.
func TestWrongMethod405(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		e.do("PUT", "/user-service/v1/user", seedUser("mia"))
		before := e.do("GET", "/user-service/v1/user/local/mia", "").raw
		for _, c := range []struct{ method, path, allow string }{
			{"GET", "/user-service/v1/user", "POST,PUT"},
			{"DELETE", "/user-service/v1/user", "POST,PUT"},
			{"PATCH", "/user-service/v1/user", "POST,PUT"},
			{"GET", "/user-service/v1/user/search", "POST"},
			{"PUT", "/user-service/v1/user/search", "POST"},
			{"POST", "/user-service/v1/user/local/mia", "GET,HEAD,DELETE"},
			{"PUT", "/user-service/v1/user/local/mia", "GET,HEAD,DELETE"},
			{"PATCH", "/user-service/v1/user/local/mia", "GET,HEAD,DELETE"},
			{"DELETE", "/user-service/v1/role", "GET,HEAD,POST"},
			{"PUT", "/user-service/v1/role", "GET,HEAD,POST"},
			{"POST", "/user-service/v1/privilege", "GET,HEAD"},
			{"GET", "/auth-service/v1/token", "POST"},
			{"DELETE", "/auth-service/v1/token/refresh", "POST"},
			{"POST", "/v3/api-docs", "GET,HEAD"},
		} {
			for _, header := range [][]string{{"Authorization", "Bearer " + adminToken}, {"", ""}} {
				body := ""
				if c.method != "GET" && c.method != "DELETE" {
					body = `{"userKey":{"username":"mia"},"firstName":"Changed"}`
				}
				r := e.do(c.method, c.path, body, header...)
				e.wantError(r, 405, "Request method '"+c.method+"' is not supported")
				if got := e.allow(c.method, c.path); got != c.allow {
					t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
				}
			}
		}
		if after := e.do("GET", "/user-service/v1/user/local/mia", "").raw; after != before {
			t.Fatalf("a refused method changed the user:\n%s\n%s", before, after)
		}
		for _, c := range [][2]string{{"GET", "/user-service/v1/users"}, {"POST", "/user-service/v2/user"}, {"GET", "/user-service/v1/user/local"},
			{"GET", "/user-service/v1/user/local/mia/extra"}, {"DELETE", "/nothing"}, {"PUT", "/auth-service/v1/tokens"}} {
			r := e.do(c[0], c[1], "")
			e.wantError(r, 404, "No endpoint")
			if got := e.allow(c[0], c[1]); got != "" {
				t.Errorf("%s %s: 404 with Allow %q", c[0], c[1], got)
			}
		}
		// HEAD is GET's; the served methods still answer as they did.
		if r := e.do("GET", "/user-service/v1/user/local/mia", ""); r.status != 200 {
			t.Fatalf("GET: %d %s", r.status, r.raw)
		}
	})
}

// allow answers the Allow header of a request without credentials.
func (e *env) allow(method, path string) string {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(""))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("Allow")
}
