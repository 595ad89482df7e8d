// Command hatest is scripts/ha-test: iamd's failover test on a highly available
// PostgreSQL cluster, on loopback, in a temporary directory that it removes.
//
// It starts etcd and three PostgreSQL nodes under Patroni with synchronous
// replication, and two iamd replicas on the cluster's multi-host URL. Writers create
// users through both replicas and record every create acknowledged with 201. Midway
// it kills the primary's postmaster (kill -9), waits for Patroni to promote the
// synchronous standby, and keeps writing. Then it looks up every acknowledged user,
// and checks that sessions, a lockout count and a sign-out held across the failover
// and across replicas. Its last line is
//
//	ha: acknowledged=N found=N lost=L errors_during_failover=E failover_s=S
//
// where E counts the creates refused after the kill (each must be a 503 with
// Retry-After) and S is the time from the kill until both replicas acknowledge
// creates again. It exits non-zero when anything was lost or any check failed.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"iamd/internal/pgbin"
)

func main() { os.Exit(run()) }

type settings struct {
	writers        int           // per replica
	before, after  int           // acknowledged creates before the kill, and after writes resume
	resumeLimit    time.Duration // writes must resume within this after the kill
	requestTimeout time.Duration // the replicas' --request-timeout
	keep           bool
	asynchronous   bool
}

func run() int {
	var s settings
	flag.IntVar(&s.writers, "writers", 4, "concurrent writers per iamd replica")
	flag.IntVar(&s.before, "before", 600, "acknowledged creates before the primary is killed")
	flag.IntVar(&s.after, "after", 600, "acknowledged creates after writes resume")
	flag.DurationVar(&s.resumeLimit, "resume-limit", 30*time.Second, "fail when writes take longer than this to resume after the kill")
	flag.DurationVar(&s.requestTimeout, "request-timeout", 10*time.Second, "the iamd replicas' --request-timeout")
	flag.BoolVar(&s.keep, "keep", false, "keep the temporary directory (logs, data) for a post-mortem")
	flag.BoolVar(&s.asynchronous, "asynchronous", false, "turn synchronous replication off (synchronous_mode: false, synchronous_commit: off) to show what it prevents: expect lost > 0")
	flag.Parse()

	apiClient.Timeout = s.requestTimeout + 5*time.Second
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	h := &harness{settings: s, begun: time.Now()}
	err := h.run(ctx)
	h.cleanup(err != nil || len(h.problems) > 0)
	for _, p := range h.problems {
		fmt.Fprintln(os.Stderr, "ha: FAIL:", p)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ha: error:", err)
		if !h.loadStarted {
			return 2
		}
	}
	// Once writes began, the summary says what was measured even when a step failed.
	fmt.Printf("ha: acknowledged=%d found=%d lost=%d errors_during_failover=%d failover_s=%.1f\n",
		h.acknowledged, h.found, h.lost, h.errorsDuringFailover, h.failover.Seconds())
	if err != nil || h.lost > 0 || len(h.problems) > 0 {
		return 1
	}
	return 0
}

type harness struct {
	settings
	begun    time.Time
	dir      string
	cluster  *cluster
	replicas []*replica

	loadStarted                                     bool
	acknowledged, found, lost, errorsDuringFailover int
	failover                                        time.Duration
	problems                                        []string
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ha: %6.1fs %s\n", time.Since(h.begun).Seconds(), fmt.Sprintf(format, args...))
}

func (h *harness) problem(format string, args ...any) {
	h.problems = append(h.problems, fmt.Sprintf(format, args...))
}

func (h *harness) run(ctx context.Context) (err error) {
	bin, err := pgbin.Dir("15") // the version the cluster is specified for
	if err != nil {
		return err
	}
	if out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output(); err == nil {
		h.logf("%s", strings.TrimSpace(string(out)))
	}
	for _, tool := range []string{"etcd", "patroni"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install patroni etcd-server)", tool)
		}
	}
	// A short path: PostgreSQL's unix sockets live here, and sun_path holds 108 bytes.
	if h.dir, err = os.MkdirTemp("/tmp", "iamd-ha-"); err != nil {
		return err
	}
	h.cluster = &cluster{dir: h.dir, bin: bin, asynchronous: h.asynchronous}
	if os.Geteuid() == 0 {
		if h.cluster.cred, err = pgbin.Credential(); err != nil {
			return err
		}
		if err := os.Chown(h.dir, int(h.cluster.cred.Uid), int(h.cluster.cred.Gid)); err != nil {
			return err
		}
	}
	iamdBin := filepath.Join(h.dir, "iamd")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", iamdBin, "./cmd/iamd").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	h.logf("built iamd; starting etcd and three PostgreSQL nodes under Patroni in %s", h.dir)
	if err := h.cluster.start(ctx, h.logf); err != nil {
		return err
	}
	if err := h.startReplicas(ctx, iamdBin); err != nil {
		return err
	}

	acct := &accounts{replicas: h.replicas}
	if err := acct.prepare(); err != nil {
		return fmt.Errorf("sessions and lockout before the failover: %w", err)
	}
	l := &load{replicas: h.replicas, timeout: h.requestTimeout}
	l.start(h.writers, acct.userIDs)
	h.loadStarted = true
	killed, settled := time.Time{}, false
	defer func() {
		l.halt()
		if err != nil && !settled {
			// A step failed: still say what was acknowledged and whether it is there.
			h.settle(ctx, l, killed)
		}
	}()
	if err := poll(ctx, 2*time.Minute, func() error {
		if n := l.acked(); n < h.before {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes before the kill: %w", err)
	}

	old, err := h.cluster.leader()
	if err != nil {
		return err
	}
	if lag, err := h.cluster.replayLag(ctx, old); err == nil {
		h.logf("replay lag under load: %s", lag)
	}
	pid, err := old.postmasterPID()
	if err != nil {
		return err
	}
	h.logf("%d creates acknowledged; kill -9 of %s's postmaster (pid %d)", l.acked(), old.name, pid)
	readiness := watchReadiness(h.replicas)
	defer readiness.stop()
	killed = time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}

	var promoted *node
	if err := poll(ctx, time.Minute, func() error {
		n, err := h.cluster.leader()
		if err != nil {
			return err
		}
		if n == old {
			return fmt.Errorf("%s still leads", n.name)
		}
		promoted = n
		return nil
	}); err != nil {
		return fmt.Errorf("promotion: %w", err)
	}
	h.logf("Patroni promoted %s, %.1fs after the kill", promoted.name, time.Since(killed).Seconds())

	if err := poll(ctx, 2*h.resumeLimit, func() error {
		_, first := l.ackedSince(killed)
		for i, at := range first {
			if at.IsZero() {
				return fmt.Errorf("no create acknowledged through %s yet", h.replicas[i].name)
			}
			h.failover = max(h.failover, at.Sub(killed))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes did not resume: %w", err)
	}
	h.logf("writes resumed through both replicas %.1fs after the kill", h.failover.Seconds())
	if h.failover > h.resumeLimit {
		h.problem("writes resumed %.1fs after the kill; the limit is %s", h.failover.Seconds(), h.resumeLimit)
	}
	resumed := killed.Add(h.failover)
	if err := poll(ctx, 2*time.Minute, func() error {
		if n, _ := l.ackedSince(resumed); n < h.after {
			return fmt.Errorf("%d acknowledged since writes resumed", n)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes after the failover: %w", err)
	}
	l.halt()
	for i, refused := range readiness.stop() {
		h.logf("%s: /readyz answered 503 for %.1fs of the failover", h.replicas[i].name, refused.Seconds())
		if refused == 0 {
			h.problem("%s's /readyz never said not ready while no primary could be reached", h.replicas[i].name)
		}
	}
	for _, rp := range h.replicas {
		var ready struct{ Status string }
		if err := getJSON(rp.base+"/readyz", &ready); err != nil {
			h.problem("%s is not ready after the failover: %v", rp.name, err)
		}
	}
	h.settle(ctx, l, killed)
	settled = true
	h.problems = append(h.problems, acct.check()...)
	h.logf("checked %d users, the sessions, the lockout count and a sign-out across replicas", h.acknowledged)
	// Not a check, a figure for docs/deploy.md: the old primary comes back as a replica
	// of the new one (Patroni runs pg_rewind).
	if err := poll(ctx, 30*time.Second, func() error {
		members, err := h.cluster.members()
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.Name == old.name && m.Role != "leader" && (m.State == "running" || m.State == "streaming") {
				return nil
			}
		}
		return fmt.Errorf("members: %s", describe(members))
	}); err == nil {
		h.logf("%s rejoined as a replica %.1fs after the kill", old.name, time.Since(killed).Seconds())
	} else {
		h.logf("%s had not rejoined: %v", old.name, err)
	}
	return nil
}

// settle checks every request the load made, then looks every acknowledged user up.
func (h *harness) settle(ctx context.Context, l *load, killed time.Time) {
	h.acknowledged = len(l.acks)
	reported := 0
	for _, f := range l.failures {
		r := f.reply
		if !killed.IsZero() && r.end.After(killed) {
			h.errorsDuringFailover++
		} else if reported++; reported <= 10 {
			h.problem("%s %s failed before the kill: %s", f.what, h.replicas[f.replica].name, r)
		}
		switch {
		case r.err != nil:
			h.problem("%s %s failed without an answer: %v", f.what, h.replicas[f.replica].name, r.err)
		case r.status != http.StatusServiceUnavailable || r.retryAfter == "":
			h.problem("%s %s was refused with %s (Retry-After %q); want 503 with Retry-After",
				f.what, h.replicas[f.replica].name, r, r.retryAfter)
		case f.badShape != "":
			h.problem("%s %s: %s", f.what, h.replicas[f.replica].name, f.badShape)
		}
	}
	for _, slow := range l.slow {
		h.problem("%s, past the request timeout of %s", slow, h.requestTimeout)
	}
	if h.acknowledged < minAcknowledged {
		h.problem("only %d creates acknowledged; the test needs %d", h.acknowledged, minAcknowledged)
	}
	h.logf("%d creates acknowledged, %d requests refused after the kill; looking every acknowledged user up", h.acknowledged, h.errorsDuringFailover)
	found, lost, lookups := l.verify(ctx)
	h.found, h.lost = found, len(lost)
	for i, login := range lost {
		if i == 10 {
			h.problem("… and %d more lost", len(lost)-10)
			break
		}
		h.problem("acknowledged user %s is gone", login)
	}
	h.problems = append(h.problems, lookups...)
}

// minAcknowledged is the fewest acknowledged creates a run may count as a pass.
const minAcknowledged = 1000

// readinessWatch polls each replica's /readyz and adds up how long it answered 503.
type readinessWatch struct {
	done     chan struct{}
	finished chan []time.Duration
	once     sync.Once
	result   []time.Duration
}

func watchReadiness(replicas []*replica) *readinessWatch {
	w := &readinessWatch{done: make(chan struct{}), finished: make(chan []time.Duration)}
	go func() {
		notReady := make([]time.Duration, len(replicas))
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		last := time.Now()
		for {
			select {
			case <-w.done:
				w.finished <- notReady
				return
			case now := <-tick.C:
				for i, rp := range replicas {
					if resp, err := quickClient.Get(rp.base + "/readyz"); err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusServiceUnavailable {
							notReady[i] += now.Sub(last)
						}
					}
				}
				last = now
			}
		}
	}()
	return w
}

func (w *readinessWatch) stop() []time.Duration {
	w.once.Do(func() {
		close(w.done)
		w.result = <-w.finished
	})
	return w.result
}

func (h *harness) startReplicas(ctx context.Context, iamdBin string) error {
	key := make([]byte, 32)
	rand.Read(key)
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	url := "postgres://postgres@" + h.cluster.hostList() + "/iamd?sslmode=disable&target_session_attrs=read-write&connect_timeout=3"
	env := cleanEnv("IAMD_MASTER_KEY="+hex.EncodeToString(key), "IAMD_ADMIN_API_TOKEN="+adminToken,
		"IAMD_ADMIN_PASSWORD="+adminPassword, "IAMD_DEFAULT_INSTANCE="+instance)
	// Both at once, as an orchestrator starts them: bootstrap must not race.
	for i, port := range ports {
		name := fmt.Sprintf("iamd%d", i+1)
		proc, err := startProcess(name, h.dir, filepath.Join(h.dir, name+".log"), nil, env, iamdBin, "serve",
			"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", filepath.Join(h.dir, name),
			"--database-url", url, "--request-timeout", h.requestTimeout.String())
		if err != nil {
			return err
		}
		h.replicas = append(h.replicas, &replica{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), proc: proc})
	}
	for _, rp := range h.replicas {
		if err := poll(ctx, time.Minute, func() error {
			if rp.proc.exited() {
				return stopError{fmt.Errorf("%s exited:\n%s", rp.name, rp.proc.tail(20))}
			}
			var ready struct{ Status string }
			return getJSON(rp.base+"/readyz", &ready)
		}); err != nil {
			return fmt.Errorf("%s: %w", rp.name, err)
		}
	}
	h.logf("two iamd replicas ready on postgres://…@%s/iamd?target_session_attrs=read-write", h.cluster.hostList())
	return nil
}

// cleanup stops everything and removes the directory; after a failure it first shows
// the end of each log.
func (h *harness) cleanup(failed bool) {
	var procs []*process
	for _, rp := range h.replicas {
		procs = append(procs, rp.proc)
	}
	if h.cluster != nil {
		for _, n := range h.cluster.nodes {
			procs = append(procs, n.patroni)
		}
		procs = append(procs, h.cluster.etcd)
	}
	if failed {
		for _, p := range procs {
			if p != nil {
				fmt.Fprintf(os.Stderr, "---- %s (%s)\n%s\n", p.name, p.log, p.tail(25))
			}
		}
	}
	for _, rp := range h.replicas {
		rp.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
	if h.cluster != nil {
		h.cluster.stop()
	}
	if h.dir == "" {
		return
	}
	if h.keep {
		fmt.Fprintln(os.Stderr, "ha: kept", h.dir)
		return
	}
	os.RemoveAll(h.dir)
}
