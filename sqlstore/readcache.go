package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"iamd"
)

// Reads answered from memory, on engines that can tell cheaply that nothing changed.
//
// SQLite answers PRAGMA data_version without reading a table: asked twice on one
// connection, it gives two different numbers if any other connection — of this process or
// of any other process on the same file — committed in between. The store asks it on a
// connection of its own that does nothing else, and remembers the users and credentials it
// reads together with the number it was given before it read them. A later read is
// answered from memory only when the number it is given, asked after it began, is the one
// the memory was filled at: then nothing at all was committed between the ask that
// preceded the remembered read and this one, so the remembered answer is exactly what the
// database would answer now. A read that gets any other number empties the memory first.
// So a change is seen by the very next request that begins after it committed — which is
// before the change is acknowledged to its own caller — whichever process made it, with
// no write path having to say what it changed.
//
// The price is coarse: any commit forgets everything, so under a steady stream of writes
// the memory rarely answers, and a read pays one more statement (the ask, a few
// microseconds) than without it. Reads of a directory far outnumber its writes.
//
// PostgreSQL has no such number for one round trip's price; its replicas read the database.

// readCacheSize bounds each of the remembered users and credentials; an arbitrary entry
// is forgotten to make room.
const readCacheSize = 16384

// coldSkips is how many reads skip the memory after two asks in a row found a commit.
const coldSkips = 7

// readCache is the memory; nil on engines without it, and every method of a nil
// readCache answers that it knows nothing.
type readCache struct {
	ask   sync.Mutex // one ask at a time, on conn
	pool  *sql.DB    // for PRAGMA data_version alone
	query string
	conn  *sql.Conn // taken from pool and kept: asking costs no pool look-up; nil after a failure
	stmt  *sql.Stmt // query, prepared on conn
	// observe reports each ask to the store's statement hook.
	observe func(query string)

	// coldSkips counts down the reads that skip the memory, and the ask, after two
	// asks in a row found a commit (changedLastAsk, under mu).
	coldSkips      atomic.Int32
	changedLastAsk bool

	mu     sync.RWMutex
	at     int64                            // the data version every entry holds for
	users  map[string]string                // id → the user as GetUser reads it, packed
	logins map[string]string                // instance, NUL, login key → id
	creds  map[string]*iamd.CredentialState // see credentialKey
	// instances by id: read by most requests (a listing, a create) for their policy.
	instances map[string]iamd.Instance
}

// readView is what one read was told: the data version, if the ask succeeded.
type readView struct {
	version int64
	ok      bool
}

func newReadCache(ctx context.Context, pool *sql.DB, query string) (*readCache, error) {
	pool.SetMaxOpenConns(1)
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	c := &readCache{pool: pool, query: query, observe: func(string) {}}
	c.forget(-1)
	if err := c.connect(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// connect takes the connection asks are made on; c.ask held or not yet shared.
func (c *readCache) connect(ctx context.Context) error {
	conn, err := c.pool.Conn(ctx)
	if err != nil {
		return err
	}
	stmt, err := conn.PrepareContext(ctx, c.query)
	if err != nil {
		conn.Close()
		return err
	}
	c.conn, c.stmt = conn, stmt
	return nil
}

// version asks the data version.
func (c *readCache) version(ctx context.Context) (int64, error) {
	c.ask.Lock()
	defer c.ask.Unlock()
	if c.conn == nil {
		if err := c.connect(ctx); err != nil {
			return 0, err
		}
	}
	c.observe(c.query)
	var v int64
	err := c.stmt.QueryRowContext(ctx).Scan(&v)
	if err != nil && ctx.Err() == nil { // the connection may be broken: take another next time
		c.stmt.Close()
		c.conn.Close()
		c.conn, c.stmt = nil, nil
	}
	return v, err
}

// forget drops every entry and makes version the one entries are kept for; c.mu held or
// not yet shared.
func (c *readCache) forget(version int64) {
	c.at = version
	c.users = make(map[string]string)
	c.logins = make(map[string]string)
	c.creds = make(map[string]*iamd.CredentialState)
	c.instances = make(map[string]iamd.Instance)
}

// readScope lets the reads of one request share one ask (see ScopeReads).
type readScope struct {
	mu      sync.Mutex
	view    readView
	commits uint64 // the process's commits counted before view was asked
}

type readScopeKey struct{}

// ScopeReads returns a context under which the store's reads share one ask of the data
// version, made by the first of them (a server derives each request's context with it).
// Every commit of the store's own process voids that ask, so a request that writes and
// then reads sees its write; a commit of another process after the ask may be missed
// by the reads that follow it in the same request, which began before that commit was
// made and are answered as of the ask. Outside a scope, every read asks.
func (db *DB) ScopeReads(ctx context.Context) context.Context {
	if db.cache == nil {
		return ctx
	}
	return context.WithValue(ctx, readScopeKey{}, &readScope{})
}

// begin asks the data version for a read that begins now, or takes the answer of its
// scope's ask if nothing has been committed by this process since.
func (db *DB) begin(ctx context.Context) readView {
	c := db.cache
	if c == nil {
		return readView{}
	}
	scope, _ := ctx.Value(readScopeKey{}).(*readScope)
	if scope == nil {
		return c.begin(ctx)
	}
	scope.mu.Lock()
	defer scope.mu.Unlock()
	commits := db.commits.Load()
	if scope.view.ok && scope.commits == commits && c.holdsFor(scope.view) {
		return scope.view
	}
	scope.view, scope.commits = c.begin(ctx), commits
	return scope.view
}

// begin asks the data version for a read that begins now, forgetting everything if it
// is not the one the memory holds for.
func (c *readCache) begin(ctx context.Context) readView {
	if c == nil {
		return readView{}
	}
	if c.coldSkips.Load() > 0 && c.coldSkips.Add(-1) >= 0 {
		return readView{}
	}
	v, err := c.version(ctx)
	if err != nil {
		return readView{}
	}
	c.mu.RLock()
	same, changedLast := c.at == v, c.changedLastAsk
	c.mu.RUnlock()
	if !same {
		c.mu.Lock()
		if c.at != v {
			// Two asks in a row that each found a commit: under a stream of writes,
			// the next ask would likely find another, so reads go straight to the
			// database for a while.
			if c.changedLastAsk {
				c.coldSkips.Store(coldSkips)
			}
			c.forget(v)
		}
		c.changedLastAsk = true
		c.mu.Unlock()
	} else if changedLast {
		c.mu.Lock()
		c.changedLastAsk = false
		c.mu.Unlock()
	}
	return readView{version: v, ok: true}
}

// holdsFor reports whether the memory still holds for view's version: another read may
// have found a newer one since.
func (c *readCache) holdsFor(view readView) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.at == view.version
}

// still reports whether nothing was committed since view was asked.
func (c *readCache) still(ctx context.Context, view readView) bool {
	if !view.ok {
		return false
	}
	now := c.begin(ctx)
	return now.ok && now.version == view.version
}

func userKey(instanceID, id string) string { return instanceID + "\x00" + id }

// recall returns what open makes of the entry for key of the map pick chooses, if there
// is one and it holds for view.
func recall[V, R any](c *readCache, view readView, pick func(*readCache) map[string]V, key string, open func(V) *R) *R {
	if !view.ok {
		return nil
	}
	c.mu.RLock()
	v, ok := pick(c)[key]
	ok = ok && c.at == view.version
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	return open(v)
}

// remember runs put, under the lock, if view is still the version the memory holds for.
func (c *readCache) remember(view readView, put func()) {
	if !view.ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at == view.version {
		put()
	}
}

func pickInstances(c *readCache) map[string]iamd.Instance           { return c.instances }
func pickUsers(c *readCache) map[string]string                      { return c.users }
func pickCredentials(c *readCache) map[string]*iamd.CredentialState { return c.creds }

// user returns a copy of the remembered user, or nil. Users are remembered by id alone,
// unique across instances (the users table's key), and answered only in their own.
func (c *readCache) user(view readView, instanceID, id string) *iamd.User {
	u := recall(c, view, pickUsers, id, unpackUser)
	if u == nil || u.InstanceID != instanceID {
		return nil
	}
	return u
}

// listedPage sets users[i] to the remembered user of ids[i], as a listing with filter f
// reads it, for each one the memory holds, and returns the indexes of those it lacks.
func (c *readCache) listedPage(view readView, instanceID string, ids []string, f iamd.UserFilter, users []iamd.User) (missing []int) {
	if !view.ok {
		missing = make([]int, len(ids))
		for i := range missing {
			missing[i] = i
		}
		return missing
	}
	packed := make([]string, len(ids))
	c.mu.RLock()
	if c.at == view.version {
		for i, id := range ids {
			packed[i] = c.users[id]
		}
	}
	c.mu.RUnlock()
	for i, p := range packed {
		if p != "" {
			if unpackUserInto(&users[i], p); users[i].InstanceID == instanceID {
				trimListed(&users[i], f)
				continue
			}
			users[i] = iamd.User{}
		}
		missing = append(missing, i)
	}
	return missing
}

// userByLogin returns a copy of the remembered user with that login key, or nil.
func (c *readCache) userByLogin(view readView, instanceID, loginKey string) *iamd.User {
	if !view.ok {
		return nil
	}
	c.mu.RLock()
	id, ok := c.logins[userKey(instanceID, loginKey)]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	return c.user(view, instanceID, id)
}

// putUser remembers u, read after view was asked, as GetUser reads it.
func (c *readCache) putUser(view readView, u *iamd.User) { c.putUsers(view, []iamd.User{*u}) }

// instance returns a copy of the remembered instance, or nil.
func (c *readCache) instance(view readView, id string) *iamd.Instance {
	return recall(c, view, pickInstances, id, func(inst iamd.Instance) *iamd.Instance { return &inst })
}

// putInstance remembers inst, read after view was asked.
func (c *readCache) putInstance(view readView, inst *iamd.Instance) {
	c.remember(view, func() {
		makeRoom(c.instances)
		c.instances[inst.ID] = *inst
	})
}

// putUsers remembers users, read after view was asked, as GetUser reads them.
func (c *readCache) putUsers(view readView, users []iamd.User) {
	if !view.ok {
		return
	}
	packed := make([]string, len(users))
	for i := range users {
		packed[i] = packUser(&users[i])
	}
	c.remember(view, func() {
		for i, u := range users {
			makeRoom(c.users)
			makeRoom(c.logins)
			c.users[u.ID] = packed[i]
			c.logins[userKey(u.InstanceID, iamd.LoginKey(u.LoginName))] = u.ID
		}
	})
}

// hasRoom reports whether the memory can remember n more users without forgetting any.
func (c *readCache) hasRoom(n int) bool {
	if c == nil {
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.users)+n <= readCacheSize
}

// credentialKey names a credential check: its kind and its id or hash.
func credentialKey(kind string, key []byte) string { return kind + string(key) }

// credential returns a copy of the remembered check, or nil.
func (c *readCache) credential(view readView, key string) *iamd.CredentialState {
	return recall(c, view, pickCredentials, key, cloneCredential)
}

func (c *readCache) putCredential(view readView, key string, s *iamd.CredentialState) {
	s = cloneCredential(s)
	c.remember(view, func() {
		makeRoom(c.creds)
		c.creds[key] = s
	})
}

func (c *readCache) close() error {
	if c == nil {
		return nil
	}
	c.ask.Lock()
	if c.conn != nil {
		c.stmt.Close()
		c.conn.Close()
	}
	c.ask.Unlock()
	return c.pool.Close()
}

// makeRoom forgets an arbitrary entry of m if it holds readCacheSize.
func makeRoom[V any](m map[string]V) {
	if len(m) < readCacheSize {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// listedUser is u, as GetUser reads it, as a listing with filter f reads it: its row,
// with its roles and groups only if f asks for them.
func listedUser(u *iamd.User, f iamd.UserFilter) iamd.User {
	l := *u
	trimListed(&l, f)
	return l
}

// trimListed drops from u, as GetUser reads it, what a listing with filter f does not read.
func trimListed(u *iamd.User, f iamd.UserFilter) {
	u.Privileges, u.PasswordHistoryCount = nil, 0
	if !f.WithRoles {
		u.Roles = nil
	}
	if !f.WithGroups {
		u.Groups, u.InheritedGroups = nil, nil
	}
}

func cloneCredential(s *iamd.CredentialState) *iamd.CredentialState {
	c := *s
	c.SecretEncrypted = slices.Clone(s.SecretEncrypted)
	c.ExpiresAt, c.LastUsedAt, c.RevokedAt = cloneTime(s.ExpiresAt), cloneTime(s.LastUsedAt), cloneTime(s.RevokedAt)
	return &c
}

// RememberReads makes the store answer reads of users and credentials from memory while
// query, asked on pool, answers the same number (SQLite's PRAGMA data_version; see
// readCache). The store owns pool and closes it with itself. Call it once, before the
// store is used.
func (db *DB) RememberReads(ctx context.Context, pool *sql.DB, query string) error {
	c, err := newReadCache(ctx, pool, query)
	if err != nil {
		return internal("remember reads", err)
	}
	c.observe = db.observe
	db.cache = c
	return nil
}
