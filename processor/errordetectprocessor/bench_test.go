package errordetectprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// BenchmarkDetect measures the processor on a realistic batch: every corpus trace (chat
// calls, RAG chains, agents with tools, multilingual answers) with all checks and two OTTL
// rules on. The figure to watch is ns/span.
func BenchmarkDetect(b *testing.B) {
	cases := loadCorpus(b)
	batch := buildTraces(cases...)
	cfg := createDefaultConfig()
	cfg.Rules = []RuleConfig{
		{Name: "long", Code: "long_output", Condition: `attributes["gen_ai.usage.output_tokens"] > 2000`},
		{Name: "gpt4", Code: "expensive_model", Condition: `attributes["gen_ai.request.model"] == "gpt-4"`},
	}
	p, err := newProcessor(processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	spans := batch.SpanCount()
	work := make([]ptrace.Traces, b.N)
	for i := range work {
		work[i] = ptrace.NewTraces()
		batch.CopyTo(work[i])
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
		b.ReportMetric(float64((cpuEnd-cpuStart).Nanoseconds())/float64(b.N*spans), "cpu-ns/span")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*spans), "ns/span")
	b.ReportMetric(float64(spans), "spans/batch")
}
