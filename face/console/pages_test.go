package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"iamd"
)

// Every page an administrator reaches answers, and shows what it is for.
func TestEveryPageAnswers(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		c := browserClient(t)
		csrf := e.signIn(c)
		resp, _ := post(t, c, e.base+"/console/instances/team-a/groups", url.Values{"csrf": {csrf}, "name": {"Operators"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("group create answered %d", resp.StatusCode)
		}
		group := resp.Header.Get("Location")
		resp, _ = post(t, c, e.base+"/console/instances", url.Values{"csrf": {csrf}, "id": {"team-b"}, "name": {"Team B"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("instance create answered %d", resp.StatusCode)
		}
		for path, want := range map[string]string{
			"/console/instances/team-a/users":         "admin",
			"/console/instances/team-a/users/new":     "Create user",
			"/console/instances/team-a/groups":        "Operators",
			group:                                     "Members",
			"/console/instances/team-a/roles":         "iamd_admin",
			"/console/instances/team-a/events":        "group.create",
			"/console/instances/team-a/policy":        "Save policy",
			"/console/instances":                      "team-b",
			"/console/instances/team-a/users/rows":    "admin",
			"/console/instances/team-a/users?q=zz":    "No user matches",
			"/console/instances/team-a/events?type=x": "No events",
		} {
			resp, body := get(t, c, e.base+strings.Split(path, "?")[0]+query(path))
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("%s: %d, want %q in:\n%.400s", path, resp.StatusCode, want, body)
			}
		}
		resp, body := post(t, c, e.base+"/console/instances/team-a/policy", url.Values{"csrf": {csrf},
			"password_min_length": {"10"}, "password_history": {"3"}, "password_max_age_days": {"0"},
			"lockout_threshold": {"4"}, "lockout_duration_minutes": {"30"}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("policy answered %d: %.300s", resp.StatusCode, body)
		}
		if _, body := get(t, c, e.base+"/console/instances/team-a/policy"); !strings.Contains(body, `value="10"`) || !strings.Contains(body, `value="30"`) {
			t.Fatalf("the saved policy is not shown:\n%.600s", body)
		}
		if resp, _ := post(t, c, e.base+"/console/instances/team-a/policy", url.Values{"csrf": {csrf},
			"password_min_length": {"-1"}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("a bad policy answered %d", resp.StatusCode)
		}
		if resp, _ := get(t, c, e.base+"/console/instances/nowhere/users/x"); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a missing user answered %d", resp.StatusCode)
		}
	})
}

func query(path string) string {
	if _, q, ok := strings.Cut(path, "?"); ok {
		return "?" + q
	}
	return ""
}

// A user with a temporary password reaches only the password page until it has chosen
// one; a user with MFA signs in with its code.
func TestTemporaryPasswordAndMFASignIn(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		admin := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{PlatformAdmin: true, Name: "test"})
		const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
		u, err := e.core.Directory.CreateUser(admin, &iamd.User{InstanceID: "team-a", LoginName: "carol", Roles: []string{"iamd_viewer"}},
			iamd.CreateUserOptions{MFA: &iamd.MFASetting{Enabled: true, Secret: secret}})
		if err != nil {
			t.Fatal(err)
		}
		e.core.SetPassword(t, admin, "team-a", u.ID, "a temporary first pass 1", true)
		code := func(at time.Time) string {
			c, _ := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			return c
		}
		c := browserClient(t)
		signIn := func(password, otpCode string) *http.Response {
			_, page := get(t, c, e.base+"/console/sign-in")
			resp, _ := post(t, c, e.base+"/console/sign-in", url.Values{"csrf": {hiddenCSRF.FindStringSubmatch(page)[1]},
				"instance": {"team-a"}, "login_name": {"carol"}, "password": {password}, "totp_code": {otpCode}})
			return resp
		}
		if resp := signIn("a temporary first pass 1", ""); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a sign-in without the code answered %d", resp.StatusCode)
		}
		if resp := signIn("a temporary first pass 1", code(time.Now())); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/password" {
			t.Fatalf("a sign-in with a temporary password went to %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := get(t, c, e.base+"/console/instances/team-a/users"); resp.Header.Get("Location") != "/console/password" {
			t.Fatalf("with a temporary password the users page answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, page := get(t, c, e.base+"/console/password")
		csrf := hiddenCSRF.FindStringSubmatch(page)[1]
		if resp, _ := post(t, c, e.base+"/console/password", url.Values{"csrf": {csrf}, "current_password": {"a temporary first pass 1"},
			"new_password": {"a chosen passphrase of hers"}, "repeat_password": {"something else"}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("differing new passwords answered %d", resp.StatusCode)
		}
		if resp, body := post(t, c, e.base+"/console/password", url.Values{"csrf": {csrf}, "current_password": {"a temporary first pass 1"},
			"new_password": {"a chosen passphrase of hers"}, "repeat_password": {"a chosen passphrase of hers"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("the change answered %d: %s", resp.StatusCode, body[strings.Index(body, "<main>"):])
		}
		// The code of this time step was used once; the next step's, within the allowed
		// drift of one step, signs in again.
		if resp := signIn("a chosen passphrase of hers", code(time.Now().Add(30*time.Second))); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/instances/team-a/users" {
			t.Fatalf("a sign-in with the chosen password went to %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		// A viewer reads users but may not change them: the console shows the refusal.
		_, page = get(t, c, e.base+"/console/instances/team-a/users/"+u.ID)
		csrf = hiddenCSRF.FindStringSubmatch(page)[1]
		if resp, _ := post(t, c, e.base+"/console/instances/team-a/users/"+u.ID+"/unlock", url.Values{"csrf": {csrf}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a viewer's unlock answered %d", resp.StatusCode)
		}
		// The administrator sees carol's session and ends it: her cookie opens nothing more.
		adminClient := browserClient(t)
		adminCSRF := e.signIn(adminClient)
		_, page = get(t, adminClient, e.base+"/console/instances/team-a/users/"+u.ID)
		m := regexp.MustCompile(`name="session_id" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("carol's page lists no session:\n%s", page)
		}
		if resp, _ := post(t, adminClient, e.base+"/console/instances/team-a/users/"+u.ID+"/revoke-session",
			url.Values{"csrf": {adminCSRF}, "session_id": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("ending carol's session answered %d", resp.StatusCode)
		}
		if resp, _ := get(t, c, e.base+"/console/instances/team-a/users"); resp.Header.Get("Location") != "/console/sign-in" {
			t.Fatalf("carol's ended session still opens pages: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := signIn("a chosen passphrase of hers", code(time.Now().Add(30*time.Second))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("the same one-time code signed in twice: %d", resp.StatusCode)
		}
		if resp := signIn("a chosen passphrase of hers", code(time.Now().Add(60*time.Second))); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a code two steps ahead signed in: %d", resp.StatusCode)
		}
	})
}
