package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/internal/pgtest"
	"iamd/postgres"
)

// A user joining and leaving a group while the group adds and removes that user, from
// several writers at once: each change locks the group's row and then the user's, in
// that order on both paths, so none is aborted as a deadlock (each would surface as an
// internal error); a conflict of versions is the only refusal.
func TestMembershipWritersNeverDeadlock(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	const inst = "dl"
	ev, u := instanceWithUser(t, store, inst)
	g := &iamd.Group{ID: iamd.NewID(), InstanceID: inst, Name: "g", CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
	if err := store.CreateGroup(ctx, iamd.GroupWrite{Group: g, Event: ev}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := map[string]int{}
	note := func(err error) {
		if err != nil {
			mu.Lock()
			errs[err.Error()]++
			mu.Unlock()
		}
	}
	for w := 0; w < 4; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				cur, err := store.GetUser(ctx, inst, u.ID)
				if err != nil {
					note(err)
					continue
				}
				next := *cur
				next.Version = cur.Version + 1
				w := iamd.UserWrite{User: &next, ExpectedVersion: cur.Version, Event: ev}
				if i%2 == 0 {
					w.JoinGroups = []string{g.ID}
				} else {
					w.LeaveGroups = []string{g.ID}
				}
				err = store.UpdateUser(ctx, w)
				if iamd.ErrorCode(err) == iamd.ECONFLICT {
					continue
				}
				note(err)
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				cur, err := store.GetGroup(ctx, inst, g.ID)
				if err != nil {
					note(err)
					continue
				}
				next := *cur
				next.Version = cur.Version + 1
				w := iamd.GroupWrite{Group: &next, ExpectedVersion: cur.Version, Event: ev}
				if i%2 == 0 {
					w.Add.Users = []string{u.ID}
				} else {
					w.Remove.Users = []string{u.ID}
				}
				err = store.UpdateGroup(ctx, w)
				if iamd.ErrorCode(err) == iamd.ECONFLICT {
					continue
				}
				note(err)
			}
		}()
	}
	wg.Wait()
	for e, n := range errs {
		t.Errorf("%d× %s", n, e)
	}
}
