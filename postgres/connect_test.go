package postgres_test

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"iamd/internal/pgtest"
	"iamd/postgres"
)

// A host that accepts a connection and then says nothing (a primary whose machine is
// gone, behind a network that drops rather than refuses) costs one connect timeout, after
// which the next host of a multi-host URL is tried: no request waits minutes on it.
func TestSilentHostCostsOneConnectTimeout(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	real, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	q := real.Query()
	q.Set("host", "127.0.0.1,"+q.Get("host"))
	q.Set("port", strconv.Itoa(silent.Addr().(*net.TCPAddr).Port)+",5432")
	real.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	store, err := postgres.Open(ctx, real.String())
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("the second host was not reached: %v", err)
	}
	store.Close()
	if elapsed < postgres.DefaultConnectTimeout || elapsed > 3*postgres.DefaultConnectTimeout {
		t.Fatalf("opening took %s, want about one connect timeout (%s)", elapsed, postgres.DefaultConnectTimeout)
	}
}
