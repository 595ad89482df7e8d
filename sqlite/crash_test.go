package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/sqlite"
)

// crashChildEnv names the database a child process of TestKillLosesNoAnsweredCreate
// writes to until it is killed.
const crashChildEnv = "IAMD_TEST_CRASH_CHILD_DB"

// A create is durable once answered: a process killed with SIGKILL in the middle of
// concurrent creates (group commits, background checkpoints) loses none it had answered.
// The child prints each user's id once CreateUser has returned; the parent kills it after
// some hundreds, then finds every printed user, its audit event and a user count in step
// with the users, in the reopened database. It holds the process to its word, not the
// machine: the kernel keeps what the killed process wrote, so a power cut (which
// synchronous=NORMAL may cost the last commits) is not what this proves.
func TestKillLosesNoAnsweredCreate(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		createUntilKilled(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iamd.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "i", Name: "i", Policy: iamd.DefaultAccountPolicy}, crashEvent("i")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for round := range 3 { // each round kills a child mid-write, after the last's crash
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillLosesNoAnsweredCreate$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var answered []string
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if id := lines.Text(); iamd.IsID(id) {
				answered = append(answered, id)
			}
			if len(answered) == 300 {
				if err := cmd.Process.Kill(); err != nil { // SIGKILL
					t.Fatal(err)
				}
			}
		}
		cmd.Wait() // killed: its error says so
		if len(answered) < 300 {
			t.Fatalf("round %d: the child answered %d creates before it stopped", round, len(answered))
		}

		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range answered {
			if _, err := s.GetUserRow(ctx, "i", id); err != nil {
				t.Errorf("round %d: user %s was answered before the kill: %v", round, id, err)
			}
			evs, err := s.ListEvents(ctx, iamd.EventFilter{InstanceID: "i", TargetID: id, Action: iamd.ActionUserCreate})
			if err != nil || len(evs) != 1 {
				t.Errorf("round %d: user %s has %d create events (%v)", round, id, len(evs), err)
			}
		}
		s.Close()
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		var users, counted int
		if err := raw.QueryRow(`SELECT (SELECT count(*) FROM users), (SELECT users FROM user_counts WHERE instance_id = 'i')`).Scan(&users, &counted); err != nil {
			t.Fatal(err)
		}
		var check string
		if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil {
			t.Fatal(err)
		}
		raw.Close()
		if users != counted || check != "ok" {
			t.Fatalf("round %d: %d users, %d counted, integrity %s", round, users, counted, check)
		}
		t.Logf("round %d: %d answered creates, %d users in the database", round, len(answered), users)
	}
}

// createUntilKilled creates users from several goroutines, printing each one's id on
// stdout once its create has returned, until the process is killed.
func createUntilKilled(path string) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				now := time.Now()
				u := &iamd.User{ID: iamd.NewID(), InstanceID: "i", LoginName: "crash-" + strconv.Itoa(g) + "-" + iamd.NewID()[20:] + "-" + strconv.Itoa(i),
					DisplayName: "Crash Test", Email: "crash.test@example.com", Status: iamd.UserActive,
					CreatedAt: now, CreatedBy: "actor", CreatedByName: "Actor", UpdatedAt: now, UpdatedBy: "actor", UpdatedByName: "Actor", Version: 1}
				ev := crashEvent(u.ID)
				ev.Action, ev.TargetType = iamd.ActionUserCreate, "user"
				if err := s.CreateUser(ctx, iamd.UserWrite{User: u, Event: ev}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				os.Stdout.WriteString(u.ID + "\n") // unbuffered: printed means answered
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func crashEvent(target string) iamd.Event {
	return iamd.Event{InstanceID: "i", ActorID: "actor", ActorName: "Actor", Action: iamd.ActionInstanceCreate, TargetType: "instance",
		TargetID: target, Outcome: iamd.OutcomeSuccess, Source: "192.0.2.1", Time: time.Now()}
}
