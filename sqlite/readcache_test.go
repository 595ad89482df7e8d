package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"iamd"
	"iamd/sqlite"
	"iamd/sqlstore"
)

// The store answers reads of users and credentials from memory while nothing was
// committed to the file. A commit made outside the store — another process on the same
// file, as iamd's own admin commands are — must be seen by the very next read, and a read
// that nothing changed must cost no statement but the ask.
func TestRememberedReadsSeeEveryCommit(t *testing.T) {
	ctx := context.Background()
	s, path, users := openWithUsers(t, "ada")
	u := users[0]
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ev := iamd.Event{InstanceID: "i"}
	now := time.Now().UTC().Truncate(time.Microsecond)
	key := &iamd.AccessKey{ID: "AK" + iamd.NewID()[:18], InstanceID: "i", UserID: u.ID, SecretEncrypted: []byte("sealed"),
		Enabled: true, CreatedAt: now}
	if err := s.CreateAccessKey(ctx, key, ev); err != nil {
		t.Fatal(err)
	}

	// statements counts what one read sends: asks of the data version, and the rest.
	statements := func(ctx context.Context, read func(context.Context) error) (asks, others int) {
		t.Helper()
		var mu sync.Mutex
		s.SetStatementHook(func(q string) {
			mu.Lock()
			defer mu.Unlock()
			if q == "PRAGMA data_version" {
				asks++
			} else {
				others++
			}
		})
		defer s.SetStatementHook(nil)
		if err := read(ctx); err != nil {
			t.Fatal(err)
		}
		return asks, others
	}
	// Each read runs once before it is counted: the first fills the memory.
	reads := []struct {
		name        string
		asks, sends int // asks, and other statements, when the memory answers
		read        func(context.Context) error
	}{
		{"GetUser", 1, 0, func(ctx context.Context) error { _, err := s.GetUser(ctx, "i", u.ID); return err }},
		{"GetUserByLogin", 1, 0, func(ctx context.Context) error { _, err := s.GetUserByLogin(ctx, "i", "ADA"); return err }},
		{"CheckAccessKey", 1, 0, func(ctx context.Context) error { _, err := s.CheckAccessKey(ctx, key.ID); return err }},
		{"GetInstance", 1, 0, func(ctx context.Context) error { _, err := s.GetInstance(ctx, "i"); return err }},
		// The count and the page's ids come from the snapshot, asked about before and after.
		{"ListUsers", 2, 2, func(ctx context.Context) error {
			_, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", WithGroups: true, WithRoles: true})
			return err
		}},
		{"ListUsers by login", 1, 0, func(ctx context.Context) error {
			_, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", LoginName: "ada"})
			return err
		}},
	}
	for _, r := range reads {
		statements(ctx, r.read)
		if asks, sends := statements(ctx, r.read); asks != r.asks || sends != r.sends {
			t.Errorf("%s again, nothing changed: %d asks and %d other statements, want %d and %d", r.name, asks, sends, r.asks, r.sends)
		}
	}
	// In one request's scope, the reads share the first one's ask.
	scoped := s.ScopeReads(ctx)
	asks := 0
	for _, r := range reads {
		n, _ := statements(scoped, r.read)
		asks += n
	}
	if asks != 2 { // the first read's, and the listing's second one
		t.Errorf("the reads of one scope asked %d times, want 2", asks)
	}

	for i, change := range []string{
		`UPDATE users SET display_name = 'Changed %d' WHERE id = ?`,
		`UPDATE users SET display_name = 'Changed %d', version = version + 1 WHERE id = ?`,
	} {
		if _, err := other.ExecContext(ctx, fmt.Sprintf(change, i), u.ID); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("Changed %d", i)
		got, err := s.GetUser(ctx, "i", u.ID)
		if err != nil || got.DisplayName != want {
			t.Fatalf("GetUser after another connection's commit: %v, %v; want %q", got, err, want)
		}
		byLogin, err := s.GetUserByLogin(ctx, "i", "ada")
		if err != nil || byLogin.DisplayName != want {
			t.Fatalf("GetUserByLogin after another connection's commit: %v, %v; want %q", byLogin, err, want)
		}
		page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i"})
		if err != nil || len(page.Users) != 1 || page.Users[0].DisplayName != want {
			t.Fatalf("ListUsers after another connection's commit: %+v, %v; want %q", page, err, want)
		}
	}
	if _, err := other.ExecContext(ctx, `UPDATE instances SET name = 'renamed' WHERE id = 'i'`); err != nil {
		t.Fatal(err)
	}
	if inst, err := s.GetInstance(ctx, "i"); err != nil || inst.Name != "renamed" {
		t.Fatalf("GetInstance after another connection renamed it: %+v, %v", inst, err)
	}
	if _, err := other.ExecContext(ctx, `UPDATE access_keys SET enabled = 0 WHERE id = ?`, key.ID); err != nil {
		t.Fatal(err)
	}
	if c, err := s.CheckAccessKey(ctx, key.ID); err != nil || c.Enabled {
		t.Fatalf("CheckAccessKey after another connection disabled the key: %+v, %v", c, err)
	}
	if _, err := other.ExecContext(ctx, `DELETE FROM access_keys WHERE id = ?`, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckAccessKey(ctx, key.ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Fatalf("CheckAccessKey after another connection deleted the key: %v", err)
	}

	// What a caller does with a user it got never reaches the next caller.
	got, err := s.GetUser(ctx, "i", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.DisplayName, got.Roles = "scribbled", append(got.Roles, "scribbled")
	if again, err := s.GetUser(ctx, "i", u.ID); err != nil || again.DisplayName == "scribbled" || len(again.Roles) != 0 {
		t.Fatalf("a caller's change of its copy reached the next read: %+v, %v", again, err)
	}
}

// Writers through the store and readers racing them: a read that begins after a write
// returned sees it (run with -race), in the scope of the request that wrote too.
func TestRememberedReadsFollowConcurrentWriters(t *testing.T) {
	background := context.Background()
	const writers = 4
	s, _, users := openWithUsers(t, "u0", "u1", "u2", "u3")
	ev := iamd.Event{InstanceID: "i"}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := *users[w]
			for v := int64(2); v <= 40; v++ {
				// One request: it reads, writes, and reads again. Every other iteration
				// goes without a scope.
				ctx := background
				if v%2 == 0 {
					ctx = s.ScopeReads(background)
				}
				if _, err := s.GetUser(ctx, "i", u.ID); err != nil {
					t.Error(err)
					return
				}
				u.Version, u.DisplayName = v, fmt.Sprint(v)
				if err := s.UpdateUser(ctx, iamd.UserWrite{User: &u, ExpectedVersion: v - 1, Event: ev}); err != nil {
					t.Error(err)
					return
				}
				for _, read := range []func() (*iamd.User, error){
					func() (*iamd.User, error) { return s.GetUser(ctx, "i", u.ID) },
					func() (*iamd.User, error) { return s.GetUserByLogin(ctx, "i", u.LoginName) },
				} {
					if got, err := read(); err != nil || got.Version != v || got.DisplayName != u.DisplayName {
						t.Errorf("read after writing version %d: %+v, %v", v, got, err)
						return
					}
				}
				page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i"})
				if err != nil {
					t.Error(err)
					return
				}
				for _, l := range page.Users {
					if l.ID == u.ID && l.Version != v {
						t.Errorf("listed after writing version %d: version %d", v, l.Version)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// openWithUsers opens a store on a new file, with instance "i" and a user of each login
// name in it, created through the store.
func openWithUsers(t *testing.T, logins ...string) (s *sqlstore.DB, path string, users []*iamd.User) {
	t.Helper()
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "iamd.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ev := iamd.Event{InstanceID: "i"}
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "i", Name: "i"}, ev); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for _, login := range logins {
		u := &iamd.User{ID: iamd.NewID(), InstanceID: "i", LoginName: login, Status: iamd.UserActive,
			CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := s.CreateUser(ctx, iamd.UserWrite{User: u, Event: ev}); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	return s, path, users
}

// A listing remembers the users it reads while the memory has room, each exactly as
// GetUser reads it from the database: groups, roles, privileges and all.
func TestListingsFillTheMemory(t *testing.T) {
	ctx := context.Background()
	s, path, users := openWithUsers(t, "ada", "bob", "cy")
	ev := iamd.Event{InstanceID: "i"}
	if err := s.PutRoles(ctx, "i", []iamd.Role{{Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	parent := &iamd.Group{ID: iamd.NewID(), InstanceID: "i", Name: "parent", Roles: []string{"reader"}, CreatedAt: now, UpdatedAt: now, Version: 1}
	child := &iamd.Group{ID: iamd.NewID(), InstanceID: "i", Name: "child", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.CreateGroup(ctx, iamd.GroupWrite{Group: parent, Event: ev}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, iamd.GroupWrite{Group: child, Event: ev, Add: iamd.GroupMembers{Users: []string{users[0].ID}}}); err != nil {
		t.Fatal(err)
	}
	parent.Version = 2
	if err := s.UpdateGroup(ctx, iamd.GroupWrite{Group: parent, ExpectedVersion: 1, Event: ev,
		Add: iamd.GroupMembers{Groups: []string{child.ID}}}); err != nil {
		t.Fatal(err)
	}
	b := *users[1]
	b.Roles, b.Privileges, b.Version, b.UpdatedAt = []string{"reader"}, []string{iamd.PrivilegeGroupRead}, 2, now
	if err := s.UpdateUser(ctx, iamd.UserWrite{User: &b, ExpectedVersion: 1, Event: ev}); err != nil {
		t.Fatal(err)
	}

	statements := 0
	s.SetStatementHook(func(q string) {
		if q != "PRAGMA data_version" {
			statements++
		}
	})
	if _, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", WithGroups: true, WithRoles: true}); err != nil {
		t.Fatal(err)
	}
	remembered := map[string]*iamd.User{}
	statements = 0
	for _, u := range users {
		got, err := s.GetUser(ctx, "i", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		remembered[u.ID] = got
	}
	if statements != 0 {
		t.Errorf("reading the users a listing read took %d statements, want none", statements)
	}
	// Remembered by id, a user is still answered in its own instance alone.
	if got, err := s.GetUser(ctx, "another", users[0].ID); iamd.ErrorCode(err) != iamd.ENOTFOUND {
		t.Errorf("GetUser of instance i's user in another instance: %+v, %v", got, err)
	}
	s.SetStatementHook(nil)

	// Another connection's commit empties the memory: GetUser then reads the database.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `UPDATE instances SET name = 'renamed' WHERE id = 'i'`); err != nil {
		t.Fatal(err)
	}
	statements = 0
	s.SetStatementHook(func(q string) { statements++ })
	defer s.SetStatementHook(nil)
	for _, u := range users {
		read, err := s.GetUser(ctx, "i", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(read, remembered[u.ID]) {
			t.Errorf("%s: remembered from a listing as\n%+v\nthe database reads\n%+v", u.LoginName, remembered[u.ID], read)
		}
	}
	if statements < 2*len(users) {
		t.Errorf("after another connection's commit, reading %d users took %d statements: not read from the database", len(users), statements)
	}
	if got := remembered[users[0].ID]; len(got.Groups) != 1 || len(got.InheritedGroups) != 1 || len(remembered[users[1].ID].Privileges) != 1 {
		t.Errorf("the users lack what the test gave them: %+v, %+v", got, remembered[users[1].ID])
	}
}

// A listing that finds none of its page remembered reads the missing users, their
// groups and their roles for the whole page at once: a page of 10 costs the statements
// a page of 100 does. (Remembered pages are counted through every face in crossface.)
func TestColdListingsCostTheSame(t *testing.T) {
	ctx := context.Background()
	logins := make([]string, 120)
	for i := range logins {
		logins[i] = fmt.Sprintf("user%03d", i)
	}
	s, path, users := openWithUsers(t, logins...)
	ev := iamd.Event{InstanceID: "i"}
	if err := s.PutRoles(ctx, "i", []iamd.Role{{Name: "reader", Privileges: []string{iamd.PrivilegeUserRead}}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	members := iamd.GroupMembers{}
	for _, u := range users {
		members.Users = append(members.Users, u.ID)
	}
	group := &iamd.Group{ID: iamd.NewID(), InstanceID: "i", Name: "everyone", Roles: []string{"reader"}, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.CreateGroup(ctx, iamd.GroupWrite{Group: group, Event: ev, Add: members}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	cold := func(limit int) int {
		t.Helper()
		// Another connection's commit empties the memory.
		if _, err := other.ExecContext(ctx, `UPDATE instances SET name = ? WHERE id = 'i'`, fmt.Sprint("renamed", limit)); err != nil {
			t.Fatal(err)
		}
		statements := 0
		s.SetStatementHook(func(q string) {
			if q != "PRAGMA data_version" {
				statements++
			}
		})
		defer s.SetStatementHook(nil)
		page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Limit: limit, WithGroups: true, WithRoles: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Users) != limit || len(page.Users[limit-1].Groups) != 1 {
			t.Fatalf("a page of %d: %d users, the last %+v", limit, len(page.Users), page.Users[len(page.Users)-1])
		}
		listed := statements
		// The listing went through the memory: what it read is remembered.
		if _, err := s.GetUser(ctx, "i", page.Users[limit-1].ID); err != nil {
			t.Fatal(err)
		}
		if statements != listed {
			t.Errorf("a page of %d was not remembered: reading its last user took %d statements", limit, statements-listed)
		}
		return listed
	}
	small, large := cold(10), cold(100)
	if small != large {
		t.Errorf("with nothing remembered, a page of 10 took %d statements, a page of 100 %d; want the same", small, large)
	}
}
