package crossface_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"iamd"
	"iamd/internal/pgtest"
	"iamd/postgres"
	"iamd/server"
	"iamd/sqlstore"
)

// faceRead is a GET of one face, under its prefix.
type faceRead struct{ face, path string }

// readsOfEveryFace reads u through every face (the send of caller checks each answer,
// errors included, against that face's OpenAPI document).
func readsOfEveryFace(u *iamd.User) []faceRead {
	return []faceRead{
		{"/scp", "/v1/users/" + u.ID + "?instance_id=" + inst},
		{"/ncloud", "/api/v1/users/" + ncloudID(u)},
		{"/ece", "/api/v1/users/" + u.LoginName},
		{"/scim/v2", "/Users/" + u.ID},
		{"/vikingcloud", "/user-service/v1/user/local/" + u.LoginName},
		{"/iamd", "/v1/instances/" + inst + "/users/" + u.ID},
	}
}

// socketProxy stands between iamd and PostgreSQL's unix socket, so that a test can take
// the database away (as a primary's loss does) and give it back (as a promotion does).
type socketProxy struct {
	t         *testing.T
	dir, real string
	mu        sync.Mutex
	ln        net.Listener
	conns     []net.Conn
	stalled   atomic.Bool // bytes vanish and connects hang, as across a partition
}

func newSocketProxy(t *testing.T, realSocket string) *socketProxy {
	// A short directory: unix socket paths are limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "pgp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &socketProxy{t: t, dir: dir, real: realSocket}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *socketProxy) up() {
	ln, err := net.Listen("unix", filepath.Join(p.dir, ".s.PGSQL.5432"))
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.stalled.Load() {
				p.mu.Lock()
				p.conns = append(p.conns, c) // held open, never answered
				p.mu.Unlock()
				continue
			}
			backend, err := net.Dial("unix", p.real)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, backend)
			p.mu.Unlock()
			go p.pipe(backend, c)
			go p.pipe(c, backend)
		}
	}()
}

func (p *socketProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.stalled.Load() {
			if _, err := dst.Write(buf[:n]); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	dst.Close()
}

// stall keeps every connection open but lets nothing through, so that queries and
// connects wait instead of failing: a network partition, or a server that hangs.
func (p *socketProxy) stall() { p.stalled.Store(true) }

// heal ends a stall: the held connections are closed and new ones go through.
func (p *socketProxy) heal() {
	p.down()
	p.stalled.Store(false)
	p.up()
}

// down closes the socket and every connection through it: connects are refused and
// queries on open connections fail, at once.
func (p *socketProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// proxiedDatabase is a fresh PostgreSQL database that iamd reaches only through proxies.
type proxiedDatabase struct {
	t      *testing.T
	url    *url.URL
	socket string // the server's own socket
}

func newProxiedDatabase(t *testing.T) *proxiedDatabase {
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	return &proxiedDatabase{t: t, url: u, socket: filepath.Join(u.Query().Get("host"), ".s.PGSQL.5432")}
}

func (d *proxiedDatabase) proxy() *socketProxy { return newSocketProxy(d.t, d.socket) }

// start serves every face on a store whose URL lists the proxies as its hosts, in order,
// with params besides.
func (d *proxiedDatabase) start(params url.Values, hosts ...*socketProxy) *env {
	return d.startConfigured(params, server.Config{}, hosts...)
}

func (d *proxiedDatabase) startConfigured(params url.Values, cfg server.Config, hosts ...*socketProxy) *env {
	u := *d.url
	q := u.Query()
	var dirs []string
	for _, h := range hosts {
		dirs = append(dirs, h.dir)
	}
	q.Set("host", strings.Join(dirs, ","))
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	store, err := postgres.Open(context.Background(), u.String())
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { store.Close() })
	return startConfigured(d.t, store, cfg)
}

// While the database cannot be reached, every face answers a clean 503 in its own
// shape with Retry-After, and /readyz says not ready; once it is back, requests are
// served again without a restart.
func TestEveryFaceAnswers503WhileTheDatabaseIsAway(t *testing.T) {
	db := newProxiedDatabase(t)
	proxy := db.proxy()
	e := db.start(nil, proxy)
	admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
	u := e.newUser("reachable")
	reads := readsOfEveryFace(u.user)
	ready := func() int {
		resp, err := http.Get(e.base + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, r := range reads {
		if got := admin.send("GET", r.face, r.path, ""); got.status != 200 {
			t.Fatalf("GET %s%s before: %s", r.face, r.path, got)
		}
	}

	proxy.down()
	for _, r := range reads {
		start := time.Now()
		got := admin.send("GET", r.face, r.path, "")
		if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
			t.Errorf("GET %s%s with the database away: %s (Retry-After %q)", r.face, r.path, got, got.header.Get("Retry-After"))
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("GET %s%s took %s to fail", r.face, r.path, time.Since(start))
		}
		if strings.Contains(got.raw, "sqlstore") || strings.Contains(got.raw, "dial") {
			t.Errorf("GET %s%s tells the store's error: %s", r.face, r.path, got.raw)
		}
	}
	if s := ready(); s != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database away: %d", s)
	}

	proxy.up()
	deadline := time.Now().Add(10 * time.Second)
	for _, r := range reads {
		for {
			got := admin.send("GET", r.face, r.path, "")
			if got.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s%s after the database came back: %s", r.face, r.path, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if s := ready(); s != http.StatusOK {
		t.Errorf("/readyz after the database came back: %d", s)
	}
}

// With a multi-host URL (libpq's, which pgx reads), iamd finds the server that takes
// writes, and after a failover — the first host gone, the second promoted — its pool
// drops the dead connections and reaches the new primary by itself.
func TestMultiHostURLFollowsAFailover(t *testing.T) {
	db := newProxiedDatabase(t)
	primary, standby := db.proxy(), db.proxy()
	standby.down() // not reachable until promoted
	e := db.start(url.Values{"target_session_attrs": {"read-write"}}, primary, standby)
	admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
	u := e.newUser("failover")
	path := "/v1/instances/" + inst + "/users/" + u.user.ID
	if got := admin.send("GET", "/iamd", path, ""); got.status != 200 {
		t.Fatalf("before the failover: %s", got)
	}
	primary.down()
	standby.up()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := admin.send("GET", "/iamd", path, "")
		if got.status == 200 {
			break
		}
		if got.status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("during the failover: %s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Writes reach the new primary too.
	if got := admin.send("PATCH", "/iamd", path, `{"version":1,"department":"After the failover"}`); got.status != 200 {
		t.Fatalf("a write after the failover: %s", got)
	}
}

// With a standby for reads that may lag, listings and searches go to it, and nothing
// else does: with the standby away, listings answer 503 while sign-in, look-ups by id
// or login name, and writes are served by the primary.
func TestStandbyServesOnlyListings(t *testing.T) {
	db := newProxiedDatabase(t)
	primary, standby := db.proxy(), db.proxy()
	e := db.start(nil, primary)
	standbyURL := *db.url
	q := standbyURL.Query()
	q.Set("host", standby.dir)
	standbyURL.RawQuery = q.Encode()
	if err := postgres.ReadStandby(e.store.(*sqlstore.DB), standbyURL.String()); err != nil {
		t.Fatal(err)
	}
	admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
	u := e.newUser("standby")
	listings := []struct{ face, path string }{
		{"/iamd", "/v1/instances/" + inst + "/users?q=standby"},
		{"/scim/v2", "/Users?startIndex=1&count=10"},
		{"/scp", "/v1/users?instance_id=" + inst},
		{"/iamd", "/v1/instances/" + inst + "/groups"},
	}
	lookups := []struct{ method, face, path, body string }{
		{"GET", "/iamd", "/v1/instances/" + inst + "/users/" + u.user.ID, ""},
		{"GET", "/scim/v2", "/Users?filter=" + url.QueryEscape(`userName eq "`+u.user.LoginName+`"`), ""},
		{"GET", "/iamd", "/v1/me", ""},
		{"PATCH", "/iamd", "/v1/instances/" + inst + "/users/" + u.user.ID, `{"version":1,"department":"Primary"}`},
	}
	for _, l := range listings {
		if got := admin.send("GET", l.face, l.path, ""); got.status != 200 {
			t.Fatalf("GET %s%s: %s", l.face, l.path, got)
		}
	}
	standby.down()
	for _, l := range listings {
		if got := admin.send("GET", l.face, l.path, ""); got.status != http.StatusServiceUnavailable {
			t.Errorf("GET %s%s with the standby away: %s", l.face, l.path, got)
		}
	}
	for _, l := range lookups {
		if got := admin.send(l.method, l.face, l.path, l.body); got.status != 200 {
			t.Errorf("%s %s%s with the standby away: %s", l.method, l.face, l.path, got)
		}
	}
	standby.up()
	deadline := time.Now().Add(10 * time.Second)
	for _, l := range listings {
		for got := admin.send("GET", l.face, l.path, ""); got.status != 200; got = admin.send("GET", l.face, l.path, "") {
			if time.Now().After(deadline) {
				t.Fatalf("GET %s%s with the standby back: %s", l.face, l.path, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// A database that stops answering without closing anything (a partition, a hung
// server) costs a request its deadline at most: then every face answers 503 with
// Retry-After, and once the database answers again so does iamd.
func TestARequestNeverWaitsPastItsDeadline(t *testing.T) {
	db := newProxiedDatabase(t)
	proxy := db.proxy()
	const deadline = 2 * time.Second
	e := db.startConfigured(nil, server.Config{RequestTimeout: deadline}, proxy)
	admin := caller{e: e, token: adminToken, key: adminKey, secret: adminSecret}
	u := e.newUser("partitioned")
	reads := readsOfEveryFace(u.user)
	proxy.stall()
	var wg sync.WaitGroup
	for _, r := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			got := admin.send("GET", r.face, r.path, "")
			took := time.Since(start)
			if got.status != http.StatusServiceUnavailable || got.header.Get("Retry-After") == "" {
				t.Errorf("GET %s%s with the database hung: %s (Retry-After %q)", r.face, r.path, got, got.header.Get("Retry-After"))
			}
			if took > deadline+2*time.Second {
				t.Errorf("GET %s%s answered after %s; the deadline is %s", r.face, r.path, took, deadline)
			}
		}()
	}
	wg.Wait()
	proxy.heal()
	for _, r := range reads {
		until := time.Now().Add(10 * time.Second)
		for got := admin.send("GET", r.face, r.path, ""); got.status != 200; got = admin.send("GET", r.face, r.path, "") {
			if time.Now().After(until) {
				t.Fatalf("GET %s%s once the database answers again: %s", r.face, r.path, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
