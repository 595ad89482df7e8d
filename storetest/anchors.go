package storetest

import (
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
	SetStatementHook(fn func(query string))
}

// testListAnchors pages through a whole instance in the default order, both directions,
// at every offset, and wants what one unskipped read of the instance says each page holds:
// with fresh anchors (which must then be used), with anchors gone stale through creates,
// deletes and an import (which must not be used), and with anchors rebuilt after them.
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

	// Anchors built now stay stale after the writes below: the interval forbids a rebuild.
	st.SetListAnchors(7, time.Hour)
	if n := check("anchors built"); n == 0 {
		t.Fatal("anchors built: no page sought from an anchor")
	}
	for i := range 10 {
		add(i*12 + 1) // between existing users, moving every later position
	}
	for i := 5; i < 50; i += 5 {
		id := ids[i]
		if err := s.DeleteUser(ctx, inst, id, 0, event(inst, iamd.ActionUserDelete, id)); err != nil {
			t.Fatal(err)
		}
	}
	if n := check("after creates and deletes"); n != 0 {
		t.Fatalf("after creates and deletes: %d pages sought from stale anchors", n)
	}
	var imported []iamd.User
	for i := range 8 {
		u := newUser(inst, fmt.Sprintf("imported%d", i))
		u.CreatedAt = t0.Add(time.Duration(i*5) * time.Millisecond)
		imported = append(imported, *u)
	}
	if err := s.ImportUsers(ctx, imported, event(inst, iamd.ActionUserImport, "")); err != nil {
		t.Fatal(err)
	}
	if n := check("after an import"); n != 0 {
		t.Fatalf("after an import: %d pages sought from stale anchors", n)
	}

	st.SetListAnchors(7, 0)
	if n := check("rebuilt anchors"); n == 0 {
		t.Fatal("rebuilt anchors: no page sought from an anchor")
	}
}
