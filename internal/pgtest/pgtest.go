// Package pgtest starts a real, throwaway PostgreSQL server for tests: initdb and pg_ctl
// into a temporary directory, listening on a Unix socket only, torn down when the test
// binary ends. Each test gets a database of its own.
//
// The server binaries are found through IAMD_PG_BIN, then PATH, then the Debian and
// Homebrew locations. When none is found the tests that need PostgreSQL are skipped —
// except under CI=true, where they fail: a CI run never silently skips them.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"iamd/internal/pgbin"
)

var (
	startOnce sync.Once
	srv       *server
	startErr  error
	dbCounter atomic.Int64
)

// Run runs the tests of m and stops the server if any test started it. Use it as
//
//	func TestMain(m *testing.M) { pgtest.Run(m) }
func Run(m *testing.M) int {
	code := m.Run()
	if srv != nil {
		if err := srv.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	return code
}

// NewDatabase returns the URL of a fresh, empty database, dropped when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	startOnce.Do(func() { srv, startErr = start() })
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("pgtest: PostgreSQL is required under CI=true: %v", startErr)
		}
		tb.Skipf("pgtest: PostgreSQL unavailable (set CI=true to make this fatal): %v", startErr)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCounter.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database: %v", err)
		}
	})
	return srv.url(name)
}

type server struct {
	bin    string // directory of initdb, pg_ctl and postgres
	dir    string // holds data/, the socket and the log
	cred   *syscall.Credential
	stopMu sync.Mutex
}

func (s *server) url(db string) string {
	q := url.Values{"host": {s.dir}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + db, RawQuery: q.Encode()}).String()
}

func (s *server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.url("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

func start() (*server, error) {
	bin, err := pgbin.Dir()
	if err != nil {
		return nil, err
	}
	// A short path under /tmp: the socket path must fit in sun_path (108 bytes).
	dir, err := os.MkdirTemp("/tmp", "iamd-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{bin: bin, dir: dir}
	// initdb refuses to run as root; run the server as the postgres account then.
	if os.Geteuid() == 0 {
		cred, err := pgbin.Credential()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.cred = cred
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := strings.Join([]string{
		"-k", dir, "-c", "listen_addresses=''", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "max_connections=400", "-c", "shared_buffers=64MB",
	}, " ")
	if out, err := s.run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(dir, "log"), "-o", opts); err != nil {
		logText, _ := os.ReadFile(filepath.Join(dir, "log"))
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, out, logText)
	}
	return s, nil
}

func (s *server) stop() error {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	out, err := s.run("pg_ctl", "stop", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w")
	if rmErr := os.RemoveAll(s.dir); err == nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("stop: %v: %s", err, out)
	}
	return nil
}

func (s *server) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	return cmd.CombinedOutput()
}
