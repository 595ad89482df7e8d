// Package servertest runs a real iamd server for a test: its listeners on loopback
// ports, stopped when the test ends.
package servertest

import (
	"context"
	"testing"

	"iamd/server"
)

// Serve starts a server with cfg (Addr defaults to a free loopback port) and returns
// the base URL of each listener by name ("main", or a face's name).
func Serve(t testing.TB, cfg server.Config) map[string]string {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	urls := map[string]string{}
	for name, addr := range srv.Addrs() {
		urls[name] = "http://" + addr
	}
	return urls
}
