package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// maxBatch bounds how many write transactions one commit carries.
const maxBatch = 64

// gatherYields is how many times the writer yields the processor to let writers join a
// batch before it commits without them.
const gatherYields = 3

// errClosed answers writes submitted after Close.
var errClosed = errors.New("sqlstore: the store is closed")

// committer runs the write transactions of an engine with one writer (SQLite) in
// batches: what is waiting when the writer frees up runs in one database transaction,
// each caller's work inside a savepoint of its own, and one commit makes them all
// durable. A commit's fixed cost — taking the write lock, writing and checksumming WAL
// frames, the pages every create touches (the newest index leaves, the user count, the
// event log's tail) — is then paid once per batch instead of once per write. A caller's
// failure rolls back its savepoint only; the others still commit.
type committer struct {
	db   *DB
	jobs chan *commitJob
	quit chan struct{}
	done chan struct{}
	// waiting counts callers not yet taken into a batch (the tests wait on it).
	waiting   atomic.Int32
	closeOnce sync.Once
}

type commitJob struct {
	ctx    context.Context
	fn     func(tx *txn) error
	result chan error
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, jobs: make(chan *commitJob), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// submit runs fn in the next batch and returns its outcome once the batch committed.
func (c *committer) submit(ctx context.Context, fn func(tx *txn) error) error {
	job := &commitJob{ctx: ctx, fn: fn, result: make(chan error, 1)}
	c.waiting.Add(1)
	select {
	case c.jobs <- job:
		c.waiting.Add(-1)
	case <-c.quit:
		c.waiting.Add(-1)
		return errClosed
	case <-ctx.Done():
		c.waiting.Add(-1)
		return internal("wait for the batch", ctx.Err())
	}
	// Once taken, a job is always answered: its writes may commit even if its caller has
	// gone, as they would had the caller's commit been the one in flight.
	return <-job.result
}

func (c *committer) close() {
	c.closeOnce.Do(func() { close(c.quit) })
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	for {
		var first *commitJob
		select {
		case first = <-c.jobs:
		case <-c.quit:
			return
		}
		batch := []*commitJob{first}
		// Whatever is already waiting, and whatever arrives while the writer yields the
		// processor a few times: the requests that would be next to write are often
		// runnable, a scheduling slice away from submitting, and joining this commit
		// costs them far less than waiting for the next.
		for yields := gatherYields; len(batch) < maxBatch; {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
				continue
			default:
			}
			if yields == 0 {
				break
			}
			yields--
			runtime.Gosched()
		}
		c.commit(batch)
	}
}

func (c *committer) commit(batch []*commitJob) {
	if len(batch) == 1 {
		batch[0].result <- c.db.runTx(batch[0].ctx, batch[0].fn)
		return
	}
	// Not the callers' contexts: one caller giving up must not roll back the others.
	ctx := context.Background()
	tx, err := c.db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, j := range batch {
			j.result <- internal("begin", err)
		}
		return
	}
	results := make([]error, len(batch))
	broken := error(nil) // the transaction itself failed: nothing in it commits
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = internal("wait for the batch", err)
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT batched"); err != nil {
			broken = internal("savepoint", err)
			break
		}
		// Statements run detached from the caller's context: SQLite answers an
		// interrupted write by rolling back the whole transaction, not just the statement.
		results[i] = j.fn(&txn{Tx: tx, stmts: c.db.writeStmts, detached: true})
		undo := ""
		if results[i] != nil {
			undo = "ROLLBACK TO batched; "
		}
		if _, err := tx.ExecContext(ctx, undo+"RELEASE batched"); err != nil {
			broken = internal("release savepoint", err)
			break
		}
	}
	if broken == nil {
		if err := tx.Commit(); err != nil {
			broken = internal("commit", err)
		} else {
			c.db.committed()
		}
	} else {
		tx.Rollback()
	}
	for i, j := range batch {
		switch {
		case results[i] != nil:
			j.result <- results[i] // its savepoint was rolled back either way
		case broken != nil:
			j.result <- fmt.Errorf("%w (a batched commit failed)", broken)
		default:
			j.result <- nil
		}
	}
}
