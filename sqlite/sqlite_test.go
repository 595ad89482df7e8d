package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"iamd"
	"iamd/sqlite"
	"iamd/storetest"
)

var open = storetest.OpenSQLite

func TestConformance(t *testing.T) { storetest.Run(t, open) }

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iamd.db")
	for i := range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if i == 0 {
			if err := s.CreateInstance(ctx, &iamd.Instance{ID: "kept", Name: "kept"}, iamd.Event{InstanceID: "kept"}); err != nil {
				t.Fatal(err)
			}
		} else if _, err := s.GetInstance(ctx, "kept"); err != nil {
			t.Fatalf("after reopening: %v", err)
		}
		s.Close()
	}
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, open) }

// The database holds password hashes and sealed secrets: its files are the owner's alone,
// whatever the umask and the directory's mode, and so again after reopening files that
// an older iamd left readable.
func TestFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "iamd.db")
	check := func(when string) {
		t.Helper()
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			info, err := os.Stat(name)
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if mode := info.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: %s has mode %v, want 0600", when, filepath.Base(name), mode)
			}
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "kept", Name: "kept"}, iamd.Event{InstanceID: "kept"}); err != nil {
		t.Fatal(err)
	}
	check("a new database")
	s.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if s, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.GetInstance(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	check("a reopened database")
}
