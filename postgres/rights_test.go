package postgres_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"iamd"
	"iamd/internal/pgtest"
	"iamd/postgres"
)

// A write that finds by a query the users whose rights it changes (a role redefined)
// runs alone, and writes that change who holds what (a user's roles) wait for it and
// share among themselves: otherwise, under READ COMMITTED, the first would miss a
// holder the second commits meanwhile and leave that user's version — which the
// accounts core remembers principals by — as it was. Each side is held here by hand,
// as another replica's transaction would hold it, and the store's write must wait.
func TestRightsChangesWaitForEachOther(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	store, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	const inst = "rights"
	ev, u := instanceWithUser(t, store, inst)
	if err := store.CreateRole(ctx, &iamd.Role{InstanceID: inst, Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}}, ev); err != nil {
		t.Fatal(err)
	}

	// held takes the instance's rights lock in mode (exclusive or shared) in a transaction
	// of its own, runs write, and tells whether write finished before the lock was let go.
	held := func(exclusive bool, write func() error) (finishedWhileHeld bool) {
		t.Helper()
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		fn := "pg_advisory_xact_lock_shared"
		if exclusive {
			fn = "pg_advisory_xact_lock"
		}
		if _, err := tx.Exec(`SELECT `+fn+`(hashtextextended('iamd rights ' || CAST($1 AS TEXT), 0))`, inst); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- write() }()
		select {
		case err := <-done:
			tx.Rollback()
			if err != nil {
				t.Fatal(err)
			}
			return true
		case <-time.After(300 * time.Millisecond): // a write that takes no lock is done in a few ms
		}
		tx.Rollback()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return false
	}

	grant := func() error {
		cur, err := store.GetUser(ctx, inst, u.ID)
		if err != nil {
			return err
		}
		next := *cur
		next.Roles, next.Version = []string{"reader"}, cur.Version+1
		return store.UpdateUser(ctx, iamd.UserWrite{User: &next, ExpectedVersion: cur.Version, Event: ev})
	}
	redefine := func() error {
		return store.UpdateRole(ctx, &iamd.Role{InstanceID: inst, Name: "reader", Privileges: []string{iamd.PrivilegeUserRead, iamd.PrivilegeGroupRead}}, ev)
	}
	if held(true, grant) {
		t.Error("a user's roles changed while a rights change that finds its users by a query was under way")
	}
	if held(false, redefine) {
		t.Error("a role was redefined while a change of who holds it was under way")
	}
	if !held(false, func() error {
		cur, err := store.GetUser(ctx, inst, u.ID)
		if err != nil {
			return err
		}
		next := *cur
		next.Roles, next.Version = nil, cur.Version+1
		return store.UpdateUser(ctx, iamd.UserWrite{User: &next, ExpectedVersion: cur.Version, Event: ev})
	}) {
		t.Error("changes of who holds what waited for each other")
	}
}

// instanceWithUser stores an instance and one user of it, and returns the event its
// writes carry and the user.
func instanceWithUser(t *testing.T, store iamd.Store, inst string) (iamd.Event, *iamd.User) {
	t.Helper()
	ctx := context.Background()
	ev := iamd.Event{InstanceID: inst, ActorID: "actor", Action: "test", Outcome: iamd.OutcomeSuccess, Time: time.Now()}
	if err := store.CreateInstance(ctx, &iamd.Instance{ID: inst, Name: inst, Policy: iamd.DefaultAccountPolicy, CreatedAt: time.Now()}, ev); err != nil {
		t.Fatal(err)
	}
	u := &iamd.User{ID: iamd.NewID(), InstanceID: inst, LoginName: "u", Status: iamd.UserActive, CreatedAt: time.Now(), UpdatedAt: time.Now(), Version: 1}
	if err := store.CreateUser(ctx, iamd.UserWrite{User: u, Event: ev}); err != nil {
		t.Fatal(err)
	}
	return ev, u
}
