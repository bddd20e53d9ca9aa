// Command report prints the ingest benchmark's results as a table with tracehound's ratios to
// the baselines measured in the same run.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

type result struct {
	Name           string  `json:"name"`
	Protocol       string  `json:"protocol"`
	Mode           string  `json:"mode"`
	Seconds        float64 `json:"seconds"`
	Errors         int64   `json:"errors"`
	Spans          int64   `json:"spans"`
	SpansPerSec    float64 `json:"spans_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"`
	ReqP50ms       float64 `json:"request_p50_ms"`
	ReqP99ms       float64 `json:"request_p99_ms"`
	CPUSecPer10k   float64 `json:"cpu_seconds_per_10k_spans"`
	RSSMiB         float64 `json:"rss_mib"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`
	QueryableP50ms float64 `json:"queryable_p50_ms"`
	QueryableP99ms float64 `json:"queryable_p99_ms"`
	DiskBytes      float64 `json:"disk_bytes"`
}

func load(dir, name string) (*result, bool) {
	b, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return nil, false
	}
	var r result
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintf(os.Stderr, "report: %s: %v\n", name, err)
		os.Exit(1)
	}
	if d, err := os.ReadFile(filepath.Join(dir, name+".disk.json")); err == nil {
		_ = json.Unmarshal(d, &r)
	}
	return &r, true
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report RESULTS_DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	var rows []*result
	for _, n := range []string{"stock", "jaeger", "tracehound"} {
		if r, ok := load(dir, n); ok {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		fmt.Fprintln(os.Stderr, "report: no results in", dir)
		os.Exit(1)
	}
	fmt.Printf("\n%-11s %-6s %10s %8s %8s %8s %10s %8s %9s %9s %10s %10s %7s\n",
		"system", "proto", "spans/s", "MB/s", "req p50", "req p99", "CPU s/10k", "RSS MiB", "peak MiB", "B/span", "query p50", "query p99", "errors")
	for _, r := range rows {
		bps := "-"
		if r.DiskBytes > 0 && r.Spans > 0 {
			bps = fmt.Sprintf("%.0f", r.DiskBytes/float64(r.Spans))
		}
		q50, q99 := "-", "-"
		if r.QueryableP50ms > 0 {
			q50, q99 = fmt.Sprintf("%.1fms", r.QueryableP50ms), fmt.Sprintf("%.1fms", r.QueryableP99ms)
		}
		fmt.Printf("%-11s %-6s %10.0f %8.1f %7.1fms %7.1fms %10.2f %8.0f %9.0f %9s %10s %10s %7d\n",
			r.Name, r.Protocol, r.SpansPerSec, r.MBPerSec, r.ReqP50ms, r.ReqP99ms, r.CPUSecPer10k, r.RSSMiB, r.PeakRSSMiB, bps, q50, q99, r.Errors)
	}
	th, ok := load(dir, "tracehound")
	if !ok {
		return
	}
	fmt.Println()
	for _, base := range []string{"stock", "jaeger"} {
		b, ok := load(dir, base)
		if !ok || b.SpansPerSec == 0 {
			fmt.Printf("tracehound / %-6s: not measured in this run\n", base)
			continue
		}
		fmt.Printf("tracehound / %-6s: %.2fx spans/s, %.2fx CPU per span\n", base, th.SpansPerSec/b.SpansPerSec, safeDiv(th.CPUSecPer10k, b.CPUSecPer10k))
	}
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
