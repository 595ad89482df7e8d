package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"iamd"
	"iamd/postgres"
	"iamd/sqlite"
)

// storeFlags are the flags of every command that opens the directory.
type storeFlags struct {
	dataDir     string
	databaseURL string
}

func (s *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dataDir, "data-dir", "iamd-data", "directory of the SQLite database and the master key")
	fs.StringVar(&s.databaseURL, "database-url", "", "postgres://… to use PostgreSQL instead of SQLite")
}

func (s *storeFlags) usesPostgres() bool {
	return strings.HasPrefix(s.databaseURL, "postgres://") || strings.HasPrefix(s.databaseURL, "postgresql://")
}

// open opens the store and brings its schema up to date.
func (s *storeFlags) open(ctx context.Context) (iamd.Store, error) {
	switch {
	case s.usesPostgres():
		return postgres.Open(ctx, s.databaseURL)
	case s.databaseURL != "":
		return nil, fmt.Errorf("--database-url must start with postgres:// (leave it empty for SQLite in --data-dir)")
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(s.dataDir, "iamd.db"))
}
