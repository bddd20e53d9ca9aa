package errordetectprocessor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/internal/benchcorpus"
	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/processor/llmextractprocessor"
)

// benchRules are the OTTL rules BenchmarkDetect runs with.
var benchRules = []RuleConfig{
	{Name: "long", Code: "long_output", Condition: `attributes["gen_ai.usage.output_tokens"] > 2000`},
	{Name: "gpt4", Code: "expensive_model", Condition: `attributes["gen_ai.request.model"] == "gpt-4"`},
}

// benchcorpusBatches builds n batches of 10 traces of the ingest benchmark's corpus (seed 42)
// as errordetect receives them: after llmextract.
func benchcorpusBatches(tb testing.TB, n int) []ptrace.Traces {
	tb.Helper()
	ctx := context.Background()
	sink := &consumertest.TracesSink{}
	f := llmextractprocessor.NewFactory()
	p, err := f.CreateTraces(ctx, processortest.NewNopSettings(f.Type()), f.CreateDefaultConfig(), sink)
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.Start(ctx, componenttest.NewNopHost()); err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = p.Shutdown(ctx) }()
	corpus := benchcorpus.New(42)
	for i := 0; i < n; i++ {
		if err := p.ConsumeTraces(ctx, corpus.Batch(10, 7, nil)); err != nil {
			tb.Fatal(err)
		}
	}
	return sink.AllTraces()
}

// mixIntoBenchcorpus gives the model calls of benchmark traces the conversations of the
// labelled cases (their messages appended to the long prompt, their answer alone or after
// the long completion, their system instructions), so that the checks fire on big inputs.
func mixIntoBenchcorpus(tb testing.TB, batches []ptrace.Traces, cases []testCase) []ptrace.Traces {
	tb.Helper()
	n := 0
	for _, td := range batches {
		forEachSpan(td, func(s ptrace.Span) {
			a := s.Attributes()
			out, ok := a.Get(llmschema.OutputMessages)
			if !ok {
				return
			}
			c := cases[n%len(cases)]
			var src testSpan
			for _, ts := range c.spansOf() {
				if len(ts.Output) > 0 || ts.OutputText != nil {
					src = ts
					break
				}
			}
			var in []llmschema.Message
			if v, ok := a.Get(llmschema.InputMessages); ok {
				if err := json.Unmarshal([]byte(v.AsString()), &in); err != nil {
					tb.Fatal(err)
				}
			}
			in = append(in, toMessages(src.Input)...)
			if src.InputText != "" {
				in = append(in, toMessages([]testMsg{{Role: llmschema.RoleUser, Text: src.InputText}})...)
			}
			a.PutStr(llmschema.InputMessages, mustJSON(in))
			answer := toMessages(src.Output)
			if src.OutputText != nil {
				answer = toMessages([]testMsg{{Role: llmschema.RoleAssistant, Text: *src.OutputText}})
			}
			if n%2 == 1 {
				var long []llmschema.Message
				if err := json.Unmarshal([]byte(out.AsString()), &long); err != nil {
					tb.Fatal(err)
				}
				answer = append(long, answer...)
			}
			a.PutStr(llmschema.OutputMessages, mustJSON(answer))
			if src.System != "" {
				a.PutStr(llmschema.SystemInstructions, src.System)
			}
			n++
		})
	}
	return batches
}

// TestDifferential_OutputUnchanged pins every attribute the processor writes, on every
// span, for the labelled corpora (default configuration, and one with deny terms and extra
// refusal phrases) and 1500 traces of the ingest benchmark's corpus (and 400 more carrying the labelled
// conversations), all with the benchmark's
// OTTL rules. Traces the processor wrote nothing on are covered by the digest; the others
// are kept in full so that a difference is readable. It guards optimizations, which must not
// change the output; regenerate with go test -run TestDifferential -update.
func TestDifferential_OutputUnchanged(t *testing.T) {
	def := createDefaultConfig()
	def.Rules = benchRules
	opts := createDefaultConfig()
	opts.Rules = benchRules
	opts.SafetyViolation.DenyTerms = []string{"refund", "Secret  Project", "order"}
	opts.Refusal.ExtraPhrases = []string{"I’d rather not", "out of scope"}

	labelled := append(loadCorpus(t), loadCases(t, filepath.Join("testdata", "holdout"))...)
	ids := make([]string, len(labelled))
	for i, c := range labelled {
		ids[i] = c.ID
	}
	res := &differential{Flagged: map[string]map[string]map[string]string{}}
	res.run(t, "default/", def, []ptrace.Traces{buildTraces(labelled...)}, ids)
	res.run(t, "options/", opts, []ptrace.Traces{buildTraces(labelled...)}, ids)
	res.run(t, "bench/", def, benchcorpusBatches(t, 150), nil)
	res.run(t, "benchmix/", def, mixIntoBenchcorpus(t, benchcorpusBatches(t, 40), labelled), nil)
	res.Digest = hex.EncodeToString(res.digest.Sum(nil))

	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "differential.golden.json")
	if want, same := readGolden(t, golden, b); !same {
		var w differential
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		reported := 0
		for id, spans := range res.Flagged {
			if g, _ := json.Marshal(spans); string(g) != mustJSON(w.Flagged[id]) && reported < 5 {
				reported++
				t.Errorf("trace %s: processor wrote\n%s\nwant\n%s", id, g, mustJSON(w.Flagged[id]))
			}
		}
		for id := range w.Flagged {
			if _, ok := res.Flagged[id]; !ok && reported < 5 {
				reported++
				t.Errorf("trace %s: processor wrote nothing, want\n%s", id, mustJSON(w.Flagged[id]))
			}
		}
		t.Errorf("output differs from %s (traces %d/%d, digest %s/%s); run with -update only if the change is intended",
			golden, res.Traces, w.Traces, res.Digest, w.Digest)
	}
}

type differential struct {
	Traces int    `json:"traces"`
	Digest string `json:"digest"`
	// Flagged maps trace → span (index and name) → attribute → value as written.
	Flagged map[string]map[string]map[string]string `json:"flagged"`
	digest  hashWriter
}

type hashWriter interface {
	Write([]byte) (int, error)
	Sum([]byte) []byte
}

// run sends each batch through a fresh processor and records, per trace, every attribute
// that the processor added or changed, and every one it removed.
func (d *differential) run(t *testing.T, prefix string, cfg *Config, batches []ptrace.Traces, ids []string) {
	t.Helper()
	if d.digest == nil {
		d.digest = sha256.New()
	}
	type spanKey struct {
		trace pcommon.TraceID
		span  pcommon.SpanID
		index int
	}
	var order []pcommon.TraceID
	seen := map[pcommon.TraceID]bool{}
	writes := map[pcommon.TraceID]map[string]map[string]string{}
	for _, in := range batches {
		before := ptrace.NewTraces()
		in.CopyTo(before)
		out := runProcessor(t, cfg, in)
		var pre []map[string]any
		forEachSpan(before, func(s ptrace.Span) { pre = append(pre, s.Attributes().AsRaw()) })
		i := 0
		forEachSpan(out, func(s ptrace.Span) {
			tid := s.TraceID()
			if !seen[tid] {
				seen[tid] = true
				order = append(order, tid)
			}
			post := s.Attributes().AsRaw()
			changed := map[string]string{}
			for k, v := range post {
				if old, ok := pre[i][k]; !ok || mustJSON(old) != mustJSON(v) {
					changed[k] = fmt.Sprint(v)
				}
			}
			for k := range pre[i] {
				if _, ok := post[k]; !ok {
					changed[k] = "<removed>"
				}
			}
			if len(changed) > 0 {
				if writes[tid] == nil {
					writes[tid] = map[string]map[string]string{}
				}
				writes[tid][fmt.Sprintf("%02d %s", len(writes[tid]), s.Name())] = changed
			}
			i++
		})
	}
	for n, tid := range order {
		id := fmt.Sprintf("%s%04d", prefix, n)
		if ids != nil {
			id = prefix + ids[traceIndex(tid)]
		}
		w := writes[tid]
		fmt.Fprintf(d.digest, "%s %s\n", id, mustJSON(w))
		d.Traces++
		if len(w) > 0 {
			d.Flagged[id] = w
		}
	}
}

func traceIndex(id pcommon.TraceID) int {
	return int(id[12])<<24 | int(id[13])<<16 | int(id[14])<<8 | int(id[15])
}

func forEachSpan(td ptrace.Traces, fn func(ptrace.Span)) {
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		sss := rss.At(i).ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				fn(spans.At(k))
			}
		}
	}
}
