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
	"syscall"
	"time"

	"iamd/internal/pgtest"
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

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	t := &test{settings: s, begun: time.Now()}
	err := t.run(ctx)
	t.cleanup(err != nil || len(t.problems) > 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ha: error:", err)
		return 2
	}
	for _, p := range t.problems {
		fmt.Fprintln(os.Stderr, "ha: FAIL:", p)
	}
	fmt.Printf("ha: acknowledged=%d found=%d lost=%d errors_during_failover=%d failover_s=%.1f\n",
		t.acknowledged, t.found, t.lost, t.errorsDuringFailover, t.failover.Seconds())
	if t.lost > 0 || len(t.problems) > 0 {
		return 1
	}
	return 0
}

type test struct {
	settings
	begun    time.Time
	dir      string
	cluster  *cluster
	replicas []*replica

	acknowledged, found, lost, errorsDuringFailover int
	failover                                        time.Duration
	problems                                        []string
}

func (t *test) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ha: %6.1fs %s\n", time.Since(t.begun).Seconds(), fmt.Sprintf(format, args...))
}

func (t *test) problem(format string, args ...any) {
	t.problems = append(t.problems, fmt.Sprintf(format, args...))
}

func (t *test) run(ctx context.Context) error {
	bin, err := pgtest.BinDir()
	if err != nil {
		return err
	}
	for _, tool := range []string{"etcd", "patroni"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (Debian: apt-get install patroni etcd-server)", tool)
		}
	}
	// A short path: PostgreSQL's unix sockets live here, and sun_path holds 108 bytes.
	if t.dir, err = os.MkdirTemp("/tmp", "iamd-ha-"); err != nil {
		return err
	}
	t.cluster = &cluster{dir: t.dir, bin: bin, asynchronous: t.asynchronous}
	if os.Geteuid() == 0 {
		if t.cluster.cred, err = pgtest.PostgresCredential(); err != nil {
			return err
		}
		if err := os.Chown(t.dir, int(t.cluster.cred.Uid), int(t.cluster.cred.Gid)); err != nil {
			return err
		}
	}
	iamdBin := filepath.Join(t.dir, "iamd")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", iamdBin, "./cmd/iamd").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v: %s", err, out)
	}
	t.logf("built iamd; starting etcd and three PostgreSQL nodes under Patroni in %s", t.dir)
	if err := t.cluster.start(ctx, t.logf); err != nil {
		return err
	}
	if err := t.startReplicas(ctx, iamdBin); err != nil {
		return err
	}

	acct := &accounts{replicas: t.replicas}
	if err := acct.prepare(); err != nil {
		return fmt.Errorf("sessions and lockout before the failover: %w", err)
	}
	l := &load{replicas: t.replicas}
	l.start(t.writers)
	defer l.halt()
	if err := poll(ctx, 2*time.Minute, func() error {
		if n := l.acked(); n < t.before {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes before the kill: %w", err)
	}

	old, err := t.cluster.leader()
	if err != nil {
		return err
	}
	pid, err := old.postmasterPID()
	if err != nil {
		return err
	}
	t.logf("%d creates acknowledged; kill -9 of %s's postmaster (pid %d)", l.acked(), old.name, pid)
	readiness := watchReadiness(t.replicas)
	killed := time.Now()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}

	var promoted *node
	if err := poll(ctx, time.Minute, func() error {
		n, err := t.cluster.leader()
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
	t.logf("Patroni promoted %s, %.1fs after the kill", promoted.name, time.Since(killed).Seconds())

	if err := poll(ctx, 2*t.resumeLimit, func() error {
		_, first := l.ackedSince(killed)
		for i, at := range first {
			if at.IsZero() {
				return fmt.Errorf("no create acknowledged through %s yet", t.replicas[i].name)
			}
			t.failover = max(t.failover, at.Sub(killed))
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes did not resume: %w", err)
	}
	t.logf("writes resumed through both replicas %.1fs after the kill", t.failover.Seconds())
	if t.failover > t.resumeLimit {
		t.problem("writes resumed %.1fs after the kill; the limit is %s", t.failover.Seconds(), t.resumeLimit)
	}
	resumed := killed.Add(t.failover)
	if err := poll(ctx, 2*time.Minute, func() error {
		if n, _ := l.ackedSince(resumed); n < t.after {
			return fmt.Errorf("%d acknowledged since writes resumed", n)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("writes after the failover: %w", err)
	}
	l.halt()
	for i, notReady := range readiness.stop() {
		t.logf("%s: /readyz said not ready for %.1fs of the failover", t.replicas[i].name, notReady.Seconds())
	}
	for _, rp := range t.replicas {
		var ready struct{ Status string }
		if err := getJSON(rp.base+"/readyz", &ready); err != nil {
			t.problem("%s is not ready after the failover: %v", rp.name, err)
		}
	}

	t.acknowledged = len(l.acks)
	for _, f := range l.failures {
		r := f.reply
		if r.end.After(killed) {
			t.errorsDuringFailover++
		}
		switch {
		case r.err != nil:
			t.problem("a create through %s failed without an answer: %v", t.replicas[f.replica].name, r.err)
		case r.status != http.StatusServiceUnavailable || r.retryAfter == "":
			t.problem("a create through %s was refused with %s (Retry-After %q); want 503 with Retry-After",
				t.replicas[f.replica].name, r, r.retryAfter)
		case r.end.Sub(r.start) > t.requestTimeout+time.Second:
			t.problem("a create through %s took %s, past the request timeout", t.replicas[f.replica].name, r.end.Sub(r.start).Round(time.Millisecond))
		}
		if !r.end.After(killed) && len(t.problems) < 20 {
			t.problem("a create failed before the kill: %s", r)
		}
	}
	if t.acknowledged < t.before+t.after {
		t.problem("only %d creates acknowledged", t.acknowledged)
	}
	t.logf("%d creates acknowledged, %d refused after the kill; looking every acknowledged one up", t.acknowledged, t.errorsDuringFailover)
	found, lost, lookups := l.verify()
	t.found, t.lost = found, len(lost)
	for i, login := range lost {
		if i == 10 {
			t.problem("… and %d more lost", len(lost)-10)
			break
		}
		t.problem("acknowledged user %s is gone", login)
	}
	t.problems = append(t.problems, lookups...)
	t.problems = append(t.problems, acct.check()...)
	t.logf("checked %d users, sessions, lockout and sign-out", t.acknowledged)
	// Not a check, a figure for docs/deploy.md: the old primary comes back as a replica
	// of the new one (Patroni runs pg_rewind).
	if err := poll(ctx, 30*time.Second, func() error {
		members, err := t.cluster.members()
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
		t.logf("%s rejoined as a replica %.1fs after the kill", old.name, time.Since(killed).Seconds())
	} else {
		t.logf("%s had not rejoined: %v", old.name, err)
	}
	return nil
}

// readinessWatch polls each replica's /readyz and adds up how long it said not ready.
type readinessWatch struct {
	done     chan struct{}
	finished chan []time.Duration
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
					var ready struct{ Status string }
					if getJSON(rp.base+"/readyz", &ready) != nil {
						notReady[i] += now.Sub(last)
					}
				}
				last = now
			}
		}
	}()
	return w
}

func (w *readinessWatch) stop() []time.Duration {
	close(w.done)
	return <-w.finished
}

func (t *test) startReplicas(ctx context.Context, iamdBin string) error {
	key := make([]byte, 32)
	rand.Read(key)
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	url := "postgres://postgres@" + t.cluster.hostList() + "/iamd?sslmode=disable&target_session_attrs=read-write&connect_timeout=3"
	env := cleanEnv("IAMD_MASTER_KEY="+hex.EncodeToString(key), "IAMD_ADMIN_API_TOKEN="+adminToken,
		"IAMD_ADMIN_PASSWORD="+adminPassword, "IAMD_DEFAULT_INSTANCE="+instance)
	// Both at once, as an orchestrator starts them: bootstrap must not race.
	for i, port := range ports {
		name := fmt.Sprintf("iamd%d", i+1)
		proc, err := startProcess(name, filepath.Join(t.dir, name+".log"), nil, env, iamdBin, "serve",
			"--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data-dir", filepath.Join(t.dir, name),
			"--database-url", url, "--request-timeout", t.requestTimeout.String())
		if err != nil {
			return err
		}
		t.replicas = append(t.replicas, &replica{name: name, base: fmt.Sprintf("http://127.0.0.1:%d", port), proc: proc})
	}
	for _, rp := range t.replicas {
		if err := poll(ctx, time.Minute, func() error {
			if rp.proc.exited() {
				return errStop{fmt.Errorf("%s exited:\n%s", rp.name, rp.proc.tail(20))}
			}
			var ready struct{ Status string }
			return getJSON(rp.base+"/readyz", &ready)
		}); err != nil {
			return fmt.Errorf("%s: %w", rp.name, err)
		}
	}
	t.logf("two iamd replicas ready on postgres://…@%s/iamd?target_session_attrs=read-write", t.cluster.hostList())
	return nil
}

// cleanup stops everything and removes the directory; after a failure it first shows
// the end of each log.
func (t *test) cleanup(failed bool) {
	var procs []*process
	for _, rp := range t.replicas {
		procs = append(procs, rp.proc)
	}
	if t.cluster != nil {
		for _, n := range t.cluster.nodes {
			procs = append(procs, n.patroni)
		}
		procs = append(procs, t.cluster.etcd)
	}
	if failed {
		for _, p := range procs {
			if p != nil {
				fmt.Fprintf(os.Stderr, "---- %s (%s)\n%s\n", p.name, p.log, p.tail(25))
			}
		}
	}
	for _, rp := range t.replicas {
		rp.proc.stop(syscall.SIGTERM, 10*time.Second)
	}
	if t.cluster != nil {
		t.cluster.stop()
	}
	if t.dir == "" {
		return
	}
	if t.keep {
		fmt.Fprintln(os.Stderr, "ha: kept", t.dir)
		return
	}
	os.RemoveAll(t.dir)
}
