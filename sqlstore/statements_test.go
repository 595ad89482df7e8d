package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// waitPrepared waits for the background prepare of query.
func waitPrepared(t *testing.T, s *statements, query string) *sql.Stmt {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.mu.Lock()
		stmt, pending := s.byQuery[query], s.pending[query]
		s.mu.Unlock()
		if stmt != nil {
			return stmt
		}
		if !pending {
			t.Fatalf("%q is neither prepared nor pending", query)
		}
	}
	t.Fatalf("%q was never prepared", query)
	return nil
}

// A transaction holding a single-connection pool's only connection must not wait on
// preparing a statement for that pool (it would wait forever): the statement is sent as
// text and prepared once the connection is free.
func TestStatementsPrepareWithoutWaitingOnTheConnection(t *testing.T) {
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	db := New(pool, pool, Dialect{Name: "sqlite", PrepareStatements: true})
	ctx := context.Background()
	if _, err := pool.Exec(`CREATE TABLE t (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO t (v) VALUES (?)`
	done := make(chan error, 1)
	go func() {
		done <- db.inTx(ctx, func(tx *txn) error {
			for i := range 3 {
				if _, err := db.exec(ctx, tx, insert, i); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the transaction waited on its own connection")
	}
	waitPrepared(t, db.writeStmts, insert)
	// Now prepared: used inside a transaction and outside one.
	if err := db.inTx(ctx, func(tx *txn) error {
		if db.prepared(ctx, tx, insert) == nil {
			return fmt.Errorf("a prepared statement was not used in a transaction")
		}
		_, err := db.exec(ctx, tx, insert, 3)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.queryRow(ctx, db.read, `SELECT count(*) FROM t`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("count: %d, %v; want 4", n, err)
	}
	if db.prepared(ctx, db.read, `SELECT count(*) FROM t`) == nil {
		waitPrepared(t, db.readStmts, `SELECT count(*) FROM t`)
	}
}

func TestStatementsAreBounded(t *testing.T) {
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s := newStatements(pool)
	for i := range maxStatements + 10 {
		q := fmt.Sprintf("SELECT %d", i)
		s.get(q)
		if i < maxStatements {
			waitPrepared(t, s, q)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byQuery) != maxStatements || len(s.pending) != 0 {
		t.Fatalf("%d statements kept, %d pending; want %d and 0", len(s.byQuery), len(s.pending), maxStatements)
	}
}

func TestNoStatementsKeptUnlessTheDialectAsks(t *testing.T) {
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := New(pool, pool, Dialect{Name: "postgres-like"})
	for range 2 {
		if db.prepared(context.Background(), db.read, "SELECT 1") != nil {
			t.Fatal("a statement was prepared for a dialect that keeps its own")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
