// Package bench holds in-process benchmarks of tracehound's ingest path; run.sh drives the
// out-of-process comparison against other systems.
package bench

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
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
// errordetect, then the records exporter with its fsynced bbolt store — on the benchmark
// corpus, 10 traces (≈ 46 spans) per request from 8 concurrent senders as the load generator
// sends them (BENCH_SENDERS=64 for its other level). Sub-benchmarks leave stages out to show what each costs: ns/span is wall time
// per span with both cores busy, cpu-ns/span the process CPU per span.
func BenchmarkPipeline(b *testing.B) {
	b.Run("default", func(b *testing.B) { benchPipeline(b, true, true) })
	b.Run("without_errordetect", func(b *testing.B) { benchPipeline(b, false, true) })
	b.Run("without_store", func(b *testing.B) { benchPipeline(b, true, false) })
}

func benchPipeline(b *testing.B, withDetect, withStore bool) {
	ctx := context.Background()
	var next consumer.Traces = consumertest.NewNop()
	if withStore {
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
		next = exp
	}
	type stage interface {
		consumer.Traces
		Start(context.Context, component.Host) error
		Shutdown(context.Context) error
	}
	var stages []stage
	if withDetect {
		df := errordetectprocessor.NewFactory()
		detect, err := df.CreateTraces(ctx, processortest.NewNopSettings(df.Type()), df.CreateDefaultConfig(), next)
		if err != nil {
			b.Fatal(err)
		}
		stages = append(stages, detect)
		next = detect
	}
	pf := llmextractprocessor.NewFactory()
	proc, err := pf.CreateTraces(ctx, processortest.NewNopSettings(pf.Type()), pf.CreateDefaultConfig(), next)
	if err != nil {
		b.Fatal(err)
	}
	stages = append(stages, proc)
	for _, c := range stages {
		if err := c.Start(ctx, componenttest.NewNopHost()); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = c.Shutdown(ctx) }()
	}
	runPipeline(b, proc)
}

// benchSenders is the number of concurrent callers: BENCH_SENDERS, or 8 as the load
// generator's first level.
func benchSenders(b *testing.B) int {
	v := os.Getenv("BENCH_SENDERS")
	if v == "" {
		return 8
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("BENCH_SENDERS=%q: want a positive number", v)
	}
	return n
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
	var next64 atomic.Int64
	b.ReportAllocs()
	runtime.GC()
	cpuStart, wStart := processCPU(), writtenBytes()
	b.ResetTimer()
	var wg sync.WaitGroup
	senders := benchSenders(b)
	errs := make(chan error, senders)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next64.Add(1)) - 1
				if i >= len(batches) {
					return
				}
				if err := next.ConsumeTraces(ctx, batches[i]); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(spans), "ns/span")
	if cpu := processCPU() - cpuStart; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(spans), "cpu-ns/span")
	}
	if w := writtenBytes() - wStart; w > 0 {
		b.ReportMetric(float64(w)/float64(spans), "written-B/span")
	}
}

// writtenBytes is what this process passed to write system calls so far (wchar in
// /proc/self/io; 0 where there is no such file).
func writtenBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// processCPU is the user+system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
