// Package benchresult is the result of one load-generator run, as bench/loadgen writes it
// and bench/report reads it.
package benchresult

// Result is one run against one system under test.
type Result struct {
	Name         string  `json:"name"`
	Protocol     string  `json:"protocol"`
	Mode         string  `json:"mode"`
	Seconds      float64 `json:"seconds"`
	Requests     int64   `json:"requests"`
	Errors       int64   `json:"errors"`
	Spans        int64   `json:"spans"`
	SpansPerSec  float64 `json:"spans_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"`
	ReqP50ms     float64 `json:"request_p50_ms"`
	ReqP99ms     float64 `json:"request_p99_ms"`
	CPUSecPer10k float64 `json:"cpu_seconds_per_10k_spans,omitempty"`
	Concurrency  int     `json:"concurrency"`
	RSSMiB       float64 `json:"rss_mib,omitempty"`
	PeakRSSMiB   float64 `json:"peak_rss_mib,omitempty"`
	// PeakAnonMiB is the largest anonymous resident memory sampled during the load (heap,
	// stacks: the process's own memory); RSS also counts pages of files it maps, such as a
	// bbolt store, which are page cache shared with the OS and reclaimable.
	PeakAnonMiB float64 `json:"peak_anon_mib,omitempty"`
	FileMiB     float64 `json:"file_mib,omitempty"`
	// LoadgenCPUSecPer10k is this load generator's own CPU per 10k spans: on a small machine
	// it shares the cores with the system under test.
	LoadgenCPUSecPer10k float64 `json:"loadgen_cpu_seconds_per_10k_spans,omitempty"`
	QueryableP50ms      float64 `json:"queryable_p50_ms,omitempty"`
	QueryableP99ms      float64 `json:"queryable_p99_ms,omitempty"`
	QueryableSamples    int     `json:"queryable_samples,omitempty"`
}
