package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	instance      = "ha"
	adminToken    = "ha-test-admin-token-0123456789abcdef"
	adminPassword = "Ha-Test-Admin-Passw0rd!"
	userPassword  = "Ha-Test-User-Passw0rd!"
)

// replica is one iamd process, reached at base.
type replica struct {
	name string
	base string
	proc *process
}

// reply is what one request brought back.
type reply struct {
	status     int
	retryAfter string
	body       []byte
	err        error
	start, end time.Time
}

func (r reply) String() string {
	if r.err != nil {
		return r.err.Error()
	}
	return fmt.Sprintf("%d %s", r.status, bytes.TrimSpace(r.body))
}

// apiClient's timeout is set past the replicas' --request-timeout, so that a reply later
// than that is seen (and reported) rather than cut off.
var apiClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func (rp *replica) send(method, path, token string, body any) reply {
	var in io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return reply{err: err}
		}
		in = bytes.NewReader(data)
	}
	r := reply{start: time.Now()}
	req, err := http.NewRequest(method, rp.base+path, in)
	if err != nil {
		r.err = err
		return r
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	r.body, r.err = io.ReadAll(resp.Body)
	resp.Body.Close()
	r.status, r.retryAfter, r.end = resp.StatusCode, resp.Header.Get("Retry-After"), time.Now()
	return r
}

func (rp *replica) decode(r reply, want int, v any) error {
	if r.err != nil {
		return fmt.Errorf("%s: %w", rp.name, r.err)
	}
	if r.status != want {
		return fmt.Errorf("%s: want %d, got %s", rp.name, want, r)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.body, v)
}

type user struct {
	ID                  string `json:"id"`
	LoginName           string `json:"login_name"`
	PasswordFailedCount int    `json:"password_failed_count"`
	Locked              bool   `json:"locked"`
}

func usersPath() string { return "/iamd/v1/instances/" + instance + "/users" }

// ack is a create the directory acknowledged (201).
type ack struct {
	id, login  string
	replica    int
	start, end time.Time
}

// failure is a request of the load that was not served.
type failure struct {
	what     string // "a create through", "a SCIM read through"
	replica  int
	reply    reply
	badShape string // what is wrong with the error's body, if anything
}

// load is creates driven through every replica by several writers each, and a SCIM
// reader on each replica, whose refusals must come in SCIM's own error shape.
type load struct {
	replicas []*replica
	timeout  time.Duration // the replicas' request timeout
	stop     atomic.Bool
	wg       sync.WaitGroup

	mu       sync.Mutex
	acks     []ack
	failures []failure
	slow     []string // requests answered past the request timeout
}

func (l *load) start(writersPerReplica int, readable []string) {
	for ri, rp := range l.replicas {
		for w := range writersPerReplica {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				l.write(ri, rp, w)
			}()
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.readSCIM(ri, rp, readable)
		}()
	}
}

// record notes r's lateness and, unless served, its failure.
func (l *load) record(what string, ri int, r reply, served bool, badShape string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if took := r.end.Sub(r.start); r.err == nil && took > l.timeout+time.Second {
		l.slow = append(l.slow, fmt.Sprintf("%s %s took %s", what, l.replicas[ri].name, took.Round(time.Millisecond)))
	}
	if !served {
		l.failures = append(l.failures, failure{what: what, replica: ri, reply: r, badShape: badShape})
	}
}

// readSCIM reads users through the SCIM face; a refusal must be SCIM's error
// (RFC 7644 §3.12) saying 503.
func (l *load) readSCIM(ri int, rp *replica, ids []string) {
	for i := 0; !l.stop.Load(); i++ {
		r := rp.send("GET", "/scim/v2/Users/"+ids[i%len(ids)], adminToken, nil)
		served := r.err == nil && r.status == http.StatusOK
		badShape := ""
		if !served && r.err == nil {
			var e struct {
				Schemas []string `json:"schemas"`
				Status  string   `json:"status"`
			}
			if json.Unmarshal(r.body, &e) != nil || len(e.Schemas) != 1 ||
				e.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || e.Status != strconv.Itoa(r.status) {
				badShape = fmt.Sprintf("the refusal is not SCIM's error shape: %s", r)
			}
		}
		l.record("a SCIM read through", ri, r, served, badShape)
		if !served {
			time.Sleep(250 * time.Millisecond)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func (l *load) write(ri int, rp *replica, w int) {
	for seq := 0; !l.stop.Load(); seq++ {
		login := fmt.Sprintf("ha-r%d-w%d-%06d", ri, w, seq)
		r := rp.send("POST", usersPath(), adminToken, map[string]string{"login_name": login, "display_name": "Failover " + login})
		var u user
		served := r.err == nil && r.status == http.StatusCreated && json.Unmarshal(r.body, &u) == nil && u.ID != ""
		l.record("a create through", ri, r, served, "")
		if served {
			l.mu.Lock()
			l.acks = append(l.acks, ack{id: u.ID, login: login, replica: ri, start: r.start, end: r.end})
			l.mu.Unlock()
			continue
		}
		// A client backs off on 503; a short pause rather than the whole Retry-After
		// keeps the measured resumption close to the real one.
		time.Sleep(250 * time.Millisecond)
	}
}

func (l *load) halt() {
	l.stop.Store(true)
	l.wg.Wait()
}

func (l *load) acked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acks)
}

// ackedSince counts the creates sent after t and acknowledged, and the first one's
// acknowledgement time on each replica (zero when none yet).
func (l *load) ackedSince(t time.Time) (n int, first []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	first = make([]time.Time, len(l.replicas))
	for _, a := range l.acks {
		if a.start.After(t) {
			n++
			if first[a.replica].IsZero() || a.end.Before(first[a.replica]) {
				first[a.replica] = a.end
			}
		}
	}
	return n, first
}

// verify looks every acknowledged user up by id, through the other replica than the
// one that created it (or any that still runs), and returns how many were found, the
// logins of those the directory says it does not have, and the problems met on the way.
func (l *load) verify(ctx context.Context) (found int, lost []string, problems []string) {
	var mu sync.Mutex
	work := make(chan ack)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				r, rp := l.lookUp(ctx, a)
				var u user
				mu.Lock()
				switch {
				case r.err == nil && r.status == http.StatusOK && json.Unmarshal(r.body, &u) == nil && u.LoginName == a.login:
					found++
				case r.err == nil && r.status == http.StatusNotFound:
					lost = append(lost, a.login)
				default:
					problems = append(problems, fmt.Sprintf("look-up of acknowledged %s on %s: %s", a.login, rp, r))
				}
				mu.Unlock()
			}
		}()
	}
	for _, a := range l.acks {
		if ctx.Err() != nil {
			break
		}
		work <- a
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		problems = append(problems, "the look-ups were interrupted")
	}
	return found, lost, problems
}

// lookUp reads a's user, retrying a refused read a few times, through a replica that
// still runs.
func (l *load) lookUp(ctx context.Context, a ack) (reply, string) {
	r := reply{err: fmt.Errorf("no replica runs")}
	name := "no replica"
	for attempt := 0; attempt < 10 && ctx.Err() == nil; attempt++ {
		rp := l.replicas[(a.replica+1+attempt)%len(l.replicas)]
		if rp.proc.exited() {
			continue
		}
		r, name = rp.send("GET", usersPath()+"/"+a.id, adminToken, nil), rp.name
		if r.err == nil && r.status != http.StatusServiceUnavailable {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	return r, name
}
