package recordsexporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

type testExporter struct {
	exporter.Traces
	inner *recordsExporter
	base  string
}

func startExporter(t *testing.T) *testExporter {
	t.Helper()
	return startExporterWith(t, func(*Config) {})
}

func startExporterWith(t *testing.T, mutate func(*Config)) *testExporter {
	t.Helper()
	f := NewFactory()
	cfg := f.CreateDefaultConfig().(*Config)
	cfg.Path = t.TempDir()
	cfg.API.NetAddr.Endpoint = "127.0.0.1:0"
	// Test data has fixed dates; age-based retention would delete it once they are old.
	cfg.Retention.MaxAge = 0
	mutate(cfg)
	set := exportertest.NewNopSettings(f.Type())
	inner := newRecordsExporter(cfg, set.TelemetrySettings)
	exp, err := wrapTraces(context.Background(), set, cfg, inner)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exp.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return &testExporter{Traces: exp, inner: inner, base: "http://" + inner.apiAddr.String()}
}

func (te *testExporter) get(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := http.Get(te.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %d %s: %v", path, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// agentTraces builds n traces of workflow → agent → llm call (3 levels) plus a tool span.
func agentTraces(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "quiz-app")
	ss := rs.ScopeSpans().AppendEmpty()
	for i := 0; i < n; i++ {
		tid := pcommon.TraceID{0x10, byte(i >> 8), byte(i)}
		start := t0.Add(time.Duration(i) * time.Second)
		add := func(id, parent byte, name string, from, to time.Duration, attrs map[string]any) {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(tid)
			s.SetSpanID(pcommon.SpanID{id})
			if parent != 0 {
				s.SetParentSpanID(pcommon.SpanID{parent})
			}
			s.SetName(name)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(start.Add(from)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(to)))
			_ = s.Attributes().FromRaw(attrs)
		}
		add(1, 0, "quiz.workflow", 0, 900*time.Millisecond, map[string]any{
			llmschema.SpanKind: "workflow", llmschema.Input: fmt.Sprintf("question %d", i), llmschema.Output: "Paris",
		})
		add(2, 1, "quiz.agent", 5*time.Millisecond, 850*time.Millisecond, map[string]any{llmschema.SpanKind: "agent"})
		add(3, 2, "chat gpt-4o-mini", 10*time.Millisecond, 400*time.Millisecond, map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: "gpt-4o-mini",
			llmschema.UsageInputTokens: 12, llmschema.UsageOutputTokens: 3,
			llmschema.InputMessages:  `[{"role":"system","parts":[{"type":"text","content":"Be brief."}]},{"role":"user","parts":[{"type":"text","content":"Capital of France?"}]}]`,
			llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"lookup","arguments":{"country":"FR"}}],"finish_reason":"tool_calls"}]`,
		})
		add(4, 2, "lookup.tool", 410*time.Millisecond, 420*time.Millisecond, map[string]any{llmschema.SpanKind: "tool"})
	}
	return td
}

func TestAPI_ListPaginatesNewestFirst(t *testing.T) {
	te := startExporter(t)
	if err := te.ConsumeTraces(context.Background(), agentTraces(7)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatal("pagination does not end")
		}
		var page struct {
			Records []struct {
				ID    string `json:"id"`
				Input string `json:"input"`
			} `json:"records"`
			NextCursor *string `json:"next_cursor"`
		}
		path := "/api/v1/records?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := te.get(t, path, &page); code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, code)
		}
		for _, r := range page.Records {
			ids = append(ids, r.Input)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	want := "question 6,question 5,question 4,question 3,question 2,question 1,question 0"
	if got := strings.Join(ids, ","); got != want {
		t.Fatalf("listed %s\nwant %s", got, want)
	}
}

func TestAPI_RecordDetailHasTreeTimelineConversation(t *testing.T) {
	te := startExporter(t)
	if err := te.ConsumeTraces(context.Background(), agentTraces(1)); err != nil {
		t.Fatal(err)
	}
	id := "10000000000000000000000000000000"
	var d struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		Models       []string
		Usage        struct{ Total int } `json:"usage"`
		SpanCount    int                 `json:"span_count"`
		LLMCallCount int                 `json:"llm_call_count"`
		Spans        []struct {
			Name     string `json:"name"`
			Children []struct {
				Name     string `json:"name"`
				Children []struct {
					Name       string         `json:"name"`
					Kind       string         `json:"kind"`
					Attributes map[string]any `json:"attributes"`
				} `json:"children"`
			} `json:"children"`
		} `json:"spans"`
		Timeline []struct {
			Name     string  `json:"name"`
			Depth    int     `json:"depth"`
			OffsetMS float64 `json:"offset_ms"`
		} `json:"timeline"`
		Conversation []struct {
			Role  string `json:"role"`
			Parts []struct {
				Type string `json:"type"`
				Name string `json:"name"`
			} `json:"parts"`
		} `json:"conversation"`
	}
	if code := te.get(t, "/api/v1/records/"+id, &d); code != http.StatusOK {
		t.Fatalf("detail = %d", code)
	}
	if d.ID != id || d.Status != "ok" || d.SpanCount != 4 || d.LLMCallCount != 1 || d.Usage.Total != 15 {
		t.Fatalf("record fields: %+v", d)
	}
	if len(d.Spans) != 1 || len(d.Spans[0].Children) != 1 || len(d.Spans[0].Children[0].Children) != 2 {
		t.Fatalf("span tree shape wrong: %+v", d.Spans)
	}
	leaf := d.Spans[0].Children[0].Children[0]
	if leaf.Name != "chat gpt-4o-mini" || leaf.Kind != "llm" || leaf.Attributes[llmschema.ResponseModel] != "gpt-4o-mini" {
		t.Fatalf("leaf span: %+v", leaf)
	}
	var tl []string
	for _, e := range d.Timeline {
		tl = append(tl, fmt.Sprintf("%s@%d+%.0f", e.Name, e.Depth, e.OffsetMS))
	}
	if got := strings.Join(tl, " "); got != "quiz.workflow@0+0 quiz.agent@1+5 chat gpt-4o-mini@2+10 lookup.tool@2+410" {
		t.Fatalf("timeline: %s", got)
	}
	if len(d.Conversation) != 3 || d.Conversation[0].Role != "system" || d.Conversation[2].Parts[0].Type != "tool_call" || d.Conversation[2].Parts[0].Name != "lookup" {
		t.Fatalf("conversation: %+v", d.Conversation)
	}
}

func TestAPI_RawTraceIsOTLPJSON(t *testing.T) {
	te := startExporter(t)
	if err := te.ConsumeTraces(context.Background(), agentTraces(1)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(te.base + "/api/v1/traces/10000000000000000000000000000000")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(body)
	if err != nil {
		t.Fatalf("raw trace is not OTLP JSON: %v\n%s", err, body)
	}
	if td.SpanCount() != 4 {
		t.Fatalf("raw trace has %d spans, want 4", td.SpanCount())
	}
	svc, _ := td.ResourceSpans().At(0).Resource().Attributes().Get("service.name")
	if svc.Str() != "quiz-app" {
		t.Fatalf("resource lost: %v", svc)
	}
}

func TestAPI_BadRequestsGetJSONErrors(t *testing.T) {
	te := startExporter(t)
	if err := te.ConsumeTraces(context.Background(), agentTraces(1)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		status   int
		code     string
		mentions string
	}{
		{"/api/v1/records/ffffffffffffffffffffffffffffffff", 404, "not_found", "ffff"},
		{"/api/v1/records/not-a-trace-id", 404, "not_found", "not-a-trace-id"},
		{"/api/v1/traces/ffffffffffffffffffffffffffffffff", 404, "not_found", "trace"},
		{"/api/v1/records?cursor=garbage", 400, "invalid_parameter", "cursor"},
		{"/api/v1/records?cursor=" + strings.Repeat("A", 32), 400, "invalid_parameter", "cursor"},
		{"/api/v1/records?limit=abc", 400, "invalid_parameter", "limit"},
		{"/api/v1/records?limit=0", 400, "invalid_parameter", "limit"},
		{"/api/v1/records?limit=100000", 400, "invalid_parameter", "limit"},
		{"/api/v1/records?colour=red", 400, "invalid_parameter", "colour"},
		{"/api/v1/nothing", 404, "not_found", "/api/v1/nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var body errorBody
			if code := te.get(t, tt.path, &body); code != tt.status {
				t.Fatalf("status = %d, want %d", code, tt.status)
			}
			if body.Error.Code != tt.code || !strings.Contains(body.Error.Message, tt.mentions) {
				t.Fatalf("error = %+v, want code %q mentioning %q", body.Error, tt.code, tt.mentions)
			}
		})
	}
}

type authData map[string]any

func (a authData) GetAttribute(k string) any { return a[k] }
func (a authData) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

func TestExporter_ProjectComesFromAuthenticatedContext(t *testing.T) {
	te := startExporter(t)
	td := agentTraces(1)
	// A client claim on the span must lose against the authenticated project.
	td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().PutStr(llmschema.ProjectID, "victim")
	ctx := client.NewContext(context.Background(), client.Info{Auth: authData{llmschema.ProjectAuthAttribute: "tenant-a"}})
	if err := te.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	id := "10000000000000000000000000000000"
	for _, project := range []string{"victim", "default"} {
		if _, err := te.inner.store.GetRecord(context.Background(), project, id); err == nil {
			t.Fatalf("record stored under %q", project)
		}
	}
	if r, err := te.inner.store.GetRecord(context.Background(), "tenant-a", id); err != nil || r.SpanCount != 4 {
		t.Fatalf("tenant-a record: %+v, %v", r, err)
	}
	// Unauthenticated API callers see the default project only.
	if code := te.get(t, "/api/v1/records/"+id, nil); code != http.StatusNotFound {
		t.Fatalf("default project sees tenant-a's record: %d", code)
	}
}
