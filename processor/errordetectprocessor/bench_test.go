package errordetectprocessor

import (
	"context"
	"fmt"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// BenchmarkDetect measures the processor with all checks and two OTTL rules on, over every
// corpus trace (chat calls, RAG chains, agents with tools, multilingual answers), alone and
// mixed with plain HTTP and database spans, and over the ingest benchmark's corpus (long
// agent prompts, tool calls and retrieval). The figures to watch are ns/span and, on a
// shared machine, cpu-ns/span.
func BenchmarkDetect(b *testing.B) {
	b.Run("llm_corpus", func(b *testing.B) { benchmarkBatch(b, buildTraces(loadCorpus(b)...)) })
	b.Run("mixed_service", func(b *testing.B) { benchmarkBatch(b, mixedBatch(loadCorpus(b))) })
	b.Run("benchcorpus", func(b *testing.B) { benchmarkBatches(b, benchcorpusBatches(b, 20)) })
}

// mixedBatch is closer to a whole service's traffic: each corpus trace gains eight plain
// HTTP and database spans (no LLM content), so LLM spans are about a fifth of the batch.
func mixedBatch(cases []testCase) ptrace.Traces {
	for i := range cases {
		spans := cases[i].spansOf()
		parent := spans[0].ID
		for k := 0; k < 8; k++ {
			kind := "other"
			attrs := map[string]any{"http.request.method": "GET", "url.path": "/api/v1/items", "http.response.status_code": 200.0}
			if k%2 == 1 {
				attrs = map[string]any{"db.system.name": "postgresql", "db.query.text": "SELECT id, name FROM items WHERE owner_id = $1"}
			}
			spans = append(spans, testSpan{ID: fmt.Sprintf("plain%d", k), Parent: parent, Kind: kind, Attrs: attrs})
		}
		cases[i].Spans = spans
	}
	return buildTraces(cases...)
}

func benchmarkBatch(b *testing.B, batch ptrace.Traces) {
	benchmarkBatches(b, []ptrace.Traces{batch})
}

// benchmarkBatches processes the batches in turn, b.N in all, as the ingest benchmark
// (bench/pipeline_test.go) sends the benchmark corpus: 10 traces per request, after llmextract.
func benchmarkBatches(b *testing.B, batches []ptrace.Traces) {
	cfg := createDefaultConfig()
	cfg.Rules = benchRules
	p, err := newProcessor(processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	spans := 0
	work := make([]ptrace.Traces, b.N)
	for i := range work {
		work[i] = ptrace.NewTraces()
		batches[i%len(batches)].CopyTo(work[i])
		spans += work[i].SpanCount()
	}
	b.ReportAllocs()
	cpuStart, cpuOK := processCPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.processTraces(context.Background(), work[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cpuEnd, ok := processCPUTime(); ok && cpuOK {
		b.ReportMetric(float64((cpuEnd-cpuStart).Nanoseconds())/float64(spans), "cpu-ns/span")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spans), "ns/span")
	b.ReportMetric(float64(spans)/float64(b.N), "spans/batch")
}
