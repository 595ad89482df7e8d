// Package loadtest drives a running iamd over HTTP the way its clients do — signed SCP
// calls, SCIM calls with an API token, native sign-ins — from concurrent clients, and measures each workload beside a
// baseline taken in the same run: the same client against handlers that do nothing
// through the same server stack. Ratios to that baseline hold on a noisy machine where
// absolute figures do not.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"iamd/face/scp"
)

// Target is the server under load and the credentials to call it with.
type Target struct {
	URL        string // http://host:port of the main listener
	Instance   string
	AccessKey  string
	SecretKey  string
	SignInUser string // login name with password SignInPass, for the sign-in workload
	SignInPass string
	APIToken   string // an API token of the admin, for the SCIM workloads (Bearer)
}

// Config is one run.
type Config struct {
	Target   Target
	Clients  int
	Duration time.Duration // per workload
	// Workloads to run, by name, in order; nil runs them all (see Names).
	Workloads []string
	// Process, when set, reads the server's CPU time and peak RSS around each workload.
	Process *Process
	// Known login names and ids already in the store (the preload), for reads.
	Known []KnownUser
	// Population is how many users the instance holds, for the workloads that page at
	// random across all of them (scim-list). 0: Run asks the server (SCIM's totalResults)
	// when such a workload is to run.
	Population int
	// Log, when set, receives a line as each workload starts.
	Log func(format string, args ...any)
	// Around, when set, is called as each workload starts; the function it returns is
	// called when the workload ends (iamd bench --profile takes a CPU profile this way).
	Around func(workload string) (done func())
}

// KnownUser is a user the reads may ask for.
type KnownUser struct{ ID, LoginName string }

// Result is one workload's figures.
type Result struct {
	Workload       string         `json:"workload"`
	Requests       int            `json:"requests"`
	Seconds        float64        `json:"seconds"`
	RPS            float64        `json:"rps"`
	P50ms          float64        `json:"p50_ms"`
	P95ms          float64        `json:"p95_ms"`
	P99ms          float64        `json:"p99_ms"`
	Maxms          float64        `json:"max_ms"`
	Errors         map[string]int `json:"errors"` // by HTTP status, or "transport"
	VsBaseline     float64        `json:"vs_baseline"`
	ServerCPUSecs  float64        `json:"server_cpu_seconds,omitempty"`
	ServerPeakRSSB int64          `json:"server_peak_rss_bytes,omitempty"`
}

// Names lists the workloads in the order they run. The baselines come first so that
// every other figure can be given as a ratio to them. The two that hash passwords come
// last: each argon2id hash allocates its whole memory cost, and the heap that leaves the
// server (up to its memory limit, returned to the OS only gradually) would otherwise
// show in the peak RSS of every workload after them.
var Names = []string{"baseline", "baseline-signed", "create", "get", "lookup", "list", "patch", "delete", "mixed",
	"scim-get", "scim-list", "scim-lookup", "scim-contains", "search", "create-password", "sign-in"}

// scimPageSize is the page the scim-list workload asks for: SCIM's default count.
const scimPageSize = 100

// client is one simulated API client.
type client struct {
	t    Target
	http *http.Client
	rng  *rand.Rand
}

// credentials is how a request proves who sends it.
type credentials int

const (
	anonymous credentials = iota
	signed                // SCP's signature headers, with the access key
	bearer                // Authorization: Bearer with the API token (SCIM)
)

// do sends one request with the given credentials.
func (c *client) do(ctx context.Context, method, path string, body any, creds credentials) (int, []byte, error) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	url := c.t.URL + path
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	if raw == nil {
		req.Body, req.ContentLength = nil, 0
	}
	req.Header.Set("Content-Type", "application/json")
	switch creds {
	case signed:
		ts := strconv.FormatInt(time.Now().UnixMilli(), 10)
		for _, h := range scp.SignedHeaders(c.t.SecretKey, method, url, ts, c.t.AccessKey, "", "Openapi") {
			req.Header.Set(h[0], h[1])
		}
	case bearer:
		req.Header.Set("Authorization", "Bearer "+c.t.APIToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	if n := resp.ContentLength; n > 0 && n <= maxBody {
		// Read into one buffer of the answer's size: growing one as io.ReadAll does
		// cost the load, on the machine it shares with the server, more than the
		// server spent writing a page of users.
		out := make([]byte, n)
		_, err := io.ReadFull(resp.Body, out)
		return resp.StatusCode, out, err
	}
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// maxBody bounds the buffer a declared Content-Length makes the load allocate at once.
const maxBody = 16 << 20

// pool hands out users made during the run (by the creates) to later workloads.
type pool struct {
	mu  sync.Mutex
	ids []string
}

func (p *pool) put(id string) { p.mu.Lock(); p.ids = append(p.ids, id); p.mu.Unlock() }

// take removes and returns one id, or "".
func (p *pool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ids) == 0 {
		return ""
	}
	id := p.ids[len(p.ids)-1]
	p.ids = p.ids[:len(p.ids)-1]
	return id
}

// step is one request of a workload; it returns the HTTP status (0 for a transport
// error) and whether the status is the expected one.
type step func(ctx context.Context, c *client) (status int, ok bool)

// runner holds what workloads share.
type runner struct {
	cfg     Config
	created pool // users the creates made, for patch and delete
	seq     atomic.Int64
	runID   string
}

func (r *runner) known(c *client) KnownUser {
	if len(r.cfg.Known) == 0 {
		return KnownUser{}
	}
	return r.cfg.Known[c.rng.IntN(len(r.cfg.Known))]
}

func (r *runner) newLogin() string {
	return fmt.Sprintf("lt-%s-%d", r.runID, r.seq.Add(1))
}

func expect(status int, err error, want int) (int, bool) {
	if err != nil {
		return 0, false
	}
	return status, status == want
}

func (r *runner) steps() map[string]step {
	inst := r.cfg.Target.Instance
	create := func(password bool) step {
		return func(ctx context.Context, c *client) (int, bool) {
			body := map[string]any{"instance_id": inst, "user_id": r.newLogin(), "name": "Load Test",
				"email": "load.test@example.com", "temporary_password": false}
			if password {
				body["password"] = "load test passphrase 42"
			}
			status, out, err := c.do(ctx, "POST", "/scp/v1/users", body, signed)
			if err == nil && status == http.StatusCreated {
				var created struct {
					User struct {
						ID string `json:"id"`
					} `json:"user"`
				}
				if json.Unmarshal(out, &created) == nil {
					r.created.put(created.User.ID)
				}
			}
			return expect(status, err, http.StatusCreated)
		}
	}
	get := func(ctx context.Context, c *client) (int, bool) {
		status, _, err := c.do(ctx, "GET", "/scp/v1/users/"+r.known(c).ID+"?instance_id="+inst, nil, signed)
		return expect(status, err, http.StatusOK)
	}
	lookup := func(ctx context.Context, c *client) (int, bool) {
		status, _, err := c.do(ctx, "GET", "/scp/v1/users?instance_id="+inst+"&user_id="+r.known(c).LoginName, nil, signed)
		return expect(status, err, http.StatusOK)
	}
	list := func(ctx context.Context, c *client) (int, bool) {
		pages := max(len(r.cfg.Known)/20, 1)
		status, _, err := c.do(ctx, "GET", fmt.Sprintf("/scp/v1/users?instance_id=%s&page=%d&size=20", inst, c.rng.IntN(pages)), nil, signed)
		return expect(status, err, http.StatusOK)
	}
	patch := func(ctx context.Context, c *client) (int, bool) {
		id := r.known(c).ID
		status, _, err := c.do(ctx, "PATCH", "/scp/v1/users/"+id, map[string]any{"instance_id": inst,
			"department": "Dept " + strconv.Itoa(c.rng.IntN(100))}, signed)
		return expect(status, err, http.StatusOK)
	}
	return map[string]step{
		"baseline": func(ctx context.Context, c *client) (int, bool) {
			status, _, err := c.do(ctx, "GET", "/healthz", nil, anonymous)
			return expect(status, err, http.StatusOK)
		},
		"baseline-signed": func(ctx context.Context, c *client) (int, bool) {
			status, _, err := c.do(ctx, "GET", "/scp/v1/bench-noop", nil, signed)
			return expect(status, err, http.StatusOK)
		},
		"create":          create(false),
		"create-password": create(true),
		"get":             get,
		"lookup":          lookup,
		"list":            list,
		"patch":           patch,
		"delete": func(ctx context.Context, c *client) (int, bool) {
			id := r.created.take()
			if id == "" { // the creates made too few: make one to delete
				create(false)(ctx, c)
				if id = r.created.take(); id == "" {
					return 0, false
				}
			}
			status, _, err := c.do(ctx, "DELETE", "/scp/v1/users/"+id+"?instance_id="+inst, nil, signed)
			return expect(status, err, http.StatusOK)
		},
		// SCIM as provisioners read: one user by id (picked as get picks them), and a page of
		// 100 users at a random startIndex across the whole population.
		"scim-get": func(ctx context.Context, c *client) (int, bool) {
			status, _, err := c.do(ctx, "GET", "/scim/v2/Users/"+r.known(c).ID, nil, bearer)
			return expect(status, err, http.StatusOK)
		},
		"scim-list": func(ctx context.Context, c *client) (int, bool) {
			pages := max((r.cfg.Population+scimPageSize-1)/scimPageSize, 1)
			start := 1 + scimPageSize*c.rng.IntN(pages)
			status, _, err := c.do(ctx, "GET", fmt.Sprintf("/scim/v2/Users?startIndex=%d&count=%d", start, scimPageSize), nil, bearer)
			return expect(status, err, http.StatusOK)
		},
		// SCIM's filters as provisioners and admin tools send them: an exact userName (what
		// Okta asks before every create) and a substring of displayName, which no index
		// serves and so reads every user of the instance to count the matches.
		"scim-lookup": func(ctx context.Context, c *client) (int, bool) {
			filter := url.QueryEscape(`userName eq "` + r.known(c).LoginName + `"`)
			status, _, err := c.do(ctx, "GET", "/scim/v2/Users?filter="+filter, nil, bearer)
			return expect(status, err, http.StatusOK)
		},
		"scim-contains": func(ctx context.Context, c *client) (int, bool) {
			filter := url.QueryEscape(`displayName co "User ` + strconv.Itoa(1+c.rng.IntN(999)) + `"`)
			status, _, err := c.do(ctx, "GET", "/scim/v2/Users?count=20&filter="+filter, nil, bearer)
			return expect(status, err, http.StatusOK)
		},
		// The console's search box as a person types in it: a prefix of a user's login name,
		// from its first character to all of it, through the native API's search (a prefix
		// of the login name, email or display name), a page of 20.
		"search": func(ctx context.Context, c *client) (int, bool) {
			login := r.known(c).LoginName
			q := url.QueryEscape(login[:1+c.rng.IntN(len(login))])
			status, _, err := c.do(ctx, "GET", "/iamd/v1/instances/"+inst+"/users?limit=20&q="+q, nil, bearer)
			return expect(status, err, http.StatusOK)
		},
		"sign-in": func(ctx context.Context, c *client) (int, bool) {
			status, _, err := c.do(ctx, "POST", "/iamd/v1/instances/"+inst+"/sign-in",
				map[string]string{"login_name": r.cfg.Target.SignInUser, "password": r.cfg.Target.SignInPass}, anonymous)
			return expect(status, err, http.StatusOK)
		},
		"mixed": func(ctx context.Context, c *client) (int, bool) {
			switch n := c.rng.IntN(100); {
			case n < 40:
				return get(ctx, c)
			case n < 80:
				return lookup(ctx, c)
			case n < 90:
				return list(ctx, c)
			case n < 95:
				return patch(ctx, c)
			default:
				return create(false)(ctx, c)
			}
		},
	}
}

// Run runs the configured workloads one after another and returns their results.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Clients <= 0 {
		cfg.Clients = 8
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 5 * time.Second
	}
	names := cfg.Workloads
	if names == nil {
		names = Names
	}
	r := &runner{cfg: cfg, runID: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	steps := r.steps()
	for _, n := range names {
		if steps[n] == nil {
			return nil, fmt.Errorf("unknown workload %q (known: %v)", n, Names)
		}
	}
	if r.cfg.Population <= 0 && slices.Contains(names, "scim-list") {
		n, err := CountUsers(ctx, cfg.Target)
		if err != nil {
			return nil, err
		}
		r.cfg.Population = max(n, len(cfg.Known))
	}
	transport := &http.Transport{MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients, IdleConnTimeout: time.Minute}
	defer transport.CloseIdleConnections()
	var results []Result
	baseline := map[bool]float64{} // signed → rps
	for _, name := range names {
		if cfg.Log != nil {
			cfg.Log("workload %s: %d clients for %s", name, cfg.Clients, cfg.Duration)
		}
		var done func()
		if cfg.Around != nil {
			done = cfg.Around(name)
		}
		res, err := r.measure(ctx, name, steps[name], transport)
		if done != nil {
			done()
		}
		if err != nil {
			return results, err
		}
		switch name {
		case "baseline":
			baseline[false] = res.RPS
		case "baseline-signed":
			baseline[true] = res.RPS
		}
		// Unsigned calls (the baseline, sign-in) compare with the unsigned baseline; the
		// rest with the signed one, which includes the signature check they all pay.
		ref := baseline[name != "baseline" && name != "sign-in"]
		if ref > 0 {
			res.VsBaseline = res.RPS / ref
		}
		results = append(results, res)
	}
	return results, nil
}

func (r *runner) measure(ctx context.Context, name string, s step, transport *http.Transport) (Result, error) {
	res := Result{Workload: name, Errors: map[string]int{}}
	var before ProcessSample
	if r.cfg.Process != nil {
		if err := r.cfg.Process.ResetPeak(); err != nil {
			return res, err
		}
		var err error
		if before, err = r.cfg.Process.Sample(); err != nil {
			return res, err
		}
	}
	// Requests run to completion past the deadline: cutting them off would make the server
	// see vanished clients, which is not what is measured.
	deadline := time.Now().Add(r.cfg.Duration)
	latencies := make([][]time.Duration, r.cfg.Clients)
	errs := make([]map[string]int, r.cfg.Clients)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range r.cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{t: r.cfg.Target, http: &http.Client{Transport: transport}, rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))}
			errs[i] = map[string]int{}
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				status, ok := s(ctx, c)
				latencies[i] = append(latencies[i], time.Since(t0))
				if !ok {
					key := "transport"
					if status != 0 {
						key = strconv.Itoa(status)
					}
					errs[i][key]++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for i := range latencies {
		all = append(all, latencies[i]...)
		for k, v := range errs[i] {
			res.Errors[k] += v
		}
	}
	slices.Sort(all)
	res.Requests, res.Seconds = len(all), elapsed.Seconds()
	res.RPS = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(p*float64(len(all))))].Microseconds()) / 1000
	}
	res.P50ms, res.P95ms, res.P99ms = pct(0.50), pct(0.95), pct(0.99)
	if len(all) > 0 {
		res.Maxms = float64(all[len(all)-1].Microseconds()) / 1000
	}
	if r.cfg.Process != nil {
		after, err := r.cfg.Process.Sample()
		if err != nil {
			return res, err
		}
		res.ServerCPUSecs = after.CPUSeconds - before.CPUSeconds
		res.ServerPeakRSSB = after.PeakRSSBytes
	}
	return res, nil
}

// Response is the status and body of one call.
type Response struct {
	Status int
	Body   []byte
}

// CountUsers asks the target's SCIM face how many users its instance holds
// (totalResults of an empty page), with the API token.
func CountUsers(ctx context.Context, t Target) (int, error) {
	c := &client{t: t, http: http.DefaultClient}
	status, out, err := c.do(ctx, "GET", "/scim/v2/Users?count=0", nil, bearer)
	if err != nil {
		return 0, err
	}
	var page struct {
		TotalResults *int `json:"totalResults"`
	}
	if status != http.StatusOK || json.Unmarshal(out, &page) != nil || page.TotalResults == nil {
		return 0, fmt.Errorf("counting users over SCIM: %d %s", status, out)
	}
	return *page.TotalResults, nil
}

// Call sends one signed SCP request to the target, for setting up a run.
func Call(ctx context.Context, t Target, method, path string, body any) (Response, error) {
	c := &client{t: t, http: http.DefaultClient}
	status, out, err := c.do(ctx, method, path, body, signed)
	return Response{status, out}, err
}
