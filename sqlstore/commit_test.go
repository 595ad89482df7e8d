package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// groupCommitDB is a one-writer SQLite store with group commit over a table t.
func groupCommitDB(t *testing.T) *DB {
	t.Helper()
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "g.db")+"?_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	pool.SetMaxOpenConns(1)
	if _, err := pool.Exec(`CREATE TABLE t (v INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	db := New(pool, pool, Dialect{Name: "sqlite", PrepareStatements: true, GroupCommit: true})
	t.Cleanup(func() { db.Close() })
	return db
}

func committed(t *testing.T, db *DB) map[int]bool {
	t.Helper()
	rows, err := db.query(context.Background(), db.read, `SELECT v FROM t`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out[v] = true
	}
	return out
}

// batched holds the writer with one transaction while the jobs queue behind it, so that
// they all run in the next batch; it returns each job's error by index.
func batched(t *testing.T, db *DB, jobs []func(ctx context.Context, tx *txn) error, ctxs []context.Context) []error {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	go db.inTx(context.Background(), func(tx *txn) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	shared := map[*sql.Tx]bool{}
	for i, job := range jobs {
		ctx := context.Background()
		if ctxs != nil && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.inTx(ctx, func(tx *txn) error {
				mu.Lock()
				shared[tx.Tx] = true
				mu.Unlock()
				return job(ctx, tx)
			})
		}()
	}
	// Wait until every job is queued on the committer before releasing the writer.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if queued := waitingSenders(db); queued == len(jobs) || time.Now().After(deadline) {
			break
		}
	}
	close(hold)
	wg.Wait()
	if len(shared) != 1 {
		t.Fatalf("the %d queued callers ran in %d transactions, want one batch", len(jobs), len(shared))
	}
	return errs
}

// waitingSenders counts submitters blocked on the committer (tests only).
func waitingSenders(db *DB) int {
	return int(db.committer.waiting.Load())
}

func insert(db *DB, v int) func(ctx context.Context, tx *txn) error {
	return func(ctx context.Context, tx *txn) error {
		_, err := db.exec(ctx, tx, `INSERT INTO t (v) VALUES (?)`, v)
		return err
	}
}

func TestGroupCommitIsolatesAFailingCaller(t *testing.T) {
	db := groupCommitDB(t)
	failing := errors.New("refused after writing")
	errs := batched(t, db, []func(context.Context, *txn) error{
		insert(db, 1),
		func(ctx context.Context, tx *txn) error { // writes, then fails: its write must go
			if err := insert(db, 2)(ctx, tx); err != nil {
				return err
			}
			return failing
		},
		insert(db, 3),
		insert(db, 1), // collides with the first, in the same batch: one of the two fails
		insert(db, 4),
	}, nil)
	if errs[2] != nil || errs[4] != nil || (errs[0] == nil) == (errs[3] == nil) {
		t.Fatalf("want callers 2 and 4 and one of 0 and 3 to succeed: %v", errs)
	}
	if !errors.Is(errs[1], failing) {
		t.Fatalf("the failing caller got %v", errs[1])
	}
	if got, want := committed(t, db), map[int]bool{1: true, 3: true, 4: true}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("committed %v, want %v", got, want)
	}
}

func TestGroupCommitCallerGivingUpDoesNotRollBackOthers(t *testing.T) {
	db := groupCommitDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	errs := batched(t, db, []func(context.Context, *txn) error{
		insert(db, 1),
		func(c context.Context, tx *txn) error {
			close(started)
			cancel() // the caller gives up while its statements run
			return insert(db, 2)(c, tx)
		},
		insert(db, 3),
	}, []context.Context{nil, ctx, nil})
	<-started
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("the other callers failed: %v", errs)
	}
	got := committed(t, db)
	if !got[1] || !got[3] {
		t.Fatalf("committed %v: a caller's cancellation rolled back the batch", got)
	}
	if errs[1] == nil && !got[2] {
		t.Fatal("the cancelled caller was told its write committed, but it did not")
	}
}

func TestGroupCommitAfterClose(t *testing.T) {
	db := groupCommitDB(t)
	db.Close()
	if err := db.inTx(context.Background(), func(tx *txn) error { return insert(db, 1)(context.Background(), tx) }); !errors.Is(err, errClosed) {
		t.Fatalf("a write after Close: %v, want errClosed", err)
	}
}
