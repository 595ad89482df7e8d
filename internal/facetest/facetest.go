// Package facetest starts the core a face's tests run on: the accounts service with a
// fast password hasher, bootstrapped, the directory with the built-in roles, and a
// capture of the logs for the tests to hold free of secrets.
package facetest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/internal/logtest"
)

// Core is what Start made.
type Core struct {
	Accounts  *account.Service
	Directory *directory.Service
	Boot      *account.BootstrapResult
	Logs      *logtest.Capture
	Logger    *slog.Logger
}

// Start bootstraps store with cfg. Hashes cost next to nothing (argon2id at 64 KiB,
// one pass): tests sign in often, and the parameters are the hasher's own tests' to check.
func Start(t testing.TB, store iamd.Store, cfg account.BootstrapConfig) *Core {
	t.Helper()
	return StartWithClock(t, store, cfg, time.Now)
}

// StartWithClock is Start with the core — accounts and directory both — reading time
// from now, for a test that makes time pass by advancing its clock rather than sleeping.
func StartWithClock(t testing.TB, store iamd.Store, cfg account.BootstrapConfig, now func() time.Time) *Core {
	t.Helper()
	var key account.MasterKey
	copy(key[:], "an example master key, 32 bytes.")
	fast, err := account.NewHasher(account.Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	logs, logger := logtest.New()
	acct := account.New(store, key, account.WithHasher(fast), account.WithLogger(logger), account.WithClock(now))
	boot, err := acct.Bootstrap(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := directory.New(store, directory.WithCredentials(acct), directory.WithClock(now))
	if err := dir.EnsureBuiltinRoles(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &Core{Accounts: acct, Directory: dir, Boot: boot, Logs: logs, Logger: logger}
}

// SetPassword sets a user's password as the caller in ctx, through the core's one change.
func (c *Core) SetPassword(t testing.TB, ctx context.Context, instanceID, userID, password string, temporary bool) {
	t.Helper()
	if _, err := c.Directory.ChangeUser(ctx, instanceID, iamd.UserRef{ID: userID}, func(*iamd.User) (*iamd.UserChange, error) {
		return &iamd.UserChange{Password: &iamd.NewPassword{Clear: password, Temporary: temporary}}, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// GrantRoles makes roles a user's direct roles as the caller in ctx.
func (c *Core) GrantRoles(t testing.TB, ctx context.Context, instanceID, userID string, roles ...string) {
	t.Helper()
	if _, err := c.Directory.ChangeUser(ctx, instanceID, iamd.UserRef{ID: userID}, func(*iamd.User) (*iamd.UserChange, error) {
		return &iamd.UserChange{UserUpdate: iamd.UserUpdate{Roles: &roles}}, nil
	}); err != nil {
		t.Fatal(err)
	}
}
