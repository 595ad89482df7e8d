package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"iamd/sqlstore"
)

// Migration 0004 rebuilds the event log without AUTOINCREMENT: the events written before
// it keep their ids and contents, and later ones are numbered after them.
func TestEventsKeepTheirIdsAcrossMigration4(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iamd.db")
	before := fstest.MapFS{}
	for _, name := range []string{"0001_directory.sql", "0002_user_counts.sql", "0003_accounts.sql"} {
		data, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		before["migrations/"+name] = &fstest.MapFile{Data: data}
	}
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.Migrate(ctx, old, dialect, before, "migrations"); err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"first", "second"} {
		if _, err := old.Exec(`INSERT INTO events (instance_id, actor_id, actor_name, action, target_type, target_id,
			outcome, reason, source, time) VALUES ('i', 'a', 'A', ?, 'user', 'u', 'success', '', '', 1)`, action); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	store, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	store.Close()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO events (instance_id, actor_id, actor_name, action, target_type, target_id,
		outcome, reason, source, time) VALUES ('i', 'a', 'A', 'after', 'user', 'u', 'success', '', '', 2)`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT id, action FROM events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	var ids []int64
	for rows.Next() {
		var id int64
		var action string
		if err := rows.Scan(&id, &action); err != nil {
			t.Fatal(err)
		}
		ids, got = append(ids, id), append(got, action)
	}
	if !slices.Equal(got, []string{"first", "second", "after"}) || ids[0] != 1 || ids[1] != 2 || ids[2] <= ids[1] {
		t.Fatalf("events after migration 4: ids %v, actions %v", ids, got)
	}
	var sql string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'events'`).Scan(&sql); err != nil {
		t.Fatal(err)
	}
	if want := "AUTOINCREMENT"; strings.Contains(sql, want) {
		t.Fatalf("events still declared with %s: %s", want, sql)
	}
}
