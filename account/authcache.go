package account

import (
	"bytes"
	"slices"
	"sync"
	"time"

	"iamd"
)

// Authenticating from memory.
//
// Every signed or bearer request used to read the credential, its owner's row and its
// owner's effective privileges (a recursive query over groups), and to open an access
// key's sealed secret. The service now remembers, per credential, the principal it
// authenticates and the key's opened secret, together with the owner's Version when they
// were built, and on every request makes one read instead (iamd.CredentialChecker): the
// credential's row joined on the owner's primary key, giving whether the credential is
// still there and usable and the owner's version, status and access rules as they are
// now. A credential gone, disabled, expired or revoked, or an owner suspended, expired or
// denied the access, is refused from that read alone. An owner at the version remembered
// gets the remembered principal; at any other version the principal is built again from
// the store and replaces the entry.
//
// This is safe across replicas sharing one database because everything authentication
// answers is either in the credential's row, read on every request, or derived from the
// owner and stamped with the owner's version, which the store makes a new version on
// every change of it: an update of the user (status, access rules, names, platform
// administration, direct roles and privileges, memberships: directory makes it
// cur.Version+1), a password or MFA change, a sign-in, and every change elsewhere that
// alters the user's effective privileges — a membership or nesting change, a group's
// roles, a role's definition or deletion, a group's deletion (sqlstore's bumpUsers,
// bumpUsersUnder, bumpRoleHolders, and PutRoles when a built-in role's privileges change)
// — in the same transaction as the change. So a request answered after such a change
// committed sees the new version or the credential's new state, on whichever replica it
// lands, and is answered from what the store holds now. A principal is stamped with the
// version of the user row it was built from, read before the privileges: privileges read
// later can only be newer than that stamp, never older, so a change racing a rebuild at
// worst makes the next request build again.
//
// A change that finds the users it affects by a query (a role's holders, a group's
// members: UpdateRole, DeleteRole, SetGroupRoles, DeleteGroup, a nesting) would, under
// PostgreSQL's READ COMMITTED, miss a user whom a concurrent transaction made one of them
// and leave that user's version as it was; sqlstore's rights lock (lockRights) runs such
// changes alone, so none is missed. Entries are also rebuilt once they are
// authEntryMaxAge old: a bound, in depth, on anything a future write path might forget to
// bump. Everything takes effect on the very next request.
//
// What is remembered is bounded (authCacheSize entries, an arbitrary one evicted when
// full), never a refusal, and keyed so that another credential stored later under the same
// id or hash (a bootstrap key issued again with another secret) is not mistaken for the
// one remembered.

const (
	authCacheSize   = 10000
	authEntryMaxAge = time.Minute
)

// authEntry is what one credential authenticated as. Entries are never changed once
// stored, only replaced, so readers need no lock beyond the map's.
type authEntry struct {
	// The credential it was built for: its id, owner and creation, and for access keys
	// the sealed secret the opened one came from.
	credentialID, instanceID, userID string
	createdAt                        time.Time
	sealed, secret                   []byte

	userVersion int64 // the owner's version the principal was built from
	builtAt     time.Time
	principal   iamd.Principal
}

// holdsFor reports whether e was built for the credential c describes.
func (e *authEntry) holdsFor(c *iamd.CredentialState) bool {
	return e.credentialID == c.ID && e.instanceID == c.InstanceID && e.userID == c.UserID &&
		e.createdAt.Equal(c.CreatedAt) && bytes.Equal(e.sealed, c.SecretEncrypted)
}

// caller returns a copy of the remembered principal: callers may change theirs.
func (e *authEntry) caller() *iamd.Principal {
	p := e.principal
	p.Privileges = slices.Clone(e.principal.Privileges)
	return &p
}

// authCache maps a credential ("k" and a key id, "t" and a token hash, "s" and a session
// token hash, "i" and a session id) to its entry.
type authCache struct {
	mu      sync.RWMutex
	max     int
	entries map[string]*authEntry
}

func newAuthCache(max int) *authCache {
	return &authCache{max: max, entries: make(map[string]*authEntry)}
}

// lookup returns the entry of key if it was built for the credential c describes.
func (c *authCache) lookup(key string, cred *iamd.CredentialState) *authEntry {
	c.mu.RLock()
	e := c.entries[key]
	c.mu.RUnlock()
	if e == nil || !e.holdsFor(cred) {
		return nil
	}
	return e
}

func (c *authCache) put(key string, e *authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		// Any entry will do: an evicted credential costs one rebuild when it comes back.
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = e
}

func (c *authCache) drop(key string) {
	c.mu.RLock()
	_, ok := c.entries[key]
	c.mu.RUnlock()
	if ok {
		c.mu.Lock()
		delete(c.entries, key)
		c.mu.Unlock()
	}
}

func (c *authCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
