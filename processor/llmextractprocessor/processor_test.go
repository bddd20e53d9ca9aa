package llmextractprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// oneSpan builds a batch with a single span carrying attrs.
func oneSpan(t testing.TB, name string, attrs map[string]any) ptrace.Traces {
	t.Helper()
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr(llmschema.ServiceName, "test")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName(name)
	s.SetTraceID(pcommon.TraceID{1, 2, 3})
	s.SetSpanID(pcommon.SpanID{4, 5, 6})
	// A fixed start time keeps prices with dated constraints stable in these tests.
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)))
	if err := s.Attributes().FromRaw(attrs); err != nil {
		t.Fatal(err)
	}
	return td
}

func firstSpan(td ptrace.Traces) ptrace.Span {
	return td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
}

func attrStr(t *testing.T, s ptrace.Span, k string) string {
	t.Helper()
	v, ok := s.Attributes().Get(k)
	if !ok {
		t.Fatalf("attribute %s missing; span has %v", k, s.Attributes().AsRaw())
	}
	return v.AsString()
}

func TestProject_AuthenticatedProjectOverwritesClientClaims(t *testing.T) {
	td := oneSpan(t, "chat", map[string]any{llmschema.ProjectID: "evil", llmschema.ScorecardProjectID: "evil"})
	firstSpanRes := td.ResourceSpans().At(0).Resource().Attributes()
	firstSpanRes.PutStr(llmschema.ScorecardProjectID, "evil")
	firstSpanRes.PutStr(llmschema.TracehoundProjectIDRes, "evil")

	out := runProcessor(t, authContext("team-a"), createDefaultConfig(), td)
	s := firstSpan(out)
	if got := attrStr(t, s, llmschema.ProjectID); got != "team-a" {
		t.Errorf("span project = %q, want team-a", got)
	}
	if got := attrStr(t, s, llmschema.ScorecardProjectID); got != "team-a" {
		t.Errorf("span scorecard.project_id = %q, want team-a", got)
	}
	res := out.ResourceSpans().At(0).Resource().Attributes()
	for _, k := range []string{llmschema.ScorecardProjectID, llmschema.TracehoundProjectIDRes} {
		if v, _ := res.Get(k); v.Str() != "team-a" {
			t.Errorf("resource %s = %q, want team-a", k, v.Str())
		}
	}
}

func TestProject_WithoutAuthUsesDefaultAndStillDistrustsClient(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"no client info", context.Background()},
		{"auth without project", authContextRaw(map[string]any{"subject": "x"})},
		{"auth with non-string project", authContextRaw(map[string]any{llmschema.ProjectAuthAttribute: 42})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			cfg.DefaultProject = "fallback"
			out := runProcessor(t, tc.ctx, cfg, oneSpan(t, "x", map[string]any{llmschema.ProjectID: "claimed"}))
			if got := attrStr(t, firstSpan(out), llmschema.ProjectID); got != "fallback" {
				t.Errorf("project = %q, want fallback", got)
			}
		})
	}
}

func authContextRaw(a map[string]any) context.Context {
	return authContextFrom(authData(a))
}

// TestLLMCall_TokensSumToRealCallsOnFixtures checks the contract the records exporter
// relies on: summing usage over tracehound.llm.call spans counts each real provider call
// exactly once, even where wrapper spans repeat the usage.
func TestLLMCall_TokensSumToRealCallsOnFixtures(t *testing.T) {
	tests := []struct {
		dir                string
		calls, input, outp int64
	}{
		// Four chat calls: 32+8, 7+7, 15+20, 39+11; workflow and task spans carry none.
		{"traceloop", 4, 93, 46},
		// One chat call (32+8) and one embeddings call without reported usage.
		{"openinference", 2, 32, 8},
		// generateText and streamText: only the doGenerate/doStream children count.
		{"vercel-ai-v5", 2, 47, 17},
		// chat 32+8, embeddings 8, legacy openai.chat 31+8, and the 429 chat with no usage.
		{"manual-genai", 4, 71, 16},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			files, err := filepath.Glob(filepath.Join("testdata", "fixtures", tt.dir, "*.otlp.json"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no fixtures for %s: %v", tt.dir, err)
			}
			var calls, in, out int64
			for _, f := range files {
				td := runProcessor(t, authContext("p"), createDefaultConfig(), readTraces(t, f))
				forEachSpan(td, func(s ptrace.Span) {
					if v, ok := s.Attributes().Get(llmschema.LLMCall); !ok || !v.Bool() {
						return
					}
					calls++
					if v, ok := s.Attributes().Get(llmschema.UsageInputTokens); ok {
						in += v.Int()
					}
					if v, ok := s.Attributes().Get(llmschema.UsageOutputTokens); ok {
						out += v.Int()
					}
				})
			}
			if calls != tt.calls || in != tt.input || out != tt.outp {
				t.Errorf("llm calls=%d input=%d output=%d; want %d, %d, %d", calls, in, out, tt.calls, tt.input, tt.outp)
			}
		})
	}
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

func TestRobustness_InvalidUTF8AndHugeStringsAreCleaned(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.MaxAttributeBytes = 4096
	huge := strings.Repeat("é", 10000) // 20000 bytes
	td := oneSpan(t, "openai.chat", map[string]any{
		llmschema.GenAISystem:              "openai",
		llmschema.RequestModel:             "gpt-4o-mini",
		"gen_ai.prompt.0.role":             "user",
		"gen_ai.prompt.0.content":          huge,
		"gen_ai.completion.0.role":         "assistant",
		"gen_ai.completion.0.content":      "ok \xff\xfe bad bytes",
		"some.other.attribute":             huge,
		"tag.tags":                         []any{"ok", "bad \xff", huge},
		"nested":                           map[string]any{"inner": []any{"\xfe"}},
		"bad\xffkey":                       "kept",
		llmschema.GenAIUsagePromptTokens:   10,
		llmschema.GenAIUsageCompletionToks: 2,
	})
	s := firstSpan(runProcessor(t, context.Background(), cfg, td))
	var check func(k string, v pcommon.Value)
	check = func(k string, v pcommon.Value) {
		switch v.Type() {
		case pcommon.ValueTypeStr:
			if !utf8.ValidString(v.Str()) {
				t.Errorf("%s is not valid UTF-8", k)
			}
			if len(v.Str()) > cfg.MaxAttributeBytes {
				t.Errorf("%s is %d bytes, limit %d", k, len(v.Str()), cfg.MaxAttributeBytes)
			}
		case pcommon.ValueTypeSlice:
			for i := 0; i < v.Slice().Len(); i++ {
				check(k+"[]", v.Slice().At(i))
			}
		case pcommon.ValueTypeMap:
			v.Map().Range(func(mk string, mv pcommon.Value) bool {
				check(k+"."+mk, mv)
				return true
			})
		}
	}
	s.Attributes().Range(func(k string, v pcommon.Value) bool {
		check(k, v)
		return true
	})
	if got := attrStr(t, s, "bad\uFFFDkey"); got != "kept" {
		t.Errorf("re-keyed attribute = %q", got)
	}
	if got := attrStr(t, s, "some.other.attribute"); !strings.Contains(got, "…[truncated ") {
		t.Errorf("truncated value lacks marker: ...%s", got[len(got)-40:])
	}
	var msgs []llmschema.Message
	if err := json.Unmarshal([]byte(attrStr(t, s, llmschema.InputMessages)), &msgs); err != nil {
		t.Fatalf("truncated input messages are not valid JSON: %v", err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0].Parts[0].Content.(string), "…[truncated ") {
		t.Errorf("input message not cut with marker: %+v", msgs)
	}
	if got := attrStr(t, s, llmschema.Output); got != "ok \uFFFD bad bytes" {
		t.Errorf("output = %q", got)
	}
}

func TestRobustness_OddSpansAreKeptAndClassified(t *testing.T) {
	tests := []struct {
		name     string
		attrs    map[string]any
		wantKind string
	}{
		{"no attributes", map[string]any{}, llmschema.SpanKindOther},
		{"unknown convention", map[string]any{"acme.llm.prompt": "hi"}, llmschema.SpanKindOther},
		{"malformed semconv messages", map[string]any{llmschema.OperationName: "chat", llmschema.InputMessages: "[{\"role\":", llmschema.OutputMessages: "{}"}, llmschema.SpanKindLLM},
		{"malformed vercel prompt", map[string]any{llmschema.AIOperationID: "ai.generateText.doGenerate", llmschema.AIPromptMessages: "[{]", llmschema.AIResponseToolCalls: "[1,2"}, llmschema.SpanKindLLM},
		{"wrong types", map[string]any{llmschema.UsageInputTokens: "many", llmschema.OpenInferenceSpanKind: "LLM", "llm.input_messages.x.message.role": "user"}, llmschema.SpanKindLLM},
		{"huge index", map[string]any{"gen_ai.prompt.99999999.content": "x", "llm.input_messages.1023.message.content": "y"}, llmschema.SpanKindOther},
		{"unknown openinference kind", map[string]any{llmschema.OpenInferenceSpanKind: "EVALUATOR"}, llmschema.SpanKindOther},
		{"metadata not an object", map[string]any{llmschema.OIMetadata: "[1,2]", llmschema.LangfuseUsageDetails: "nope"}, llmschema.SpanKindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := firstSpan(runProcessor(t, context.Background(), createDefaultConfig(), oneSpan(t, "x", tt.attrs)))
			if got := attrStr(t, s, llmschema.SpanKind); got != tt.wantKind {
				t.Errorf("kind = %q, want %q", got, tt.wantKind)
			}
		})
	}
}

func TestPricing_UnknownModelIsFlaggedAndCounted(t *testing.T) {
	tel := componenttest.NewTelemetry()
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	set := processortest.NewNopSettings(componentType)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	sink := &consumertest.TracesSink{}
	p, err := NewFactory().CreateTraces(context.Background(), set, createDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	td := oneSpan(t, "chat", map[string]any{
		llmschema.OperationName: "chat", llmschema.ProviderName: "openai",
		llmschema.RequestModel: "gpt-4o-foo-unknown", llmschema.UsageInputTokens: 100, llmschema.UsageOutputTokens: 10,
	})
	known := oneSpan(t, "chat", map[string]any{
		llmschema.OperationName: "chat", llmschema.ProviderName: "openai",
		llmschema.RequestModel: "gpt-4o-mini", llmschema.UsageInputTokens: 1_000_000, llmschema.UsageOutputTokens: 0,
	})
	for _, batch := range []ptrace.Traces{td, known} {
		if err := p.ConsumeTraces(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	unknownSpan := firstSpan(sink.AllTraces()[0])
	if v, ok := unknownSpan.Attributes().Get(llmschema.PriceUnknown); !ok || !v.Bool() {
		t.Error("unknown model not flagged tracehound.cost.unknown")
	}
	if _, ok := unknownSpan.Attributes().Get(llmschema.CostUSD); ok {
		t.Error("unknown model got a cost")
	}
	knownSpan := firstSpan(sink.AllTraces()[1])
	if v, _ := knownSpan.Attributes().Get(llmschema.CostUSD); v.Double() != 0.15 {
		t.Errorf("gpt-4o-mini 1M input tokens cost %v, want 0.15", v.Double())
	}
	if _, ok := knownSpan.Attributes().Get(llmschema.PriceUnknown); ok {
		t.Error("known model flagged unknown")
	}
	m, err := tel.GetMetric("tracehound_llmextract_price_unknown")
	if err != nil {
		t.Fatal(err)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || len(sum.DataPoints) != 1 || sum.DataPoints[0].Value != 1 {
		t.Errorf("price_unknown metric = %+v, want one data point of 1", m.Data)
	}
}

func TestPricing_PricesFileOverridesBuiltin(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.PricesFile = filepath.Join("testdata", "prices.yaml")
	out := runProcessor(t, context.Background(), cfg, oneSpan(t, "chat", map[string]any{
		llmschema.OperationName: "chat", llmschema.RequestModel: "acme-llm-1",
		llmschema.UsageInputTokens: 2_000_000, llmschema.UsageOutputTokens: 1_000_000,
	}))
	if v, _ := firstSpan(out).Attributes().Get(llmschema.CostUSD); v.Double() != 2*0.5+1*1.5 {
		t.Errorf("cost %v, want 2.5", v.Double())
	}
}

func TestKeepOriginalAttributes_FalseDropsConsumedSourceKeys(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.KeepOriginalAttributes = false
	out := runProcessor(t, context.Background(), cfg, readTraces(t, filepath.Join("testdata", "fixtures", "openinference", "001.otlp.json")))
	s := firstSpan(out)
	for _, k := range []string{llmschema.OIInputValue, "llm.input_messages.0.message.role", llmschema.OITokenPrompt, llmschema.OIModelName, llmschema.OpenInferenceSpanKind} {
		if _, ok := s.Attributes().Get(k); ok {
			t.Errorf("source key %s kept", k)
		}
	}
	for _, k := range []string{llmschema.InputMessages, llmschema.UsageInputTokens, llmschema.RequestModel, llmschema.SpanKind, llmschema.Input} {
		if _, ok := s.Attributes().Get(k); !ok {
			t.Errorf("canonical key %s removed", k)
		}
	}
}

func TestRunID_PrecedenceAndExtraKeys(t *testing.T) {
	tests := []struct {
		name     string
		keys     []string
		span     map[string]any
		resource map[string]any
		want     string
	}{
		{"tracehound key wins", nil, map[string]any{llmschema.RunID: "a", llmschema.ScorecardTracingGroupID: "b"}, nil, "a"},
		{"scorecard group", nil, map[string]any{llmschema.ScorecardTracingGroupID: "b"}, nil, "b"},
		{"extra key", []string{"custom.batch"}, map[string]any{"custom.batch": "nightly"}, nil, "nightly"},
		{"scorecard beats extra key", []string{"custom.batch"}, map[string]any{"custom.batch": "nightly", llmschema.ScorecardTracingGroupID: "b"}, nil, "b"},
		{"from resource", []string{"custom.batch"}, nil, map[string]any{"custom.batch": "res-run"}, "res-run"},
		{"span beats resource", nil, map[string]any{llmschema.ScorecardTracingGroupID: "span"}, map[string]any{llmschema.ScorecardTracingGroupID: "res"}, "span"},
		{"traceloop association property", nil, map[string]any{"traceloop.association.properties.scorecard.tracing_group_id": "tl-run"}, nil, "tl-run"},
		{"vercel telemetry metadata", nil, map[string]any{"ai.telemetry.metadata.scorecard.tracing_group_id": "ai-run"}, nil, "ai-run"},
		{"attribute beats metadata", nil, map[string]any{"ai.telemetry.metadata.scorecard.tracing_group_id": "ai-run", llmschema.ScorecardTracingGroupID: "b"}, nil, "b"},
		{"metadata beats extra key", []string{"custom.batch"}, map[string]any{"custom.batch": "nightly", "traceloop.association.properties.tracehound.run.id": "tl"}, nil, "tl"},
		{"none", nil, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig()
			cfg.RunIDKeys = tt.keys
			td := oneSpan(t, "x", tt.span)
			if err := td.ResourceSpans().At(0).Resource().Attributes().FromRaw(tt.resource); err != nil {
				t.Fatal(err)
			}
			s := firstSpan(runProcessor(t, context.Background(), cfg, td))
			got := ""
			if v, ok := s.Attributes().Get(llmschema.RunID); ok {
				got = v.Str()
			}
			if got != tt.want {
				t.Errorf("run id = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDisplayText_UnwrapsObviousEnvelopes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{`"quoted"`, "quoted"},
		{`{"args":[],"kwargs":{}}`, ""},
		{`{"args":["What is 2+2?"],"kwargs":{}}`, "What is 2+2?"},
		{`{"args":[],"kwargs":{"question":"Why?"}}`, "Why?"},
		{`{"inputs":{"query":"find cats"},"tags":[]}`, "find cats"},
		{`{"answer":"42","sources":[1]}`, "42"},
		{`[{"role":"system","content":"s"},{"role":"user","content":"hi there"}]`, "hi there"},
		{`{"role":"assistant","content":[{"type":"text","text":"done"}]}`, "done"},
		{`["a","b"]`, "a\nb"},
		{`{"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}]}`, "Paris."},
		{`{"id":"resp_1","output":[{"type":"reasoning"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Done."}]}]}`, "Done."},
		{`{"model":"gpt-4o","messages":[{"role":"user","content":"Q?"}],"temperature":0}`, "Q?"},
		{`{"city":"Oslo"}`, `{"city":"Oslo"}`},
		{`{"broken":`, `{"broken":`},
		{`[1,2,3]`, `[1,2,3]`},
	}
	for _, tt := range tests {
		if got := displayText(tt.in); got != tt.want {
			t.Errorf("displayText(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate_RespectsLimitAndRuneBoundaries(t *testing.T) {
	s := strings.Repeat("日本語", 100) // 900 bytes of 3-byte runes
	for _, max := range []int{64, 65, 66, 100, 899} {
		got := clean(s, max)
		if len(got) > max {
			t.Errorf("max %d: got %d bytes", max, len(got))
		}
		if !utf8.ValidString(got) {
			t.Errorf("max %d: invalid UTF-8", max)
		}
		kept, marker, ok := strings.Cut(got, "…[truncated ")
		if !ok || !strings.HasPrefix(s, kept) || kept == "" {
			t.Errorf("max %d: %q is not a prefix plus marker", max, got)
		}
		if want := fmt.Sprintf("%d bytes]", len(s)-len(kept)); marker != want {
			t.Errorf("max %d: marker %q, want %q", max, marker, want)
		}
	}
	if got := clean(s, 900); got != s {
		t.Error("a value within the limit was changed")
	}
}

func TestProcessor_ConcurrentBatchesAreIndependent(t *testing.T) {
	sink := &consumertest.TracesSink{}
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(componentType), createDefaultConfig(), sink)
	if err != nil {
		t.Fatal(err)
	}
	const workers, batches = 4, 25
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(w int) {
			for i := 0; i < batches; i++ {
				project := "p" + string(rune('a'+w))
				td := oneSpan(t, "chat", map[string]any{
					llmschema.OperationName: "chat", llmschema.RequestModel: "unknown-model-" + project,
					llmschema.UsageInputTokens: 1, llmschema.ProjectID: "claimed",
				})
				if err := p.ConsumeTraces(authContext(project), td); err != nil {
					errs <- err
					return
				}
				if got, _ := firstSpan(td).Attributes().Get(llmschema.ProjectID); got.Str() != project {
					errs <- fmt.Errorf("worker %d: project %q, want %q", w, got.Str(), project)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < workers; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(sink.AllTraces()); n != workers*batches {
		t.Fatalf("sink got %d batches, want %d", n, workers*batches)
	}
}

func TestCost_ClientSuppliedValuesAreNotTrusted(t *testing.T) {
	tests := []struct {
		name     string
		attrs    map[string]any
		wantCost float64 // 0 means absent
	}{
		{"non-call span", map[string]any{llmschema.CostUSD: 99.0, llmschema.PriceUnknown: true, llmschema.LLMCall: true}, 0},
		{"call without usage", map[string]any{llmschema.OperationName: "chat", llmschema.RequestModel: "gpt-4o-mini", llmschema.CostUSD: 99.0}, 0},
		{"call with usage is recomputed", map[string]any{llmschema.OperationName: "chat", llmschema.RequestModel: "gpt-4o-mini",
			llmschema.UsageInputTokens: 1_000_000, llmschema.CostUSD: 99.0, llmschema.PriceUnknown: true}, 0.15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := firstSpan(runProcessor(t, context.Background(), createDefaultConfig(), oneSpan(t, "x", tt.attrs)))
			v, ok := s.Attributes().Get(llmschema.CostUSD)
			switch {
			case tt.wantCost == 0 && ok:
				t.Errorf("cost %v kept", v.Double())
			case tt.wantCost != 0 && (!ok || v.Double() != tt.wantCost):
				t.Errorf("cost %v (present %v), want %v", v.Double(), ok, tt.wantCost)
			}
			if _, ok := s.Attributes().Get(llmschema.PriceUnknown); ok {
				t.Error("client cost.unknown kept")
			}
			if tt.name == "non-call span" {
				if _, ok := s.Attributes().Get(llmschema.LLMCall); ok {
					t.Error("client llm.call kept on a non-call span")
				}
			}
		})
	}
}

func TestText_CompletionInputIsWholePrompt(t *testing.T) {
	tests := []struct {
		name  string
		attrs map[string]any
	}{
		{"semconv text_completion", map[string]any{llmschema.OperationName: "text_completion",
			llmschema.InputMessages: `[{"role":"user","parts":[{"type":"text","content":"first"}]},{"role":"user","parts":[{"type":"text","content":"second"}]}]`}},
		{"legacy completion", map[string]any{llmschema.LLMRequestType: "completion", llmschema.RequestModel: "gpt-3.5-turbo-instruct",
			"gen_ai.prompt.0.role": "user", "gen_ai.prompt.0.content": "first", "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "second"}},
		{"openinference prompts", map[string]any{llmschema.OpenInferenceSpanKind: "LLM",
			"llm.prompts.0.prompt.text": "first", "llm.prompts.1.prompt.text": "second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := firstSpan(runProcessor(t, context.Background(), createDefaultConfig(), oneSpan(t, "x", tt.attrs)))
			if got := attrStr(t, s, llmschema.Input); got != "first\nsecond" {
				t.Errorf("input = %q", got)
			}
		})
	}
}

func TestText_ChatInputIsLastUserTurn(t *testing.T) {
	s := firstSpan(runProcessor(t, context.Background(), createDefaultConfig(), oneSpan(t, "x", map[string]any{
		llmschema.OperationName: "chat",
		llmschema.InputMessages: `[{"role":"user","parts":[{"type":"text","content":"first"}]},{"role":"assistant","parts":[{"type":"text","content":"ok"}]},{"role":"user","parts":[{"type":"text","content":"second"}]}]`,
	})))
	if got := attrStr(t, s, llmschema.Input); got != "second" {
		t.Errorf("input = %q", got)
	}
}

func TestRobustness_OversizedCanonicalMessagesStayValidJSON(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.MaxAttributeBytes = 2048
	long := strings.Repeat("word ", 2000)
	msgs := `[{"role":"system","parts":[{"type":"text","content":"` + long + `"}]},` +
		`{"role":"user","parts":[{"type":"text","content":"the question"}]}]`
	s := firstSpan(runProcessor(t, context.Background(), cfg, oneSpan(t, "chat", map[string]any{
		llmschema.OperationName: "chat", llmschema.InputMessages: msgs,
	})))
	raw := attrStr(t, s, llmschema.InputMessages)
	if len(raw) > cfg.MaxAttributeBytes {
		t.Fatalf("messages are %d bytes", len(raw))
	}
	var got []llmschema.Message
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("shortened messages are not valid JSON: %v", err)
	}
	if len(got) != 2 || got[1].Parts[0].Content != "the question" {
		t.Errorf("messages = %+v", got)
	}
	if in := attrStr(t, s, llmschema.Input); in != "the question" {
		t.Errorf("input = %q", in)
	}
}
