package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"

	"iamd/loadtest"
)

// A short run of every workload against a server: the tool must not rot. It asserts
// that each workload ran and met no error, never a speed.
func TestBenchRunsEveryWorkload(t *testing.T) {
	t.Setenv("IAMD_DATA_DIR", t.TempDir())
	t.Setenv("IAMD_DEFAULT_INSTANCE", benchInstance)
	t.Setenv("IAMD_ADMIN_ACCESS_KEY", "BENCHTESTACCESSKEY01")
	t.Setenv("IAMD_ADMIN_SECRET_KEY", "bench-test-secret-key-0123456789")
	t.Setenv("IAMD_ADMIN_API_TOKEN", "iamd_bench_test_token_0123456789")
	addr, _, stop := serveFor(t, "--bench-baseline", "--argon2-memory", "64", "--argon2-time", "1")
	defer stop()
	out := t.TempDir()
	var table bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--url", "http://" + addr, "--clients", "2",
		"--duration", "200ms", "--out", out}, &table, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report loadtest.Report
	if err := json.Unmarshal(raw, &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Results) != len(loadtest.Names) {
		t.Fatalf("%d workloads reported, want %d:\n%s", len(report.Results), len(loadtest.Names), table.String())
	}
	ran := map[string]bool{}
	for _, r := range report.Results {
		ran[r.Workload] = true
		if r.Requests == 0 || len(r.Errors) != 0 {
			t.Errorf("%s: %d requests, errors %v", r.Workload, r.Requests, r.Errors)
		}
	}
	for _, w := range []string{"get", "list", "scim-get", "scim-list", "sign-in"} {
		if !ran[w] {
			t.Errorf("workload %s did not run:\n%s", w, table.String())
		}
	}
	if report.SCIMListVsGet <= 0 {
		t.Errorf("no scim-list/scim-get ratio in the JSON report")
	}
	md, err := os.ReadFile(filepath.Join(out, "bench.md"))
	if err != nil || !bytes.Contains(md, []byte("| sign-in |")) || !bytes.Contains(md, []byte("| scim-get |")) ||
		!bytes.Contains(md, []byte("| scim-list |")) || !bytes.Contains(md, []byte("of scim-get's rate")) {
		t.Fatalf("markdown report: %v\n%s", err, md)
	}
	svg, err := os.ReadFile(filepath.Join(out, "bench.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || bytes.Count(svg, []byte("<rect")) != 3*len(loadtest.Names) {
		t.Fatalf("chart: %v, %d bars", err, bytes.Count(svg, []byte("<rect")))
	}
	var chart struct{}
	if err := xml.Unmarshal(svg, &chart); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v", err)
	}
}
