// Package postgres is the scale-out store: any number of iamd replicas on one PostgreSQL
// database, through pgx. Nothing lives only in a replica's memory.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"iamd/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockKey is the advisory lock replicas take while migrating: "iamd" in ASCII.
const migrationLockKey = 0x69616d64

// DefaultMaxConns bounds each replica's pool; PostgreSQL's own default limit is 100
// connections, to be shared by every replica.
const DefaultMaxConns = 20

var dialect = sqlstore.Dialect{
	Name:           "postgres",
	NumberedParams: true,
	Classify:       classify,
	// Index-only scans, which deep offsets walk, need the visibility map that VACUUM
	// keeps; the planner needs the statistics ANALYZE gathers.
	Maintenance: []string{`VACUUM (ANALYZE) users`, `VACUUM (ANALYZE) group_members`},
	Snapshot:    &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	// Replicas share the database, so the lock must be the database's own.
	LockRights:  `SELECT pg_advisory_xact_lock(hashtextextended('iamd rights ' || CAST(? AS TEXT), 0))`,
	ShareRights: `SELECT pg_advisory_xact_lock_shared(hashtextextended('iamd rights ' || CAST(? AS TEXT), 0))`,
	LockMigrations: func(ctx context.Context, conn *sql.Conn) (func(), error) {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return nil, err
		}
		return func() {
			conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		}, nil
	},
}

// DefaultConnectTimeout bounds each attempt to connect to a host when the URL sets no
// connect_timeout: a primary whose machine is gone answers nothing, and without a bound
// a request would wait for the kernel to give up on it (minutes), where it should get a
// 503 and the pool should go on to the next host of a multi-host URL.
const DefaultConnectTimeout = 5 * time.Second

// Open connects to the database at url (postgres://…, libpq's multi-host form too) and
// brings its schema up to date.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	db, err := openPool(url)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := sqlstore.Migrate(ctx, db, dialect, migrations, "migrations"); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return sqlstore.New(db, db, dialect), nil
}

// openPool opens a pool of connections to url, with the connect timeout's default.
func openPool(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(DefaultMaxConns)
	db.SetMaxIdleConns(DefaultMaxConns)
	return db, nil
}

// ReadStandby sends store's listings and searches that may lag to the standby (or pool
// of standbys) at url; the rest stays on the primary. A standby that cannot be reached
// makes those listings answer EUNAVAILABLE, as the primary would.
func ReadStandby(store *sqlstore.DB, url string) error {
	pool, err := openPool(url)
	if err != nil {
		return err
	}
	store.ReadStandby(pool)
	return nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver

func init() { sqlstore.RegisterUnreachable(unreachable) }

// unreachable tells PostgreSQL's errors of a server that cannot serve iamd for now: no
// connection could be made, the server is shutting down or starting (57P01–57P03), the
// connection broke (08…), or the server is a standby that a failover has not promoted
// yet, or a demoted primary (25006, a write to a read-only transaction). A connection
// that broke under an earlier statement of the transaction fails the next one, commit
// included, before sending it (pgconn.ErrConnClosed).
func unreachable(err error) bool {
	var connect *pgconn.ConnectError
	if errors.As(err, &connect) || pgconn.Timeout(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	return strings.HasPrefix(e.Code, "08") || strings.HasPrefix(e.Code, "57P") || e.Code == "25006"
}

func classify(err error) (sqlstore.Violation, string) {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.NoViolation, ""
	}
	switch e.Code {
	case "23505":
		return sqlstore.UniqueViolation, e.ConstraintName
	case "23503":
		return sqlstore.ForeignKeyViolation, e.ConstraintName
	case "40P01", "40001":
		return sqlstore.Deadlock, ""
	}
	return sqlstore.NoViolation, ""
}
