package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"iamd"
	"iamd/internal/pgtest"
	"iamd/postgres"
)

// A writer that knows nothing of the change counter — a binary from before migration
// 0013, or a hand-made fix in the database — creates one user and deletes another: the
// count is as it was, yet every page behind the new user moved. The anchors built
// before must not serve those pages (the counter's trigger, migration 0014).
func TestAnchorsGoStaleWhoeverWrites(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	s.SetListAnchors(7, time.Hour)
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
	page(20) // builds the anchors

	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	raw.SetMaxOpenConns(1)
	defer raw.Close()
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`CREATE TEMP TABLE copy AS SELECT * FROM users WHERE id = $1`, []any{ids[0]}},
		{`UPDATE copy SET id = 'old-binary-user', login_name = 'old', login_key = 'old', created_at = 1`, nil},
		{`INSERT INTO users SELECT * FROM copy`, nil},
		{`UPDATE user_counts SET users = users + 1 WHERE instance_id = 'i'`, nil},
		{`DELETE FROM users WHERE id = $1`, []any{ids[59]}},
		{`UPDATE user_counts SET users = users - 1 WHERE instance_id = 'i'`, nil},
	} {
		if _, err := raw.Exec(stmt.query, stmt.args...); err != nil {
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
