package account

import (
	"strconv"
	"sync"
	"testing"
	"time"

	"iamd"
)

// The cache never holds more than its bound, however many credentials come by, and
// stays consistent under concurrent use (run with -race).
func TestAuthCacheIsBounded(t *testing.T) {
	c := newAuthCache(100)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				key := "k" + strconv.Itoa(w*1000+i)
				cred := &iamd.CredentialState{ID: key, InstanceID: "a", UserID: "u", CreatedAt: time.Unix(0, 0)}
				c.put(key, &authEntry{credentialID: key, instanceID: "a", userID: "u", createdAt: cred.CreatedAt,
					principal: iamd.Principal{UserID: "u", Privileges: []string{iamd.PrivilegeUserRead}}})
				// An entry is served for its own credential only, whatever else the cache holds.
				other := *cred
				other.ID = key + "-reissued"
				if e := c.lookup(key, &other); e != nil {
					t.Errorf("lookup(%s) served the entry of %s for another credential", key, e.credentialID)
				}
				if i%3 == 0 {
					c.drop(key)
				}
			}
		}()
	}
	wg.Wait()
	if n := c.len(); n > 100 {
		t.Fatalf("%d entries, bound 100", n)
	}
}

// An entry serves only the credential it was built for.
func TestAuthEntryHoldsForItsCredentialOnly(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := &authEntry{credentialID: "KEY", instanceID: "a", userID: "u", createdAt: at, sealed: []byte("sealed")}
	same := iamd.CredentialState{ID: "KEY", InstanceID: "a", UserID: "u", CreatedAt: at, SecretEncrypted: []byte("sealed")}
	if !e.holdsFor(&same) {
		t.Fatal("the entry does not hold for its own credential")
	}
	for name, change := range map[string]func(*iamd.CredentialState){
		"another owner":    func(c *iamd.CredentialState) { c.UserID = "v" },
		"another instance": func(c *iamd.CredentialState) { c.InstanceID = "b" },
		"issued later":     func(c *iamd.CredentialState) { c.CreatedAt = at.Add(time.Microsecond) },
		"another secret":   func(c *iamd.CredentialState) { c.SecretEncrypted = []byte("resealed") },
		"another id":       func(c *iamd.CredentialState) { c.ID = "KEY2" },
	} {
		other := same
		change(&other)
		if e.holdsFor(&other) {
			t.Errorf("%s: the entry still holds", name)
		}
	}
}
