package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// sendAgentTrace records, with the official OTel Go SDK, a 3-level trace:
// workflow → agent → {chat call, tool call}. A synchronous span processor exports each span
// in its own request when it ends, so children reach the collector before their parents.
func sendAgentTrace(t *testing.T, exp sdktrace.SpanExporter, service, question string, failTool bool) trace.TraceID {
	t.Helper()
	ctx := context.Background()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSyncer(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", service))),
	)
	defer func() {
		if err := tp.Shutdown(ctx); err != nil {
			t.Errorf("tracer provider shutdown: %v", err)
		}
	}()
	tr := tp.Tracer("tracehound-e2e")
	ctx, root := tr.Start(ctx, "capital_quiz.workflow", trace.WithAttributes(
		attribute.String("scorecard.tracing_group_id", "batch-job-123"),
	))
	actx, agent := tr.Start(ctx, "invoke_agent quiz", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("gen_ai.agent.name", "quiz"),
	))
	_, chat := tr.Start(actx, "chat gpt-4o-mini", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.provider.name", "openai"),
		attribute.String("gen_ai.request.model", "gpt-4o-mini"),
		attribute.String("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
		attribute.Int("gen_ai.usage.input_tokens", 93),
		attribute.Int("gen_ai.usage.output_tokens", 46),
		attribute.String("gen_ai.input.messages", fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":%q}]}]`, question)),
		attribute.String("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"The capital of France is Paris."}],"finish_reason":"stop"}]`),
	))
	time.Sleep(2 * time.Millisecond)
	chat.End()
	_, tool := tr.Start(actx, "execute_tool lookup_capital", trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"),
		attribute.String("gen_ai.tool.name", "lookup_capital"),
	))
	if failTool {
		tool.SetStatus(codes.Error, "lookup service unavailable")
	}
	tool.End()
	agent.End()
	root.End()
	return root.SpanContext().TraceID()
}

type recordView struct {
	ID           string   `json:"id"`
	TraceID      string   `json:"trace_id"`
	ProjectID    string   `json:"project_id"`
	Source       string   `json:"source"`
	Status       string   `json:"status"`
	Name         string   `json:"name"`
	Service      string   `json:"service"`
	Models       []string `json:"models"`
	Start        time.Time
	End          time.Time
	DurationMS   float64 `json:"duration_ms"`
	RunID        string  `json:"run_id"`
	Input        string  `json:"input"`
	Output       string  `json:"output"`
	CostUSD      float64 `json:"cost_usd"`
	Usage        struct{ Input, Output, Total int64 }
	SpanCount    int `json:"span_count"`
	LLMCallCount int `json:"llm_call_count"`
	Spans        []struct {
		Name     string `json:"name"`
		Children []struct {
			Name     string `json:"name"`
			Children []struct {
				Name   string `json:"name"`
				Status string `json:"status"`
			} `json:"children"`
		} `json:"children"`
	} `json:"spans"`
	Timeline []struct {
		Name  string `json:"name"`
		Depth int    `json:"depth"`
	} `json:"timeline"`
}

func checkAgentRecord(t *testing.T, c *collector, tid trace.TraceID, service string, wantStatus string) {
	t.Helper()
	var r recordView
	if code := c.apiGet("/api/v1/records/"+tid.String(), &r); code != http.StatusOK {
		t.Fatalf("record %s: status %d\n%s", tid, code, c.log.String())
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"id", r.ID, tid.String()},
		{"trace_id", r.TraceID, tid.String()},
		{"project_id", r.ProjectID, "default"},
		{"source", r.Source, "otlp"},
		{"status", r.Status, wantStatus},
		{"name", r.Name, "capital_quiz.workflow"},
		{"service", r.Service, service},
		{"models", fmt.Sprint(r.Models), "[gpt-4o-mini-2024-07-18]"},
		{"usage", fmt.Sprint(r.Usage), "{93 46 139}"},
		{"run_id", r.RunID, "batch-job-123"},
		{"input", r.Input, "What is the capital of France?"},
		{"output", r.Output, "The capital of France is Paris."},
		{"span_count", r.SpanCount, 4},
		{"llm_call_count", r.LLMCallCount, 1},
		{"tree roots", len(r.Spans), 1},
		{"timeline", len(r.Timeline), 4},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s = %v, want %v", ch.field, ch.got, ch.want)
		}
	}
	// gpt-4o-mini at $0.15 / $0.60 per 1M tokens: 93 in, 46 out.
	if want := (93*0.15 + 46*0.60) / 1e6; r.CostUSD < want*0.999 || r.CostUSD > want*1.001 {
		t.Errorf("cost_usd = %v, want %v", r.CostUSD, want)
	}
	if r.DurationMS <= 0 || !r.End.After(r.Start) {
		t.Errorf("timing: start %v end %v duration %v", r.Start, r.End, r.DurationMS)
	}
	if len(r.Spans) == 1 {
		root := r.Spans[0]
		if root.Name != "capital_quiz.workflow" || len(root.Children) != 1 || root.Children[0].Name != "invoke_agent quiz" ||
			len(root.Children[0].Children) != 2 || root.Children[0].Children[0].Name != "chat gpt-4o-mini" {
			t.Errorf("span tree is not workflow → agent → {chat, tool}: %+v", root)
		}
	}
	if len(r.Timeline) == 4 && (r.Timeline[0].Depth != 0 || r.Timeline[1].Depth != 1 || r.Timeline[2].Depth != 2) {
		t.Errorf("timeline depths: %+v", r.Timeline)
	}
}

func TestE2E_OTelSDKOverGRPCAndHTTP(t *testing.T) {
	c := newCollector(t)
	ctx := context.Background()

	auth := map[string]string{"Authorization": c.bearer()}
	grpcExp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(c.grpcAddr), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	httpExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(c.httpAddr), otlptracehttp.WithInsecure(),
		otlptracehttp.WithHeaders(auth))
	if err != nil {
		t.Fatal(err)
	}
	// TRACELOOP_HEADERS-style value that some SDKs send without URL-decoding it.
	otelPathExp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(c.httpAddr), otlptracehttp.WithInsecure(),
		otlptracehttp.WithURLPath("/otel/v1/traces"), otlptracehttp.WithHeaders(map[string]string{"Authorization": "Bearer%20" + c.key}))
	if err != nil {
		t.Fatal(err)
	}

	sent := map[string]trace.TraceID{
		"grpc":           sendAgentTrace(t, grpcExp, "svc-grpc", "What is the capital of France?", false),
		"http-protobuf":  sendAgentTrace(t, httpExp, "svc-http", "What is the capital of France?", false),
		"http-otel-path": sendAgentTrace(t, otelPathExp, "svc-otel", "What is the capital of France?", true),
	}
	// The exporter returned, so the collector acknowledged every span: each record must be
	// complete now, without waiting.
	checkAgentRecord(t, c, sent["grpc"], "svc-grpc", "ok")
	checkAgentRecord(t, c, sent["http-protobuf"], "svc-http", "ok")
	checkAgentRecord(t, c, sent["http-otel-path"], "svc-otel", "error")

	jsonIDs := map[string]string{}
	for _, path := range []string{"/v1/traces", "/otel/v1/traces"} {
		td, id := jsonTrace(path)
		body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
		if err != nil {
			t.Fatal(err)
		}
		if code := c.post(path, "application/json", body, c.bearer()); code != http.StatusOK {
			t.Fatalf("OTLP/JSON to %s: %d", path, code)
		}
		jsonIDs[path] = id
	}
	for path, id := range jsonIDs {
		var r recordView
		if code := c.apiGet("/api/v1/records/"+id, &r); code != http.StatusOK || r.Name != "json "+path || r.Service != "svc-json" {
			t.Errorf("OTLP/JSON record via %s: %d %+v", path, code, r)
		}
	}

	var list struct {
		Records    []recordView `json:"records"`
		NextCursor *string      `json:"next_cursor"`
	}
	if code := c.apiGet("/api/v1/records?limit=100", &list); code != http.StatusOK || len(list.Records) != 5 || list.NextCursor != nil {
		t.Fatalf("list: %d, %d records", code, len(list.Records))
	}

	// Restart on the same data directory: everything is still there.
	c.restart()
	checkAgentRecord(t, c, sent["grpc"], "svc-grpc", "ok")
	checkAgentRecord(t, c, sent["http-otel-path"], "svc-otel", "error")
	if code := c.apiGet("/api/v1/records?limit=100", &list); code != http.StatusOK || len(list.Records) != 5 {
		t.Fatalf("after restart: %d, %d records", code, len(list.Records))
	}
	// And the raw spans of a trace come back as OTLP.
	var raw struct {
		ResourceSpans []any `json:"resourceSpans"`
	}
	if code := c.apiGet("/api/v1/traces/"+sent["grpc"].String(), &raw); code != http.StatusOK || len(raw.ResourceSpans) != 4 {
		t.Fatalf("raw trace: %d, %d resource spans", code, len(raw.ResourceSpans))
	}
}

func jsonTrace(path string) (ptrace.Traces, string) {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "svc-json")
	s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	tid := pcommon.TraceID{0x7a, byte(len(path)), 1}
	s.SetTraceID(tid)
	s.SetSpanID(pcommon.SpanID{1})
	s.SetName("json " + path)
	now := time.Now()
	s.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
	s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
	return td, tid.String()
}

func TestE2E_BadInput(t *testing.T) {
	c := newCollector(t)
	tests := []struct {
		name, path, contentType, body string
		want                          int
	}{
		{"malformed protobuf", "/v1/traces", "application/x-protobuf", "\xff\xff\xff\x00garbage", http.StatusBadRequest},
		{"malformed JSON", "/v1/traces", "application/json", `{"resourceSpans": [`, http.StatusBadRequest},
		{"malformed JSON on /otel path", "/otel/v1/traces", "application/json", `not json`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := c.post(tt.path, tt.contentType, []byte(tt.body), c.bearer()); code != tt.want {
				t.Fatalf("status %d, want %d", code, tt.want)
			}
		})
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := c.apiGet("/api/v1/records/00000000000000000000000000000001", &e); code != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Fatalf("unknown record: %d %+v", code, e)
	}
	if code := c.apiGet("/api/v1/records?cursor=bogus", &e); code != http.StatusBadRequest || e.Error.Code != "invalid_parameter" {
		t.Fatalf("bad cursor: %d %+v", code, e)
	}
	// Logs from agent SDKs are accepted, never 404.
	if code := c.post("/otel/v1/logs", "application/json", []byte(`{"resourceLogs":[]}`), c.bearer()); code != http.StatusOK {
		t.Fatalf("/otel/v1/logs: %d", code)
	}
}
