package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// The errors a failover brings are told apart from the ones a retry cannot cure. The
// first was met at commit under scripts/ha-test's load.
func TestUnreachableTellsAFailoverFromAFault(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"commit on a connection closed by an earlier failure", fmt.Errorf("sqlstore: commit: %w", pgconn.ErrConnClosed), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"a write reaching a standby", &pgconn.PgError{Code: "25006"}, true},
		{"deadline", context.DeadlineExceeded, false}, // sqlstore.Unreachable tells it for every engine
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"anything else", errors.New("boom"), false},
	} {
		if got := unreachable(tc.err); got != tc.want {
			t.Errorf("%s: unreachable = %t, want %t", tc.name, got, tc.want)
		}
	}
}
