// Package sqlite is the embedded store: one SQLite file in the data directory, in WAL
// mode with foreign keys on. All writes go through one connection (SQLite has one writer
// at a time anyway, and queuing in Go beats spinning on SQLITE_BUSY); reads use a pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"iamd/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

var dialect = sqlstore.Dialect{Name: "sqlite", Classify: classify, PrepareStatements: true, GroupCommit: true, CreatesKeepAnchors: true,
	PrefixRanges: true, NoIndex: "+"}

func init() {
	// Our DSNs are built here, but keep _pragma to one statement all the same.
	sqlite.StrictPragmas(true)
}

// fileMode is the database's files' mode: they hold password hashes and sealed secrets.
// SQLite gives its -wal and -shm files the database file's mode, whatever the umask.
const fileMode = 0o600

// ownerOnly makes the database file at path, creating it if need be, and its -wal and
// -shm files if there are any, readable by their owner alone, whatever the umask and
// the directory's mode.
func ownerOnly(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	err = f.Chmod(fileMode)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+suffix, fileMode); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Open opens (creating if needed) the database file at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*sqlstore.DB, error) {
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "journal_mode(WAL)")
	common.Add("_pragma", "synchronous(NORMAL)")
	// LIKE as PostgreSQL has it, case-sensitive: filters that ignore case fold both sides.
	common.Add("_pragma", "case_sensitive_like(1)")

	w := url.Values{"_txlock": {"immediate"}}
	for k, v := range common {
		w[k] = v
	}
	// Migrations run on a connection of their own: building an index over every user
	// sorts through temporary files, which must stay on disk (see temp_store below).
	if err := migrate(ctx, "file:"+path+"?"+w.Encode()); err != nil {
		return nil, fmt.Errorf("sqlite %s: %w", path, err)
	}
	// The writer keeps its statement journals in memory. Every statement that may fail
	// half-way inside a transaction (an insert with unique and foreign keys, each caller's
	// savepoint in a group commit) copies the pages it changes there first, so that the
	// statement alone can be undone; a create changes ~16 pages (the row, each index, the
	// count, the event), past the 64 KiB SQLite keeps in memory by default, so each create
	// wrote and read a temporary file. Nothing recovers from these journals after a crash
	// (the WAL is what makes a commit durable), so memory loses nothing; they last one
	// statement or one batch.
	w.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints run in the background (below); the writer checkpoints by itself only
	// when the log has grown past 10,000 pages (~40 MB), should the background fall behind.
	w.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", backstopCheckpoint))
	write, err := sql.Open("sqlite", "file:"+path+"?"+w.Encode())
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	r := url.Values{}
	for k, v := range common {
		r[k] = v
	}
	r.Add("_pragma", "query_only(1)")
	// 8 MiB of page cache per reader (SQLite's default is 2 MiB): at 1,000,000 users,
	// look-ups of random users went from 39 % to 69 % of the signed baseline in iamd bench,
	// for ~30 MB more peak RSS across the pool.
	r.Add("_pragma", "cache_size(-8192)")
	read, err := sql.Open("sqlite", "file:"+path+"?"+r.Encode())
	if err != nil {
		write.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	ckpt, err := sql.Open("sqlite", "file:"+path+"?"+common.Encode())
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	ckpt.SetMaxOpenConns(1)
	db := sqlstore.New(write, read, dialect)
	db.CheckpointInBackground(ckpt, "PRAGMA wal_checkpoint(PASSIVE)")
	// Reads are answered from memory while nothing at all was committed to the file (see
	// sqlstore's readCache), asked on a connection of its own.
	watch, err := sql.Open("sqlite", "file:"+path+"?"+r.Encode())
	if err == nil {
		err = db.RememberReads(ctx, watch, "PRAGMA data_version")
	}
	if err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// backstopCheckpoint is the log's size, in pages, past which the writer checkpoints by
// itself, in case the background checkpointer falls behind.
const backstopCheckpoint = 10000

// migrate brings the schema of the database at dsn up to date on a connection of its own.
func migrate(ctx context.Context, dsn string) error {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	db.SetMaxOpenConns(1)
	err = sqlstore.Migrate(ctx, db, dialect, migrations, "migrations")
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

func classify(err error) (sqlstore.Violation, string) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.NoViolation, ""
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqlstore.UniqueViolation, e.Error()
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyViolation, e.Error()
	}
	return sqlstore.NoViolation, ""
}
