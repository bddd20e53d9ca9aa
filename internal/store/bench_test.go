package store

import (
	"context"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/internal/benchcorpus"
	"github.com/tracehound/tracehound/processor/errordetectprocessor"
	"github.com/tracehound/tracehound/processor/llmextractprocessor"
)

// corpusBatches are requests of the benchmark corpus as the records exporter gets them in
// the default pipeline: 10 traces (≈ 46 spans) each, after llmextract and errordetect.
func corpusBatches(b *testing.B, n int) []ptrace.Traces {
	b.Helper()
	ctx := context.Background()
	sink := new(consumertest.TracesSink)
	df := errordetectprocessor.NewFactory()
	detect, err := df.CreateTraces(ctx, processortest.NewNopSettings(df.Type()), df.CreateDefaultConfig(), sink)
	if err != nil {
		b.Fatal(err)
	}
	pf := llmextractprocessor.NewFactory()
	extract, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), detect)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []interface {
		Start(context.Context, component.Host) error
	}{detect, extract} {
		if err := c.Start(ctx, componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
	}
	corpus := benchcorpus.New(42)
	for range n {
		if err := extract.ConsumeTraces(ctx, corpus.Batch(10, 7, nil)); err != nil {
			b.Fatal(err)
		}
	}
	return sink.AllTraces()
}

// corpusRecords are the records of corpusBatches, each folded from its spans.
func corpusRecords(b *testing.B, n int) []*Record {
	b.Helper()
	var out []*Record
	for _, td := range corpusBatches(b, n) {
		spans, err := FromTraces("bench", td, hasIDs)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, foldByTrace(spans)...)
	}
	return out
}

// foldByTrace folds spans into one record per trace, in order of first appearance.
func foldByTrace(spans []Span) []*Record {
	var out []*Record
	byTrace := map[string]*Record{}
	for i := range spans {
		id := spans[i].TraceIDHex()
		r := byTrace[id]
		if r == nil {
			r = NewRecord("bench", id)
			byTrace[id] = r
			out = append(out, r)
		}
		r.Fold(&spans[i])
	}
	return out
}

// reportCPU starts counting the process's CPU time and returns the function that reports it
// per op. Unlike ns/op it does not grow when other processes compete for the cores, and it
// includes the garbage collector's background work that allocations cause.
func reportCPU(b *testing.B) (stop func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := processCPU(b)
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkFromTraces(b *testing.B) {
	batches := corpusBatches(b, 8)
	b.Run("per_span", func(b *testing.B) {
		defer reportCPU(b)()
		for i := range b.N {
			fromPDataEach(b, "bench", batches[i%len(batches)], hasIDs)
		}
	})
	b.Run("batch", func(b *testing.B) {
		defer reportCPU(b)()
		for i := range b.N {
			if _, err := FromTraces("bench", batches[i%len(batches)], hasIDs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("pooled", func(b *testing.B) {
		defer reportCPU(b)()
		for i := range b.N {
			batch, err := FromTracesPooled("bench", batches[i%len(batches)], hasIDs)
			if err != nil {
				b.Fatal(err)
			}
			batch.Release()
		}
	})
}

// BenchmarkPrepareRecord is the store-package work bboltstore does for each new record of a
// request: fold its spans, take its summary and index tokens. b.N counts requests.
func BenchmarkPrepareRecord(b *testing.B) {
	batches := corpusBatches(b, 8)
	converted := make([][]Span, len(batches))
	for i, td := range batches {
		var err error
		if converted[i], err = FromTraces("bench", td, hasIDs); err != nil {
			b.Fatal(err)
		}
	}
	defer reportCPU(b)()
	for i := range b.N {
		for _, r := range foldByTrace(converted[i%len(converted)]) {
			_ = r.Summary()
			_ = IndexTokens(r)
		}
	}
}

func BenchmarkIndexTokens(b *testing.B) {
	records := corpusRecords(b, 8)
	defer reportCPU(b)()
	for i := range b.N {
		_ = IndexTokens(records[i%len(records)])
	}
}
