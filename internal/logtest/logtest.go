// Package logtest captures what a server logs during a test, so that tests can hold
// the logs to the rule that no password, secret, hash or token ever appears in them.
package logtest

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Capture is a JSON slog destination safe for the server's goroutines.
type Capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// New returns a capture and a debug-level JSON logger writing to it.
func New() (*Capture, *slog.Logger) {
	c := &Capture{}
	return c, slog.New(slog.NewJSONHandler(c, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// String returns everything logged so far.
func (c *Capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// CheckNoSecrets fails t if nothing was logged (the check would prove nothing) or if
// any of secrets appears in the logs.
func (c *Capture) CheckNoSecrets(t testing.TB, secrets ...string) {
	t.Helper()
	logs := c.String()
	if logs == "" {
		t.Error("nothing was logged; the secrets check would prove nothing")
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a secret reached the logs: %q", s)
		}
	}
}

// CheckNoErrors fails t if anything was logged at ERROR: what a client sent wrong is
// answered to the client, never reported to the operator as the server's failure.
func (c *Capture) CheckNoErrors(t testing.TB) {
	t.Helper()
	for _, line := range strings.Split(c.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged as an error: %s", line)
		}
	}
}
