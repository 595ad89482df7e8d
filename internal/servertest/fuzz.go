package servertest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// Route is where a fuzzed body goes: a method and a full URL, and headers of its own
// (a signature over the URL, say) besides those every route gets.
type Route struct {
	Method, URL string
	Header      http.Header
}

// FuzzBodies sends every fuzzed body to one of routes (a fuzzed byte picks which) with
// header, and fails when the answer is a 5xx or a refusal that inShape rejects: whatever
// a client sends, a face answers in its own error shape. Each seed is tried on two
// routes to begin with.
func FuzzBodies(f *testing.F, seeds []string, routes []Route, header http.Header, inShape func(resp *http.Response, body []byte) bool) {
	for _, seed := range seeds {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(len(routes)/2))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, body string, pick uint8) {
		r := routes[int(pick)%len(routes)]
		req, err := http.NewRequest(r.Method, r.URL, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []http.Header{header, r.Header} {
			for k, v := range h {
				req.Header[k] = v
			}
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q → %d %s", r.Method, r.URL, body, resp.StatusCode, out)
		}
		if resp.StatusCode >= 400 && !inShape(resp, out) {
			t.Fatalf("%s %s %q → %d, not in the face's error shape: %s", r.Method, r.URL, body, resp.StatusCode, out)
		}
	})
}
