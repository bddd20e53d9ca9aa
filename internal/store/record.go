package store

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// Record statuses.
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusFlagged = "flagged"
)

// OptString is a string that encodes as JSON null when empty.
type OptString string

// MarshalJSON implements json.Marshaler.
func (s OptString) MarshalJSON() ([]byte, error) {
	if s == "" {
		return []byte("null"), nil
	}
	return json.Marshal(string(s))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *OptString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = OptString(v)
	return nil
}

// Usage counts tokens of the billable LLM calls of a record.
type Usage struct {
	Input      int64 `json:"input"`
	Output     int64 `json:"output"`
	Total      int64 `json:"total"`
	CacheRead  int64 `json:"cache_read"`
	CacheWrite int64 `json:"cache_write"`
}

func (u *Usage) add(o Usage) {
	u.Input += o.Input
	u.Output += o.Output
	u.CacheRead += o.CacheRead
	u.CacheWrite += o.CacheWrite
	u.Total = u.Input + u.Output
}

func (u *Usage) sub(o Usage) {
	u.add(Usage{Input: -o.Input, Output: -o.Output, CacheRead: -o.CacheRead, CacheWrite: -o.CacheWrite})
}

// Score is one metric result on a record.
type Score struct {
	Value  any    `json:"value"`
	Passed *bool  `json:"passed,omitempty"`
	Reason string `json:"reason,omitempty"`
	Source string `json:"source"`
	// Flag, when set, is raised on the record for as long as this score stands (an AI-judge
	// metric that failed, for example); it counts for the record's status like span flags.
	Flag *llmschema.Flag `json:"flag,omitempty"`
}

// Record is one trace of one project, as the records API returns it.
type Record struct {
	ID         string    `json:"id"`
	TraceID    string    `json:"trace_id"`
	ProjectID  string    `json:"project_id"`
	RunID      OptString `json:"run_id"`
	TestcaseID OptString `json:"testcase_id"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	Name       string    `json:"name"`
	Service    string    `json:"service"`
	UserID     OptString `json:"user_id"`
	SessionID  OptString `json:"session_id"`
	Models     []string  `json:"models"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
	DurationMS float64   `json:"duration_ms"`
	Input      string    `json:"input"`
	Output     string    `json:"output"`
	Expected   OptString `json:"expected"`
	Usage      Usage     `json:"usage"`
	CostUSD    float64   `json:"cost_usd"`
	// CostUnknown is true when at least one LLM call had a model without a known price,
	// so CostUSD is a lower bound.
	CostUnknown  bool              `json:"cost_unknown,omitempty"`
	SpanCount    int               `json:"span_count"`
	LLMCallCount int               `json:"llm_call_count"`
	ErrorCount   int               `json:"error_count"`
	Flags        []llmschema.Flag  `json:"flags"`
	Scores       map[string]Score  `json:"scores"`
	Metadata     map[string]string `json:"metadata"`
	Assembly     Assembly          `json:"-"`
}

// Assembly is the bookkeeping that lets spans fold into a record in any order without
// re-reading the trace's other spans. Backends persist it with the record.
type Assembly struct {
	RootSeen       bool  `json:"root_seen,omitempty"`
	NameStart      int64 `json:"name_start,omitempty"`
	InputFromRoot  bool  `json:"input_from_root,omitempty"`
	OutputFromRoot bool  `json:"output_from_root,omitempty"`
	FirstLLMStart  int64 `json:"first_llm_start,omitempty"`
	LastLLMEnd     int64 `json:"last_llm_end,omitempty"`
	HasLLMInput    bool  `json:"has_llm_input,omitempty"`
	HasLLMOutput   bool  `json:"has_llm_output,omitempty"`
	StartNanos     int64 `json:"start_nanos"`
	EndNanos       int64 `json:"end_nanos"`
	// InputMessages and OutputMessages are the semconv message lists (JSON) of the first
	// LLM call's input and the last LLM call's output, for test-case export. InMsgSpan and
	// OutMsgSpan are the IDs (hex) of the spans they come from: a backend may keep only
	// those and read the lists from the spans when asked (Query.WithMessages).
	InputMessages  string `json:"input_messages,omitempty"`
	OutputMessages string `json:"output_messages,omitempty"`
	InMsgStart     int64  `json:"in_msg_start,omitempty"`
	OutMsgEnd      int64  `json:"out_msg_end,omitempty"`
	InMsgSpan      string `json:"in_msg_span,omitempty"`
	OutMsgSpan     string `json:"out_msg_span,omitempty"`
	// DocID is a backend's compact per-project number for the record (0: none yet).
	DocID uint64 `json:"doc_id,omitempty"`
	// Calls are the record's LLM-call spans and the spans they are children of, by span ID
	// (see countCall).
	Calls map[string]*CallPart `json:"calls,omitempty"`
	// CountedModels counts the counted calls per model; UnknownCostCalls those without a price.
	CountedModels    map[string]int `json:"counted_models,omitempty"`
	UnknownCostCalls int            `json:"unknown_cost_calls,omitempty"`
}

// CallPart is what one LLM-call span adds to its record's totals.
type CallPart struct {
	Parent      string  `json:"parent,omitempty"`
	Usage       Usage   `json:"usage"`
	CostUSD     float64 `json:"cost,omitempty"`
	CostUnknown bool    `json:"cost_unknown,omitempty"`
	Model       string  `json:"model,omitempty"`
	Counted     bool    `json:"counted,omitempty"`
	CallKids    int     `json:"call_children,omitempty"` // LLM-call children that arrived
}

// NewRecord starts an empty record for a trace of a project.
func NewRecord(project, traceID string) *Record {
	return &Record{
		ID:        traceID,
		TraceID:   traceID,
		ProjectID: project,
		Source:    llmschema.SourceOTLP,
		Status:    StatusOK,
		Models:    []string{},
		Flags:     []llmschema.Flag{},
		Scores:    map[string]Score{},
		Metadata:  map[string]string{},
	}
}

// Fold adds one span that the record has not seen before. Spans may arrive in any order;
// the result is the same for every order.
func (r *Record) Fold(s *Span) {
	a := &r.Assembly
	first := r.SpanCount == 0
	r.SpanCount++

	if first || s.Start < a.StartNanos {
		a.StartNanos = s.Start
	}
	if first || s.End > a.EndNanos {
		a.EndNanos = s.End
	}
	r.Start = time.Unix(0, a.StartNanos).UTC()
	r.End = time.Unix(0, a.EndNanos).UTC()
	r.DurationMS = float64(a.EndNanos-a.StartNanos) / 1e6

	isRoot := s.IsRoot()
	switch {
	case isRoot && !a.RootSeen:
		a.RootSeen = true
		r.Name, r.Service, a.NameStart = s.Name, s.Service, s.Start
	case !a.RootSeen && (first || s.Start < a.NameStart):
		r.Name, r.Service, a.NameStart = s.Name, s.Service, s.Start
	}
	if r.Service == "" {
		r.Service = s.Service
	}

	if isRoot {
		if s.Input != "" {
			r.Input, a.InputFromRoot = s.Input, true
		}
		if s.Output != "" {
			r.Output, a.OutputFromRoot = s.Output, true
		}
	}
	if s.LLMCall {
		r.countCall(s)
		if s.Input != "" && (!a.HasLLMInput || s.Start < a.FirstLLMStart) {
			a.HasLLMInput, a.FirstLLMStart = true, s.Start
			if !a.InputFromRoot {
				r.Input = s.Input
			}
		}
		if s.Output != "" && (!a.HasLLMOutput || s.End > a.LastLLMEnd) {
			a.HasLLMOutput, a.LastLLMEnd = true, s.End
			if !a.OutputFromRoot {
				r.Output = s.Output
			}
		}
	}

	if s.LLMCall {
		hasIn := a.InputMessages != "" || a.InMsgSpan != ""
		if s.InputMessages != "" && (!hasIn || s.Start < a.InMsgStart) {
			a.InputMessages, a.InMsgStart, a.InMsgSpan = s.InputMessages, s.Start, s.SpanIDHex()
		}
		hasOut := a.OutputMessages != "" || a.OutMsgSpan != ""
		if s.OutputMessages != "" && (!hasOut || s.End > a.OutMsgEnd) {
			a.OutputMessages, a.OutMsgEnd, a.OutMsgSpan = s.OutputMessages, s.End, s.SpanIDHex()
		}
	}

	setOnce(&r.RunID, s.RunID)
	setOnce(&r.TestcaseID, s.TestcaseID)
	setOnce(&r.Expected, s.Expected)
	setOnce(&r.UserID, s.UserID)
	setOnce(&r.SessionID, s.SessionID)
	if s.Source != "" && s.Source != llmschema.SourceOTLP {
		r.Source = s.Source
	}
	for k, v := range s.Metadata {
		if _, ok := r.Metadata[k]; !ok {
			r.Metadata[k] = v
		}
	}
	if s.StatusError {
		r.ErrorCount++
	}
	for _, f := range s.Flags {
		f.SpanID = s.SpanIDHex()
		r.Flags = append(r.Flags, f)
	}
	r.Status = r.deriveStatus()
}

// countCall adds an LLM-call span to the record's call count, usage, cost and models — once
// per provider call. When two instrumentations record the same call (an OpenInference or
// framework LLM span wrapping the provider SDK's own gen_ai span, a Vercel AI SDK call span
// wrapping its steps), the outer span has an LLM-call child: it is a wrapper, and only its
// children count. Spans arrive in any order, so a parent already counted is taken back out
// when its first LLM-call child arrives.
func (r *Record) countCall(s *Span) {
	a := &r.Assembly
	if a.Calls == nil {
		a.Calls = map[string]*CallPart{}
	}
	id := s.SpanIDHex()
	c := a.Calls[id]
	if c == nil {
		c = &CallPart{}
		a.Calls[id] = c
	}
	c.Parent = s.ParentSpanIDHex()
	c.Usage, c.CostUSD, c.CostUnknown, c.Model = s.Usage, s.CostUSD, s.CostUnknown, s.Model
	if c.CallKids == 0 {
		r.applyCall(c, 1)
	}
	if c.Parent == "" {
		return
	}
	p := a.Calls[c.Parent]
	if p == nil {
		p = &CallPart{}
		a.Calls[c.Parent] = p
	}
	p.CallKids++
	if p.Counted {
		r.applyCall(p, -1)
	}
}

// applyCall counts a call in (sign 1) or takes it back out (sign -1).
func (r *Record) applyCall(c *CallPart, sign int) {
	a := &r.Assembly
	c.Counted = sign > 0
	r.LLMCallCount += sign
	if sign > 0 {
		r.Usage.add(c.Usage)
		r.CostUSD += c.CostUSD
	} else {
		r.Usage.sub(c.Usage)
		r.CostUSD -= c.CostUSD
		if r.CostUSD < 1e-12 && r.CostUSD > -1e-12 {
			r.CostUSD = 0 // float residue of taking the only priced call out
		}
	}
	if c.CostUnknown {
		a.UnknownCostCalls += sign
		r.CostUnknown = a.UnknownCostCalls > 0
	}
	if c.Model == "" {
		return
	}
	if a.CountedModels == nil {
		a.CountedModels = map[string]int{}
	}
	a.CountedModels[c.Model] += sign
	switch n := a.CountedModels[c.Model]; {
	case n > 0 && !contains(r.Models, c.Model):
		r.Models = append(r.Models, c.Model)
	case n <= 0:
		delete(a.CountedModels, c.Model)
		r.Models = remove(r.Models, c.Model)
	}
}

// SetScore puts a score on the record and brings the record's score-raised flags and its
// status in line with all of its scores. Span flags (those with a span ID) are untouched.
func (r *Record) SetScore(name string, s Score) {
	if r.Scores == nil {
		r.Scores = map[string]Score{}
	}
	r.Scores[name] = s
	flags := r.Flags[:0:0]
	for _, f := range r.Flags {
		if f.SpanID != "" {
			flags = append(flags, f)
		}
	}
	names := make([]string, 0, len(r.Scores))
	for n, sc := range r.Scores {
		if sc.Flag != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		flags = append(flags, *r.Scores[n].Flag)
	}
	r.Flags = flags
	r.Status = r.deriveStatus()
}

func (r *Record) deriveStatus() string {
	if r.ErrorCount > 0 {
		return StatusError
	}
	flagged := false
	for _, f := range r.Flags {
		if f.Category == llmschema.CategoryTechnical {
			return StatusError
		}
		if llmschema.SeverityAtLeastWarning(f.Severity) {
			flagged = true
		}
	}
	if flagged {
		return StatusFlagged
	}
	return StatusOK
}

func setOnce(dst *OptString, v string) {
	if *dst == "" && v != "" {
		*dst = OptString(v)
	}
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, v := range list {
		if v != s {
			out = append(out, v)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
