// Command report prints the ingest benchmark's results as a table with tracehound's ratios to
// the baselines measured in the same run.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tracehound/tracehound/bench/internal/benchresult"
)

// result is a run as the load generator wrote it, and the file it came from.
type result struct {
	benchresult.Result
	file string
}

// stock-after is stock measured again after tracehound (run.sh), to show the machine's drift.
var systems = []string{"stock", "stock-after", "jaeger", "tracehound"}

// load reads every run's result (NAME.cN.json, NAME.rate.json) and each system's bytes on
// disk (NAME.disk.json).
func load(dir string) (runs map[string][]*result, disk map[string]float64, err error) {
	runs, disk = map[string][]*result{}, map[string]float64{}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		if strings.HasSuffix(f, ".disk.json") {
			var d struct {
				Name      string  `json:"name"`
				DiskBytes float64 `json:"disk_bytes"`
			}
			if err := json.Unmarshal(b, &d); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f, err)
			}
			disk[d.Name] = d.DiskBytes
			continue
		}
		r := &result{file: filepath.Base(f)}
		if err := json.Unmarshal(b, r); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		runs[r.Name] = append(runs[r.Name], r)
	}
	for _, rs := range runs {
		sort.SliceStable(rs, func(i, j int) bool {
			oi, oj := strings.HasPrefix(rs[i].Mode, "open"), strings.HasPrefix(rs[j].Mode, "open")
			if oi != oj {
				return oj
			}
			return rs[i].Concurrency < rs[j].Concurrency
		})
	}
	return runs, disk, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: report RESULTS_DIR")
		os.Exit(2)
	}
	runs, disk, err := load(os.Args[1])
	if err != nil || len(runs) == 0 {
		fmt.Fprintln(os.Stderr, "report: no results in", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Printf("\n%-11s %-14s %9s %7s %9s %9s %9s %8s %8s %8s %7s %9s %9s %6s %8s\n",
		"system", "load", "spans/s", "MB/s", "req p50", "req p99", "CPU s/10k", "RSS MiB", "peak MiB", "anon MiB", "B/span", "query p50", "query p99", "errors", "gen CPU")
	for _, name := range systems {
		var total int64
		for _, r := range runs[name] {
			total += r.Spans
		}
		for _, r := range runs[name] {
			load := fmt.Sprintf("closed c=%d", r.Concurrency)
			if strings.HasPrefix(r.Mode, "open") {
				load = fmt.Sprintf("open %.0f/s", r.SpansPerSec)
			}
			bps := "-"
			if disk[name] > 0 && total > 0 {
				bps = fmt.Sprintf("%.0f", disk[name]/float64(total))
			}
			q50, q99 := "-", "-"
			if r.QueryableP50ms > 0 {
				q50, q99 = fmt.Sprintf("%.1fms", r.QueryableP50ms), fmt.Sprintf("%.1fms", r.QueryableP99ms)
			}
			fmt.Printf("%-11s %-14s %9.0f %7.1f %7.1fms %7.1fms %9.2f %8.0f %8.0f %8.0f %7s %9s %9s %6d %8.2f\n",
				name, load, r.SpansPerSec, r.MBPerSec, r.ReqP50ms, r.ReqP99ms, r.CPUSecPer10k, r.RSSMiB, r.PeakRSSMiB, r.PeakAnonMiB, bps, q50, q99, r.Errors, r.LoadgenCPUSecPer10k)
		}
	}
	fmt.Println("\nCPU s/10k: the system's CPU per 10k spans; gen CPU: the load generator's own, on the same cores.")
	fmt.Println("anon MiB: peak anonymous memory during the run (RSS also counts mapped store pages).")
	if len(runs["tracehound"]) == 0 {
		return
	}
	fmt.Println()
	if line := stockBracket(runs["tracehound"], runs["stock"], runs["stock-after"]); line != "" {
		fmt.Println(line)
	}
	for _, base := range []string{"stock", "jaeger"} {
		if len(runs[base]) == 0 {
			fmt.Printf("tracehound / %-6s: not measured in this run\n", base)
			continue
		}
		var parts []string
		for _, b := range runs[base] {
			if t := closedAt(runs["tracehound"], b.Concurrency); t != nil && b.SpansPerSec > 0 && !strings.HasPrefix(b.Mode, "open") {
				parts = append(parts, fmt.Sprintf("c=%d %.2fx", b.Concurrency, t.SpansPerSec/b.SpansPerSec))
			}
		}
		tb, bb := best(runs["tracehound"]), best(runs[base])
		fmt.Printf("tracehound / %-6s: best %.2fx spans/s (%.0f vs %.0f), %.2fx CPU per span; by senders: %s\n", base,
			tb.SpansPerSec/bb.SpansPerSec, tb.SpansPerSec, bb.SpansPerSec, safeDiv(tb.CPUSecPer10k, bb.CPUSecPer10k), strings.Join(parts, ", "))
	}
}

// stockBracket is tracehound's ratio to stock at each level against stock's runs
// before and after it: how far stock moved between them is the machine's drift during the
// benchmark, and a ratio is only as exact as that.
func stockBracket(th, before, after []*result) string {
	var parts []string
	for _, b := range before {
		a, t := closedAt(after, b.Concurrency), closedAt(th, b.Concurrency)
		if strings.HasPrefix(b.Mode, "open") || a == nil || t == nil || b.SpansPerSec <= 0 || a.SpansPerSec <= 0 {
			continue
		}
		lo, hi := t.SpansPerSec/max(b.SpansPerSec, a.SpansPerSec), t.SpansPerSec/min(b.SpansPerSec, a.SpansPerSec)
		parts = append(parts, fmt.Sprintf("c=%d %.2f–%.2fx (stock %.0f before, %.0f after: %+.0f%%)",
			b.Concurrency, lo, hi, b.SpansPerSec, a.SpansPerSec, 100*(a.SpansPerSec/b.SpansPerSec-1)))
	}
	if len(parts) == 0 {
		return ""
	}
	return "tracehound / stock, against stock before and after it: " + strings.Join(parts, ", ")
}

func closedAt(rs []*result, c int) *result {
	for _, r := range rs {
		if r.Concurrency == c && !strings.HasPrefix(r.Mode, "open") {
			return r
		}
	}
	return nil
}

// best is the closed-loop run with the most spans/s: the system's saturation throughput.
func best(rs []*result) *result {
	var b *result
	for _, r := range rs {
		if !strings.HasPrefix(r.Mode, "open") && (b == nil || r.SpansPerSec > b.SpansPerSec) {
			b = r
		}
	}
	if b == nil {
		return &result{}
	}
	return b
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
