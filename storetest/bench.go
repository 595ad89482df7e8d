package storetest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"iamd"
)

// Importer is the bulk path stores offer for loading populations.
type Importer interface {
	ImportUsers(ctx context.Context, users []iamd.User, ev iamd.Event) error
}

// Maintainer is a store whose engine tidies up after bulk writes in the background;
// Maintain does it at once.
type Maintainer interface {
	Maintain(ctx context.Context) error
}

// BenchUsers is the population the read benchmarks run against; IAMD_BENCH_USERS
// overrides it (docs/benchmarks.md records runs at 1,000,000).
func BenchUsers() int {
	if n, err := strconv.Atoi(os.Getenv("IAMD_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 10_000
}

// Bench measures a store's create, get and list paths.
func Bench(b *testing.B, open Opener) {
	b.Run("CreateUser", func(b *testing.B) {
		s := open(b)
		mustInstance(b, s, "bench")
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			u := newUser("bench", "user"+strconv.Itoa(i))
			if err := s.CreateUser(ctx, iamd.UserWrite{User: u, Event: event("bench", iamd.ActionUserCreate, u.ID)}); err != nil {
				b.Fatal(err)
			}
		}
	})

	n := BenchUsers()
	s := open(b)
	ids := populate(b, s, "bench", n)

	b.Run(fmt.Sprintf("GetUser/users=%d", n), func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i = (i + 7919) % n
			if _, err := s.GetUser(ctx, "bench", ids[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	newest := []iamd.UserSort{{Key: iamd.SortByCreatedAt, Descending: true}}
	lists := []struct {
		name string
		f    iamd.UserFilter
	}{
		{"FirstPage", iamd.UserFilter{Sort: newest, Limit: 20}},
		{"MiddlePage", iamd.UserFilter{Sort: newest, Offset: n / 2, Limit: 20}},
		{"LastPage", iamd.UserFilter{Sort: newest, Offset: n - 20, Limit: 20}},
		{"ByLoginName", iamd.UserFilter{Sort: []iamd.UserSort{{Key: iamd.SortByLoginName}}, Offset: n / 2, Limit: 20}},
		{"OneLogin", iamd.UserFilter{LoginName: "user" + strconv.Itoa(n/3)}},
		// SCIM's filters, as the SCIM face translates them: userName eq "…" (Okta and
		// Entra look a user up this way before every create) and a substring search.
		{"WhereLoginEq", iamd.UserFilter{Where: iamd.Match{Field: iamd.FieldLoginName, Op: iamd.MatchEq, Value: "USER" + strconv.Itoa(n/3)}}},
		{"WhereDisplayNameCo", iamd.UserFilter{Where: iamd.Match{Field: iamd.FieldDisplayName, Op: iamd.MatchCo, Value: "SER" + strconv.Itoa(n/3)}, Limit: 20}},
	}
	for _, l := range lists {
		b.Run(fmt.Sprintf("ListUsers/%s/users=%d", l.name, n), func(b *testing.B) {
			f := l.f
			f.InstanceID = "bench"
			b.ReportAllocs()
			for b.Loop() {
				page, err := s.ListUsers(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if page.Total == 0 || len(page.Users) == 0 {
					b.Fatalf("empty page: %+v", page)
				}
			}
		})
	}
}

// populate loads n users into a new instance, in bulk where the store can.
func populate(b *testing.B, s iamd.Store, instanceID string, n int) []string {
	b.Helper()
	mustInstance(b, s, instanceID)
	users := make([]iamd.User, n)
	ids := make([]string, n)
	for i := range users {
		u := newUser(instanceID, "user"+strconv.Itoa(i))
		u.CreatedAt = t0.Add(-timeStep(n - i))
		u.UpdatedAt = u.CreatedAt
		users[i], ids[i] = *u, u.ID
	}
	if imp, ok := s.(Importer); ok {
		const chunk = 50_000
		for start := 0; start < n; start += chunk {
			if err := imp.ImportUsers(ctx, users[start:min(start+chunk, n)], event(instanceID, "user.import", "")); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		for i := range users {
			mustUser(b, s, &users[i])
		}
	}
	if m, ok := s.(Maintainer); ok {
		if err := m.Maintain(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
func timeStep(i int) time.Duration { return time.Duration(i) * time.Millisecond }
