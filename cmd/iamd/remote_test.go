package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"iamd/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Run(m) }

const remoteToken = "iamd_remote_cli_test_token_0123456789"

// The admin commands manage a running server through its native API with --url, on
// either store, touching no database of their own; the server's core authorizes them.
func TestCommandsManageARemoteServer(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			t.Setenv("IAMD_DATA_DIR", filepath.Join(t.TempDir(), "server"))
			t.Setenv("IAMD_DEFAULT_INSTANCE", "default")
			t.Setenv("IAMD_ADMIN_PASSWORD", "the remote admin passphrase")
			t.Setenv("IAMD_ADMIN_API_TOKEN", remoteToken)
			t.Setenv("IAMD_ADMIN_ACCESS_KEY", "")
			t.Setenv("IAMD_ADMIN_SECRET_KEY", "")
			t.Setenv("IAMD_MASTER_KEY", "")
			var args []string
			if engine == "postgres" {
				args = append(args, "--database-url", pgtest.NewDatabase(t))
			}
			addr, _, stop := serveFor(t, args...)
			defer stop()
			base := "http://" + addr

			// The commands' own data directory stays untouched: they open no database.
			local := filepath.Join(t.TempDir(), "client")
			t.Setenv("IAMD_DATA_DIR", local)
			t.Setenv("IAMD_DATABASE_URL", "")
			t.Setenv("IAMD_URL", base)
			t.Setenv("IAMD_TOKEN", remoteToken)
			cli := func(args ...string) (string, error) {
				var out bytes.Buffer
				err := run(context.Background(), args, &out, &bytes.Buffer{})
				return out.String(), err
			}
			must := func(want string, args ...string) string {
				t.Helper()
				out, err := cli(args...)
				if err != nil || !strings.Contains(out, want) {
					t.Fatalf("iamd %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			must("created instance team-r", "instance", "create", "--name", "Team R", "team-r")
			must("team-r", "instance", "list")
			must("policy of team-r set", "instance", "set-policy", "--password-min-length", "12", "team-r")
			must("min 12", "instance", "list")
			must("(Ops)", "group", "create", "--instance", "team-r", "--description", "On call", "Ops")
			must("On call", "group", "list", "--instance", "team-r")
			must("created role reader", "role", "create", "--privileges", "USER_READ", "reader")
			must("reader", "role", "list")

			// A user made over the native API, then managed by the commands.
			req, _ := http.NewRequest("POST", base+"/iamd/v1/instances/default/users", strings.NewReader(`{"login_name":"bob"}`))
			req.Header.Set("Authorization", "Bearer "+remoteToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("creating bob: %v %v", err, resp)
			}
			resp.Body.Close()
			stdin = strings.NewReader("a remote first password\n")
			t.Cleanup(func() { stdin = os.Stdin })
			must("password set for bob", "user", "set-password", "--temporary", "bob")
			must("unlocked bob", "user", "unlock", "bob")
			must("bob now holds: reader", "role", "grant", "bob", "reader")
			out := must("secret key:", "key", "create", "--description", "laptop", "bob")
			key := strings.Fields(strings.SplitN(out, "\n", 2)[0])[2]
			must(key, "key", "list", "bob")
			must("revoked "+key, "key", "revoke", key)
			if out := must("ACCESS KEY", "key", "list", "bob"); strings.Contains(out, key) {
				t.Fatalf("a revoked key is still listed:\n%s", out)
			}
			must("deleted role reader", "role", "delete", "reader")
			must("deleted instance team-r", "instance", "delete", "team-r")
			if out := must("default", "instance", "list"); strings.Contains(out, "team-r") {
				t.Fatalf("a deleted instance is listed:\n%s", out)
			}

			// The trail, exported through the API: every change above, by the admin, through
			// the native face.
			out = must("", "events", "export", "--since", "1h")
			var types []string
			for line := range strings.Lines(out) {
				var ev struct{ Type, Face string }
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("export line %q: %v", line, err)
				}
				types = append(types, ev.Type)
				if ev.Face != "native" && ev.Face != "system" {
					t.Errorf("event %s came through %q", ev.Type, ev.Face)
				}
			}
			if len(types) < 6 || types[0] != "role.delete" || !strings.Contains(out, `"instance.create"`) {
				t.Fatalf("exported %v", types)
			}

			// Refusals come back as the core's, and change nothing.
			if _, err := cli("user", "set-password", "--hash", "$2b$10$abcdefghijklmnopqrstuu5Ssc1lZLbKdwSxEq4aSX4pJGkxt6P2G", "bob"); err == nil ||
				!strings.Contains(err.Error(), "without --url") {
				t.Fatalf("a hash over --url: %v", err)
			}
			if _, err := cli("instance", "create", "--token", "not-a-token", "team-x"); err == nil {
				t.Fatal("a bad token created an instance")
			}
			if _, err := cli("group", "create", "--instance", "nowhere", "X"); err == nil || !strings.Contains(err.Error(), "nowhere") {
				t.Fatalf("a group in a missing instance: %v", err)
			}
			if _, err := cli("instance", "list", "--token", ""); err == nil || !strings.Contains(err.Error(), "--token") {
				t.Fatalf("--url without a token: %v", err)
			}
			if out := must("default", "instance", "list"); strings.Contains(out, "team-x") {
				t.Fatal("the refused create made an instance")
			}
			if _, err := os.Stat(local); !os.IsNotExist(err) {
				t.Fatalf("the commands made a data directory of their own: %v", err)
			}
		})
	}
}
