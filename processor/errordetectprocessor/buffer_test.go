package errordetectprocessor

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

func startBuffered(t *testing.T, wait time.Duration, maxTraces int, next consumer.Traces) processor.Traces {
	t.Helper()
	cfg := createDefaultConfig()
	cfg.TraceWait = wait
	cfg.MaxTraces = maxTraces
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(componentType), cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	return p
}

// splitCase builds one batch per span of the case, in the order given.
func splitCase(t *testing.T, id string, order ...int) []ptrace.Traces {
	t.Helper()
	cases := loadCorpus(t)
	var c testCase
	for _, k := range cases {
		if k.ID == id {
			c = k
		}
	}
	if c.ID == "" {
		t.Fatalf("case %s not found", id)
	}
	whole := buildTraces(c)
	spans := whole.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	var out []ptrace.Traces
	for _, i := range order {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		whole.ResourceSpans().At(0).Resource().CopyTo(rs.Resource())
		spans.At(i).CopyTo(rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
		out = append(out, td)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func allCodes(t *testing.T, batches []ptrace.Traces) map[string]bool {
	t.Helper()
	codes := map[string]bool{}
	for _, td := range batches {
		for _, fs := range flagsOf(t, td) {
			for _, f := range fs {
				codes[f.Code] = true
			}
		}
	}
	return codes
}

// TestBuffer_JoinsTraceAcrossBatches sends a trace one span per batch, children first, as an
// SDK without batching does: each batch is answered at once, and the trace is judged whole
// when its root arrives.
func TestBuffer_JoinsTraceAcrossBatches(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p := startBuffered(t, time.Minute, 100, sink)
	batches := splitCase(t, "workflow-dangling-tool-call", 1, 2, 3, 0)
	for i, td := range batches {
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
		if i < len(batches)-1 && sink.SpanCount() != 0 {
			t.Fatalf("batch %d released before the root arrived", i)
		}
	}
	if sink.SpanCount() != 4 {
		t.Fatalf("released %d spans, want all 4 once the root arrived", sink.SpanCount())
	}
	if !allCodes(t, sink.AllTraces())[llmschema.FlagCodeWorkflowInterruption] {
		t.Error("workflow interruption not detected across batches")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBuffer_UnbufferedMissesSplitTrace is the control for the test above: without
// trace_wait the same batches are judged one by one and the workflow check, lacking the
// root in the batch with the dangling tool call, stays silent.
func TestBuffer_UnbufferedMissesSplitTrace(t *testing.T) {
	var out []ptrace.Traces
	for _, td := range splitCase(t, "workflow-dangling-tool-call", 1, 2, 3, 0) {
		out = append(out, runProcessor(t, createDefaultConfig(), td))
	}
	if allCodes(t, out)[llmschema.FlagCodeWorkflowInterruption] {
		t.Error("split trace judged without buffering; the control is not testing what it should")
	}
}

func TestBuffer_ReleasesAfterTraceWait(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p := startBuffered(t, 50*time.Millisecond, 100, sink)
	for _, td := range splitCase(t, "workflow-dangling-tool-call", 1, 2) {
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "release after trace_wait", func() bool { return sink.SpanCount() == 2 })
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBuffer_FullBufferEvaluatesOldestEarly(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p := startBuffered(t, time.Minute, 1, sink)
	a := splitCase(t, "workflow-dangling-tool-call", 1)[0]
	b := splitCase(t, "workflow-tool-error-unrecovered", 1)[0]
	// Give the second trace its own ID: both cases were built as trace 0.
	b.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(traceIDOf(99))
	for _, td := range []ptrace.Traces{a, b} {
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	if sink.SpanCount() != 1 {
		t.Fatalf("released %d spans, want the oldest trace's 1 released early", sink.SpanCount())
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.SpanCount() != 2 {
		t.Fatalf("after shutdown released %d spans, want 2", sink.SpanCount())
	}
}

func TestBuffer_ShutdownFlushesAndLaterBatchesPassThrough(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p := startBuffered(t, time.Minute, 100, sink)
	batches := splitCase(t, "workflow-tool-error-unrecovered", 1, 2, 0)
	for _, td := range batches[:2] {
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if sink.SpanCount() != 2 {
		t.Fatalf("shutdown released %d spans, want 2", sink.SpanCount())
	}
	if !allCodes(t, sink.AllTraces())[llmschema.FlagCodeToolError] {
		t.Error("spans flushed at shutdown were not evaluated")
	}
	if err := p.ConsumeTraces(context.Background(), batches[2]); err != nil {
		t.Fatal(err)
	}
	if sink.SpanCount() != 3 {
		t.Fatalf("batch after shutdown not passed through: %d spans", sink.SpanCount())
	}
}

func TestBuffer_NextConsumerErrorIsLoggedNotReturned(t *testing.T) {
	p := startBuffered(t, time.Minute, 100, consumertest.NewErr(errors.New("exporter down")))
	for _, td := range splitCase(t, "workflow-tool-error-unrecovered", 0, 1, 2) {
		if err := p.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatalf("sender got %v; it was answered when the batch came in", err)
		}
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBuffer_ConcurrentSenders interleaves many traces from concurrent senders; run with
// -race. Every span must come out exactly once, with its trace judged whole.
func TestBuffer_ConcurrentSenders(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p := startBuffered(t, 200*time.Millisecond, 1000, sink)
	const traces = 40
	work := make([][]ptrace.Traces, traces)
	for i := range work {
		work[i] = splitCase(t, "workflow-dangling-tool-call", 2, 1, 3, 0)
		for _, td := range work[i] {
			td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetTraceID(traceIDOf(1000 + i))
		}
	}
	done := make(chan error, traces)
	for i := 0; i < traces; i++ {
		go func(i int) {
			for _, td := range work[i] {
				if err := p.ConsumeTraces(context.Background(), td); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}(i)
	}
	for i := 0; i < traces; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all spans released", func() bool { return sink.SpanCount() == traces*4 })
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	flagged := 0
	for idx, codes := range codesByTrace(t, mergeTraces(sink.AllTraces())) {
		if _, ok := codes[llmschema.FlagCodeWorkflowInterruption]; ok && idx >= 1000 {
			flagged++
		}
	}
	if flagged != traces {
		t.Errorf("%d of %d traces judged whole", flagged, traces)
	}
}

func mergeTraces(all []ptrace.Traces) ptrace.Traces {
	out := ptrace.NewTraces()
	for _, td := range all {
		td.ResourceSpans().MoveAndAppendTo(out.ResourceSpans())
	}
	return out
}
