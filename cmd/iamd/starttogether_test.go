package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"iamd/internal/pgtest"
)

// Replicas an orchestrator starts at the same moment on an empty database all come up:
// migrations, the instance, the built-in roles and users, the administrator and its
// keys are made once, whoever gets there first.
func TestReplicasStartTogether(t *testing.T) {
	url := pgtest.NewDatabase(t)
	t.Setenv("IAMD_DATA_DIR", t.TempDir())
	t.Setenv("IAMD_MASTER_KEY", base64.StdEncoding.EncodeToString([]byte("a shared master key of 32 bytes!")))
	t.Setenv("IAMD_DEFAULT_INSTANCE", "default")
	t.Setenv("IAMD_ADMIN_PASSWORD", "the shared admin passphrase")
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", "AKTOGETHER01")
	t.Setenv("IAMD_ADMIN_SECRET_KEY", "a shared secret key of forty characters..")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "iamd_together_token_0123456789abcdef")
	const replicas = 6
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make([]string, replicas)
	errs := make(chan error, replicas)
	logs := make([]*syncBuffer, replicas)
	var started sync.WaitGroup
	start := make(chan struct{})
	for i := range replicas {
		addrs[i], logs[i] = freeAddr(t), &syncBuffer{}
		started.Add(1)
		go func() {
			started.Done()
			<-start
			errs <- run(ctx, []string{"serve", "--addr", addrs[i], "--database-url", url}, &bytes.Buffer{}, logs[i])
		}()
	}
	started.Wait()
	close(start)
	deadline := time.Now().Add(60 * time.Second)
	for i, addr := range addrs {
		awaitReady(t, addr, errs, logs[i], deadline)
	}
	// Each serves the one administrator, with the one token.
	for _, addr := range addrs {
		req, _ := http.NewRequest("GET", "http://"+addr+"/iamd/v1/instances/default/users?login_name=admin", nil)
		req.Header.Set("Authorization", "Bearer iamd_together_token_0123456789abcdef")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Count(body.String(), `"login_name":"admin"`) != 1 {
			t.Fatalf("%s: %d %s", addr, resp.StatusCode, body.String())
		}
	}
	cancel()
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("a replica stopped with %v", err)
		}
	}
}
