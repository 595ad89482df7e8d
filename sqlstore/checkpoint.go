package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointDelay is how long the checkpointer lets commits gather after the first one
// it hears of: one checkpoint (and its two fsyncs) per interval under load, not per commit.
const checkpointDelay = 10 * time.Millisecond

// checkpointer copies the write-ahead log into the database file in the background
// (SQLite), on a connection of its own, so that no write waits for it. Left to SQLite,
// the commit that fills the log past its threshold runs the checkpoint itself, fsyncs
// included, holding the single writer — and every write queued behind it — for
// milliseconds. A checkpoint moves only committed transactions, fsyncing the log before
// it writes the database file, whichever connection runs it: it changes nothing of what
// a commit guarantees.
type checkpointer struct {
	pool *sql.DB
	stmt string
	poke chan struct{}
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

func newCheckpointer(pool *sql.DB, stmt string) *checkpointer {
	c := &checkpointer{pool: pool, stmt: stmt, poke: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// committed tells the checkpointer that the log grew; it never blocks.
func (c *checkpointer) committed() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.poke:
		case <-c.quit:
			return
		}
		select {
		case <-time.After(checkpointDelay):
		case <-c.quit:
			return
		}
		// A failure (the database busy, say) leaves the log to the next checkpoint, or
		// to the writer's own automatic checkpoint, which stays on as the backstop.
		_, _ = c.pool.ExecContext(context.Background(), c.stmt)
	}
}

func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.quit) })
	<-c.done
	return c.pool.Close()
}

// CheckpointInBackground makes the store run stmt on pool, which it then owns and
// closes with the store, shortly after writes commit, instead of leaving checkpoints to
// the writer (SQLite's PRAGMA wal_checkpoint(PASSIVE); see checkpointer). Call it once,
// before the store is used.
func (db *DB) CheckpointInBackground(pool *sql.DB, stmt string) {
	db.checkpointer = newCheckpointer(pool, stmt)
}

// committed tells the read memory's scopes and the background checkpointer, if any,
// that a write committed.
func (db *DB) committed() {
	db.commits.Add(1)
	if db.checkpointer != nil {
		db.checkpointer.committed()
	}
}
