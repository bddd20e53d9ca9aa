package errordetectprocessor

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestTelemetry_CountsFlagsByCodeAndRuleFailures(t *testing.T) {
	tel := componenttest.NewTelemetry()
	defer func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	cfg := createDefaultConfig()
	cfg.Rules = []RuleConfig{{Name: "bad_type", Code: "x", Condition: `Int(attributes["gen_ai.request.model"]) > 3`}}
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{
		{ID: "a", Name: "a", Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 429.0, "gen_ai.request.model": "gpt-4"}},
		{ID: "b", Name: "b", Kind: "llm", Status: "error", Attrs: map[string]any{"gen_ai.request.model": "gpt-4"}},
	}})
	if err := p.ConsumeTraces(context.Background(), td); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	m, err := tel.GetMetric("otelcol_processor_errordetect_flags")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		code, _ := dp.Attributes.Value(attribute.Key("code"))
		got[code.AsString()] += dp.Value
	}
	if got["span_error"] != 2 || got["rate_limit"] != 1 || len(got) != 2 {
		t.Errorf("flag counts = %v, want span_error=2 rate_limit=1", got)
	}
	rf, err := tel.GetMetric("otelcol_processor_errordetect_rule_failures")
	if err != nil {
		t.Fatal(err)
	}
	if v := rf.Data.(metricdata.Sum[int64]).DataPoints[0].Value; v != 2 {
		t.Errorf("rule failures = %d, want 2", v)
	}
}
