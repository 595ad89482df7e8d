package crossface_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"iamd"
	"iamd/sqlstore"
	"iamd/storetest"
)

// maxListStatements bounds the statements one list request costs, authentication
// included: a page's users, their groups, roles and grants and the actors of their
// stamps are each read for the whole page at once, never once per user.
const maxListStatements = 12

// A list costs the same number of statements whatever its page size, through every
// face on both stores: 10 users or 100 (ECE, which lists every user at once: 10 users
// in the instance or 100), each with direct and group roles, direct and nested groups,
// and stamps by distinct actors; 10 groups or 100, each with a member. Counted at the
// store (sqlstore's statement hook) over each face's real HTTP API, so that a face
// reading per listed user is caught as surely as a store doing so.
func TestListsCostTheSameWhateverThePageSize(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			store := engine.Open(t)
			db, ok := store.(*sqlstore.DB)
			if !ok {
				t.Fatalf("%T is not a *sqlstore.DB", store)
			}
			e := start(t, store)
			reader := e.newUser("lister", "iamd_admin")
			for range 10 {
				if _, _, err := e.core.Accounts.CreateAPIToken(e.admin, inst, reader.user.ID, iamd.CredentialOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			pop := e.populate()

			type list struct {
				face, method, path, body string
			}
			sized := func(n int) []list {
				return []list{
					{"/scim/v2", "GET", fmt.Sprintf("/Users?count=%d", n), ""},
					{"/scim/v2", "GET", fmt.Sprintf("/Users?count=%d&attributes=userName,groups,roles", n), ""},
					{"/scim/v2", "POST", "/Users/.search", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"count":%d}`, n)},
					{"/scim/v2", "GET", fmt.Sprintf("/Groups?count=%d", n), ""},
					{"/scim/v2", "GET", fmt.Sprintf("/Groups?count=%d&excludedAttributes=members", n), ""},
					{"/scim/v2", "GET", fmt.Sprintf("/?count=%d", n), ""},
					{"/scp", "GET", fmt.Sprintf("/v1/users?instance_id=%s&size=%d", inst, n), ""},
					{"/scp", "GET", fmt.Sprintf("/v1/groups?instance_id=%s&size=%d", inst, n), ""},
					{"/ncloud", "GET", fmt.Sprintf("/api/v1/users?page=0&size=%d", n), ""},
					{"/ncloud", "GET", fmt.Sprintf("/api/v1/groups?page=0&size=%d", n), ""},
					{"/ncloud", "GET", fmt.Sprintf("/api/v1/groups/%s/users?page=0&size=%d", iamd.UUIDForm(pop.inner), n), ""},
					{"/vikingcloud", "POST", fmt.Sprintf("/user-service/v1/user/search?page=0&size=%d", n), `{}`},
					{"/vikingcloud", "POST", fmt.Sprintf("/user-service/v1/user/search?page=0&size=%d", n), `{"basic":"member"}`},
				}
			}
			small, large := sized(10), sized(100)
			for i := range small {
				a := e.statements(db, reader, small[i].method, small[i].face, small[i].path, small[i].body)
				b := e.statements(db, reader, large[i].method, large[i].face, large[i].path, large[i].body)
				t.Logf("%s %s %s: %d statements for 10, %d for 100", small[i].method, small[i].face, small[i].path, a, b)
				if a != b || b > maxListStatements {
					t.Errorf("%s %s %s: %d statements for a page of 10, %d for 100; want the same, at most %d",
						small[i].method, small[i].face, small[i].path, a, b, maxListStatements)
				}
			}
			// Lists of every user, or of every credential, at once: ECE's users and the
			// native face's own API tokens, as the instance and the caller grow.
			whole := []list{{"/ece", "GET", "/api/v1/users", ""}, {"/iamd", "GET", "/v1/me/api-tokens", ""},
				{"/iamd", "GET", "/v1/me/access-keys", ""}, {"/ece", "GET", "/api/v1/users/auth/keys/_all", ""}}
			before := make([]int, len(whole))
			for i, l := range whole {
				before[i] = e.statements(db, reader, l.method, l.face, l.path, l.body)
			}
			e.populate()
			for i := range 10 {
				if _, _, err := e.core.Accounts.CreateAPIToken(e.admin, inst, reader.user.ID, iamd.CredentialOptions{}); err != nil {
					t.Fatal(err)
				}
				if _, _, err := e.core.Accounts.CreateAccessKey(e.admin, inst, reader.user.ID, iamd.CredentialOptions{}); err != nil {
					t.Fatal(err)
				}
				// Keys of ten more owners, for the list of every user's keys.
				owner, err := e.core.Directory.CreateUser(e.admin, &iamd.User{InstanceID: inst, LoginName: fmt.Sprintf("key-owner-%d-%d", populations, i)}, iamd.CreateUserOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := e.core.Accounts.CreateAPIToken(e.admin, inst, owner.ID, iamd.CredentialOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			for i, l := range whole {
				after := e.statements(db, reader, l.method, l.face, l.path, l.body)
				t.Logf("%s %s %s: %d statements, then %d", l.method, l.face, l.path, before[i], after)
				if before[i] != after || after > maxListStatements {
					t.Errorf("%s %s %s: %d statements, then %d with ten times the users; want the same, at most %d",
						l.method, l.face, l.path, before[i], after, maxListStatements)
				}
			}
		})
	}
}

// population is what populate made.
type population struct{ outer, inner string }

var populations int

// populate adds 100 users and 100 groups. Each user holds a direct role, is a member of
// a group nested in one that carries a role, and was last changed by the user made
// before it (so that the actors of the stamps differ); each group has one member.
func (e *env) populate() population {
	e.t.Helper()
	populations++
	ctx := e.admin
	group := func(name string, members iamd.GroupMembers) *iamd.Group {
		g, err := e.core.Directory.CreateGroup(ctx, &iamd.Group{InstanceID: inst, Name: name}, members)
		if err != nil {
			e.t.Fatal(err)
		}
		return g
	}
	inner := group(fmt.Sprintf("inner%d", populations), iamd.GroupMembers{})
	outer := group(fmt.Sprintf("outer%d", populations), iamd.GroupMembers{Groups: []string{inner.ID}})
	if err := e.core.Directory.SetGroupRoles(ctx, inst, outer.ID, []string{"iamd_viewer"}); err != nil {
		e.t.Fatal(err)
	}
	var prev *iamd.User
	for i := range 100 {
		login := fmt.Sprintf("member%d-%03d", populations, i)
		u, err := e.core.Directory.CreateUser(ctx, &iamd.User{InstanceID: inst, LoginName: login, GivenName: "Given", FamilyName: "Family",
			Email: login + "@example.com", Roles: []string{"helpdesk"}}, iamd.CreateUserOptions{GroupIDs: []string{inner.ID}})
		if err != nil {
			e.t.Fatal(err)
		}
		if prev != nil {
			as := iamd.NewContextWithPrincipal(context.Background(), &iamd.Principal{UserID: prev.ID, Name: prev.LoginName, InstanceID: inst,
				Privileges: []string{iamd.PrivilegeUserRead, iamd.PrivilegeUserWrite, iamd.PrivilegeUserDelete, iamd.PrivilegeGroupRead,
					iamd.PrivilegeRoleRead, iamd.PrivilegeAuditRead}})
			name := strings.ToUpper(login)
			if _, err := e.core.Directory.UpdateUser(as, inst, u.ID, iamd.UserUpdate{DisplayName: &name}); err != nil {
				e.t.Fatal(err)
			}
		}
		group(fmt.Sprintf("team%d-%03d", populations, i), iamd.GroupMembers{Users: []string{u.ID}})
		prev = u
	}
	return population{outer: outer.ID, inner: inner.ID}
}

// statements returns how many statements the store ran for one request of c's, which
// must succeed, in the steady state repeated requests reach: the fewest of several
// tries, after one that warms up what a first request does once (such as recording
// when a credential was last used). On SQLite the tries run out the reads that skip the
// read memory after a stream of writes and then find the page remembered; a listing
// with nothing remembered is counted in sqlite's TestColdListingsCostTheSame, and a
// face reading per listed user is counted on PostgreSQL, which has no such memory.
func (e *env) statements(db *sqlstore.DB, c caller, method, prefix, path, body string) int {
	e.t.Helper()
	if r := c.send(method, prefix, path, body); r.status != http.StatusOK {
		e.t.Fatalf("%s %s%s: %s", method, prefix, path, r)
	}
	fewest := -1
	for range 6 {
		var n atomic.Int64
		db.SetStatementHook(func(string) { n.Add(1) })
		c.send(method, prefix, path, body)
		db.SetStatementHook(nil)
		if fewest < 0 || int(n.Load()) < fewest {
			fewest = int(n.Load())
		}
	}
	return fewest
}
