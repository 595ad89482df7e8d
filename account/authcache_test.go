package account_test

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"iamd"
	"iamd/account"
	"iamd/directory"
	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/sqlite"
	"iamd/storetest"
)

// countingStore counts the reads that build a principal.
type countingStore struct {
	iamd.Store
	rows, privileges atomic.Int64
}

func (s *countingStore) GetUserRow(ctx context.Context, instanceID, id string) (*iamd.User, error) {
	s.rows.Add(1)
	return s.Store.GetUserRow(ctx, instanceID, id)
}

func (s *countingStore) EffectivePrivileges(ctx context.Context, instanceID, userID string) ([]string, error) {
	s.privileges.Add(1)
	return s.Store.EffectivePrivileges(ctx, instanceID, userID)
}

// reads is how many user rows and privilege sets the store has read so far.
func (s *countingStore) reads() [2]int64 { return [2]int64{s.rows.Load(), s.privileges.Load()} }

// A credential authenticated again, its owner unchanged, is answered from memory; a
// change of the owner, or time, makes it build the principal again.
func TestAuthenticationIsRemembered(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			store := &countingStore{Store: engine.Open(t)}
			f := newFixture(t, store)
			u := f.user(t, "alice", goodPassword)
			key, secret, err := f.svc.CreateAccessKey(f.admin, "a", u.ID, iamd.CredentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, token, err := f.svc.CreateAPIToken(f.admin, "a", u.ID, iamd.CredentialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			grant, err := f.signIn("alice", goodPassword)
			if err != nil {
				t.Fatal(err)
			}
			idToken, err := f.svc.IDToken(ctx, grant.Session)
			if err != nil {
				t.Fatal(err)
			}
			message := []byte("GET /users")
			ways := map[string]func() (*iamd.Principal, error){
				"access key": func() (*iamd.Principal, error) {
					return f.svc.VerifyHMAC(ctx, key.ID, message, mac(secret, string(message)))
				},
				"API token": func() (*iamd.Principal, error) { return f.svc.AuthenticateToken(ctx, token) },
				"session":   func() (*iamd.Principal, error) { return f.svc.AuthenticateToken(ctx, grant.Token) },
				"ID token":  func() (*iamd.Principal, error) { return f.svc.AuthenticateIDToken(ctx, idToken) },
			}
			authenticate := func(way, wantName string, wantBuilds int64) {
				t.Helper()
				before := store.reads()
				p, err := ways[way]()
				if err != nil {
					t.Fatalf("%s: %v", way, err)
				}
				if p.UserID != u.ID || p.Name != wantName {
					t.Fatalf("%s: authenticated as %+v", way, p)
				}
				after := store.reads()
				if rows, privileges := after[0]-before[0], after[1]-before[1]; rows != wantBuilds || privileges != wantBuilds {
					t.Fatalf("%s: read %d user rows and %d privilege sets, want %d of each", way, rows, privileges, wantBuilds)
				}
			}
			for way := range ways {
				authenticate(way, "alice", 1)
				authenticate(way, "alice", 0)
			}

			// A principal handed out is the caller's own: changing it changes no other.
			p, _ := ways["access key"]()
			p.Privileges = append(p.Privileges, iamd.PrivilegeUserDelete)
			p.Name = "mallory"
			authenticate("access key", "alice", 0)
			if p, _ := ways["access key"](); slices.Contains(p.Privileges, iamd.PrivilegeUserDelete) {
				t.Fatal("a caller's change of its principal reached the remembered one")
			}

			name := "Alice Liddell"
			if err := f.change(f.admin, "a", u.ID, iamd.UserChange{UserUpdate: iamd.UserUpdate{DisplayName: &name}}); err != nil {
				t.Fatal(err)
			}
			for way := range ways {
				authenticate(way, name, 1)
				authenticate(way, name, 0)
			}

			f.advance(2 * time.Minute)
			for way := range ways {
				authenticate(way, name, 1)
				authenticate(way, name, 0)
			}
		})
	}
}

// A replica is one complete core over a store of its own.
type replica struct {
	accounts *account.Service
	dir      *directory.Service
}

// replicaStores opens one database twice: each store has its own pools, as two iamd
// processes would (on SQLite, the CLI writing while the server runs).
func replicaStores(t *testing.T, engine string) (iamd.Store, iamd.Store) {
	var open func() iamd.Store
	switch engine {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "iamd.db")
		open = func() iamd.Store {
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	case "postgres":
		url := pgtest.NewDatabase(t)
		open = func() iamd.Store {
			s, err := postgres.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	default:
		t.Fatalf("no engine %q", engine)
	}
	return open(), open()
}

// Whatever is revoked or taken away on one replica, the very next request on another
// that remembered the credential is refused, or lacks what was taken away.
func TestRevocationReachesEveryReplicaAtOnce(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine.Name, func(t *testing.T) {
			storeA, storeB := replicaStores(t, engine.Name)
			f := newFixture(t, storeA) // replica A, which makes every change
			var masterKey account.MasterKey
			b := replica{accounts: account.New(storeB, masterKey, account.WithHasher(fastHasher), account.WithClock(f.clock))}
			b.dir = directory.New(storeB, directory.WithClock(f.clock), directory.WithCredentials(b.accounts))
			if _, err := f.dir.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "auditors", Privileges: []string{iamd.PrivilegeAuditRead}}); err != nil {
				t.Fatal(err)
			}

			type credentials struct {
				user          *iamd.User
				keyID, secret string
				token         string
				session       string
			}
			n := 0
			newUser := func(t *testing.T) *credentials {
				t.Helper()
				n++
				login := "user" + string(rune('a'+n))
				c := &credentials{user: f.user(t, login, goodPassword)}
				key, secret, err := f.svc.CreateAccessKey(f.admin, "a", c.user.ID, iamd.CredentialOptions{})
				if err != nil {
					t.Fatal(err)
				}
				c.keyID, c.secret = key.ID, secret
				if _, c.token, err = f.svc.CreateAPIToken(f.admin, "a", c.user.ID, iamd.CredentialOptions{}); err != nil {
					t.Fatal(err)
				}
				grant, err := f.signIn(login, goodPassword)
				if err != nil {
					t.Fatal(err)
				}
				c.session = grant.Token
				return c
			}
			message := []byte("POST /users")
			signed := func(svc *account.Service, c *credentials) (*iamd.Principal, error) {
				return svc.VerifyHMAC(ctx, c.keyID, message, mac(c.secret, string(message)))
			}
			bearer := func(svc *account.Service, c *credentials) (*iamd.Principal, error) {
				return svc.AuthenticateToken(ctx, c.token)
			}
			session := func(svc *account.Service, c *credentials) (*iamd.Principal, error) {
				return svc.AuthenticateToken(ctx, c.session)
			}
			all := map[string]func(*account.Service, *credentials) (*iamd.Principal, error){
				"access key": signed, "API token": bearer, "session": session}
			// warm authenticates with every credential on both replicas, so both remember it.
			warm := func(t *testing.T, c *credentials, want string) {
				t.Helper()
				for way, auth := range all {
					for name, svc := range map[string]*account.Service{"A": f.svc, "B": b.accounts} {
						p, err := auth(svc, c)
						if err != nil {
							t.Fatalf("%s on replica %s: %v", way, name, err)
						}
						if want != "" && !slices.Contains(p.Privileges, want) {
							t.Fatalf("%s on replica %s: %v lacks %s", way, name, p.Privileges, want)
						}
					}
				}
			}
			wantRefused := func(t *testing.T, c *credentials, code string, ways ...string) {
				t.Helper()
				for _, way := range ways {
					if _, err := all[way](b.accounts, c); iamd.ErrorCode(err) != code {
						t.Fatalf("%s on replica B right after the change on A: %v, want %s", way, err, code)
					}
				}
			}
			wantWithout := func(t *testing.T, c *credentials, privilege string) {
				t.Helper()
				for way, auth := range all {
					p, err := auth(b.accounts, c)
					if err != nil {
						t.Fatalf("%s on replica B: %v", way, err)
					}
					if slices.Contains(p.Privileges, privilege) {
						t.Fatalf("%s on replica B still holds %s right after it was taken away on A", way, privilege)
					}
				}
			}
			change := func(t *testing.T, c *credentials, upd iamd.UserUpdate) {
				t.Helper()
				if err := f.change(f.admin, "a", c.user.ID, iamd.UserChange{UserUpdate: upd}); err != nil {
					t.Fatal(err)
				}
			}
			group := func(t *testing.T, name string, roles []string, members iamd.GroupMembers) *iamd.Group {
				t.Helper()
				g, err := f.dir.CreateGroup(f.admin, &iamd.Group{InstanceID: "a", Name: name}, members)
				if err != nil {
					t.Fatal(err)
				}
				if err := f.dir.SetGroupRoles(f.admin, "a", g.ID, roles); err != nil {
					t.Fatal(err)
				}
				return g
			}

			t.Run("access key revoked", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				if err := f.svc.RevokeAccessKey(f.admin, "a", c.keyID); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "access key")
			})
			t.Run("API token deleted", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				toks, err := f.svc.ListAPITokens(f.admin, "a", c.user.ID)
				if err != nil || len(toks) != 1 {
					t.Fatal(toks, err)
				}
				if err := f.svc.RevokeAPIToken(f.admin, "a", toks[0].ID); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "API token")
			})
			t.Run("signed out", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				if err := f.svc.SignOut(ctx, c.session); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "session")
			})
			t.Run("sessions expired by an administrator", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				if _, err := f.svc.ExpireSessions(f.admin, "a", c.user.ID); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "session")
			})
			t.Run("user disabled", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				suspended := iamd.UserSuspended
				change(t, c, iamd.UserUpdate{Status: &suspended})
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "access key", "API token", "session")
			})
			t.Run("user deleted", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				if err := f.dir.DeleteUser(f.admin, "a", iamd.UserRef{ID: c.user.ID}); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "access key", "API token", "session")
			})
			t.Run("API access denied", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				denied := true
				change(t, c, iamd.UserUpdate{APIDenied: &denied})
				wantRefused(t, c, iamd.EFORBIDDEN, "access key", "API token")
				if _, err := session(b.accounts, c); err != nil {
					t.Fatalf("the console session should hold: %v", err)
				}
			})
			t.Run("console access denied", func(t *testing.T) {
				c := newUser(t)
				warm(t, c, "")
				denied := true
				change(t, c, iamd.UserUpdate{ConsoleDenied: &denied})
				wantRefused(t, c, iamd.EFORBIDDEN, "session")
			})
			t.Run("direct role taken away", func(t *testing.T) {
				c := newUser(t)
				change(t, c, iamd.UserUpdate{Roles: &[]string{"auditors"}})
				warm(t, c, iamd.PrivilegeAuditRead)
				change(t, c, iamd.UserUpdate{Roles: &[]string{}})
				wantWithout(t, c, iamd.PrivilegeAuditRead)
			})
			t.Run("direct privilege taken away", func(t *testing.T) {
				c := newUser(t)
				change(t, c, iamd.UserUpdate{Privileges: &[]string{iamd.PrivilegeGroupRead}})
				warm(t, c, iamd.PrivilegeGroupRead)
				change(t, c, iamd.UserUpdate{Privileges: &[]string{}})
				wantWithout(t, c, iamd.PrivilegeGroupRead)
			})
			t.Run("group's role taken away", func(t *testing.T) {
				c := newUser(t)
				g := group(t, "role-removed", []string{"auditors"}, iamd.GroupMembers{Users: []string{c.user.ID}})
				warm(t, c, iamd.PrivilegeAuditRead)
				if err := f.dir.SetGroupRoles(f.admin, "a", g.ID, nil); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeAuditRead)
			})
			t.Run("member removed from the group", func(t *testing.T) {
				c := newUser(t)
				g := group(t, "member-removed", []string{"auditors"}, iamd.GroupMembers{Users: []string{c.user.ID}})
				warm(t, c, iamd.PrivilegeAuditRead)
				if _, err := f.dir.ChangeGroup(f.admin, "a", g.ID, 0, func(*iamd.Group) (*iamd.GroupChange, error) {
					return &iamd.GroupChange{Remove: iamd.GroupMembers{Users: []string{c.user.ID}}}, nil
				}); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeAuditRead)
			})
			t.Run("nested group unnested", func(t *testing.T) {
				c := newUser(t)
				child := group(t, "child-unnested", nil, iamd.GroupMembers{Users: []string{c.user.ID}})
				parent := group(t, "parent-unnesting", []string{"auditors"}, iamd.GroupMembers{Groups: []string{child.ID}})
				warm(t, c, iamd.PrivilegeAuditRead)
				if _, err := f.dir.ChangeGroup(f.admin, "a", parent.ID, 0, func(*iamd.Group) (*iamd.GroupChange, error) {
					return &iamd.GroupChange{Remove: iamd.GroupMembers{Groups: []string{child.ID}}}, nil
				}); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeAuditRead)
			})
			t.Run("group deleted", func(t *testing.T) {
				c := newUser(t)
				child := group(t, "child-orphaned", nil, iamd.GroupMembers{Users: []string{c.user.ID}})
				parent := group(t, "parent-deleted", []string{"auditors"}, iamd.GroupMembers{Groups: []string{child.ID}})
				warm(t, c, iamd.PrivilegeAuditRead)
				if err := f.dir.DeleteGroup(f.admin, "a", parent.ID, 0); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeAuditRead)
			})
			t.Run("role redefined", func(t *testing.T) {
				c := newUser(t)
				if _, err := f.dir.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "readers", Privileges: []string{iamd.PrivilegeUserRead}}); err != nil {
					t.Fatal(err)
				}
				child := group(t, "child-redefined", nil, iamd.GroupMembers{Users: []string{c.user.ID}})
				group(t, "parent-redefined", []string{"readers"}, iamd.GroupMembers{Groups: []string{child.ID}})
				warm(t, c, iamd.PrivilegeUserRead)
				if _, err := f.dir.SaveRole(f.admin, &iamd.Role{InstanceID: "a", Name: "readers", Privileges: []string{iamd.PrivilegeGroupRead}}); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeUserRead)
			})
			t.Run("role deleted", func(t *testing.T) {
				c := newUser(t)
				if _, err := f.dir.CreateRole(f.admin, &iamd.Role{InstanceID: "a", Name: "doomed", Privileges: []string{iamd.PrivilegeRoleRead}}); err != nil {
					t.Fatal(err)
				}
				change(t, c, iamd.UserUpdate{Roles: &[]string{"doomed"}})
				group(t, "doomed-holders", []string{"doomed"}, iamd.GroupMembers{Users: []string{c.user.ID}})
				warm(t, c, iamd.PrivilegeRoleRead)
				if err := f.dir.DeleteRole(f.admin, "a", "doomed"); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeRoleRead)
			})
			t.Run("built-in role redefined by a new release", func(t *testing.T) {
				// Every replica puts the built-in roles at start (directory.EnsureBuiltinRoles):
				// one upgraded first redefines them under the others' feet.
				c := newUser(t)
				if err := storeA.PutRoles(ctx, "a", []iamd.Role{{Name: "release-defined", Builtin: true, Privileges: []string{iamd.PrivilegeUserRead}}}); err != nil {
					t.Fatal(err)
				}
				group(t, "release-holders", []string{"release-defined"}, iamd.GroupMembers{Users: []string{c.user.ID}})
				warm(t, c, iamd.PrivilegeUserRead)
				if err := storeA.PutRoles(ctx, "a", []iamd.Role{{Name: "release-defined", Builtin: true, Privileges: []string{iamd.PrivilegeGroupRead}}}); err != nil {
					t.Fatal(err)
				}
				wantWithout(t, c, iamd.PrivilegeUserRead)
			})
			t.Run("access key issued again under its id", func(t *testing.T) {
				// An operator rotates the bootstrap key through the environment: revoked,
				// then given again with another secret. The old secret must not hold.
				const oldSecret, newSecret = "admin-secret-key-0123456789", "another-secret-key-9876543210"
				c := &credentials{keyID: "ADMINKEY", secret: oldSecret}
				if _, err := signed(b.accounts, c); err != nil {
					t.Fatal(err)
				}
				if err := f.svc.RevokeAccessKey(f.admin, "a", "ADMINKEY"); err != nil {
					t.Fatal(err)
				}
				if _, err := f.svc.Bootstrap(ctx, account.BootstrapConfig{DefaultInstance: "a", AdminAccessKey: "ADMINKEY",
					AdminSecretKey: newSecret}); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, c, iamd.EUNAUTHENTICATED, "access key")
				c.secret = newSecret
				if _, err := signed(b.accounts, c); err != nil {
					t.Fatalf("the key's new secret: %v", err)
				}
			})
		})
	}
}
