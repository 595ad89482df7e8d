package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxStatements bounds the cache: the queries are a fixed set, but a few are built to
// fit their arguments (a bulk insert's row count, a listing's filters), and those should
// not pile up prepared statements on every connection.
const maxStatements = 256

// statements keeps a pool's prepared statements by query text. database/sql prepares a
// *sql.Stmt lazily on each connection that runs it and keeps it there.
type statements struct {
	pool    *sql.DB
	mu      sync.Mutex
	byQuery map[string]*sql.Stmt
	pending map[string]bool
}

func newStatements(pool *sql.DB) *statements {
	return &statements{pool: pool, byQuery: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the statement for query, or nil when s is nil (statements are not kept),
// the cache is full or the statement is not ready. A statement not yet prepared is
// prepared in the background: preparing needs a connection of the pool, and the caller
// may hold the only one (SQLite's writer) in a transaction.
func (s *statements) get(query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if stmt := s.byQuery[query]; stmt != nil || s.pending[query] || len(s.byQuery)+len(s.pending) >= maxStatements {
		return stmt
	}
	s.pending[query] = true
	go s.prepare(query)
	return nil
}

func (s *statements) prepare(query string) {
	stmt, err := s.pool.PrepareContext(context.Background(), query)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pending, query)
	if err == nil {
		s.byQuery[query] = stmt
	}
	// On an error (a closed pool, a query the plain call will report) the query is left
	// unprepared and tried again on its next use.
}
