package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/loadtest"
	"iamd/sqlite"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// awaitReady waits until the server at addr answers /readyz, failing the test if serve
// stops first (its error on stopped) or the deadline passes.
func awaitReady(t *testing.T, addr string, stopped <-chan error, log *syncBuffer, deadline time.Time) {
	t.Helper()
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-stopped:
			t.Fatalf("serve at %s stopped: %v\n%s", addr, err, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve at %s did not become ready:\n%s", addr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serveFor runs "iamd serve" until the returned stop is called.
func serveFor(t *testing.T, args ...string) (addr string, stderr *syncBuffer, stop func()) {
	t.Helper()
	addr = freeAddr(t)
	stderr = &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve", "--addr", addr}, args...), &bytes.Buffer{}, stderr) }()
	awaitReady(t, addr, done, stderr, time.Now().Add(30*time.Second))
	return addr, stderr, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func TestServeSignAndAdminCommands(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	t.Setenv("IAMD_DATA_DIR", dataDir) // flags' environment twins
	t.Setenv("IAMD_DEFAULT_INSTANCE", "ssoins-12345")
	t.Setenv("IAMD_ADMIN_PASSWORD", "")
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", "")
	t.Setenv("IAMD_ADMIN_SECRET_KEY", "")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "")
	t.Setenv("IAMD_MASTER_KEY", "")

	addr, stderr, stop := serveFor(t, "--face-addr", "scp="+freeAddr(t))
	out := stderr.String()
	generated := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasPrefix(k, "IAMD_ADMIN_") {
			generated[k] = v
		}
	}
	for _, k := range []string{"IAMD_ADMIN_PASSWORD", "IAMD_ADMIN_ACCESS_KEY", "IAMD_ADMIN_SECRET_KEY", "IAMD_ADMIN_API_TOKEN"} {
		if generated[k] == "" {
			t.Fatalf("%s was not printed on first start:\n%s", k, out)
		}
	}
	if strings.Count(out, generated["IAMD_ADMIN_SECRET_KEY"]) != 1 {
		t.Fatal("the generated secret appears in a log line as well")
	}

	// iamd sign --run, the README's way to call the face.
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", generated["IAMD_ADMIN_ACCESS_KEY"])
	t.Setenv("IAMD_ADMIN_SECRET_KEY", generated["IAMD_ADMIN_SECRET_KEY"])
	var body bytes.Buffer
	err := run(context.Background(), []string{"sign", "--run", "--data",
		`{"instance_id":"ssoins-12345","user_id":"johndoe","name":"John Doe"}`, "POST", "http://" + addr + "/scp/v1/users"}, &body, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		User struct {
			ID     string `json:"id"`
			UserID string `json:"user_id"`
		}
	}
	if err := json.Unmarshal(body.Bytes(), &created); err != nil || created.User.UserID != "johndoe" {
		t.Fatalf("signed create: %v %s", err, body.String())
	}
	var curl bytes.Buffer
	if err := run(context.Background(), []string{"sign", "GET", "http://" + addr + "/scp/v1/users?instance_id=ssoins-12345"}, &curl, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(curl.String(), "curl ") || !strings.Contains(curl.String(), "Scp-Signature: ") {
		t.Fatalf("sign output: %s", curl.String())
	}
	// iamd sign --face ncloud: the same user through the Ncloud face, its id in UUID form.
	id := created.User.ID
	uuid := id[:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:]
	var fromNcloud bytes.Buffer
	if err := run(context.Background(), []string{"sign", "--face", "ncloud", "--run", "GET",
		"http://" + addr + "/ncloud/api/v1/users/" + uuid + "?responseFormatType=json"}, &fromNcloud, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var ncloudUser struct{ UserID, LoginID string }
	if err := json.Unmarshal(fromNcloud.Bytes(), &ncloudUser); err != nil || ncloudUser.UserID != uuid || ncloudUser.LoginID != "johndoe" {
		t.Fatalf("the SCP user through the Ncloud face: %v %s", err, fromNcloud.String())
	}
	// The native API: the generated admin password signs in.
	signIn, _ := json.Marshal(map[string]string{"login_name": "admin", "password": generated["IAMD_ADMIN_PASSWORD"]})
	resp, err := http.Post("http://"+addr+"/iamd/v1/instances/ssoins-12345/sign-in", "application/json", bytes.NewReader(signIn))
	if err != nil {
		t.Fatal(err)
	}
	var session struct {
		Token string `json:"token"`
	}
	json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(session.Token, "iamds_") {
		t.Fatalf("native sign-in: %d", resp.StatusCode)
	}
	// A user created through the Ncloud face is the same user through SCP and SCIM.
	var fromCreate bytes.Buffer
	if err := run(context.Background(), []string{"sign", "--face", "ncloud", "--run", "--data",
		`{"loginId":"kim@example.com","userProfile":{"firstName":"민준","lastName":"김"},"accessRules":{"consoleAccessAllowed":true,"apiAccessAllowed":true}}`,
		"POST", "http://" + addr + "/ncloud/api/v1/users"}, &fromCreate, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var kim struct{ UserID string }
	if err := json.Unmarshal(fromCreate.Bytes(), &kim); err != nil || len(kim.UserID) != 36 {
		t.Fatalf("create through Ncloud: %v %s", err, fromCreate.String())
	}
	coreID := strings.ReplaceAll(kim.UserID, "-", "")
	var fromSCP bytes.Buffer
	if err := run(context.Background(), []string{"sign", "--run", "GET",
		"http://" + addr + "/scp/v1/users/" + coreID + "?instance_id=ssoins-12345"}, &fromSCP, &bytes.Buffer{}); err != nil ||
		!strings.Contains(fromSCP.String(), `"user_id":"kim@example.com"`) {
		t.Fatalf("the Ncloud user through SCP: %v %s", err, fromSCP.String())
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users/"+coreID, nil)
	req.Header.Set("Authorization", "Bearer "+generated["IAMD_ADMIN_API_TOKEN"])
	scimResp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var scimUser struct {
		UserName string
		Name     struct{ GivenName, FamilyName string }
	}
	json.NewDecoder(scimResp.Body).Decode(&scimUser)
	scimResp.Body.Close()
	if scimResp.StatusCode != 200 || scimUser.UserName != "kim@example.com" || scimUser.Name.GivenName != "민준" {
		t.Fatalf("the Ncloud user through SCIM: %d %+v", scimResp.StatusCode, scimUser)
	}
	// A user created through VikingCloud is the same user through SCP, ECE and SCIM.
	vcBody := `{"userKey":{"username":"viking","authenticator":"local"},"firstName":"Vic","lastName":"King","email":"vic@example.com","enabled":true}`
	vcReq, _ := http.NewRequest("PUT", "http://"+addr+"/vikingcloud/user-service/v1/user", strings.NewReader(vcBody))
	vcReq.Header.Set("Content-Type", "application/json")
	vcReq.Header.Set("x-auth-token", generated["IAMD_ADMIN_API_TOKEN"])
	vcResp, err := http.DefaultClient.Do(vcReq)
	if err != nil {
		t.Fatal(err)
	}
	var viking struct{ ID string }
	json.NewDecoder(vcResp.Body).Decode(&viking)
	vcResp.Body.Close()
	if vcResp.StatusCode != 200 || viking.ID == "" {
		t.Fatalf("create through VikingCloud: %d", vcResp.StatusCode)
	}
	fromSCP.Reset()
	if err := run(context.Background(), []string{"sign", "--run", "GET",
		"http://" + addr + "/scp/v1/users/" + viking.ID + "?instance_id=ssoins-12345"}, &fromSCP, &bytes.Buffer{}); err != nil ||
		!strings.Contains(fromSCP.String(), `"user_id":"viking"`) {
		t.Fatalf("the VikingCloud user through SCP: %v %s", err, fromSCP.String())
	}
	for path, want := range map[string]string{"/scim/v2/Users/" + viking.ID: `"userName":"viking"`, "/ece/api/v1/users/viking": `"user_name":"viking"`} {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", map[bool]string{true: "ApiKey ", false: "Bearer "}[strings.HasPrefix(path, "/ece")]+generated["IAMD_ADMIN_API_TOKEN"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("the VikingCloud user through %s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/healthz", "/metrics", "/scp/openapi.json", "/iamd/openapi.json", "/ncloud/api/v1/openapi.json",
		"/vikingcloud/v3/api-docs"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}
	stop()

	// Admin commands on the same data directory.
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"instance", "create", "--name", "Team A", "team-a"}, &buf, &buf); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"group", "create", "--instance", "team-a", "--id", "39520424-440c-41c0-9b9c-f22b2129f6f9", "Operators"}, &buf, &buf); err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"instance", "list"}, &buf, &buf); err != nil || !strings.Contains(buf.String(), "team-a") || !strings.Contains(buf.String(), "ssoins-12345") {
		t.Fatalf("instance list: %v\n%s", err, buf.String())
	}
	buf.Reset()
	if err := run(context.Background(), []string{"group", "list", "--instance", "team-a"}, &buf, &buf); err != nil || !strings.Contains(buf.String(), "Operators") {
		t.Fatalf("group list: %v\n%s", err, buf.String())
	}
	if err := run(context.Background(), []string{"group", "create", "--instance", "team-a", "--id", "nope", "X"}, &buf, &buf); err == nil || !strings.Contains(err.Error(), "id") {
		t.Fatalf("bad group id: %v", err)
	}

	// Account commands: the new password comes from standard input.
	stdin = strings.NewReader("a new operator passphrase\n")
	t.Cleanup(func() { stdin = os.Stdin })
	buf.Reset()
	if err := run(context.Background(), []string{"user", "set-password", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err != nil {
		t.Fatalf("set-password: %v\n%s", err, buf.String())
	}
	stdin = strings.NewReader("password\n")
	if err := run(context.Background(), []string{"user", "set-password", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err == nil ||
		!strings.Contains(err.Error(), "rule: common password") {
		t.Fatalf("a common password: %v", err)
	}
	if err := run(context.Background(), []string{"user", "set-password", "--instance", "ssoins-12345", "--hash",
		"$2b$10$FGX3q2hp6SzcpVyUUTx/A.wUPOh6WsGR4kfhe7Hg3X0rLorAjN1lO", "admin"}, &buf, &buf); err != nil {
		t.Fatalf("import a bcrypt hash: %v", err)
	}
	if err := run(context.Background(), []string{"user", "unlock", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	// Break glass: the day the administrator is disabled and locked anyway (here, by hand
	// in the database), the operator enables it again.
	db, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := db.GetUserByLogin(context.Background(), "ssoins-12345", "admin")
	if err != nil {
		t.Fatal(err)
	}
	broken := *stuck
	until := iamd.LockedIndefinitely
	broken.Status, broken.LockedUntil, broken.Roles, broken.Privileges, broken.Version = iamd.UserSuspended, &until, nil, nil, stuck.Version+1
	if err := db.UpdateUser(context.Background(), iamd.UserWrite{User: &broken, ExpectedVersion: stuck.Version, Event: iamd.Event{InstanceID: "ssoins-12345"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	buf.Reset()
	if err := run(context.Background(), []string{"user", "enable", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err != nil ||
		!strings.Contains(buf.String(), "enabled admin") {
		t.Fatalf("user enable: %v\n%s", err, buf.String())
	}
	if db, err = sqlite.Open(context.Background(), filepath.Join(dataDir, "iamd.db")); err != nil {
		t.Fatal(err)
	}
	if back, err := db.GetUserByLogin(context.Background(), "ssoins-12345", "admin"); err != nil || back.Status != iamd.UserActive || back.LockedUntil != nil {
		t.Fatalf("after user enable: %+v, %v", back, err)
	}
	db.Close()
	buf.Reset()
	if err := run(context.Background(), []string{"key", "create", "--instance", "ssoins-12345", "--description", "laptop", "--expires-in", "24h", "admin"}, &buf, &buf); err != nil {
		t.Fatalf("key create: %v", err)
	}
	issued := regexp.MustCompile(`access key: (\S+)\nsecret key: (\S+)`).FindStringSubmatch(buf.String())
	if issued == nil || len(issued[2]) != 40 {
		t.Fatalf("key create printed:\n%s", buf.String())
	}
	buf.Reset()
	if err := run(context.Background(), []string{"key", "list", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err != nil ||
		!strings.Contains(buf.String(), issued[1]) || !strings.Contains(buf.String(), "laptop") || strings.Contains(buf.String(), issued[2]) {
		t.Fatalf("key list: %v\n%s", err, buf.String())
	}
	if err := run(context.Background(), []string{"key", "revoke", "--instance", "ssoins-12345", issued[1]}, &buf, &buf); err != nil {
		t.Fatalf("key revoke: %v", err)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"key", "list", "--instance", "ssoins-12345", "admin"}, &buf, &buf); err != nil || strings.Contains(buf.String(), issued[1]) {
		t.Fatalf("a revoked key is listed: %v\n%s", err, buf.String())
	}

	// The account policy of an instance.
	if err := run(context.Background(), []string{"instance", "set-policy", "--password-min-length", "12", "--lockout-threshold", "3", "team-a"}, &buf, &buf); err != nil {
		t.Fatalf("set-policy: %v", err)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"instance", "list"}, &buf, &buf); err != nil || !strings.Contains(buf.String(), "min 12, history 5") ||
		!strings.Contains(buf.String(), "3 failures, 15m0s") {
		t.Fatalf("instance list after set-policy: %v\n%s", err, buf.String())
	}
	if err := run(context.Background(), []string{"instance", "set-policy", "--lockout-threshold", "0", "team-a"}, &buf, &buf); err == nil ||
		!strings.Contains(err.Error(), "lockout_threshold") {
		t.Fatalf("a zero threshold: %v", err)
	}

	// Roles: the built-ins are there; a custom one is created and granted.
	buf.Reset()
	if err := run(context.Background(), []string{"role", "create", "--instance", "ssoins-12345", "--privileges", "USER_READ,AUDIT_READ", "auditor"}, &buf, &buf); err != nil {
		t.Fatalf("role create: %v", err)
	}
	if err := run(context.Background(), []string{"role", "grant", "--instance", "ssoins-12345", "admin", "auditor", "ece_platform_viewer"}, &buf, &buf); err != nil {
		t.Fatalf("role grant: %v", err)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"role", "list", "--instance", "ssoins-12345"}, &buf, &buf); err != nil ||
		!strings.Contains(buf.String(), "auditor") || !strings.Contains(buf.String(), "ece_deployment_manager") {
		t.Fatalf("role list: %v\n%s", err, buf.String())
	}
	if err := run(context.Background(), []string{"role", "create", "--instance", "ssoins-12345", "--privileges", "FLY", "pilot"}, &buf, &buf); err == nil ||
		!strings.Contains(err.Error(), "privileges") {
		t.Fatalf("an unknown privilege: %v", err)
	}

	// The audit trail as NDJSON: what the commands above did, by the CLI, newest first.
	buf.Reset()
	if err := run(context.Background(), []string{"events", "export", "--instance", "ssoins-12345", "--since", "1h"}, &buf, &bytes.Buffer{}); err != nil {
		t.Fatalf("events export: %v", err)
	}
	var types []string
	for line := range strings.Lines(buf.String()) {
		var ev struct {
			Type, Face string
			Actor      struct{ Name string }
			Changes    []string
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if ev.Actor.Name == "iamd-cli" && ev.Face != "cli" {
			t.Errorf("the CLI's %s names face %q", ev.Type, ev.Face)
		}
		types = append(types, ev.Type)
	}
	// Newest first: the role grant (a change of the user's roles) is the last command.
	if len(types) < 5 || types[0] != iamd.ActionUserUpdate || !slices.Contains(types, iamd.ActionPasswordSet) {
		t.Fatalf("exported %v", types)
	}
	if strings.Contains(buf.String(), generated["IAMD_ADMIN_PASSWORD"]) {
		t.Fatal("the export carries a password")
	}
	buf.Reset()
	if err := run(context.Background(), []string{"events", "export", "--instance", "ssoins-12345", "--since", "2999-01-01T00:00:00Z"}, &buf, &bytes.Buffer{}); err != nil || buf.Len() != 0 {
		t.Fatalf("an export from the future: %v %q", err, buf.String())
	}
	if err := run(context.Background(), []string{"events", "export", "--since", "last week"}, &buf, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Fatalf("a bad --since: %v", err)
	}

	// A second start generates nothing and keeps the data.
	_, stderr, stop = serveFor(t)
	stop()
	if strings.Contains(stderr.String(), "IAMD_ADMIN_") {
		t.Fatalf("second start printed credentials again:\n%s", stderr.String())
	}
}

func TestEnvironmentTwinsAndBadFlags(t *testing.T) {
	t.Setenv("IAMD_LOG_FORMAT", "xml")
	err := run(context.Background(), []string{"serve", "--data-dir", t.TempDir()}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "log-format") {
		t.Fatalf("IAMD_LOG_FORMAT=xml: %v", err)
	}
	t.Setenv("IAMD_LOG_FORMAT", "")
	err = run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--event-retention", "5m"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "--event-retention") {
		t.Fatalf("a retention of five minutes: %v", err)
	}
	err = run(context.Background(), []string{"serve", "--data-dir", t.TempDir(), "--database-url", "mysql://x"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "postgres://") {
		t.Fatalf("mysql URL: %v", err)
	}
}

// --api-version-policy and its twin IAMD_API_VERSION_POLICY reach the SCP face: by default
// a version whose Not Before date has arrived (1.0's, 2026-02-23) is refused, under warn
// it is served with Deprecation and Sunset headers.
func TestAPIVersionPolicy(t *testing.T) {
	t.Setenv("IAMD_DATA_DIR", filepath.Join(t.TempDir(), "data"))
	t.Setenv("IAMD_DEFAULT_INSTANCE", "ssoins-12345")
	t.Setenv("IAMD_ADMIN_PASSWORD", "admin password for the version test")
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", "version-test-access-key")
	t.Setenv("IAMD_ADMIN_SECRET_KEY", "version-test-secret-key-0123456789")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "")
	t.Setenv("IAMD_MASTER_KEY", "")
	call := func(addr, version string) string {
		var status bytes.Buffer
		if err := run(context.Background(), []string{"sign", "--run", "--api-version", version, "GET",
			"http://" + addr + "/scp/v1/users?instance_id=ssoins-12345"}, &bytes.Buffer{}, &status); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(status.String())
	}
	addr, _, stop := serveFor(t, "--argon2-memory", "64", "--argon2-time", "1")
	if got := call(addr, "iam-identity-center 1.0"); got != "HTTP/1.1 400 Bad Request" {
		t.Errorf("1.0 by default: %s", got)
	}
	if got := call(addr, "iam-identity-center 1.4"); got != "HTTP/1.1 200 OK" {
		t.Errorf("1.4 by default: %s", got)
	}
	stop()

	t.Setenv("IAMD_API_VERSION_POLICY", "warn")
	addr, _, stop = serveFor(t, "--argon2-memory", "64", "--argon2-time", "1")
	defer stop()
	if got := call(addr, "iam-identity-center 1.0"); got != "HTTP/1.1 200 OK" {
		t.Errorf("1.0 under IAMD_API_VERSION_POLICY=warn: %s", got)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/scp/v1/users", nil)
	req.Header.Set("Scp-Api-Version", "iam-identity-center 1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Deprecation") != "@1771804800" || resp.Header.Get("Sunset") != "Mon, 23 Feb 2026 00:00:00 GMT" {
		t.Errorf("1.0 under warn: Deprecation %q Sunset %q", resp.Header.Get("Deprecation"), resp.Header.Get("Sunset"))
	}

	t.Setenv("IAMD_API_VERSION_POLICY", "refuse")
	err = run(context.Background(), []string{"serve"}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "api-version-policy") {
		t.Fatalf("IAMD_API_VERSION_POLICY=refuse: %v", err)
	}
}

func TestHeapLimit(t *testing.T) {
	hasher, err := account.NewHasher(account.Params{Memory: 19456, Time: 2, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	hashes := int64(runtime.GOMAXPROCS(0)) * 19456 << 10
	for _, c := range []struct {
		flag, env string
		want      int64
	}{
		{"auto", "", 48<<20 + 2*hashes},
		{"auto", "200MiB", 0}, // GOMEMLIMIT stands
		{"none", "", math.MaxInt64},
		{"300", "", 300 << 20},
		{"300", "200MiB", 300 << 20}, // an explicit flag wins
	} {
		if got, err := heapLimit(c.flag, c.env, hasher); err != nil || got != c.want {
			t.Errorf("heapLimit(%q, %q) = %d, %v; want %d", c.flag, c.env, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "0", "-5", "lots", "100MiB"} {
		if _, err := heapLimit(bad, "", hasher); err == nil || !strings.Contains(err.Error(), "--memory-limit") {
			t.Errorf("heapLimit(%q): %v, want an error naming --memory-limit", bad, err)
		}
	}
}

// A user created through the ECE face, at the root of its own listener as Elastic's
// clients need, is the same user through the SCP face.
func TestECEAndSCPShareUsers(t *testing.T) {
	t.Setenv("IAMD_DATA_DIR", t.TempDir())
	t.Setenv("IAMD_DEFAULT_INSTANCE", "platform")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "iamd_cross_face_token_0123456789")
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", "CROSSFACEACCESSKEY01")
	t.Setenv("IAMD_ADMIN_SECRET_KEY", "cross-face-secret-key-0123456789")
	eceAddr := freeAddr(t)
	addr, _, stop := serveFor(t, "--face-addr", "ece="+eceAddr, "--argon2-memory", "64", "--argon2-time", "1")
	defer stop()
	req, _ := http.NewRequest("POST", "http://"+eceAddr+"/api/v1/users",
		strings.NewReader(`{"user_name":"erin","full_name":"Erin Example","email":"erin@example.com","security":{"roles":["ece_platform_viewer"]}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "ApiKey iamd_cross_face_token_0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("ECE create: %d %s", resp.StatusCode, body)
	}
	target := loadtest.Target{URL: "http://" + addr, Instance: "platform", AccessKey: "CROSSFACEACCESSKEY01",
		SecretKey: "cross-face-secret-key-0123456789"}
	res, err := loadtest.Call(context.Background(), target, "GET", "/scp/v1/users?instance_id=platform&user_id=erin", nil)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Users []struct {
			ID, Name string
		} `json:"users"`
	}
	if res.Status != 200 || json.Unmarshal(res.Body, &page) != nil || len(page.Users) != 1 {
		t.Fatalf("SCP list: %d %s", res.Status, res.Body)
	}
	u := page.Users[0]
	if u.Name != "Erin Example" || u.ID == "" {
		t.Fatalf("SCP sees %+v", u)
	}
	one, err := loadtest.Call(context.Background(), target, "GET", "/scp/v1/users/"+u.ID+"?instance_id=platform", nil)
	if err != nil || one.Status != 200 || !strings.Contains(string(one.Body), `"erin"`) || !strings.Contains(string(one.Body), "erin@example.com") {
		t.Fatalf("SCP get by the id: %d %s %v", one.Status, one.Body, err)
	}
}

// The SCIM face is served under /scim/v2 and sees the users of the other faces.
func TestSCIMIsMounted(t *testing.T) {
	t.Setenv("IAMD_DATA_DIR", t.TempDir())
	t.Setenv("IAMD_DEFAULT_INSTANCE", "tenant")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "iamd_scim_mount_token_0123456789")
	addr, _, stop := serveFor(t, "--argon2-memory", "64", "--argon2-time", "1")
	defer stop()
	req, _ := http.NewRequest("GET", "http://"+addr+`/scim/v2/Users?filter=userName%20eq%20%22admin%22`, nil)
	req.Header.Set("Authorization", "Bearer iamd_scim_mount_token_0123456789")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"totalResults":1`) || !strings.Contains(string(body), `"userName":"admin"`) {
		t.Fatalf("SCIM look-up of the bootstrap admin: %d %s", resp.StatusCode, body)
	}
}

// -h and --help exit 0 for every command, with the usage on standard error as the flag
// package prints it ("iamd help" and "iamd --help": the whole usage on standard output);
// a bad flag or no command at all still exits 2.
func TestHelpExitsZero(t *testing.T) {
	t.Setenv("IAMD_DATA_DIR", filepath.Join(t.TempDir(), "data")) // -h must not need it, nor create it
	for _, tc := range []struct {
		args []string
		code int
		want string // in standard error
	}{
		{[]string{"bench", "--help"}, 0, "-workloads"},
		{[]string{"bench", "-h"}, 0, "scim-list"},
		{[]string{"serve", "--help"}, 0, "-addr"},
		{[]string{"sign", "-h"}, 0, "usage: iamd sign"},
		{[]string{"instance", "--help"}, 0, "iamd instance set-policy"},
		{[]string{"instance", "create", "--help"}, 0, "-name"},
		{[]string{"group", "-h"}, 0, "iamd group create"},
		{[]string{"user", "--help"}, 0, "iamd user unlock"},
		{[]string{"user", "set-password", "-h"}, 0, "-instance"},
		{[]string{"key", "help"}, 0, "iamd key revoke"},
		{[]string{"role", "list", "-h"}, 0, "-instance"},
		{[]string{"--help"}, 0, ""},
		{[]string{"bench", "--no-such-flag"}, 2, "not defined"},
		{[]string{}, 2, "Usage:"},
	} {
		var stdout, stderr bytes.Buffer
		code := exitCode(run(context.Background(), tc.args, &stdout, &stderr), &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("iamd %s: exit %d, want %d; stderr:\n%s", strings.Join(tc.args, " "), code, tc.code, stderr.String())
		}
	}
	if _, err := os.Stat(os.Getenv("IAMD_DATA_DIR")); !os.IsNotExist(err) {
		t.Errorf("asking for help made the data directory: %v", err)
	}
	var stdout bytes.Buffer
	if code := exitCode(run(context.Background(), []string{"help"}, &stdout, io.Discard), io.Discard); code != 0 ||
		!strings.Contains(stdout.String(), "iamd bench") {
		t.Errorf("iamd help: exit %d, stdout:\n%s", code, stdout.String())
	}
}
