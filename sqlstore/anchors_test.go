package sqlstore

import (
	"testing"
	"time"
)

// Anchors that hold serve the users created after them, and once those are many, a
// new build is asked for while the anchors still serve the pages they cover.
func TestAnchorsAskForABuildOnceManyUsersFollowThem(t *testing.T) {
	c := newAnchorCache()
	c.interval = 0
	const reorders, total = 3, 1_000_000
	if set, build, _ := c.lookup("i", reorders, total, 500); set != nil || !build {
		t.Fatalf("no anchors yet: %v, build %v; want a build", set, build)
	}
	built := &anchorSet{reorders: reorders, total: total, spacing: 100}
	c.done("i", built)

	few := int64(total + total/64 - 1)
	if set, build, _ := c.lookup("i", reorders, few, 500); set != built || build {
		t.Errorf("%d users created since: %v, build %v; want the anchors, no build", few-total, set, build)
	}
	many := int64(total + total/64)
	set, build, _ := c.lookup("i", reorders, many, 500)
	if set != built || !build {
		t.Fatalf("%d users created since: %v, build %v; want the anchors and a build", many-total, set, build)
	}
	if set, build, _ := c.lookup("i", reorders, many, 500); set != built || build {
		t.Errorf("while a build runs: %v, build %v; want the anchors, no second build", set, build)
	}
	c.done("i", &anchorSet{reorders: reorders, total: many, spacing: 100})

	for _, moved := range []struct {
		reorders, total int64
	}{{reorders + 1, many}, {reorders, many - 1}} {
		c.interval = time.Hour
		if set, _, _ := c.lookup("i", moved.reorders, moved.total, 500); set != nil {
			t.Errorf("reorders %d, %d users: anchors built at reorders %d and %d users served", moved.reorders, moved.total, reorders, many)
		}
	}
}

// Builds wasted by a stream of writes make the next wait longer; once the writes stop
// for an interval, a build is allowed again without waiting out the rest.
func TestAnchorsWaitOnlyWhileWritesGoOn(t *testing.T) {
	c := newAnchorCache()
	c.interval = 100 * time.Millisecond
	reorders := int64(1)
	// Each build is stale before anything uses it: the wait doubles each time.
	for range 4 {
		_, build, _ := c.lookup("i", reorders, 100_000, 500)
		if !build {
			t.Fatalf("reorders %d: no build after the wait", reorders)
		}
		c.done("i", &anchorSet{reorders: reorders, total: 100_000, spacing: 100})
		reorders++
		c.mu.Lock()
		c.byInstance["i"].lastTry = time.Now().Add(-c.byInstance["i"].wait) // the wait is over
		c.mu.Unlock()
	}
	c.mu.Lock()
	wait := c.byInstance["i"].wait
	c.mu.Unlock()
	if wait < 8*c.interval {
		t.Fatalf("after 4 wasted builds the wait is %v, want at least %v", wait, 8*c.interval)
	}
	_, build, _ := c.lookup("i", reorders, 100_000, 500)
	if !build {
		t.Fatal("the wait was over, yet no build")
	}
	c.done("i", &anchorSet{reorders: reorders, total: 100_000, spacing: 100})
	reorders++ // one more write: the build is stale, the wait doubles
	if _, build, _ := c.lookup("i", reorders, 100_000, 500); build {
		t.Fatal("a build right after a wasted one, while writes go on")
	}
	time.Sleep(c.interval + 20*time.Millisecond) // no write since: quiet
	if _, build, _ := c.lookup("i", reorders, 100_000, 500); !build {
		t.Error("writes stopped for an interval, yet the build still waits")
	}
}
