package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

var apiClient = &http.Client{
	// Longer than the replicas' --request-timeout: a reply later than that is a hang.
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64},
}

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

// failure is a create that was not acknowledged.
type failure struct {
	replica int
	reply   reply
}

// load is creates driven through every replica by several writers each.
type load struct {
	replicas []*replica
	stop     atomic.Bool
	wg       sync.WaitGroup

	mu       sync.Mutex
	acks     []ack
	failures []failure
}

func (l *load) start(writersPerReplica int) {
	for ri, rp := range l.replicas {
		for w := range writersPerReplica {
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				l.write(ri, rp, w)
			}()
		}
	}
}

func (l *load) write(ri int, rp *replica, w int) {
	for seq := 0; !l.stop.Load(); seq++ {
		login := fmt.Sprintf("ha-r%d-w%d-%06d", ri, w, seq)
		r := rp.send("POST", usersPath(), adminToken, map[string]string{"login_name": login, "display_name": "Failover " + login})
		var u user
		if r.err == nil && r.status == http.StatusCreated && json.Unmarshal(r.body, &u) == nil && u.ID != "" {
			l.mu.Lock()
			l.acks = append(l.acks, ack{id: u.ID, login: login, replica: ri, start: r.start, end: r.end})
			l.mu.Unlock()
			continue
		}
		l.mu.Lock()
		l.failures = append(l.failures, failure{replica: ri, reply: r})
		l.mu.Unlock()
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

// verify looks every acknowledged user up by id, through the replicas in turn, and
// returns how many were found and the problems met on the way.
func (l *load) verify() (found int, lost []string, problems []string) {
	var mu sync.Mutex
	work := make(chan ack)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				rp := l.replicas[(a.replica+1)%len(l.replicas)] // the other replica than the one that created it
				var r reply
				for attempt := 0; attempt < 20; attempt++ {
					if r = rp.send("GET", usersPath()+"/"+a.id, adminToken, nil); r.err == nil && r.status != http.StatusServiceUnavailable {
						break
					}
					time.Sleep(500 * time.Millisecond)
				}
				var u user
				mu.Lock()
				switch {
				case r.err == nil && r.status == http.StatusOK && json.Unmarshal(r.body, &u) == nil && u.LoginName == a.login:
					found++
				case r.err == nil && r.status == http.StatusNotFound:
					lost = append(lost, a.login)
				default:
					problems = append(problems, fmt.Sprintf("look-up of acknowledged %s on %s: %s", a.login, rp.name, r))
				}
				mu.Unlock()
			}
		}()
	}
	for _, a := range l.acks {
		work <- a
	}
	close(work)
	wg.Wait()
	return found, lost, problems
}
