package sqlite_test

import (
	"context"
	"path/filepath"
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
