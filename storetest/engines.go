package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"iamd"
	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/sqlite"
)

// Engines lists the real stores every store-backed test runs on. Packages using the
// PostgreSQL one run their tests through pgtest.Run in TestMain.
var Engines = []struct {
	Name string
	Open Opener
}{
	{"sqlite", OpenSQLite},
	{"postgres", OpenPostgres},
}

// OpenSQLite opens a store in a new SQLite file of the test's temporary directory.
func OpenSQLite(t testing.TB) iamd.Store {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenPostgres opens a store in a new database of the test PostgreSQL server.
func OpenPostgres(t testing.TB) iamd.Store {
	s, err := postgres.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
