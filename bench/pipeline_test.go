// Package bench holds in-process benchmarks of tracehound's ingest path; run.sh drives the
// out-of-process comparison against other systems.
package bench

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/exporter/recordsexporter"
	"github.com/tracehound/tracehound/internal/benchcorpus"
	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/processor/errordetectprocessor"
	"github.com/tracehound/tracehound/processor/llmextractprocessor"
)

type projectAuth string

func (p projectAuth) GetAttribute(k string) any {
	if k == llmschema.ProjectAuthAttribute {
		return string(p)
	}
	return nil
}
func (projectAuth) GetAttributeNames() []string { return []string{llmschema.ProjectAuthAttribute} }

// BenchmarkPipeline runs the default pipeline's work after the receiver — llmextract,
// errordetect, then the records exporter with its fsynced bbolt store — on the benchmark corpus, 10 traces (≈ 46
// spans) per request as the load generator sends them. Reports ns and allocations per span.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	ef := recordsexporter.NewFactory()
	ecfg := ef.CreateDefaultConfig().(*recordsexporter.Config)
	ecfg.Path = b.TempDir()
	ecfg.API.NetAddr.Endpoint = "127.0.0.1:0"
	exp, err := ef.CreateTraces(ctx, exportertest.NewNopSettings(ef.Type()), ecfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = exp.Shutdown(ctx) }()
	df := errordetectprocessor.NewFactory()
	detect, err := df.CreateTraces(ctx, processortest.NewNopSettings(df.Type()), df.CreateDefaultConfig(), exp)
	if err != nil {
		b.Fatal(err)
	}
	pf := llmextractprocessor.NewFactory()
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), detect)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []interface {
		Start(context.Context, component.Host) error
		Shutdown(context.Context) error
	}{detect, proc} {
		if err := c.Start(ctx, componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = c.Shutdown(ctx) }()
	}
	runPipeline(b, proc)
}

func runPipeline(b *testing.B, next consumer.Traces) {
	corpus := benchcorpus.New(42)
	batches := make([]ptrace.Traces, b.N)
	spans := 0
	for i := range batches {
		batches[i] = corpus.Batch(10, 7, nil)
		spans += batches[i].SpanCount()
	}
	ctx := client.NewContext(context.Background(), client.Info{Auth: projectAuth("bench")})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := next.ConsumeTraces(ctx, batches[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spans), "ns/span")
}
