package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Report is a run's results with what is needed to read them.
type Report struct {
	Command     string   `json:"command"`
	Store       string   `json:"store"`
	Clients     int      `json:"clients"`
	Seconds     float64  `json:"seconds_per_workload"`
	Preloaded   int      `json:"preloaded_users"`
	PreloadRate float64  `json:"preload_users_per_second,omitempty"`
	HashRate    float64  `json:"argon2id_hashes_per_second,omitempty"`
	IdleRSSB    int64    `json:"server_idle_rss_bytes,omitempty"`
	Results     []Result `json:"results"`
	// SCIMListVsGet is scim-list's rate (pages of 100 users) over scim-get's, when both ran.
	SCIMListVsGet float64 `json:"scim_list_vs_scim_get,omitempty"`
}

// rps is the rate of the named workload, or 0 if it did not run.
func (r *Report) rps(workload string) float64 {
	for _, res := range r.Results {
		if res.Workload == workload {
			return res.RPS
		}
	}
	return 0
}

// fillRatios computes the ratios between workloads from the results.
func (r *Report) fillRatios() {
	r.SCIMListVsGet = 0
	if get := r.rps("scim-get"); get > 0 {
		r.SCIMListVsGet = r.rps("scim-list") / get
	}
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	r.fillRatios()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func errorsText(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func (r *Report) ratioText(res Result) string {
	if res.Workload == "sign-in" && r.HashRate > 0 {
		return fmt.Sprintf("%.0f%% of argon2id", 100*res.RPS/r.HashRate)
	}
	if res.VsBaseline == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*res.VsBaseline)
}

func mb(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

// WriteTable writes the results as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\treq/s\tvs baseline\tp50 ms\tp95 ms\tp99 ms\tmax ms\terrors\tCPU s\tpeak RSS\t")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t%.1f\t%s\t%.1f\t%s\t\n", res.Workload, res.RPS, r.ratioText(res),
			res.P50ms, res.P95ms, res.P99ms, res.Maxms, errorsText(res.Errors), res.ServerCPUSecs, mb(res.ServerPeakRSSB))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.fillRatios(); r.SCIMListVsGet > 0 {
		_, err := fmt.Fprintf(w, "scim-list (pages of 100 users) ran at %.0f%% of scim-get's rate\n", 100*r.SCIMListVsGet)
		return err
	}
	return nil
}

// WriteMarkdown writes the results as a markdown table with its context.
func (r *Report) WriteMarkdown(w io.Writer) error {
	fmt.Fprintf(w, "    %s\n\nStore %s, %d clients, %.0f s per workload, %d users preloaded", r.Command, r.Store, r.Clients, r.Seconds, r.Preloaded)
	if r.PreloadRate > 0 {
		fmt.Fprintf(w, " at %.0f users/s", r.PreloadRate)
	}
	if r.HashRate > 0 {
		fmt.Fprintf(w, "; raw argon2id at the server's parameters: %.1f hashes/s", r.HashRate)
	}
	if r.IdleRSSB > 0 {
		fmt.Fprintf(w, "; idle server RSS %s", mb(r.IdleRSSB))
	}
	fmt.Fprint(w, ".\n\n| workload | req/s | vs baseline | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU s | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, res := range r.Results {
		fmt.Fprintf(w, "| %s | %.0f | %s | %.2f | %.2f | %.2f | %.1f | %s | %.1f | %s |\n", res.Workload, res.RPS, r.ratioText(res),
			res.P50ms, res.P95ms, res.P99ms, res.Maxms, errorsText(res.Errors), res.ServerCPUSecs, mb(res.ServerPeakRSSB))
	}
	if r.fillRatios(); r.SCIMListVsGet > 0 {
		fmt.Fprintf(w, "\nscim-list (pages of 100 users) ran at %.0f%% of scim-get's rate.\n", 100*r.SCIMListVsGet)
	}
	return nil
}
