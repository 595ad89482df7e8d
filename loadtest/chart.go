package loadtest

import (
	"fmt"
	"html"
	"io"
	"math"
)

// WriteSVG draws the latency percentiles of each workload (p50, p95, p99) as bars on a
// logarithmic millisecond scale, so that a 0.1 ms baseline and a 200 ms sign-in both show.
func (r *Report) WriteSVG(w io.Writer) error {
	const (
		left, top, rowH, barH, width = 150.0, 40.0, 42.0, 10.0, 560.0
		minMS, maxMS                 = 0.01, 10000.0
	)
	x := func(ms float64) float64 {
		ms = math.Min(math.Max(ms, minMS), maxMS)
		return left + width*math.Log10(ms/minMS)/math.Log10(maxMS/minMS)
	}
	height := top + rowH*float64(len(r.Results)) + 40
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", left+width+30, height)
	fmt.Fprintf(w, `<text x="10" y="20" font-size="14">iamd bench: latency by workload (%s, %d clients) — p50, p95, p99, log scale</text>`+"\n", html.EscapeString(r.Store), r.Clients)
	for ms := minMS; ms <= maxMS; ms *= 10 {
		fmt.Fprintf(w, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="%.0f" text-anchor="middle" fill="#666">%g ms</text>`+"\n",
			x(ms), top-10, x(ms), height-30, x(ms), height-14, ms)
	}
	colours := []string{"#4c78a8", "#f58518", "#e45756"}
	for i, res := range r.Results {
		y := top + rowH*float64(i)
		fmt.Fprintf(w, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, y+rowH/2, html.EscapeString(res.Workload))
		for j, v := range []float64{res.P50ms, res.P95ms, res.P99ms} {
			fmt.Fprintf(w, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s p%s %.2f ms</title></rect>`+"\n",
				left, y+4+float64(j)*(barH+1), x(v)-left, barH, colours[j], html.EscapeString(res.Workload), []string{"50", "95", "99"}[j], v)
		}
	}
	_, err := fmt.Fprintln(w, "</svg>")
	return err
}
