package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"iamd"
	"iamd/sqlite"
	"iamd/sqlstore"
)

// Every search criterion that compares for equality (VikingCloud's firstName, lastName,
// orgId, username and email; SCIM's displayName) counts its matches from an index, never
// by reading every user: each statement ListUsers runs is planned without a scan of the
// users of the instance. (The substring criteria scan; docs/benchmarks.md says why.)
func TestEqualityCriteriaSeekAnIndex(t *testing.T) {
	ctx := context.Background()
	s, raw := planStore(t)
	for _, field := range []string{iamd.FieldGivenName, iamd.FieldFamilyName, iamd.FieldLoginName, iamd.FieldEmail, iamd.FieldDisplayName, iamd.FieldOrganization} {
		var queries []string
		s.SetStatementHook(func(q string) { queries = append(queries, q) })
		_, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Where: iamd.Match{Field: field, Op: iamd.MatchEq, Value: "x",
			CaseExact: field == iamd.FieldOrganization}, Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}})
		s.SetStatementHook(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(queries) == 0 {
			t.Fatalf("%s: no statement seen", field)
		}
		for _, q := range queries {
			plan := queryPlan(t, raw, q, make([]any, strings.Count(q, "?"))...)
			for _, step := range plan {
				// A scan, or a search by instance alone (every user of the instance, read
				// through some index), reads every user.
				if strings.HasPrefix(step, "SCAN u") || strings.HasSuffix(step, "(instance_id=?)") {
					t.Errorf("%s: %q reads every user: %s", field, q, strings.Join(plan, "; "))
				}
			}
		}
	}
}

// A listing reads the users of its page that the read cache does not hold by their ids:
// by the primary key, never by walking the instance (an instance condition beside the
// ids made SQLite do that, at 0.6 s a page with 1,000,000 users).
func TestListedUsersAreReadByID(t *testing.T) {
	ctx := context.Background()
	s, path, _ := openWithUsers(t, "u0", "u1", "u2")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var byID []string
	s.SetStatementHook(func(q string) {
		if strings.Contains(q, "FROM users WHERE id IN") {
			byID = append(byID, q)
		}
	})
	page, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", WithGroups: true})
	s.SetStatementHook(nil)
	if err != nil || len(page.Users) != 3 {
		t.Fatalf("ListUsers: %+v, %v", page, err)
	}
	if len(byID) == 0 {
		t.Fatal("the listing read no users by id: the read cache answered a first listing")
	}
	for _, q := range byID {
		for _, detail := range queryPlan(t, raw, q, make([]any, strings.Count(q, "?"))...) {
			if !strings.HasSuffix(detail, "(id=?)") {
				t.Errorf("%q: %s, want a search by id", q, detail)
			}
		}
	}
}

// The trigger that tells a create at the end of the default order from one before other
// users (migration 0016) seeks the one later user, if any, in users_by_created: every
// create runs it.
func TestCreatesFindLaterUsersBySeeking(t *testing.T) {
	_, path, _ := openWithUsers(t, "u0")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	plan := queryPlan(t, raw, `SELECT 1 FROM users u WHERE u.instance_id = ? AND (u.created_at, u.id) > (?, ?)`, "i", 0, "")
	if len(plan) != 1 || !strings.Contains(plan[0], "users_by_created (instance_id=? AND (created_at,id)>(?,?))") {
		t.Errorf("the trigger's look-up is planned as %q, want a seek in users_by_created", plan)
	}
	var sql string
	if err := raw.QueryRow(`SELECT sql FROM sqlite_master WHERE name = 'users_reorders_insert'`).Scan(&sql); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sql, "u.instance_id = NEW.instance_id AND (u.created_at, u.id) > (NEW.created_at, NEW.id)") {
		t.Errorf("the trigger is not the statement planned above:\n%s", sql)
	}
}

// queryPlan returns the steps SQLite plans for q, one detail each.
func queryPlan(t *testing.T, raw *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := raw.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// The console's search-as-you-type (the native API's q=: a prefix of the login name, the
// email or the display name, paged by login name with a cursor) seeks an index for each
// of the three, however large the instance: no statement reads every user.
func TestPrefixSearchesSeekIndexes(t *testing.T) {
	ctx := context.Background()
	s, raw := planStore(t)
	prefix := func(field string) iamd.Where { return iamd.Match{Field: field, Op: iamd.MatchSw, Value: "jo"} }
	searches := map[string]iamd.Where{
		"login name": prefix(iamd.FieldLoginName),
		"email":      prefix(iamd.FieldEmail),
		"name":       prefix(iamd.FieldDisplayName),
		"any, after a cursor": iamd.AllOf{iamd.AnyOf{prefix(iamd.FieldLoginName), prefix(iamd.FieldEmail), prefix(iamd.FieldDisplayName)},
			iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchGt, Value: "joan"}},
	}
	for name, where := range searches {
		var queries []string
		s.SetStatementHook(func(q string) { queries = append(queries, q) })
		_, err := s.ListUsers(ctx, iamd.UserFilter{InstanceID: "i", Where: where, NoTotal: true, Limit: 21,
			Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}})
		s.SetStatementHook(nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(queries) == 0 {
			t.Fatalf("%s: no statement seen", name)
		}
		for _, q := range queries {
			plan := queryPlan(t, raw, q, make([]any, strings.Count(q, "?"))...)
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN u") || strings.HasSuffix(step, "(instance_id=?)") {
					t.Errorf("%s: %q reads every user: %s", name, q, strings.Join(plan, "; "))
				}
			}
		}
	}
}

// A prefix search (UserFilter.Prefix) reads a bounded part of an index for each field:
// a range where the prefix is rare, and the login order, which needs no sort, where it
// is common.
func TestPrefixSearchPlans(t *testing.T) {
	ctx := context.Background()
	s, raw := planStore(t)
	var users []iamd.User
	for i := range 2500 {
		users = append(users, iamd.User{ID: iamd.NewID(), InstanceID: "i", LoginName: fmt.Sprintf("user%05d", i), Status: iamd.UserActive,
			Email: fmt.Sprintf("user%05d@example.com", i), DisplayName: fmt.Sprintf("User %d", i), Version: 1})
	}
	if err := s.ImportUsers(ctx, users, iamd.Event{InstanceID: "i"}); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"user", "user0001", "user00012@", "nobody"} {
		var queries []string
		s.SetStatementHook(func(q string) { queries = append(queries, q) })
		_, err := s.ListUsers(ctx, iamd.UserSearch{Any: prefix, Limit: 20}.Filter("i"))
		s.SetStatementHook(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range queries {
			if !strings.Contains(q, "LIKE") {
				continue // the users read by id
			}
			plan := strings.Join(queryPlan(t, raw, q, make([]any, strings.Count(q, "?"))...), "; ")
			ordered := strings.Contains(q, "ORDER BY u.login_key")
			switch {
			case strings.Contains(plan, "SCAN u"), strings.Contains(plan, "TEMP B-TREE"):
				t.Errorf("%q: %q reads every user or sorts: %s", prefix, q, plan)
			case !ordered && strings.HasSuffix(plan, "(instance_id=?)"):
				t.Errorf("%q: %q reads every user of the instance: %s", prefix, q, plan)
			}
		}
	}
}

// planStore opens a store with an instance "i", and the same file on a connection of its
// own for EXPLAIN QUERY PLAN.
func planStore(t *testing.T) (*sqlstore.DB, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "iamd.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateInstance(ctx, &iamd.Instance{ID: "i", Name: "i"}, iamd.Event{InstanceID: "i"}); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return s, raw
}
