package console_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts headless Chromium (Debian's chromium) for one test. With CI=true a
// missing browser fails the test: .ci/run installs it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("IAMD_CHROMIUM")
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium found (apt-get install chromium); CI=true never skips the browser tests")
		}
		t.Skip("no Chromium found; install Debian's chromium to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	return ctx
}

// screenshot saves the page as docs' screenshots when IAMD_CONSOLE_SCREENSHOTS names a
// directory (go test ./face/console -run Browser with it set writes docs/console/).
func screenshot(name string) chromedp.Action[chromedp.Void] {
	dir := os.Getenv("IAMD_CONSOLE_SCREENSHOTS")
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if dir == "" {
			return nil
		}
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	})
}

// read runs a that returns a value, failing the test on an error.
func read[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// An administrator, as a person does it: signs in, creates a user, finds it by typing
// in the search box, resets its password, sees the event, and signs out.
func TestBrowserAdministratorFlow(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := browser(t)
		const hostile = `<img src=x onerror="window.pwned=1">Mallory`
		id := func(s string) chromedp.ID { return chromedp.ID(s) }
		do(t, ctx,
			chromedp.Navigate(e.base+"/console/"),
			chromedp.WaitVisible(id("login_name")),
			screenshot("sign-in"),
			chromedp.SendKeys(id("login_name"), "admin"),
			chromedp.SendKeys(id("password"), adminPassword),
			chromedp.Submit(id("password")),
			chromedp.WaitVisible(id("search")),

			// Create a user.
			chromedp.Click(chromedp.CSS("a.button")),
			chromedp.WaitVisible(id("login_name")),
			chromedp.SendKeys(id("login_name"), "jdoe"),
			chromedp.SendKeys(id("display_name"), "Jane Doe"),
			chromedp.SendKeys(id("email"), "jane@example.com"),
			chromedp.SendKeys(id("password"), "a first temporary pass 7"),
			chromedp.Submit(id("login_name")),
			chromedp.WaitVisible(id("login-name")),
		)
		if got := read(t, ctx, chromedp.Text(id("login-name"))); got != "jdoe" {
			t.Fatalf("the new user's page shows %q", got)
		}
		// A second user whose name is markup: shown as text, never run.
		do(t, ctx,
			chromedp.Navigate(e.base+"/console/instances/team-a/users/new"),
			chromedp.WaitVisible(id("login_name")),
			chromedp.SendKeys(id("login_name"), "mallory"),
			chromedp.SendKeys(id("display_name"), hostile),
			chromedp.Submit(id("login_name")),
			chromedp.WaitVisible(id("login-name")),

			// Find the first by typing: the rows change under the box without a new page.
			chromedp.Navigate(e.base+"/console/instances/team-a/users"),
			chromedp.WaitVisible(id("search")),
			chromedp.SendKeys(id("search"), "jd"),
		)
		read(t, ctx, chromedp.Poll[bool](`document.getElementById("user-rows").dataset.query === "jd"`,
			chromedp.WithPollingTimeout(10*time.Second)))
		rows := read(t, ctx, chromedp.Text(id("user-rows")))
		if !strings.Contains(rows, "jdoe") || strings.Contains(rows, "admin") || strings.Contains(rows, "mallory") {
			t.Fatalf("typing jd left the rows %q", rows)
		}
		do(t, ctx,
			chromedp.Navigate(e.base+"/console/instances/team-a/users"),
			chromedp.WaitVisible(id("search")),
			screenshot("users"),
		)
		if pwned := read(t, ctx, chromedp.Evaluate[string](`String(window.pwned)`)); pwned != "undefined" {
			t.Fatalf("markup in a display name ran: window.pwned = %s", pwned)
		}
		do(t, ctx,
			chromedp.Click(chromedp.Search(`//a[text()="jdoe"]`)),
			chromedp.WaitVisible(id("new-password")),

			// Reset its password, and see the event.
			chromedp.SendKeys(id("new-password"), "a reset temporary pass 8"),
			chromedp.Submit(id("new-password")),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		)
		if notice := read(t, ctx, chromedp.Text(chromedp.CSS(".notice"))); notice != "Password set." {
			t.Fatalf("after the reset the notice says %q", notice)
		}
		events := read(t, ctx, chromedp.Text(id("user-events")))
		if !strings.Contains(events, "password.set") || !strings.Contains(events, "console") || !strings.Contains(events, "user.create") {
			t.Fatalf("the user's events: %q", events)
		}
		do(t, ctx,
			screenshot("user"),
			chromedp.Navigate(e.base+"/console/instances/team-a/events"),
			chromedp.WaitVisible(id("events")),
			screenshot("events"),
			chromedp.Click(chromedp.CSS(".sign-out button")),
			chromedp.WaitVisible(id("login_name")),
		)
		if signedOut := read(t, ctx, chromedp.Text(chromedp.CSS(".notice"))); signedOut != "Signed out." {
			t.Fatalf("after sign-out: %q", signedOut)
		}
		// Signed out, the console's pages lead to the sign-in again.
		do(t, ctx, chromedp.Navigate(e.base+"/console/instances/team-a/users"), chromedp.WaitVisible(id("login_name")))
		if path := read(t, ctx, chromedp.Evaluate[string](`location.pathname`)); path != "/console/sign-in" {
			t.Fatalf("after sign-out the users page is at %s", path)
		}
	})
}

// The browser enforces the policy the console sends: a page that tries to frame the
// console gets nothing, and an inline script the page did not ship does not run.
func TestBrowserEnforcesContentSecurityPolicy(t *testing.T) {
	eachStore(t, func(t *testing.T, e *env) {
		ctx := browser(t)
		do(t, ctx, chromedp.Navigate(e.base+"/console/sign-in"), chromedp.WaitVisible(chromedp.ID("login_name")))
		// What an injection would do: add an inline script to the page.
		inline := read(t, ctx, chromedp.Evaluate[string](`(() => { const s = document.createElement("script");
			s.textContent = "window.inlineRan = 1"; document.body.appendChild(s); return String(window.inlineRan); })()`))
		if inline != "undefined" {
			t.Fatalf("an inline script ran under the policy: %s", inline)
		}
		// And a frame of the console inside the console.
		read(t, ctx, chromedp.Evaluate[string](`(() => { const f = document.createElement("iframe"); f.id = "f";
			f.src = "/console/sign-in"; document.body.appendChild(f); return "added"; })()`))
		do(t, ctx, chromedp.Sleep(time.Second))
		framed := read(t, ctx, chromedp.Evaluate[string](`(() => { try { const d = document.getElementById("f").contentDocument;
			return d && d.getElementById("login_name") ? "rendered" : "blocked"; } catch (e) { return "blocked"; } })()`))
		if framed != "blocked" {
			t.Fatalf("the console rendered inside a frame: %s", framed)
		}
	})
}
