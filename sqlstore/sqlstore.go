// Package sqlstore implements iamd.Store over database/sql. The sqlite and postgres
// packages open their engines and hand them to it with a Dialect: the queries are
// written once, in the SQL both engines speak.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"iamd"
)

// Violation is the kind of integrity constraint a statement broke.
type Violation int

const (
	NoViolation Violation = iota
	UniqueViolation
	ForeignKeyViolation
	// Deadlock is a transaction the engine aborted to break a cycle of waits (or a
	// serialization failure): run again, it succeeds.
	Deadlock
)

// Dialect is what differs between engines.
type Dialect struct {
	Name string
	// CreatesKeepAnchors says the schema counts only the inserts that land before an
	// existing user as reorders, so that list anchors hold across creates (SQLite's
	// migration 0016); otherwise every insert and delete counts.
	CreatesKeepAnchors bool
	// PrefixRanges compiles a starts-with filter to a range of the column besides the
	// LIKE (see matchSQL): for engines whose LIKE cannot seek an expression index and
	// whose text compares in byte order.
	PrefixRanges bool
	// NoIndex is what, written before a column, keeps the engine from reading that
	// column's index for a condition ("+" in SQLite), so that a search walks the login
	// order instead; "" where the planner's statistics choose well (PostgreSQL).
	NoIndex string
	// NumberedParams rewrites '?' placeholders as $1, $2, … (PostgreSQL).
	NumberedParams bool
	// Classify tells which constraint, if any, err reports as broken, and its name or
	// the engine's description of it.
	Classify func(err error) (Violation, string)
	// LockMigrations serializes migrations across processes sharing the database; the
	// returned function releases the lock. Nil when the engine's write lock suffices.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// Maintenance is what the engine's background upkeep does to a table after bulk
	// writes (PostgreSQL's autovacuum), run outside any transaction by Maintain.
	Maintenance []string
	// Snapshot begins a read transaction whose statements all see one snapshot; nil
	// when the engine's default transaction already does (SQLite in WAL mode).
	Snapshot *sql.TxOptions
	// PrepareStatements keeps each query prepared on every connection that ran it, for
	// drivers that would otherwise parse it anew on every call (SQLite: parsing was half
	// of a look-up's CPU). pgx keeps its own per-connection statement cache.
	PrepareStatements bool
	// LockRights and ShareRights take a transaction-long lock on the rights of one
	// instance's users (their one parameter is the instance), exclusive and shared; empty
	// when the engine has one writer. See lockRights.
	LockRights, ShareRights string
	// GroupCommit batches concurrent write transactions into one (see committer), for
	// engines with a single writer.
	GroupCommit bool
}

// DB is an iamd.Store. Writes go to one pool and reads to another, so that SQLite can
// keep a single writer while readers proceed; on PostgreSQL both are the same pool.
type DB struct {
	write   *sql.DB
	read    *sql.DB
	standby *sql.DB // reads that may lag, when set (ReadStandby)
	dialect Dialect
	// Prepared statements, per pool, when the dialect asks for them.
	writeStmts, readStmts *statements
	committer             *committer    // nil unless the dialect asks for group commit
	checkpointer          *checkpointer // nil unless CheckpointInBackground was called
	// hook, when set, sees every statement the store sends (see SetStatementHook).
	hook atomic.Pointer[func(query string)]
	// anchors let unfiltered listings seek instead of skipping (see anchors.go).
	anchors *anchorCache
	// cache answers reads from memory while nothing was committed (see readcache.go);
	// nil unless RememberReads was called.
	cache *readCache
	// commits counts the writes this process committed (see readScope).
	commits atomic.Uint64
	// background runs the work requests start and do not wait for (anchor builds):
	// Close cancels it and waits for it to end before closing the pools.
	background backgroundWork
}

// SetStatementHook makes the store call fn with the text of every statement it sends,
// before it sends it: tests count the statements a request costs. Nil removes it.
// Transaction control (BEGIN, COMMIT, savepoints) and Ping are not reported.
func (db *DB) SetStatementHook(fn func(query string)) {
	if fn == nil {
		db.hook.Store(nil)
		return
	}
	db.hook.Store(&fn)
}

// observe reports query to the statement hook, if any.
func (db *DB) observe(query string) {
	if fn := db.hook.Load(); fn != nil {
		(*fn)(query)
	}
}

var _ iamd.Store = (*DB)(nil)

// Maintain runs the dialect's maintenance statements now rather than whenever the engine
// gets to them, so that measurements taken right after a bulk load see the steady state.
func (db *DB) Maintain(ctx context.Context) error {
	for _, stmt := range db.dialect.Maintenance {
		if _, err := db.write.ExecContext(ctx, stmt); err != nil {
			return internal("maintain", err)
		}
	}
	return nil
}

// New returns a store over the given pools, which must already be migrated.
func New(write, read *sql.DB, d Dialect) *DB {
	db := &DB{write: write, read: read, dialect: d, anchors: newAnchorCache()}
	db.background.ctx, db.background.cancel = context.WithCancel(context.Background())
	if d.PrepareStatements {
		db.writeStmts, db.readStmts = newStatements(write), newStatements(read)
		if read == write {
			db.readStmts = db.writeStmts
		}
	}
	if d.GroupCommit {
		db.committer = newCommitter(db)
	}
	return db
}

// ReadStandby sends the listings and searches that may lag (UserFilter.MayLag,
// GroupFilter.MayLag) to pool: a standby, or a pool of them. Everything else, and every
// write, stays on the primary.
func (db *DB) ReadStandby(pool *sql.DB) { db.standby = pool }

// readFor returns the pool a read may use: the standby when it may lag and there is one.
func (db *DB) readFor(mayLag bool) *sql.DB {
	if mayLag && db.standby != nil {
		return db.standby
	}
	return db.read
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes both pools.
func (db *DB) Close() error {
	db.background.stop()
	if db.committer != nil {
		db.committer.close()
	}
	var err error
	if db.checkpointer != nil {
		err = db.checkpointer.close()
	}
	err = errors.Join(err, db.cache.close(), db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if db.standby != nil {
		err = errors.Join(err, db.standby.Close())
	}
	return err
}

// bind rewrites '?' placeholders for engines that number them. Queries never hold '?'
// inside literals.
func (db *DB) bind(q string) string {
	if !db.dialect.NumberedParams || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is a pool (db.read, db.write) or a transaction (*txn).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txn is a transaction and the prepared statements of the pool it came from.
type txn struct {
	*sql.Tx
	stmts *statements
	// detached: statements ignore their context's cancellation (a batched commit).
	detached bool
}

// inSnapshot runs fn in a read-only transaction whose statements all see one snapshot.
func (db *DB) inSnapshot(ctx context.Context, fn func(tx *txn) error) error {
	return db.inSnapshotOn(ctx, db.read, fn)
}

// inSnapshotOn is inSnapshot on pool.
func (db *DB) inSnapshotOn(ctx context.Context, pool *sql.DB, fn func(tx *txn) error) error {
	tx, err := pool.BeginTx(ctx, db.dialect.Snapshot)
	if err != nil {
		return internal("begin", err)
	}
	defer tx.Rollback() // nothing to commit
	stmts := db.readStmts
	if pool != db.read {
		stmts = nil // prepared on the read pool only
	}
	return fn(&txn{Tx: tx, stmts: stmts})
}

// inTx runs fn in a write transaction and commits if it returns nil. With group commit
// the transaction may be shared with other callers' (see committer), each in a savepoint.
func (db *DB) inTx(ctx context.Context, fn func(tx *txn) error) error {
	if db.committer != nil {
		return db.committer.submit(ctx, fn)
	}
	return db.runTx(ctx, fn)
}

// runTx runs fn in a write transaction of its own.
func (db *DB) runTx(ctx context.Context, fn func(tx *txn) error) error {
	// The lock orders keep writers from waiting on each other in a cycle; should two
	// still meet one, the engine aborts one of them, which runs again from the start.
	for attempt := 1; ; attempt++ {
		err := db.runTxOnce(ctx, fn)
		if err == nil || db.dialect.Classify == nil || attempt == 3 || ctx.Err() != nil {
			return err
		}
		if v, _ := db.dialect.Classify(err); v != Deadlock {
			return err
		}
	}
}

func (db *DB) runTxOnce(ctx context.Context, fn func(tx *txn) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return internal("begin", err)
	}
	if err := fn(&txn{Tx: tx, stmts: db.writeStmts}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal("commit", err)
	}
	db.committed()
	return nil
}

// prepared returns query prepared for q, or nil when it is to be sent as text this time
// (see statements.get).
func (db *DB) prepared(ctx context.Context, q querier, query string) *sql.Stmt {
	switch q := q.(type) {
	case *txn:
		if stmt := q.stmts.get(query); stmt != nil {
			// Reuses the statement already prepared on the transaction's connection, or
			// prepares it there; closed with the transaction.
			return q.StmtContext(ctx, stmt)
		}
	case *sql.DB:
		switch q {
		case db.write:
			return db.writeStmts.get(query)
		case db.read:
			return db.readStmts.get(query)
		}
	}
	return nil
}

// detach drops ctx's cancellation for statements of a batched transaction.
func detach(ctx context.Context, q querier) context.Context {
	if t, ok := q.(*txn); ok && t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	ctx, query = detach(ctx, q), db.bind(query)
	db.observe(query)
	if q == querier(db.write) { // a statement of its own: it commits when it returns
		defer db.committed()
	}
	if stmt := db.prepared(ctx, q, query); stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	ctx, query = detach(ctx, q), db.bind(query)
	db.observe(query)
	if stmt := db.prepared(ctx, q, query); stmt != nil {
		return stmt.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	ctx, query = detach(ctx, q), db.bind(query)
	db.observe(query)
	if stmt := db.prepared(ctx, q, query); stmt != nil {
		return stmt.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

// internal wraps an unexpected database error: its text goes to logs, never to clients.
func internal(op string, err error) error {
	if iamd.ErrorCode(err) != iamd.EINTERNAL {
		return err // already a domain error
	}
	if Unreachable(err) {
		return &iamd.Error{Code: iamd.EUNAVAILABLE, Message: "The directory's database cannot be reached right now; try again shortly."}
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// unreachableChecks tell an engine's errors of a database that cannot be reached.
var unreachableChecks []func(error) bool

// RegisterUnreachable adds an engine's test for errors that mean its server cannot be
// reached, or will not take writes, for now (a failover under way).
func RegisterUnreachable(check func(error) bool) {
	unreachableChecks = append(unreachableChecks, check)
}

// Unreachable reports whether err means the database cannot be reached for now: the
// connection was refused, reset or closed, the request's deadline passed waiting for
// it, or an engine says so.
func Unreachable(err error) bool {
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	for _, check := range unreachableChecks {
		if check(err) {
			return true
		}
	}
	return false
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

func (db *DB) insertEvent(ctx context.Context, q querier, ev iamd.Event) error {
	_, err := db.exec(ctx, q, `INSERT INTO events
		(instance_id, actor_id, actor_name, action, target_type, target_id, outcome, reason, source, face, changes, time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.InstanceID, ev.ActorID, ev.ActorName, ev.Action, ev.TargetType, ev.TargetID,
		ev.Outcome, ev.Reason, ev.Source, ev.Face, strings.Join(ev.Changes, ","), micros(ev.Time))
	if err != nil {
		return internal("insert event", err)
	}
	return nil
}

// AppendEvent records an event that goes with no change, such as a failed sign-in.
func (db *DB) AppendEvent(ctx context.Context, ev iamd.Event) error {
	return db.insertEvent(ctx, db.write, ev)
}

// ListEvents returns an instance's events, newest first. Each filter but time has an
// index (instance_id, column, id) that yields its events newest first; since and until
// bound the walk of one of them.
func (db *DB) ListEvents(ctx context.Context, f iamd.EventFilter) ([]iamd.Event, error) {
	where := []string{"instance_id = ?"}
	args := []any{f.InstanceID}
	for _, c := range []struct {
		column, value string
	}{{"target_id", f.TargetID}, {"actor_id", f.ActorID}, {"action", f.Action}} {
		if c.value != "" {
			where = append(where, c.column+" = ?")
			args = append(args, c.value)
		}
	}
	if !f.Since.IsZero() {
		where = append(where, "time >= ?")
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < ?")
		args = append(args, micros(f.Until))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 || limit > iamd.MaxPageSize {
		limit = iamd.MaxPageSize
	}
	args = append(args, limit)
	rows, err := db.query(ctx, db.read, `SELECT id, instance_id, actor_id, actor_name, action, target_type,
		target_id, outcome, reason, source, face, changes, time FROM events WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, internal("list events", err)
	}
	defer rows.Close()
	var out []iamd.Event
	for rows.Next() {
		var ev iamd.Event
		var t int64
		var changes string
		if err := rows.Scan(&ev.ID, &ev.InstanceID, &ev.ActorID, &ev.ActorName, &ev.Action, &ev.TargetType,
			&ev.TargetID, &ev.Outcome, &ev.Reason, &ev.Source, &ev.Face, &changes, &t); err != nil {
			return nil, internal("scan event", err)
		}
		ev.Time = fromMicros(t)
		if changes != "" {
			ev.Changes = strings.Split(changes, ",")
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list events", err)
	}
	return out, nil
}

// pruneBatch bounds one retention delete, so that the single writer is never held long.
const pruneBatch = 5000

// DeleteEventsBefore removes every instance's events older than t, a batch at a time.
// It keeps the newest event whatever its age, so that no id a cursor holds is ever given
// again (SQLite's next rowid is the largest plus one).
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	var total int64
	for {
		res, err := db.exec(ctx, db.write, `DELETE FROM events WHERE id IN (SELECT id FROM events
			WHERE time < ? AND id < (SELECT max(id) FROM events) ORDER BY time LIMIT ?)`, micros(t), pruneBatch)
		if err != nil {
			return total, internal("delete old events", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, internal("delete old events", err)
		}
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}

// instanceColumns lists the columns scanInstance reads, in its order.
const instanceColumns = `id, name, created_at, duplicate_group_names, password_min_length, password_history,
	password_max_age, lockout_threshold, lockout_duration`

func scanInstance(r rowScanner) (*iamd.Instance, error) {
	var inst iamd.Instance
	var created, maxAge, lockFor int64
	p := &inst.Policy
	if err := r.Scan(&inst.ID, &inst.Name, &created, &inst.DuplicateGroupNames, &p.PasswordMinLength, &p.PasswordHistory,
		&maxAge, &p.LockoutThreshold, &lockFor); err != nil {
		return nil, err
	}
	inst.CreatedAt = fromMicros(created)
	p.PasswordMaxAge, p.LockoutDuration = time.Duration(maxAge)*time.Second, time.Duration(lockFor)*time.Second
	return &inst, nil
}

func policyArgs(p iamd.AccountPolicy) []any {
	return []any{p.PasswordMinLength, p.PasswordHistory, int64(p.PasswordMaxAge / time.Second),
		p.LockoutThreshold, int64(p.LockoutDuration / time.Second)}
}

// CreateInstance stores a new instance; ECONFLICT when its id is taken.
func (db *DB) CreateInstance(ctx context.Context, inst *iamd.Instance, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		_, err := db.exec(ctx, tx, `INSERT INTO instances (`+instanceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append([]any{inst.ID, inst.Name, micros(inst.CreatedAt), inst.DuplicateGroupNames}, policyArgs(inst.Policy)...)...)
		if v, _ := db.dialect.Classify(err); v == UniqueViolation {
			return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldInstanceID,
				Message: fmt.Sprintf("An instance with id %q already exists.", inst.ID)}
		} else if err != nil {
			return internal("insert instance", err)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// DeleteInstance removes an instance and everything of it but its events. Users, groups
// and roles go by their own rows (credentials, memberships and grants cascade from
// them). The instance's row of user_counts stays, emptied, so that its reorders counter
// never restarts: a server still holding list anchors for the id sees them stale, even
// once an instance of the same id is created again.
func (db *DB) DeleteInstance(ctx context.Context, id string, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		var admins int
		if err := db.queryRow(ctx, tx, `SELECT count(*) FROM users WHERE instance_id = ? AND platform_admin`, id).Scan(&admins); err != nil {
			return internal("delete instance", err)
		}
		if admins > 0 {
			return &iamd.Error{Code: iamd.ECONFLICT, Field: iamd.FieldInstanceID,
				Message: fmt.Sprintf("The instance %q holds the platform's administrator and cannot be deleted.", id)}
		}
		for _, stmt := range []string{`DELETE FROM users WHERE instance_id = ?`, `DELETE FROM groups WHERE instance_id = ?`,
			`DELETE FROM roles WHERE instance_id = ?`, `UPDATE user_counts SET users = 0, reorders = reorders + 1 WHERE instance_id = ?`} {
			if _, err := db.exec(ctx, tx, stmt, id); err != nil {
				return internal("delete instance", err)
			}
		}
		res, err := db.exec(ctx, tx, `DELETE FROM instances WHERE id = ?`, id)
		if err != nil {
			return internal("delete instance", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", id)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// SetAccountPolicy replaces an instance's account policy.
func (db *DB) SetAccountPolicy(ctx context.Context, instanceID string, p iamd.AccountPolicy, ev iamd.Event) error {
	return db.inTx(ctx, func(tx *txn) error {
		res, err := db.exec(ctx, tx, `UPDATE instances SET password_min_length = ?, password_history = ?,
			password_max_age = ?, lockout_threshold = ?, lockout_duration = ? WHERE id = ?`,
			append(policyArgs(p), instanceID)...)
		if err != nil {
			return internal("set policy", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", instanceID)
		}
		return db.insertEvent(ctx, tx, ev)
	})
}

// GetInstance returns one instance.
func (db *DB) GetInstance(ctx context.Context, id string) (*iamd.Instance, error) {
	view := db.begin(ctx)
	if inst := db.cache.instance(view, id); inst != nil {
		return inst, nil
	}
	inst, err := scanInstance(db.queryRow(ctx, db.read, `SELECT `+instanceColumns+` FROM instances WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, iamd.Errorf(iamd.ENOTFOUND, "No instance with id %q.", id)
	} else if err != nil {
		return nil, internal("get instance", err)
	}
	db.cache.putInstance(view, inst)
	return inst, nil
}

// ListInstances returns every instance, by id.
func (db *DB) ListInstances(ctx context.Context) ([]iamd.Instance, error) {
	rows, err := db.query(ctx, db.read, `SELECT `+instanceColumns+` FROM instances ORDER BY id`)
	if err != nil {
		return nil, internal("list instances", err)
	}
	defer rows.Close()
	var out []iamd.Instance
	for rows.Next() {
		inst, err := scanInstance(rows)
		if err != nil {
			return nil, internal("scan instance", err)
		}
		out = append(out, *inst)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list instances", err)
	}
	return out, nil
}
