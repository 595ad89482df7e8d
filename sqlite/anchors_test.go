package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"iamd"

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

// A listing does not wait for the anchors it finds missing: they are built beside it,
// and closing the store stops a build under way rather than running it to its end.
func TestClosingStopsAnchorBuilds(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamd.db"))
	if err != nil {
		t.Fatal(err)
	}
	ev := iamd.Event{InstanceID: "i"}
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "i", Name: "i"}, ev); err != nil {
		t.Fatal(err)
	}
	const users, spacing = 2000, 5
	now := time.Now().UTC().Truncate(time.Microsecond)
	batch := make([]iamd.User, users)
	for i := range batch {
		batch[i] = iamd.User{ID: iamd.NewID(), InstanceID: "i", LoginName: fmt.Sprintf("u%04d", i), Status: iamd.UserActive,
			CreatedAt: now.Add(time.Duration(i) * time.Millisecond), UpdatedAt: now, Version: 1}
	}
	if err := s.ImportUsers(ctx, batch, ev); err != nil {
		t.Fatal(err)
	}
	s.SetListAnchors(spacing, 0)
	var anchorReads atomic.Int64
	started := make(chan struct{})
	s.SetStatementHook(func(q string) {
		if strings.Contains(q, "LIMIT 1 OFFSET") { // one anchor
			if anchorReads.Add(1) == 3 {
				close(started)
			}
			time.Sleep(time.Millisecond) // long enough to be caught under way
		}
	})
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Offset: 1000, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Users[0].LoginName != "u1000" {
		t.Fatalf("the page at 1000 starts with %s", page.Users[0].LoginName)
	}
	<-started
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after := anchorReads.Load()
	s.AwaitListAnchors() // returns at once: nothing runs after Close
	if n := anchorReads.Load(); n != after || n >= users/spacing {
		t.Errorf("the build read %d anchors of %d, %d of them after Close returned", n, users/spacing, n-after)
	}
}
