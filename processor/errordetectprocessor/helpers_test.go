package errordetectprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
)

// runProcessor sends td through a processor built by the factory with cfg and returns
// what reached the next consumer.
func runProcessor(t testing.TB, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	sink := &consumertest.TracesSink{}
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(componentType), cfg, sink)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("start: %v", err)
	}
	defer func() {
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatalf("consume: %v", err)
	}
	all := sink.AllTraces()
	if len(all) != 1 {
		t.Fatalf("next consumer got %d batches, want 1", len(all))
	}
	return all[0]
}
