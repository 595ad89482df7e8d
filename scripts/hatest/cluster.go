package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is etcd and three PostgreSQL nodes under Patroni, on loopback, in dir.
type cluster struct {
	// asynchronous turns synchronous replication off, to show what it prevents.
	asynchronous bool
	dir          string
	bin          string // PostgreSQL's server binaries
	cred         *syscall.Credential
	etcd         *process
	nodes        []*node
}

type node struct {
	name    string
	dir     string
	pgPort  int
	apiPort int
	patroni *process
}

// member is one entry of Patroni's GET /cluster.
type member struct {
	Name  string `json:"name"`
	Role  string `json:"role"`  // leader, sync_standby or replica
	State string `json:"state"` // running, streaming, starting, stopped, …
	Port  int    `json:"port"`
}

// freePort asks the kernel for a loopback port that nothing listens on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freePorts(n int) ([]int, error) {
	seen := map[int]bool{}
	var ports []int
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// The Patroni settings under test are the ones docs/deploy.md recommends, with the
// loop shortened so that a run takes half a minute: synchronous replication, no promotion
// of a standby further behind than 1 MiB, and failover (not a restart in place) when
// the primary's postmaster dies.
func patroniConfig(c *cluster, n *node, etcdPort int) map[string]any {
	synchronousCommit := "on"
	if c.asynchronous {
		synchronousCommit = "off"
	}
	return map[string]any{
		"scope":     "iamd-ha",
		"namespace": "/iamd-ha/",
		"name":      n.name,
		"restapi": map[string]any{
			"listen":          fmt.Sprintf("127.0.0.1:%d", n.apiPort),
			"connect_address": fmt.Sprintf("127.0.0.1:%d", n.apiPort),
		},
		"etcd3": map[string]any{"hosts": []string{fmt.Sprintf("127.0.0.1:%d", etcdPort)}},
		"bootstrap": map[string]any{
			"dcs": map[string]any{
				"ttl":                     20,
				"loop_wait":               2,
				"retry_timeout":           5,
				"maximum_lag_on_failover": 1 << 20,
				"synchronous_mode":        !c.asynchronous,
				"primary_start_timeout":   0,
				"postgresql": map[string]any{
					"use_pg_rewind": true,
					"use_slots":     true,
					"parameters": map[string]any{
						"wal_level":          "replica",
						"hot_standby":        "on",
						"wal_log_hints":      "on",
						"max_wal_senders":    10,
						"max_connections":    200,
						"synchronous_commit": synchronousCommit,
					},
				},
			},
			"initdb": []any{map[string]string{"encoding": "UTF8"}, map[string]string{"locale": "C"}},
		},
		"postgresql": map[string]any{
			"listen":          fmt.Sprintf("127.0.0.1:%d", n.pgPort),
			"connect_address": fmt.Sprintf("127.0.0.1:%d", n.pgPort),
			"data_dir":        filepath.Join(n.dir, "data"),
			"bin_dir":         c.bin,
			"pgpass":          filepath.Join(n.dir, "pgpass"),
			"authentication": map[string]any{
				"superuser":   map[string]string{"username": "postgres", "password": "ha-test"},
				"replication": map[string]string{"username": "replicator", "password": "ha-test"},
			},
			// Loopback only, and a throwaway cluster: trust is enough.
			"pg_hba": []string{
				"local all all trust",
				"host all all 127.0.0.1/32 trust",
				"host replication all 127.0.0.1/32 trust",
			},
			"parameters": map[string]any{"unix_socket_directories": n.dir},
		},
	}
}

func (c *cluster) start(ctx context.Context, logf func(string, ...any)) error {
	ports, err := freePorts(2 + 2*3)
	if err != nil {
		return err
	}
	etcdClient, etcdPeer := ports[0], ports[1]
	etcdDir := filepath.Join(c.dir, "etcd")
	if err := c.mkdir(etcdDir); err != nil {
		return err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	c.etcd, err = startProcess("etcd", etcdDir, filepath.Join(c.dir, "etcd.log"), c.cred, cleanEnv(),
		"etcd", "--name", "ha", "--data-dir", filepath.Join(etcdDir, "data"),
		"--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "ha="+peerURL, "--initial-cluster-state", "new", "--initial-cluster-token", "iamd-ha")
	if err != nil {
		return err
	}
	if err := poll(ctx, 30*time.Second, func() error {
		if c.etcd.exited() {
			return stopError{fmt.Errorf("etcd exited:\n%s", c.etcd.tail(20))}
		}
		var h struct{ Health string }
		if err := getJSON(clientURL+"/health", &h); err != nil {
			return err
		}
		if h.Health != "true" {
			return fmt.Errorf("etcd health %q", h.Health)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	logf("etcd up on %s", clientURL)

	for i := range 3 {
		n := &node{name: fmt.Sprintf("pg%d", i+1), dir: filepath.Join(c.dir, fmt.Sprintf("pg%d", i+1)),
			pgPort: ports[2+2*i], apiPort: ports[3+2*i]}
		if err := c.mkdir(n.dir); err != nil {
			return err
		}
		cfg, err := json.MarshalIndent(patroniConfig(c, n, etcdClient), "", "  ")
		if err != nil {
			return err
		}
		// YAML is a superset of JSON: Patroni reads this as its YAML configuration.
		cfgPath := filepath.Join(n.dir, "patroni.yml")
		if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
			return err
		}
		c.nodes = append(c.nodes, n)
	}
	// The first node bootstraps the cluster and the others clone it: started together,
	// they race for the initialize key, which is needless work here.
	if err := c.startPatroni(ctx, c.nodes[:1], 1); err != nil {
		return err
	}
	// Healthy: a leader, its synchronous standby and one more replica, all running.
	if err := c.startPatroni(ctx, c.nodes[1:], 3); err != nil {
		return err
	}
	members, _ := c.members()
	logf("patroni cluster up: %s", describe(members))
	return c.createDatabase(ctx, "iamd")
}

// startPatroni starts Patroni on nodes and waits until the cluster has want members,
// all running, one of them the leader and, with more than one, one its synchronous
// standby.
func (c *cluster) startPatroni(ctx context.Context, nodes []*node, want int) error {
	for _, n := range nodes {
		var err error
		n.patroni, err = startProcess("patroni "+n.name, n.dir, filepath.Join(n.dir, "patroni.log"), c.cred,
			cleanEnv("HOME="+n.dir, "LC_ALL=C.UTF-8"), "patroni", filepath.Join(n.dir, "patroni.yml"))
		if err != nil {
			return err
		}
	}
	err := poll(ctx, 3*time.Minute, func() error {
		for _, n := range c.nodes {
			if n.patroni != nil && n.patroni.exited() {
				return stopError{fmt.Errorf("patroni %s exited:\n%s", n.name, n.patroni.tail(30))}
			}
		}
		members, err := c.members()
		if err != nil {
			return err
		}
		roles := map[string]int{}
		for _, m := range members {
			if m.State != "running" && m.State != "streaming" {
				return fmt.Errorf("%s is %s", m.Name, m.State)
			}
			roles[m.Role]++
		}
		if len(members) != want || roles["leader"] != 1 || (want > 1 && !c.asynchronous && roles["sync_standby"] != 1) {
			return fmt.Errorf("members: %s", describe(members))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("patroni cluster: %w", err)
	}
	return nil
}

func (c *cluster) mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if c.cred != nil {
		return os.Chown(dir, int(c.cred.Uid), int(c.cred.Gid))
	}
	return nil
}

func describe(members []member) string {
	var parts []string
	for _, m := range members {
		parts = append(parts, fmt.Sprintf("%s %s %s", m.Name, m.Role, m.State))
	}
	return strings.Join(parts, ", ")
}

// members asks the first Patroni that answers for the cluster's members.
func (c *cluster) members() ([]member, error) {
	var lastErr error
	for _, n := range c.nodes {
		if n.patroni == nil {
			continue
		}
		var out struct{ Members []member }
		if err := getJSON(fmt.Sprintf("http://127.0.0.1:%d/cluster", n.apiPort), &out); err != nil {
			lastErr = err
			continue
		}
		return out.Members, nil
	}
	return nil, lastErr
}

func (c *cluster) leader() (*node, error) {
	members, err := c.members()
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.Role == "leader" && m.State == "running" {
			for _, n := range c.nodes {
				if n.name == m.Name {
					return n, nil
				}
			}
		}
	}
	return nil, fmt.Errorf("no running leader: %s", describe(members))
}

// hostList is the libpq multi-host list of every node, for iamd's --database-url.
func (c *cluster) hostList() string {
	var hosts []string
	for _, n := range c.nodes {
		hosts = append(hosts, fmt.Sprintf("127.0.0.1:%d", n.pgPort))
	}
	return strings.Join(hosts, ",")
}

func (c *cluster) createDatabase(ctx context.Context, name string) error {
	leader, err := c.leader()
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", leader.pgPort))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	return err
}

// replayLag reports, from the leader, each standby's replay lag as PostgreSQL measures
// it (pg_stat_replication): how far behind reads on that standby are.
func (c *cluster) replayLag(ctx context.Context, leader *node) (string, error) {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", leader.pgPort))
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT application_name, sync_state, coalesce(replay_lag::text, 'none')
		FROM pg_stat_replication ORDER BY application_name`)
	if err != nil {
		return "", err
	}
	var parts []string
	for rows.Next() {
		var name, state, lag string
		if err := rows.Scan(&name, &state, &lag); err != nil {
			return "", err
		}
		parts = append(parts, fmt.Sprintf("%s (%s) %s", name, state, lag))
	}
	return strings.Join(parts, ", "), rows.Err()
}

// postmasterPID reads the node's postmaster.pid.
func (n *node) postmasterPID() (int, error) {
	data, err := os.ReadFile(filepath.Join(n.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

// stop stops Patroni (which stops its PostgreSQL) on every node at once, makes sure no
// postmaster outlives it, and stops etcd.
func (c *cluster) stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n.patroni.stop(syscall.SIGTERM, 30*time.Second)
		}()
	}
	wg.Wait()
	for _, n := range c.nodes {
		data := filepath.Join(n.dir, "data")
		if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err != nil {
			continue
		}
		cmd := exec.Command(filepath.Join(c.bin, "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w")
		cmd.Dir = n.dir
		if c.cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
		}
		cmd.Run()
	}
	c.etcd.stop(syscall.SIGTERM, 10*time.Second)
}

// stopError ends a poll at once.
type stopError struct{ error }

// poll calls check until it succeeds, returns stopError, or timeout passes.
func poll(ctx context.Context, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		var stop stopError
		if errors.As(err, &stop) {
			return stop.error
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s: %w", timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var quickClient = &http.Client{Timeout: 3 * time.Second}

func getJSON(url string, v any) error {
	resp, err := quickClient.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
