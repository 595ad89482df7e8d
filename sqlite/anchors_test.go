package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"iamd/sqlite"
	"iamd/storetest"
)

func TestListingsSeeWritersUnawareOfAnchors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamd.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.ListingsSeeWritersUnawareOfAnchors(t, s, raw, func(q string) string { return q })
}
