// Package pgbin finds a PostgreSQL installation's server binaries and the account to
// run them as, for the tests and scripts that start their own servers.
package pgbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// Dir finds the directory of PostgreSQL's server binaries (initdb, pg_ctl, postgres):
// IAMD_PG_BIN, then the Debian and Homebrew locations of the major versions in prefer,
// then PATH, then those locations of any supported version.
func Dir(prefer ...string) (string, error) {
	candidates := []string{os.Getenv("IAMD_PG_BIN")}
	for _, v := range prefer {
		candidates = append(candidates, "/usr/lib/postgresql/"+v+"/bin", "/opt/homebrew/opt/postgresql@"+v+"/bin")
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		// A pg_ctl on PATH may be a link to the versioned directory that holds the rest.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, v := range []string{"17", "16", "15", "14"} {
		candidates = append(candidates, "/usr/lib/postgresql/"+v+"/bin", "/opt/homebrew/opt/postgresql@"+v+"/bin")
	}
	for _, dir := range candidates {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("initdb not found (install PostgreSQL or set IAMD_PG_BIN)")
}

// Credential is the postgres account's, for running a server as root: initdb and
// postgres refuse to run as root.
func Credential() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres account to run the server as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
