package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/loadtest"
)

const benchInstance = "bench"

// benchCommand starts iamd (or targets --url), loads it with signed requests from
// concurrent clients, and reports each workload beside the same run's baseline.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		st        storeFlags
		url       = fs.String("url", "", "load a running iamd instead of starting one (needs IAMD_ADMIN_ACCESS_KEY/IAMD_ADMIN_SECRET_KEY of its admin)")
		clients   = fs.Int("clients", 2*runtime.GOMAXPROCS(0), "concurrent clients")
		duration  = fs.Duration("duration", 5*time.Second, "how long each workload runs")
		preload   = fs.Int("preload", 10_000, "users to bulk-import before the workloads (started server only)")
		workloads = fs.String("workloads", "", "comma-separated workloads (default: all of "+strings.Join(loadtest.Names, ",")+")")
		out       = fs.String("out", "bench-results", "directory for the JSON and markdown reports")
		profile   = fs.Bool("profile", false, "also write the server's CPU profile of each workload to the --out directory (cpu-WORKLOAD.pprof; started server only)")
	)
	st.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	report := &loadtest.Report{Command: "iamd bench " + strings.Join(args, " "), Clients: *clients, Seconds: duration.Seconds(), Store: "sqlite"}
	if st.usesPostgres() {
		report.Store = "postgres"
	}
	target := loadtest.Target{Instance: benchInstance, AccessKey: os.Getenv("IAMD_ADMIN_ACCESS_KEY"),
		SecretKey: os.Getenv("IAMD_ADMIN_SECRET_KEY"), APIToken: os.Getenv("IAMD_ADMIN_API_TOKEN"),
		SignInUser: "lt-sign-in", SignInPass: randomPassphrase()}
	var proc *loadtest.Process
	var known []loadtest.KnownUser
	var debugURL string
	if *url != "" {
		if target.AccessKey == "" || target.SecretKey == "" || target.APIToken == "" {
			return errors.New("--url needs IAMD_ADMIN_ACCESS_KEY, IAMD_ADMIN_SECRET_KEY and IAMD_ADMIN_API_TOKEN of the server's admin")
		}
		target.URL = strings.TrimSuffix(*url, "/")
		report.Store = "remote"
	} else {
		target.AccessKey, target.SecretKey = "BENCH"+strings.ToUpper(randomPassphrase()[:15]), randomPassphrase()
		target.APIToken = "iamd_bench_" + rand.Text()
		// A fresh directory holds the SQLite file, or with PostgreSQL (which must be an empty
		// database) just the master key.
		dir, err := os.MkdirTemp("", "iamd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		st.dataDir = dir
		if known, report.PreloadRate, err = benchPrepare(ctx, st, target, *preload, stderr); err != nil {
			return err
		}
		report.Preloaded = *preload
		server, stop, err := startServer(ctx, st, target, *profile)
		if err != nil {
			return err
		}
		defer stop()
		target.URL, proc = server.url, &loadtest.Process{PID: server.pid}
		debugURL = server.debugURL
		time.Sleep(time.Second)
		if s, err := proc.Sample(); err == nil {
			report.IdleRSSB = s.PeakRSSBytes
		}
	}
	if err := benchSignInUser(ctx, target); err != nil {
		return err
	}
	if len(known) == 0 {
		var err error
		if known, err = benchSeedOverHTTP(ctx, target, 200); err != nil {
			return err
		}
	}
	var names []string
	if *workloads != "" {
		names = strings.Split(*workloads, ",")
	}
	cfg := loadtest.Config{Target: target, Clients: *clients, Duration: *duration,
		Workloads: names, Process: proc, Known: known, Log: logf}
	if *profile && debugURL != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return err
		}
	}
	// Raw argon2id is measured right before and right after the sign-ins, with the server
	// idle, and averaged: on a noisy machine a rate taken minutes apart from the sign-ins
	// moved their ratio by ten points.
	hashTime := min(*duration, 3*time.Second)
	var hashRates []float64
	measureHashes := func() {
		logf("measuring raw argon2id at the default parameters …")
		hashRates = append(hashRates, hashRate(hashTime))
	}
	cfg.Around = func(workload string) func() {
		if workload == "sign-in" {
			measureHashes()
		}
		stopProfile := func() {}
		if *profile && debugURL != "" {
			stopProfile = profileCPU(ctx, debugURL, filepath.Join(*out, "cpu-"+workload+".pprof"), *duration, logf)
		}
		return func() {
			stopProfile()
			if workload == "sign-in" {
				measureHashes()
			}
		}
	}
	results, err := loadtest.Run(ctx, cfg)
	report.Results = results
	if err != nil {
		return err
	}
	if len(hashRates) == 0 { // no sign-ins: the rate is reported all the same
		measureHashes()
	}
	for _, r := range hashRates {
		report.HashRate += r / float64(len(hashRates))
	}
	if err := report.WriteTable(stdout); err != nil {
		return err
	}
	return writeReports(*out, report)
}

func writeReports(dir string, report *loadtest.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer) error{"bench.json": report.WriteJSON, "bench.md": report.WriteMarkdown,
		"bench.svg": report.WriteSVG} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		err = write(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func randomPassphrase() string {
	return strings.ToLower(rand.Text()[:20])
}

// benchPrepare bootstraps the bench instance and bulk-imports the preload through the
// core, before the server starts; it returns the users the reads will ask for.
func benchPrepare(ctx context.Context, st storeFlags, target loadtest.Target, n int, stderr io.Writer) ([]loadtest.KnownUser, float64, error) {
	store, err := st.open(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer store.Close()
	key, err := account.LoadMasterKey(st.dataDir, os.Getenv("IAMD_MASTER_KEY"))
	if err != nil {
		return nil, 0, err
	}
	if _, err := account.New(store, key).Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: benchInstance,
		AdminAccessKey: target.AccessKey, AdminSecretKey: target.SecretKey, AdminAPIToken: target.APIToken,
		AdminPassword: randomPassphrase()}); err != nil {
		return nil, 0, err
	}
	users := make([]iamd.User, n)
	for i := range users {
		users[i] = iamd.User{LoginName: fmt.Sprintf("preload%07d", i), DisplayName: fmt.Sprintf("Preloaded User %d", i),
			Email: fmt.Sprintf("preload%07d@example.com", i)}
	}
	progress := progressPrinter(stderr, n)
	start := time.Now()
	stored, err := directory.New(store).ImportUsers(adminContext(ctx), benchInstance, users, progress)
	if err != nil {
		return nil, 0, err
	}
	rate := float64(n) / time.Since(start).Seconds()
	fmt.Fprintf(stderr, "preloaded %d users in %s (%.0f users/s)\n", n, time.Since(start).Round(time.Millisecond), rate)
	// What the engine's background upkeep does after a bulk load (PostgreSQL's autovacuum:
	// without the visibility map it sets, a page at offset 100,000 of 1,000,000 users took
	// 1.4 s instead of milliseconds), done now so that the workloads see the steady state.
	if m, ok := store.(interface{ Maintain(context.Context) error }); ok {
		start := time.Now()
		if err := m.Maintain(ctx); err != nil {
			return nil, 0, err
		}
		if st.usesPostgres() {
			fmt.Fprintf(stderr, "VACUUM (ANALYZE) after the preload in %s\n", time.Since(start).Round(time.Millisecond))
		}
	}
	known := make([]loadtest.KnownUser, 0, min(n, 100_000))
	for i := 0; i < n && len(known) < cap(known); i += max(1, n/cap(known)) {
		known = append(known, loadtest.KnownUser{ID: stored[i].ID, LoginName: stored[i].LoginName})
	}
	return known, rate, nil
}

// progressPrinter draws a bar on a terminal and plain lines otherwise.
func progressPrinter(w io.Writer, total int) func(int) {
	tty := false
	if f, ok := w.(*os.File); ok {
		info, err := f.Stat()
		tty = err == nil && info.Mode()&os.ModeCharDevice != 0
	}
	return func(done int) {
		if tty {
			const width = 40
			filled := width * done / max(total, 1)
			fmt.Fprintf(w, "\rpreload [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
			if done == total {
				fmt.Fprintln(w)
			}
			return
		}
		fmt.Fprintf(w, "preload: %d/%d users\n", done, total)
	}
}

// profileCPU asks the server's debug listener for a CPU profile as long as the
// workload runs and writes it to path; the returned function waits for it.
func profileCPU(ctx context.Context, debugURL, path string, d time.Duration, logf func(string, ...any)) func() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		seconds := max(1, int(d.Round(time.Second)/time.Second))
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", debugURL, seconds), nil)
		if err != nil {
			logf("profile: %v", err)
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			logf("profile: %v", err)
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(path)
		if err != nil {
			logf("profile: %v", err)
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			logf("profile: %v", err)
		}
		f.Close()
	}()
	return func() { <-done }
}

type childServer struct {
	url      string
	debugURL string // "" unless profiling
	pid      int
}

// freeLoopbackAddr picks a port nobody is listening on.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startServer runs this binary's serve on a free loopback port.
func startServer(ctx context.Context, st storeFlags, target loadtest.Target, profile bool) (*childServer, func(), error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	args := []string{"serve", "--addr", addr, "--data-dir", st.dataDir, "--bench-baseline", "--log-level", "error",
		"--default-instance", benchInstance}
	var debugURL string
	if profile {
		debugAddr, err := freeLoopbackAddr()
		if err != nil {
			return nil, nil, err
		}
		args, debugURL = append(args, "--debug-addr", debugAddr), "http://"+debugAddr
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "IAMD_ADMIN_ACCESS_KEY="+target.AccessKey, "IAMD_ADMIN_SECRET_KEY="+target.SecretKey,
		"IAMD_ADMIN_API_TOKEN="+target.APIToken,
		"IAMD_DATABASE_URL="+st.databaseURL)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		})
	}
	url := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &childServer{url: url, debugURL: debugURL, pid: cmd.Process.Pid}, stop, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return nil, nil, fmt.Errorf("the server did not become ready at %s", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// benchSignInUser creates, over the SCP face, the user the sign-in workload signs in as.
func benchSignInUser(ctx context.Context, target loadtest.Target) error {
	results, err := loadtest.Call(ctx, target, "POST", "/scp/v1/users", map[string]any{"instance_id": target.Instance,
		"user_id": target.SignInUser, "name": "Load Test Sign-in", "password": target.SignInPass, "temporary_password": false})
	if err != nil {
		return err
	}
	if results.Status != http.StatusCreated && results.Status != http.StatusBadRequest { // 400: exists from an earlier run
		return fmt.Errorf("creating the sign-in user: %d %s", results.Status, results.Body)
	}
	return nil
}

// benchSeedOverHTTP creates n users through the SCP face for the reads, when nothing
// was preloaded (a remote target).
func benchSeedOverHTTP(ctx context.Context, target loadtest.Target, n int) ([]loadtest.KnownUser, error) {
	prefix := "seed-" + randomPassphrase()[:8] + "-"
	var known []loadtest.KnownUser
	for i := range n {
		login := fmt.Sprintf("%s%d", prefix, i)
		res, err := loadtest.Call(ctx, target, "POST", "/scp/v1/users", map[string]any{"instance_id": target.Instance,
			"user_id": login, "name": "Seed " + login})
		if err != nil {
			return nil, err
		}
		var created struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if res.Status != http.StatusCreated || json.Unmarshal(res.Body, &created) != nil {
			return nil, fmt.Errorf("seeding users: %d %s", res.Status, res.Body)
		}
		known = append(known, loadtest.KnownUser{ID: created.User.ID, LoginName: login})
	}
	return known, nil
}

// hashRate measures raw argon2id verifications per second at the default parameters,
// one per core at a time, as the server's hasher admits them.
func hashRate(d time.Duration) float64 {
	hash, _ := account.DefaultHasher.Hash("load test passphrase 42")
	var n atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				account.DefaultHasher.Verify(hash, "load test passphrase 42")
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
