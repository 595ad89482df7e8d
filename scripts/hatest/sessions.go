package main

import (
	"fmt"
	"net/http"
)

// accounts is the sign-in state made before the failover and checked after it: a
// session signed in on each replica, and a user two wrong passwords short of lockout.
type accounts struct {
	replicas []*replica
	tokens   []string // tokens[i] was signed in on replicas[i]
	userIDs  []string // the users signed in
	lockee   string   // id of the user with wrong sign-ins
}

const (
	lockoutThreshold = 5 // the instance policy's default
	wrongBefore      = 3 // wrong passwords before the failover
)

func (a *accounts) createUser(rp *replica, login string) (string, error) {
	var u user
	err := rp.decode(rp.send("POST", usersPath(), adminToken, map[string]string{"login_name": login, "password": userPassword}), http.StatusCreated, &u)
	return u.ID, err
}

func (a *accounts) signIn(rp *replica, login, password string) reply {
	return rp.send("POST", "/iamd/v1/instances/"+instance+"/sign-in", "", map[string]string{"login_name": login, "password": password})
}

// prepare signs a user in on every replica and fails three sign-ins of another.
func (a *accounts) prepare() error {
	for i, rp := range a.replicas {
		login := fmt.Sprintf("ha-session-%d", i)
		id, err := a.createUser(rp, login)
		if err != nil {
			return fmt.Errorf("create %s: %w", login, err)
		}
		a.userIDs = append(a.userIDs, id)
		var tok struct{ Token string }
		if err := rp.decode(a.signIn(rp, login, userPassword), http.StatusOK, &tok); err != nil {
			return fmt.Errorf("sign in %s: %w", login, err)
		}
		a.tokens = append(a.tokens, tok.Token)
	}
	id, err := a.createUser(a.replicas[0], "ha-lockee")
	if err != nil {
		return fmt.Errorf("create ha-lockee: %w", err)
	}
	a.lockee = id
	for i := range wrongBefore {
		rp := a.replicas[i%len(a.replicas)]
		if err := rp.decode(a.signIn(rp, "ha-lockee", "not-the-password"), http.StatusUnauthorized, nil); err != nil {
			return fmt.Errorf("wrong sign-in: %w", err)
		}
	}
	return a.checkLockee(wrongBefore, false)
}

func (a *accounts) checkLockee(failed int, locked bool) error {
	for _, rp := range a.replicas {
		var u user
		if err := rp.decode(rp.send("GET", usersPath()+"/"+a.lockee, adminToken, nil), http.StatusOK, &u); err != nil {
			return fmt.Errorf("get ha-lockee: %w", err)
		}
		if u.PasswordFailedCount != failed || u.Locked != locked {
			return fmt.Errorf("ha-lockee on %s: password_failed_count %d, locked %t; want %d, %t",
				rp.name, u.PasswordFailedCount, u.Locked, failed, locked)
		}
	}
	return nil
}

// check runs after the failover: every session still answers on every replica, the
// failed count carried over and two more wrong passwords lock the user, and a sign-out
// on one replica ends the session on the other.
func (a *accounts) check() []string {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	me := func(rp *replica, token string) reply { return rp.send("GET", "/iamd/v1/me", token, nil) }

	for i, token := range a.tokens {
		for _, rp := range a.replicas {
			if err := rp.decode(me(rp, token), http.StatusOK, nil); err != nil {
				fail("session of ha-session-%d after the failover: %v", i, err)
			}
		}
	}
	if err := a.checkLockee(wrongBefore, false); err != nil {
		fail("lockout count after the failover: %v", err)
	}
	for i := wrongBefore; i < lockoutThreshold; i++ {
		rp := a.replicas[i%len(a.replicas)]
		if err := rp.decode(a.signIn(rp, "ha-lockee", "not-the-password"), http.StatusUnauthorized, nil); err != nil {
			fail("wrong sign-in after the failover: %v", err)
		}
	}
	if err := a.checkLockee(lockoutThreshold, true); err != nil {
		fail("lockout after the failover: %v", err)
	}
	if r := a.signIn(a.replicas[0], "ha-lockee", userPassword); r.err != nil || r.status == http.StatusOK {
		fail("the locked user signed in with the right password: %s", r)
	}

	// Sign out on the first replica; the second must refuse the token at once.
	first, second := a.replicas[0], a.replicas[len(a.replicas)-1]
	if err := first.decode(first.send("POST", "/iamd/v1/session/sign-out", a.tokens[0], nil), http.StatusNoContent, nil); err != nil {
		fail("sign-out after the failover: %v", err)
	}
	if err := second.decode(me(second, a.tokens[0]), http.StatusUnauthorized, nil); err != nil {
		fail("a session signed out on %s still answers on %s: %v", first.name, second.name, err)
	}
	if len(a.tokens) > 1 {
		if err := first.decode(me(first, a.tokens[1]), http.StatusOK, nil); err != nil {
			fail("another user's session after a sign-out: %v", err)
		}
	}
	if err := second.decode(a.signIn(second, "ha-session-0", userPassword), http.StatusOK, nil); err != nil {
		fail("sign-in after the failover: %v", err)
	}
	return problems
}
