package main

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// recordingPruner records the cut-offs it was asked to delete before.
type recordingPruner struct {
	mu   sync.Mutex
	cuts []time.Time
}

func (p *recordingPruner) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts = append(p.cuts, t)
	return 1, nil
}

func (p *recordingPruner) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.cuts)
}

// The retention loop prunes at once and then every interval, each time at now minus the
// retention, and stops with its context.
func TestPruneEventsRunsUntilStopped(t *testing.T) {
	p := &recordingPruner{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start := time.Now()
	go func() {
		pruneEvents(ctx, p, 48*time.Hour, 5*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	for p.count() < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	n := p.count()
	time.Sleep(20 * time.Millisecond)
	if p.count() != n {
		t.Fatal("pruning went on after its context ended")
	}
	cut := p.cuts[0]
	if want := start.Add(-48 * time.Hour); cut.Before(want.Add(-time.Second)) || cut.After(want.Add(time.Second)) {
		t.Fatalf("first cut-off %s, want about %s", cut, want)
	}
}
