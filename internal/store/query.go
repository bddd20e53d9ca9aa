package store

import (
	"fmt"
	"math"
	"time"
)

// SortField is what a record list is ordered by.
type SortField string

// Sort fields. SortTime orders by the record's start time.
const (
	SortTime     SortField = "time"
	SortDuration SortField = "duration"
	SortCost     SortField = "cost"
	SortTokens   SortField = "tokens"
)

// Sort is a field and a direction; the zero value is newest first.
type Sort struct {
	Field SortField
	Asc   bool
}

// ParseSort reads "field" (ascending) or "-field" (descending). An empty string is newest
// first. "time" and "-time" both exist; only the bare default is descending.
func ParseSort(s string) (Sort, error) {
	if s == "" {
		return Sort{Field: SortTime}, nil
	}
	asc := true
	if s[0] == '-' {
		asc, s = false, s[1:]
	}
	switch f := SortField(s); f {
	case SortTime, SortDuration, SortCost, SortTokens:
		return Sort{Field: f, Asc: asc}, nil
	}
	return Sort{}, fmt.Errorf("want one of time, duration, cost, tokens, optionally prefixed with - for descending, got %q", s)
}

// String is the sort as ParseSort reads it.
func (s Sort) String() string {
	f := s.Field
	if f == "" {
		f = SortTime
	}
	if s.Asc {
		return string(f)
	}
	return "-" + string(f)
}

// MetricCond is one metric comparison of a filter: a score named Name compared with Op
// against Value, or (Op "=" with Pass set) whether the score passed.
type MetricCond struct {
	Name  string
	Op    string
	Value float64
	Pass  *bool
}

// Match reports whether a record's score satisfies the condition. A record without the
// score never matches.
func (m MetricCond) Match(scores map[string]Score) bool {
	s, ok := scores[m.Name]
	if !ok {
		return false
	}
	if m.Pass != nil {
		passed := s.Passed != nil && *s.Passed
		if s.Passed == nil {
			if b, ok := s.Value.(bool); ok {
				passed = b
			} else {
				return false
			}
		}
		return passed == *m.Pass
	}
	v, ok := scoreNumber(s.Value)
	if !ok {
		return false
	}
	switch m.Op {
	case ">":
		return v > m.Value
	case ">=":
		return v >= m.Value
	case "<":
		return v < m.Value
	case "<=":
		return v <= m.Value
	case "=":
		return v == m.Value
	case "!=":
		return v != m.Value
	}
	return false
}

func scoreNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Filter selects records; every set field must match (AND).
type Filter struct {
	// Text is the q parameter: words and "quoted phrases", all of which must appear
	// (case-insensitively) in the input, output or expected text.
	Text       string
	Status     string
	Source     string
	TraceID    string
	RunID      string
	TestcaseID string
	Service    string
	Model      string
	UserID     string
	SessionID  string
	Flag       string
	Metrics    []MetricCond
	Meta       map[string]string
	// From (inclusive) and To (exclusive) bound the record's start time.
	From, To      time.Time
	MinCost       float64
	MinDurationMS float64
}

// Query selects a page of records.
type Query struct {
	Filter
	Sort Sort
	// Limit is the page size; backends clamp it to [1, MaxLimit].
	Limit int
	// Cursor is the opaque NextCursor of a previous page, or empty for the first page.
	Cursor string
	// ScanBudget bounds the work of one page, in records examined (a record whose full body
	// must be checked counts RecordCost). When it runs out the page ends early, possibly
	// empty, with a NextCursor that continues the scan; only an empty NextCursor means the
	// end. 0 is DefaultScanBudget.
	ScanBudget int
	// WithMessages asks for every record's Assembly.InputMessages and OutputMessages (the
	// test-case export needs them; nothing else does). A backend that keeps only the IDs of
	// the spans they come from reads them from those spans.
	WithMessages bool
}

// Scan budget defaults: about 20-50 ms of CPU on a small machine.
const (
	DefaultScanBudget = 10000
	RecordCost        = 25
)

// TimeBounds are the filter's start-time bounds in Unix nanoseconds, [lo, hi).
func (f *Filter) TimeBounds() (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !f.From.IsZero() {
		lo = f.From.UnixNano()
	}
	if !f.To.IsZero() {
		hi = f.To.UnixNano()
	}
	return lo, hi
}

// MatchSummary checks the filter fields a Summary carries. It never rejects a record the
// full filter would accept.
func (f *Filter) MatchSummary(s *Summary) bool {
	lo, hi := f.TimeBounds()
	if s.Start < lo || s.Start >= hi {
		return false
	}
	switch {
	case f.Status != "" && s.Status != f.Status,
		f.Source != "" && s.Source != f.Source,
		f.RunID != "" && s.RunID != f.RunID,
		f.TestcaseID != "" && s.TestcaseID != f.TestcaseID,
		f.Service != "" && s.Service != f.Service,
		f.UserID != "" && s.UserID != f.UserID,
		f.SessionID != "" && s.SessionID != f.SessionID,
		f.Model != "" && !contains(s.Models, f.Model),
		f.MinCost > 0 && s.CostUSD < f.MinCost,
		f.MinDurationMS > 0 && s.DurationMS < f.MinDurationMS:
		return false
	}
	return true
}

// NeedsRecord reports whether the filter checks fields beyond the Summary.
func (f *Filter) NeedsRecord() bool {
	return f.Text != "" || f.TraceID != "" || f.Flag != "" || len(f.Metrics) > 0 || len(f.Meta) > 0
}

// Match checks the whole filter against a record. tq is ParseText(f.Text).
func (f *Filter) Match(r *Record, tq TextQuery) bool {
	sum := r.Summary()
	if !f.MatchSummary(&sum) {
		return false
	}
	if f.TraceID != "" && r.TraceID != f.TraceID {
		return false
	}
	if f.Flag != "" {
		found := false
		for _, fl := range r.Flags {
			if fl.Code == f.Flag {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	for k, v := range f.Meta {
		if got, ok := r.Metadata[k]; !ok || got != v {
			return false
		}
	}
	for _, m := range f.Metrics {
		if !m.Match(r.Scores) {
			return false
		}
	}
	return tq.Match(r)
}

// Summary is the part of a record that list filters, sorts, runs and stats read. Backends
// keep it next to their time index so that those never decode whole records.
type Summary struct {
	Start      int64
	DurationMS float64
	CostUSD    float64
	Usage      Usage
	Status     string
	Source     string
	Service    string
	UserID     string
	SessionID  string
	RunID      string
	TestcaseID string
	Models     []string
	FlagCount  int
}

// Summary extracts the record's Summary.
func (r *Record) Summary() Summary {
	return Summary{
		Start:      r.Assembly.StartNanos,
		DurationMS: r.DurationMS,
		CostUSD:    r.CostUSD,
		Usage:      r.Usage,
		Status:     r.Status,
		Source:     r.Source,
		Service:    r.Service,
		UserID:     string(r.UserID),
		SessionID:  string(r.SessionID),
		RunID:      string(r.RunID),
		TestcaseID: string(r.TestcaseID),
		Models:     r.Models,
		FlagCount:  len(r.Flags),
	}
}

// SortValue is the record's value for a sort field.
func (s *Summary) SortValue(f SortField) float64 {
	switch f {
	case SortDuration:
		return s.DurationMS
	case SortCost:
		return s.CostUSD
	case SortTokens:
		return float64(s.Usage.Total)
	}
	return float64(s.Start)
}
