package storetest

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"iamd"
)

// anchored is a store whose unfiltered listings in the default order may seek from
// remembered positions (anchors) instead of skipping the offset.
type anchored interface {
	SetListAnchors(spacing int, interval time.Duration)
	// AwaitListAnchors waits for the builds listings started (they run beside them).
	AwaitListAnchors()
	// ListAnchorsHoldAcrossCreates reports whether creates leave anchors in use.
	ListAnchorsHoldAcrossCreates() bool
	SetStatementHook(fn func(query string))
}

// testListAnchors pages through a whole instance in the default order, both directions,
// at every offset, and wants what one unskipped read of the instance says each page holds:
// with fresh anchors (which must then be used), with anchors kept through creates after
// every user (which must still be used), with anchors gone stale through creates before
// existing users, deletes and an import (which must not be used), and with anchors
// rebuilt after them.
func testListAnchors(t *testing.T, s iamd.Store) {
	st, ok := s.(anchored)
	if !ok {
		t.Skip("the store keeps no list anchors")
	}
	const inst = "anchors"
	mustInstance(t, s, inst)
	var seeks atomic.Int64
	st.SetStatementHook(func(q string) {
		if strings.Contains(q, "(u.created_at, u.id) >=") {
			seeks.Add(1)
		}
	})
	defer st.SetStatementHook(nil)

	var ids []string
	add := func(i int) {
		u := newUser(inst, fmt.Sprintf("anchor%03d", i))
		// Three users share each creation time: the id breaks the tie.
		u.CreatedAt = t0.Add(time.Duration(i/3) * time.Millisecond)
		mustUser(t, s, u)
		ids = append(ids, u.ID)
	}
	for i := range 60 {
		add(i * 2)
	}

	// check compares every page with the instance read in one page from offset 0 (no
	// skip, so no anchor), and returns how many page reads sought from an anchor.
	check := func(when string) int64 {
		t.Helper()
		// A page past the spacing starts a build where one is due; the pages below are
		// read once it has ended.
		if _, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: inst, Offset: 8, Limit: 1}); err != nil {
			t.Fatal(err)
		}
		st.AwaitListAnchors()
		seeks.Store(0)
		for _, desc := range []bool{false, true} {
			sort := []iamd.UserSort{{Key: iamd.SortByCreatedAt, Descending: desc}}
			all, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: inst, Sort: sort, Limit: iamd.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			want := make([]string, len(all.Users))
			for i, u := range all.Users {
				want[i] = u.ID
			}
			for _, limit := range []int{1, 6} {
				for offset := 0; offset <= all.Total+1; offset++ {
					f := iamd.UserFilter{InstanceID: inst, Offset: offset, Limit: limit}
					if desc { // the default order spelled out, and its reverse
						f.Sort = sort
					}
					page, err := s.ListUsers(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					var got []string
					for _, u := range page.Users {
						got = append(got, u.ID)
					}
					exp := want[min(offset, len(want)):min(offset+limit, len(want))]
					if page.Total != all.Total || !slices.Equal(got, exp) {
						t.Fatalf("%s: desc=%v offset %d limit %d: total %d %v, want %d %v",
							when, desc, offset, limit, page.Total, got, all.Total, exp)
					}
				}
			}
		}
		return seeks.Load()
	}

	st.SetListAnchors(7, 0)
	if n := check("fresh anchors"); n == 0 {
		t.Fatal("fresh anchors: no page sought from an anchor")
	}

	// Each kind of write that moves users, alone after fresh anchors, makes them stale.
	// Forgotten, the anchors are built by the next check, and then kept (an hour's wait
	// between builds) across the write that follows.
	fresh := func(when string) {
		t.Helper()
		st.SetListAnchors(7, time.Hour)
		if n := check(when); n == 0 {
			t.Fatalf("%s: no page sought from an anchor", when)
		}
	}
	fresh("anchors built")
	stale := func(when string) {
		t.Helper()
		if n := check(when); n != 0 {
			t.Fatalf("%s: %d pages sought from stale anchors", when, n)
		}
	}
	// Users created after every other move none: where the store can tell, the anchors
	// built before still serve, and the new users' pages, which no anchor covers, are
	// read by offset; elsewhere the anchors count as stale.
	for i := range 5 {
		add(200 + 3*i)
	}
	if n := check("after creates at the end"); st.ListAnchorsHoldAcrossCreates() && n == 0 {
		t.Fatal("after creates at the end: no page sought from the anchors, which still hold")
	} else if !st.ListAnchorsHoldAcrossCreates() && n != 0 {
		t.Fatalf("after creates at the end: %d pages sought from anchors this store counts as stale", n)
	}
	fresh("anchors rebuilt after creates at the end")
	for i := range 10 {
		add(i*12 + 1) // between existing users, moving every later position
	}
	stale("after creates before existing users")
	fresh("anchors rebuilt after creates")
	for i := 5; i < 50; i += 5 {
		id := ids[i]
		if err := s.DeleteUser(ctx, inst, id, 0, event(inst, iamd.ActionUserDelete, id)); err != nil {
			t.Fatal(err)
		}
		add(300 + 3*i) // at the end, so that the count alone does not tell
	}
	stale("after deletes")
	fresh("anchors rebuilt after deletes")
	var imported []iamd.User
	for i := range 8 {
		u := newUser(inst, fmt.Sprintf("imported%d", i))
		u.CreatedAt = t0.Add(time.Duration(i*5) * time.Millisecond)
		imported = append(imported, *u)
	}
	if err := s.ImportUsers(ctx, imported, event(inst, iamd.ActionUserImport, "")); err != nil {
		t.Fatal(err)
	}
	stale("after an import")

	st.SetListAnchors(7, 0)
	if n := check("rebuilt anchors"); n == 0 {
		t.Fatal("rebuilt anchors: no page sought from an anchor")
	}
}

// ListingsSeeWritersUnawareOfAnchors is for engines' own tests, with raw, a connection to
// the database s uses, and bind, what makes a query of '?' placeholders the engine's: a
// writer that knows nothing of the change counter — a binary from before migration 0013,
// or a hand-made fix in the database — creates one user and deletes another. The count is
// as it was, yet every page behind the new user moved, and the anchors built before must
// not serve those pages (the counter's trigger, migration 0014).
func ListingsSeeWritersUnawareOfAnchors(t *testing.T, s iamd.Store, raw *sql.DB, bind func(string) string) {
	raw.SetMaxOpenConns(1) // the temporary table lives on one connection
	ev := iamd.Event{InstanceID: "i", ActorID: "a", Action: "test", Outcome: iamd.OutcomeSuccess, Time: time.Now()}
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "i", Name: "i", Policy: iamd.DefaultAccountPolicy}, ev); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 60 {
		u := &iamd.User{ID: iamd.NewID(), InstanceID: "i", LoginName: fmt.Sprintf("u%03d", i), Status: iamd.UserActive,
			CreatedAt: t0.Add(time.Duration(i+10) * time.Second), UpdatedAt: t0, Version: 1}
		if err := s.CreateUser(ctx, iamd.UserWrite{User: u, Event: ev}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	s.(anchored).SetListAnchors(7, time.Hour)
	page := func(offset int) []string {
		p, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Offset: offset, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, u := range p.Users {
			out = append(out, u.LoginName)
		}
		return out
	}
	page(20) // starts the anchors' build
	s.(anchored).AwaitListAnchors()
	if got, want := page(20), []string{"u020", "u021", "u022", "u023", "u024"}; !slices.Equal(got, want) {
		t.Fatalf("the page at 20 before the writes: %v, want %v", got, want)
	}

	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`CREATE TEMP TABLE copy AS SELECT * FROM users WHERE id = ?`, []any{ids[0]}},
		{`UPDATE copy SET id = 'old-binary-user', login_name = 'old', login_key = 'old', created_at = 1`, nil},
		{`INSERT INTO users SELECT * FROM copy`, nil},
		{`UPDATE user_counts SET users = users + 1 WHERE instance_id = 'i'`, nil},
		{`DELETE FROM users WHERE id = ?`, []any{ids[59]}},
		{`UPDATE user_counts SET users = users - 1 WHERE instance_id = 'i'`, nil},
	} {
		if _, err := raw.Exec(bind(stmt.query), stmt.args...); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Limit: 100}) // from the start: no anchor
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, u := range all.Users[20:25] {
		want = append(want, u.LoginName)
	}
	if got := page(20); !slices.Equal(got, want) {
		t.Fatalf("the page at 20: %v, want %v", got, want)
	}
}
