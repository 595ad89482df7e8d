package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"time"
)

// An offset costs what it skips in the sort index: at a million users a page in the
// middle of the default order (created_at, then id) walks half a million index entries.
// Anchors remember the sort key of every spacing-th user of an instance in that order, so
// that a page at offset k starts from the key of user floor(k/spacing)·spacing — one index
// seek — and skips fewer than spacing entries from there.
//
// Anchors are exact while no user they were read from moved. Creates do not move any:
// a new user's created_at is now, after every user there is, so it follows the last
// anchor and every anchored position holds. An insert before an existing user and every
// delete do, and bump user_counts.reorders by trigger (migration 0016) whoever makes
// them: this binary, another replica on the same PostgreSQL, the CLI or an older binary
// on the same SQLite file. (On PostgreSQL every insert counts: see its migration 0016.)
// A listing reads reorders in the snapshot it reads its page from; anchors built in a
// snapshot that read the same value hold every position they name. The counter never
// restarts: instances are never deleted, so their user_counts rows stay. Created_at and
// id never change after a create, so updates leave anchors exact. The users created
// since the anchors were built follow them: their pages are read by plain offset from
// the end, and a new build is started once they are many.

const (
	// defaultAnchorSpacing bounds what a page skips after its seek while an instance
	// has at most maxAnchorsPerInstance·100 users: a page of 100 then walks at most
	// twice its length, where a spacing of 1,000 made the walk most of a page's cost.
	defaultAnchorSpacing = 100
	// maxAnchorsPerInstance bounds memory per instance (a key is ~70 bytes, so at most
	// ~1.1 MB) and what a build costs: each anchor is one statement (a build at a million
	// users took 240-280 ms on an idle machine with 16,384 anchors, 145-180 ms with 1,024,
	// and longer under load; off any request). Beyond it the spacing grows: about
	// 100 up to 1.6 million users.
	maxAnchorsPerInstance = 16384
	// defaultAnchorInterval is the least time between two builds for one instance, so an
	// instance written to between every pair of listings does not rebuild each time: its
	// listings page by plain offset meanwhile, as without anchors. Each build whose anchors
	// went stale unused doubles the wait, up to maxAnchorWait: under steady writes a build
	// (a quarter to half a second at a million users) would be paid again and again for
	// nothing. An interval without such writes ends the wait: the stream has stopped.
	defaultAnchorInterval = 3 * time.Second
	maxAnchorWait         = time.Minute
	// maxAnchoredInstances bounds how many instances' anchors are kept: an instance
	// needs more than 1,638,400 users for the bound per instance, so in practice a few
	// MB in all.
	maxAnchoredInstances = 64
	// unanchoredRebuild is how many users created after a build start another one, or a
	// 64th of the instance if more: their pages are read by plain offset from the end,
	// walking up to that many entries, and a build walks the whole index (a 64th of a
	// million is about 15,600 creates, 8 s of them at 2,000 a second).
	unanchoredRebuild = 4096
)

// instanceCounts reads an instance's kept user count and its count of reorders, which
// anchors are exact for.
const instanceCounts = `SELECT coalesce(sum(users), 0), coalesce(sum(reorders), 0) FROM user_counts u WHERE u.instance_id = ?`

// anchorKey is the position of one user in the default order.
type anchorKey struct {
	createdAt int64
	id        string
}

// anchorSet holds the anchors of one instance, exact while its reorders count is
// unchanged.
type anchorSet struct {
	reorders int64
	total    int64 // the users then, all before any created since
	spacing  int64
	keys     []anchorKey // keys[i] is the user at position i·spacing
}

type anchorEntry struct {
	set      *anchorSet // nil until a build succeeds
	building bool
	lastTry  time.Time     // start of the latest build, for the wait between builds
	wait     time.Duration // least time from lastTry to the next build
	hit      bool          // whether a listing used the latest anchors
	used     time.Time     // latest use, for eviction
	// seen is the reorders count the latest lookup read, unchanged since quietSince:
	// once writes that move users stop for an interval, a build is no longer waited
	// for as if they went on.
	seen       int64
	quietSince time.Time
}

// anchorCache holds anchors per instance. Safe for concurrent use.
type anchorCache struct {
	mu         sync.Mutex
	spacing    int64
	interval   time.Duration
	byInstance map[string]*anchorEntry
}

func newAnchorCache() *anchorCache {
	return &anchorCache{spacing: defaultAnchorSpacing, interval: defaultAnchorInterval, byInstance: map[string]*anchorEntry{}}
}

// SetListAnchors sets the spacing of list anchors and the least time between two builds
// for one instance, and forgets every anchor: tests use a small spacing to page through
// few users with anchors. A spacing below 2 turns anchors off.
func (db *DB) SetListAnchors(spacing int, interval time.Duration) {
	c := db.anchors
	c.mu.Lock()
	defer c.mu.Unlock()
	c.spacing, c.interval = int64(spacing), interval
	clear(c.byInstance)
}

// lookup returns the instance's anchors if they were built at reorders, for a page that
// would skip skip entries by plain offset in an instance of total users. It reports
// whether the caller may build them now — then it must call done — given that no build
// of the instance runs and the last began at least the interval ago: when there are
// none that hold, or when those that hold leave many users created since unanchored
// (they are returned all the same, for the pages they cover). A page that skips fewer
// entries than the spacing gains nothing from anchors, so small instances never build any.
func (c *anchorCache) lookup(instanceID string, reorders, total, skip int64) (set *anchorSet, build bool, spacing int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.spacing < 2 || skip < c.spacing {
		return nil, false, 0
	}
	now := time.Now()
	e := c.byInstance[instanceID]
	if e != nil {
		e.used = now
		if reorders != e.seen {
			e.seen, e.quietSince = reorders, now
		}
		if e.set != nil && e.set.reorders == reorders && total >= e.set.total {
			e.hit = true
			unanchored := total - e.set.total
			if unanchored < max(unanchoredRebuild, e.set.total/64) || e.building || now.Sub(e.lastTry) < e.wait {
				return e.set, false, 0
			}
			e.wait = c.interval
			e.building, e.lastTry = true, now // hit stays: the set in use was not wasted
			return e.set, true, c.spacing
		}
		quiet := now.Sub(e.quietSince) >= c.interval
		if e.building || now.Sub(e.lastTry) < e.wait && !quiet {
			return nil, false, 0
		}
		if quiet {
			e.wait = c.interval
		} else if e.set != nil && !e.hit { // the latest build was wasted: wait longer
			e.wait = min(max(2*e.wait, c.interval), maxAnchorWait)
		} else {
			e.wait = c.interval
		}
	} else {
		e = &anchorEntry{used: now, wait: c.interval, seen: reorders, quietSince: now}
		c.byInstance[instanceID] = e
		c.evict()
	}
	e.building, e.lastTry, e.hit = true, now, false
	return nil, true, c.spacing
}

// done ends a build that lookup allowed; set is nil when the build failed.
func (c *anchorCache) done(instanceID string, set *anchorSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byInstance[instanceID]
	if e == nil { // evicted meanwhile, or SetListAnchors cleared the cache
		return
	}
	e.building = false
	if set != nil {
		e.set, e.hit = set, false
	}
}

// evict drops the least recently used instances beyond maxAnchoredInstances. c.mu is held.
func (c *anchorCache) evict() {
	for len(c.byInstance) > maxAnchoredInstances {
		var oldest string
		var at time.Time
		for id, e := range c.byInstance {
			if oldest == "" || e.used.Before(at) {
				oldest, at = id, e.used
			}
		}
		// A build in flight finds its entry gone and drops its result (done).
		delete(c.byInstance, oldest)
	}
}

// buildAnchorsLater builds an instance's anchors off the listing that found them
// missing or stale, which pages by plain offset meanwhile as every listing does while
// a build runs: a build walks the whole index, and inside a request it was up to 2.5 s
// of one listing's latency at a million users under load. It reads in a snapshot of its
// own and records the counts that snapshot read (instanceCounts, as listings read them),
// so its anchors serve exactly the listings that read the same counts. lookup allowed the build; done is called whatever happens.
func (db *DB) buildAnchorsLater(instanceID string, spacing int64) {
	ctx, ok := db.background.start()
	if !ok { // closing
		db.anchors.done(instanceID, nil)
		return
	}
	go func() {
		defer db.background.done()
		var set *anchorSet
		err := db.inSnapshot(ctx, func(tx *txn) error {
			var total, reorders int64
			if err := db.queryRow(ctx, tx, instanceCounts, instanceID).Scan(&total, &reorders); err != nil {
				return internal("count users", err)
			}
			var err error
			set, err = db.buildAnchors(ctx, tx, instanceID, reorders, total, spacing)
			return err
		})
		if err != nil { // the next lookup after the wait tries again
			set = nil
		}
		db.anchors.done(instanceID, set)
	}()
}

// ListAnchorsHoldAcrossCreates reports whether a create leaves the anchors built before
// it in use (see Dialect.CreatesKeepAnchors).
func (db *DB) ListAnchorsHoldAcrossCreates() bool { return db.dialect.CreatesKeepAnchors }

// AwaitListAnchors waits for the anchor builds under way: tests page with the anchors a
// listing asked for.
func (db *DB) AwaitListAnchors() { db.background.wait() }

// backgroundWork is work a store runs beside its requests, ended by stop.
type backgroundWork struct {
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	stopped bool
	running sync.WaitGroup
}

// start counts in one more piece of work and returns its context, unless stop was called.
func (b *backgroundWork) start() (context.Context, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return nil, false
	}
	b.running.Add(1)
	return b.ctx, true
}

func (b *backgroundWork) done() { b.running.Done() }

// wait waits for the work started so far.
func (b *backgroundWork) wait() {
	b.mu.Lock() // no start between the check of the count and the wait
	defer b.mu.Unlock()
	b.running.Wait()
}

// stop cancels the work and waits for it to end; nothing starts after it.
func (b *backgroundWork) stop() {
	b.mu.Lock()
	b.stopped = true
	b.mu.Unlock()
	b.cancel()
	b.running.Wait()
}

// buildAnchors reads the anchors of an instance in tx, the snapshot that read reorders and
// total: each anchor is one seek in users_by_created from the one before and a skip of
// spacing-1 index entries, so a build walks the index once, reading only index entries.
// (A single statement numbering every row with row_number() cost SQLite ten times as
// much as the walk.)
func (db *DB) buildAnchors(ctx context.Context, tx *txn, instanceID string, reorders, total, spacing int64) (*anchorSet, error) {
	// Beyond maxAnchorsPerInstance anchors, space them wider: memory stays bounded and a
	// page still skips fewer than spacing entries.
	if need := (total + maxAnchorsPerInstance - 1) / maxAnchorsPerInstance; need > spacing {
		spacing = need
	}
	set := &anchorSet{reorders: reorders, total: total, spacing: spacing, keys: make([]anchorKey, 0, total/spacing+1)}
	var k anchorKey
	err := db.queryRow(ctx, tx, `SELECT u.created_at, u.id FROM users u WHERE u.instance_id = ?
		ORDER BY u.created_at, u.id LIMIT 1`, instanceID).Scan(&k.createdAt, &k.id)
	for err == nil {
		set.keys = append(set.keys, k)
		err = db.queryRow(ctx, tx, `SELECT u.created_at, u.id FROM users u WHERE u.instance_id = ?
			AND (u.created_at, u.id) > (?, ?) ORDER BY u.created_at, u.id LIMIT 1 OFFSET ?`,
			instanceID, k.createdAt, k.id, spacing-1).Scan(&k.createdAt, &k.id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, internal("build list anchors", err)
	}
	return set, nil
}
