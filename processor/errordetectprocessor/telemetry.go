package errordetectprocessor

import (
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"
)

// processorTelemetry is what the processor reports about itself through the collector's
// own metrics (scraped from its telemetry endpoint like every otelcol_* metric).
type processorTelemetry struct {
	// flags counts flags written, by code and category.
	flags metric.Int64Counter
	// ruleFailures counts rule evaluations that failed on a span and did not match.
	ruleFailures metric.Int64Counter
	// tracesEvaluatedEarly counts traces evaluated before their root or trace_wait
	// because max_traces was reached.
	tracesEvaluatedEarly metric.Int64Counter
}

func newProcessorTelemetry(set component.TelemetrySettings) (*processorTelemetry, error) {
	meter := set.MeterProvider.Meter("github.com/tracehound/tracehound/processor/errordetectprocessor")
	var t processorTelemetry
	var err error
	if t.flags, err = meter.Int64Counter("otelcol_processor_errordetect_flags",
		metric.WithDescription("Flags written on spans, by code and category."), metric.WithUnit("{flags}")); err != nil {
		return nil, fmt.Errorf("create flags counter: %w", err)
	}
	if t.ruleFailures, err = meter.Int64Counter("otelcol_processor_errordetect_rule_failures",
		metric.WithDescription("Rule evaluations that failed on a span and did not match."), metric.WithUnit("{evaluations}")); err != nil {
		return nil, fmt.Errorf("create rule failures counter: %w", err)
	}
	if t.tracesEvaluatedEarly, err = meter.Int64Counter("otelcol_processor_errordetect_traces_evaluated_early",
		metric.WithDescription("Traces evaluated before their root span or trace_wait because max_traces was reached."), metric.WithUnit("{traces}")); err != nil {
		return nil, fmt.Errorf("create early evaluation counter: %w", err)
	}
	return &t, nil
}
