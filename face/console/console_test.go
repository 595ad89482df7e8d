package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"iamd"
	"iamd/account"
	"iamd/face/console"
	"iamd/internal/facetest"
	"iamd/internal/pgtest"
	"iamd/internal/servertest"
	"iamd/server"
	"iamd/storetest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const adminPassword = "the console admin passphrase"

type env struct {
	t    *testing.T
	base string
	core *facetest.Core
}

func start(t *testing.T, store iamd.Store) *env {
	core := facetest.Start(t, store, account.BootstrapConfig{DefaultInstance: "team-a", AdminPassword: adminPassword})
	face, err := console.New(console.Config{Accounts: core.Accounts, Directory: core.Directory, Instance: "team-a", Logger: core.Logger})
	if err != nil {
		t.Fatal(err)
	}
	base := servertest.Serve(t, server.Config{RequestContext: server.ReadScope(store),
		Mounts: []server.Mount{{Prefix: "/console", Face: face}}, Logger: core.Logger, Ready: store.Ping})["main"]
	t.Cleanup(func() { core.Logs.CheckNoSecrets(t, adminPassword) })
	return &env{t: t, base: base, core: core}
}

func eachStore(t *testing.T, test func(t *testing.T, e *env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) { test(t, start(t, engine.Open(t))) })
	}
}

// browserClient is an HTTP client that keeps cookies and does not follow redirects, as
// the tests look at each answer.
func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs the client in as the admin and returns the CSRF token of its forms.
func (e *env) signIn(c *http.Client) string {
	e.t.Helper()
	_, page := get(e.t, c, e.base+"/console/sign-in")
	m := hiddenCSRF.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no CSRF token in the sign-in form:\n%s", page)
	}
	resp, body := post(e.t, c, e.base+"/console/sign-in", url.Values{"csrf": {m[1]}, "instance": {"team-a"},
		"login_name": {"admin"}, "password": {adminPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/instances/team-a/users" {
		e.t.Fatalf("sign-in answered %d %s:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, page = get(e.t, c, e.base+"/console/instances/team-a/users")
	m = hiddenCSRF.FindStringSubmatch(page)
	if m == nil {
		e.t.Fatalf("no CSRF token on the users page:\n%s", page)
	}
	return m[1]
}

// Every answer carries the headers of an admin UI; the session cookie cannot be read
// by script or sent by another site.
func TestHeadersAndCookie(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := browserClient(t)
		for _, path := range []string{"/console/sign-in", "/console/static/console.js", "/console/nowhere"} {
			resp, _ := get(t, c, e.base+path)
			csp := resp.Header.Get("Content-Security-Policy")
			for _, directive := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, directive) {
					t.Errorf("%s: CSP %q lacks %s", path, csp, directive)
				}
			}
			if resp.Header.Get("X-Frame-Options") != "DENY" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: headers %v", path, resp.Header)
			}
		}
		// Without a session every page goes to the sign-in.
		resp, _ := get(t, c, e.base+"/console/instances/team-a/users")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/sign-in" {
			t.Fatalf("a page without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := get(t, c, e.base+"/console/sign-in")
		token := hiddenCSRF.FindStringSubmatch(page)[1]
		resp, _ = post(t, c, e.base+"/console/sign-in", url.Values{"csrf": {token}, "instance": {"team-a"},
			"login_name": {"admin"}, "password": {adminPassword}})
		var session *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "iamd_console" && ck.Value != "" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console/" {
			t.Fatalf("session cookie %+v", session)
		}
	})
}

// A form posted without the session's CSRF token, or with another session's, is refused
// and changes nothing; so is a sign-in whose token is not the one its cookie holds.
func TestCSRFRefusedAndNothingChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := browserClient(t)
		csrf := e.signIn(c)
		other := browserClient(t)
		otherCSRF := e.signIn(other)
		if csrf == otherCSRF {
			t.Fatal("two sessions share a CSRF token")
		}
		create := func(token string) *http.Response {
			resp, _ := post(t, c, e.base+"/console/instances/team-a/users", url.Values{"csrf": {token}, "login_name": {"forged"}})
			return resp
		}
		for _, token := range []string{"", "x", otherCSRF} {
			if resp := create(token); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("a create with CSRF token %q answered %d", token, resp.StatusCode)
			}
		}
		admin := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{PlatformAdmin: true, Name: "test"})
		if _, err := e.core.Directory.FindUserByLogin(admin, "team-a", "forged"); iamd.ErrorCode(err) != iamd.ENOTFOUND {
			t.Fatalf("a refused form created a user: %v", err)
		}
		if resp := create(csrf); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the create with the session's token answered %d", resp.StatusCode)
		}

		// Login CSRF: a sign-in must carry the token of its own form's cookie.
		fresh := browserClient(t)
		get(t, fresh, e.base+"/console/sign-in")
		resp, body := post(t, fresh, e.base+"/console/sign-in", url.Values{"csrf": {"guessed"}, "instance": {"team-a"},
			"login_name": {"admin"}, "password": {adminPassword}})
		if resp.StatusCode != http.StatusForbidden || strings.Contains(body, adminPassword) {
			t.Fatalf("a sign-in with a forged token answered %d", resp.StatusCode)
		}

		// Signing out ends the session: its cookie, kept by an attacker, opens nothing.
		u, _ := url.Parse(e.base + "/console/")
		kept := c.Jar.Cookies(u)
		resp, _ = post(t, c, e.base+"/console/sign-out", url.Values{"csrf": {csrf}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out answered %d", resp.StatusCode)
		}
		c.Jar.SetCookies(u, kept)
		if resp, _ := get(t, c, e.base+"/console/instances/team-a/users"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a page after sign-out answered %d", resp.StatusCode)
		}
	})
}
