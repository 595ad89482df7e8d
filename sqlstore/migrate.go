package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrate applies the migrations in dir of files that the database has not seen, in
// order, each in its own transaction with its record in schema_migrations. Migrations
// are forward-only: files are named NNNN_description.sql and never edited once released.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, files fs.FS, dir string) error {
	entries, err := fs.ReadDir(files, dir)
	if err != nil {
		return err
	}
	type migration struct {
		version int
		name    string
	}
	var todo []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		prefix, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return fmt.Errorf("migration %s: name must start with a positive version number", e.Name())
		}
		todo = append(todo, migration{v, e.Name()})
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].version < todo[j].version })
	for i := 1; i < len(todo); i++ {
		if todo[i].version == todo[i-1].version {
			return fmt.Errorf("migrations %s and %s share a version", todo[i-1].name, todo[i].name)
		}
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if d.LockMigrations != nil {
		unlock, err := d.LockMigrations(ctx, conn)
		if err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		defer unlock()
	}
	bind := (&DB{dialect: d}).bind
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	for _, m := range todo {
		script, err := fs.ReadFile(files, path.Join(dir, m.name))
		if err != nil {
			return err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Read inside the transaction: on SQLite it holds the write lock, so a second
		// process waits here and then sees the first one's work.
		var applied int
		if err := tx.QueryRowContext(ctx, bind(`SELECT count(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&applied); err != nil {
			tx.Rollback()
			return err
		}
		if applied > 0 {
			tx.Rollback()
			continue
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, bind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			m.version, m.name, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}
