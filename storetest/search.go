package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"iamd"
)

// testPrefixSearch checks the people's search (UserFilter.Prefix, in login order, paged
// by a cursor) against the same search done by hand, for prefixes that match few users
// and prefixes that match more than a search reads of one field by itself.
func testPrefixSearch(t *testing.T, s iamd.Store) {
	const inst = "search"
	mustInstance(t, s, inst)
	var users []iamd.User
	for i := range 2300 {
		u := *newUser(inst, fmt.Sprintf("u%04d", (i*7919)%2300)) // created out of login order
		u.Email = fmt.Sprintf("M@%04d.example.com", i)
		if i%10 == 0 {
			u.Email = fmt.Sprintf("other%04d@example.com", i)
		}
		u.DisplayName = fmt.Sprintf("Name %d", i)
		users = append(users, u)
	}
	odd := *newUser(inst, "zed")
	odd.Email, odd.DisplayName = "alpha@example.com", "Omega"
	users = append(users, odd)
	if err := s.ImportUsers(ctx, users, event(inst, iamd.ActionUserImport, "")); err != nil {
		t.Fatal(err)
	}
	expect := func(prefix string) []string {
		p := strings.ToLower(prefix)
		var out []string
		for _, u := range users {
			email := strings.Contains(p, "@") && strings.HasPrefix(strings.ToLower(u.Email), p)
			if strings.HasPrefix(iamd.LoginKey(u.LoginName), iamd.LoginKey(prefix)) || email || strings.HasPrefix(strings.ToLower(u.DisplayName), p) {
				out = append(out, u.LoginName)
			}
		}
		slices.SortFunc(out, func(a, b string) int { return strings.Compare(iamd.LoginKey(a), iamd.LoginKey(b)) })
		return out
	}
	for _, prefix := range []string{"u", "U00", "m@", "M@00", "m", "other0010@", "other", "name", "name 1", "alpha@", "alpha", "om", "zed", "nobody", "u2299"} {
		want := expect(prefix)
		var got []string
		after := ""
		for pages := 0; pages < 3 && (pages == 0 || after != ""); pages++ {
			page, err := s.ListUsers(ctx, iamd.UserSearch{Any: prefix, After: after, Limit: 50}.Filter(inst))
			if err != nil {
				t.Fatal(err)
			}
			after = ""
			for i, u := range page.Users {
				if i == 50 {
					after = page.Users[49].LoginName
					break
				}
				got = append(got, u.LoginName)
				if u.Email == "" || u.DisplayName == "" {
					t.Fatalf("%q: a listed user without its fields: %+v", prefix, u)
				}
			}
		}
		if after != "" { // stopped after three full pages: the rest is unread
			want = want[:min(len(want), len(got))]
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q: got %d %v…, want %v…", prefix, len(got), head(got), head(want))
		}
	}
}

func head(s []string) []string { return s[:min(5, len(s))] }
