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
