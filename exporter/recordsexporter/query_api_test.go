package recordsexporter

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

func (te *testExporter) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, te.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type traceSpec struct {
	n       int
	startS  int
	durMS   int
	err     bool
	service string
	attrs   map[string]any
}

// variedTraces builds one-span LLM traces with the given attributes.
func variedTraces(specs ...traceSpec) ptrace.Traces {
	td := ptrace.NewTraces()
	for _, sp := range specs {
		rs := td.ResourceSpans().AppendEmpty()
		svc := sp.service
		if svc == "" {
			svc = "quiz-app"
		}
		rs.Resource().Attributes().PutStr("service.name", svc)
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(pcommon.TraceID{0x20, byte(sp.n)})
		s.SetSpanID(pcommon.SpanID{1})
		s.SetName(fmt.Sprint("call ", sp.n))
		start := t0.Add(time.Duration(sp.startS) * time.Second)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(time.Duration(sp.durMS) * time.Millisecond)))
		if sp.err {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
		attrs := map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true}
		for k, v := range sp.attrs {
			attrs[k] = v
		}
		_ = s.Attributes().FromRaw(attrs)
	}
	return td
}

func variedID(n int) string { return fmt.Sprintf("20%02x0000000000000000000000000000", n) }

func seedVaried(t *testing.T, te *testExporter, ctx context.Context) {
	t.Helper()
	td := variedTraces(
		traceSpec{n: 1, startS: 10, durMS: 100, attrs: map[string]any{
			llmschema.Input: "What is the capital of France?", llmschema.Output: "Paris.", llmschema.RunID: "run-1",
			llmschema.UserID: "u1", llmschema.ResponseModel: "gpt-4o", llmschema.CostUSD: 0.02,
			llmschema.UsageInputTokens: 10, llmschema.UsageOutputTokens: 5, llmschema.MetadataPrefix + "env": "prod",
			llmschema.InputMessages:  `[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]}]`,
			llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"text","content":"Paris."}]}]`,
			llmschema.Expected:       "Paris"}},
		traceSpec{n: 2, startS: 20, durMS: 900, err: true, attrs: map[string]any{
			llmschema.Input: "Capital of Spain?", llmschema.Output: "timeout", llmschema.RunID: "run-1",
			llmschema.UserID: "u2", llmschema.ResponseModel: "gpt-4o", llmschema.CostUSD: 0.01}},
		traceSpec{n: 3, startS: 30, durMS: 300, service: "billing", attrs: map[string]any{
			llmschema.Input: "charge card", llmschema.Output: "done", llmschema.RunID: "run-2",
			llmschema.ResponseModel: "claude-3", llmschema.CostUSD: 0.5, llmschema.MetadataPrefix + "env": "dev",
			llmschema.Flags: `[{"code":"pii","category":"behavioral","severity":"warning","message":"card number"}]`}},
	)
	if err := te.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
}

type listPage struct {
	Records []struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		Highlights []struct {
			Field   string   `json:"field"`
			Snippet string   `json:"snippet"`
			Ranges  [][2]int `json:"ranges"`
		} `json:"highlights"`
	} `json:"records"`
	NextCursor *string `json:"next_cursor"`
}

func (p listPage) ids() string {
	var out []string
	for _, r := range p.Records {
		out = append(out, r.ID[:4])
	}
	return strings.Join(out, ",")
}

func TestAPI_ListFiltersSortsAndSearches(t *testing.T) {
	te := startExporter(t)
	seedVaried(t, te, context.Background())
	tests := []struct {
		query string
		want  string
	}{
		{"", "2003,2002,2001"},
		{"status=error", "2002"},
		{"status=flagged", "2003"},
		{"run_id=run-1&sort=duration", "2001,2002"},
		{"sort=-cost", "2003,2001,2002"},
		{"meta.env=prod", "2001"},
		{"flag=pii", "2003"},
		{"service=billing", "2003"},
		{"model=gpt-4o&user_id=u2", "2002"},
		{"min_cost=0.015", "2003,2001"},
		{"min_duration_ms=250", "2003,2002"},
		{"from=" + url.QueryEscape(t0.Add(15*time.Second).Format(time.RFC3339)) + "&to=" + url.QueryEscape(t0.Add(25*time.Second).Format(time.RFC3339)), "2002"},
		{"trace_id=" + variedID(3), "2003"},
		{"q=CAPITAL", "2002,2001"},
		{"q=" + url.QueryEscape(`"capital of france"`), "2001"},
		{"q=capital&status=ok", "2001"},
		{"q=lisbon", ""},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var page listPage
			if code := te.get(t, "/api/v1/records?"+tt.query, &page); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			if got := page.ids(); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	var page listPage
	te.get(t, "/api/v1/records?q="+url.QueryEscape(`"of france"`), &page)
	hl := page.Records[0].Highlights
	if len(hl) != 1 || hl[0].Field != "input" || len(hl[0].Ranges) != 1 {
		t.Fatalf("highlights: %+v", hl)
	}
	if got := hl[0].Snippet[hl[0].Ranges[0][0]:hl[0].Ranges[0][1]]; got != "of France" {
		t.Fatalf("highlight marks %q", got)
	}
	// A cursor carries its sort.
	var first listPage
	te.get(t, "/api/v1/records?sort=-cost&limit=1", &first)
	var second listPage
	if code := te.get(t, "/api/v1/records?sort=-cost&limit=1&cursor="+*first.NextCursor, &second); code != 200 || second.ids() != "2001" {
		t.Fatalf("second cost page: %d %q", code, second.ids())
	}
}

func TestAPI_QueryErrorsNameTheParameter(t *testing.T) {
	te := startExporter(t)
	seedVaried(t, te, context.Background())
	var first listPage
	te.get(t, "/api/v1/records?sort=-cost&limit=1", &first)
	tests := []struct {
		path     string
		mentions string
	}{
		{"/api/v1/records?from=yesterday", "from:"},
		{"/api/v1/records?to=2026-13-01", "to:"},
		{"/api/v1/records?from=2026-11-25T12:00:00Z&to=2026-11-25T11:00:00Z", "from:"},
		{"/api/v1/records?metric=helpful", "metric:"},
		{"/api/v1/records?metric=helpful>high", "metric:"},
		{"/api/v1/records?metric=helpful!0.5", "metric:"},
		{"/api/v1/records?sort=colour", "sort:"},
		{"/api/v1/records?status=broken", "status:"},
		{"/api/v1/records?min_cost=-1", "min_cost:"},
		{"/api/v1/records?min_duration_ms=fast", "min_duration_ms:"},
		{"/api/v1/records?colour=red", "colour:"},
		{"/api/v1/records?cursor=" + *first.NextCursor, "cursor:"},
		{"/api/v1/records/export?format=csv", "format:"},
		{"/api/v1/records/export?status=nope", "status:"},
		{"/api/v1/stats?group_by=planet", "group_by:"},
		{"/api/v1/stats?bucket=1s", "bucket:"},
		{"/api/v1/stats?from=2020-01-01T00:00:00Z&bucket=1m", "bucket:"},
		{"/api/v1/stats?colour=red", "colour:"},
		{"/api/v1/runs?limit=0", "limit:"},
		{"/api/v1/runs?cursor=zzz", "cursor:"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			var body errorBody
			if code := te.get(t, tt.path, &body); code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400", code)
			}
			if body.Error.Code != "invalid_parameter" || !strings.HasPrefix(body.Error.Message, tt.mentions) {
				t.Fatalf("error = %+v, want invalid_parameter starting with %q", body.Error, tt.mentions)
			}
		})
	}
}

func TestAPI_ScoresStickAndFilter(t *testing.T) {
	te := startExporter(t)
	ctx := context.Background()
	seedVaried(t, te, ctx)
	code, body := te.do(t, "POST", "/api/v1/records/"+variedID(1)+"/scores", `{"name":"helpful","value":0.9,"passed":true,"reason":"good","source":"human"}`)
	if code != http.StatusOK || !strings.Contains(string(body), `"helpful":{"value":0.9,"passed":true,"reason":"good","source":"human"}`) {
		t.Fatalf("post score: %d %s", code, body)
	}
	te.do(t, "POST", "/api/v1/records/"+variedID(2)+"/scores", `{"name":"helpful","value":0.1,"passed":false}`)
	// A late span of record 1 re-folds it; the score stays.
	late := variedTraces(traceSpec{n: 1, startS: 10, durMS: 2000})
	late.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetSpanID(pcommon.SpanID{2})
	late.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).SetParentSpanID(pcommon.SpanID{1})
	if err := te.ConsumeTraces(ctx, late); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"metric=helpful>0.5": "2001", "metric=helpful=fail": "2002", "metric=helpful<=0.9&metric=helpful>=0.1": "2002,2001"} {
		var page listPage
		te.get(t, "/api/v1/records?"+url.PathEscape(q), &page)
		if page.ids() != want {
			t.Errorf("%s: got %q, want %q", q, page.ids(), want)
		}
	}
	var run struct {
		RecordCount int64 `json:"record_count"`
		Scores      map[string]struct {
			Count    int64    `json:"count"`
			Mean     *float64 `json:"mean"`
			PassRate *float64 `json:"pass_rate"`
		} `json:"scores"`
	}
	te.get(t, "/api/v1/runs/run-1", &run)
	if s := run.Scores["helpful"]; s.Count != 2 || *s.Mean != 0.5 || *s.PassRate != 0.5 {
		t.Fatalf("run scores: %+v", run.Scores)
	}
	tests := []struct {
		id, body string
		status   int
	}{
		{variedID(9), `{"name":"x","value":1}`, 404},
		{variedID(1), `{"value":1}`, 400},
		{variedID(1), `{"name":"x"}`, 400},
		{variedID(1), `{"name":"x","value":{"a":1}}`, 400},
		{variedID(1), `{"name":"x","value":1,"colour":"red"}`, 400},
		{variedID(1), `not json`, 400},
	}
	for _, tt := range tests {
		if code, body := te.do(t, "POST", "/api/v1/records/"+tt.id+"/scores", tt.body); code != tt.status {
			t.Errorf("POST %s %s = %d %s, want %d", tt.id, tt.body, code, body, tt.status)
		}
	}
	// Another project cannot score this project's records.
	if err := te.inner.store.PutScore(ctx, "other", variedID(1), "x", store.Score{Value: 1.0}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("scoring another project's record: %v, want ErrNotFound", err)
	}
}

func TestAPI_RunsAndStats(t *testing.T) {
	te := startExporter(t)
	seedVaried(t, te, context.Background())
	var runs struct {
		Runs []struct {
			ID           string           `json:"id"`
			RecordCount  int64            `json:"record_count"`
			StatusCounts map[string]int64 `json:"status_counts"`
			CostUSD      float64          `json:"cost_usd"`
			LatencyMS    map[string]float64
			Usage        struct{ Total int64 } `json:"usage"`
			FirstSeen    time.Time             `json:"first_seen"`
			LastSeen     time.Time             `json:"last_seen"`
		} `json:"runs"`
		NextCursor *string `json:"next_cursor"`
	}
	if code := te.get(t, "/api/v1/runs", &runs); code != 200 || len(runs.Runs) != 2 || runs.NextCursor != nil {
		t.Fatalf("runs: %d %+v", code, runs)
	}
	r := runs.Runs[1]
	if runs.Runs[0].ID != "run-2" || r.ID != "run-1" || r.RecordCount != 2 || r.StatusCounts["error"] != 1 || r.StatusCounts["ok"] != 1 ||
		r.Usage.Total != 15 || !r.FirstSeen.Equal(t0.Add(10*time.Second)) || !r.LastSeen.Equal(t0.Add(20900*time.Millisecond)) {
		t.Fatalf("run-1: %+v", r)
	}
	if code := te.get(t, "/api/v1/runs/nope", nil); code != 404 {
		t.Fatalf("unknown run: %d", code)
	}
	var st struct {
		Groups []struct {
			Key         *string `json:"key"`
			RecordCount int64   `json:"record_count"`
			ErrorCount  int64   `json:"error_count"`
			FlagCount   int64   `json:"flag_count"`
			CostUSD     float64 `json:"cost_usd"`
			LatencyMS   struct{ P50, P95, P99 float64 }
		} `json:"groups"`
		Buckets []struct {
			Start       time.Time `json:"start"`
			RecordCount int64     `json:"record_count"`
		} `json:"buckets"`
	}
	if code := te.get(t, "/api/v1/stats?group_by=service&bucket=1h", &st); code != 200 {
		t.Fatalf("stats: %d", code)
	}
	if len(st.Groups) != 2 || *st.Groups[0].Key != "billing" || st.Groups[0].FlagCount != 1 || *st.Groups[1].Key != "quiz-app" ||
		st.Groups[1].RecordCount != 2 || st.Groups[1].ErrorCount != 1 || len(st.Buckets) != 1 || st.Buckets[0].RecordCount != 3 {
		t.Fatalf("stats by service: %+v", st)
	}
	if code := te.get(t, "/api/v1/stats?group_by=user&from="+url.QueryEscape(t0.Add(15*time.Second).Format(time.RFC3339)), &st); code != 200 || len(st.Groups) != 2 {
		t.Fatalf("stats by user from t0+15s: %d %+v", code, st.Groups)
	}
}

func TestAPI_ExportStreamsTestcases(t *testing.T) {
	te := startExporter(t)
	seedVaried(t, te, context.Background())
	resp, err := http.Get(te.base + "/api/v1/records/export?format=jsonl&run_id=run-1&sort=time")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var lines []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	first := lines[0]
	msgs, ok := first["input"].([]any)
	if !ok || len(msgs) != 1 || msgs[0].(map[string]any)["role"] != "user" {
		t.Fatalf("input is not the message list: %#v", first["input"])
	}
	if out, ok := first["output"].([]any); !ok || out[0].(map[string]any)["role"] != "assistant" {
		t.Fatalf("output is not the message list: %#v", first["output"])
	}
	src := first["source_record"].(map[string]any)
	if first["expected"] != "Paris" || first["metadata"].(map[string]any)["env"] != "prod" || src["id"] != variedID(1) || src["run_id"] != "run-1" {
		t.Fatalf("line: %#v", first)
	}
	if lines[1]["input"] != "Capital of Spain?" || lines[1]["expected"] != nil {
		t.Fatalf("plain-text line: %#v", lines[1])
	}
	code, body := te.do(t, "GET", "/api/v1/records/export?limit=1", "")
	if code != 200 || bytes.Count(body, []byte("\n")) != 1 {
		t.Fatalf("export limit=1: %d, %d lines", code, bytes.Count(body, []byte("\n")))
	}
}

func TestAPI_TestcasesFromFilterOrIDs(t *testing.T) {
	te := startExporter(t)
	ctx := context.Background()
	seedVaried(t, te, ctx)
	tests := []struct {
		body   string
		status int
	}{
		{`{"name":"errors","filter":"status=error"}`, 201},
		{`{"name":"prod","filter":{"meta.env":"prod","q":"capital"}}`, 201},
		{`{"name":"picked","record_ids":["` + variedID(3) + `","` + strings.ToUpper(variedID(1)) + `"]}`, 201},
		{`{"name":"errors","filter":"status=error"}`, 409},
		{`{"name":"missing","record_ids":["` + variedID(9) + `"]}`, 404},
		{`{"name":"both","filter":"status=ok","record_ids":[]}`, 400},
		{`{"name":"neither"}`, 400},
		{`{"name":"bad","filter":"status=maybe"}`, 400},
		{`{"name":"a/b","filter":"status=ok"}`, 400},
	}
	for _, tt := range tests {
		if code, body := te.do(t, "POST", "/api/v1/testcases", tt.body); code != tt.status {
			t.Errorf("POST %s = %d %s, want %d", tt.body, code, body, tt.status)
		}
	}
	var list struct {
		Testcases []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		} `json:"testcases"`
	}
	te.get(t, "/api/v1/testcases", &list)
	var got []string
	for _, d := range list.Testcases {
		got = append(got, fmt.Sprintf("%s:%d", d.Name, d.Count))
	}
	if strings.Join(got, " ") != "errors:1 picked:2 prod:1" {
		t.Fatalf("datasets: %v", got)
	}
	code, body := te.do(t, "GET", "/api/v1/testcases/picked/export", "")
	if code != 200 || bytes.Count(body, []byte("\n")) != 2 || !bytes.Contains(body, []byte("charge card")) {
		t.Fatalf("dataset export: %d %s", code, body)
	}
	if code, _ := te.do(t, "GET", "/api/v1/testcases/nope/export", ""); code != 404 {
		t.Fatalf("unknown dataset export: %d", code)
	}
	if code, _ := te.do(t, "DELETE", "/api/v1/testcases/prod", ""); code != 204 {
		t.Fatalf("delete dataset: %d", code)
	}
}

func TestAPI_ViewsBuiltinAndSaved(t *testing.T) {
	te := startExporter(t)
	tests := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/api/v1/views", `{"name":"Expensive errors","query":"status=error&sort=-cost"}`, 201},
		{"POST", "/api/v1/views", `{"name":"Bad","query":"sort=colour"}`, 400},
		{"POST", "/api/v1/views", `{"name":"Flagged","query":"status=ok"}`, 409},
		{"DELETE", "/api/v1/views/Flagged", "", 400},
		{"DELETE", "/api/v1/views/nope", "", 404},
	}
	for _, tt := range tests {
		if code, body := te.do(t, tt.method, tt.path, tt.body); code != tt.status {
			t.Errorf("%s %s %s = %d %s, want %d", tt.method, tt.path, tt.body, code, body, tt.status)
		}
	}
	var views struct {
		Views []struct {
			Name    string `json:"name"`
			Query   string `json:"query"`
			Builtin bool   `json:"builtin"`
		} `json:"views"`
	}
	te.get(t, "/api/v1/views", &views)
	byName := map[string]string{}
	for _, v := range views.Views {
		byName[v.Name] = v.Query
	}
	if byName["My recent records"] != "from=-24h" || byName["Errors last 24h"] != "status=error&from=-24h" || byName["Expensive errors"] != "status=error&sort=-cost" {
		t.Fatalf("views: %+v", views.Views)
	}
	// Every built-in view's query is a valid list query.
	for _, v := range builtinViews {
		if code := te.get(t, "/api/v1/records?"+v.Query, nil); code != 200 {
			t.Errorf("built-in view %q: GET records?%s = %d", v.Name, v.Query, code)
		}
	}
	if code, _ := te.do(t, "DELETE", "/api/v1/views/"+url.PathEscape("Expensive errors"), ""); code != 204 {
		t.Fatalf("delete saved view: %d", code)
	}
}

func TestExporter_RetentionDeletesOldRecordsInTheBackground(t *testing.T) {
	te := startExporterWith(t, func(c *Config) {
		c.Retention = RetentionConfig{MaxAge: time.Hour, CheckInterval: time.Second}
	})
	old := agentTraces(3) // dated t0, long before now
	recent := variedTraces(traceSpec{n: 1, startS: int(time.Since(t0).Seconds()), durMS: 10})
	for _, td := range []ptrace.Traces{old, recent} {
		if err := te.ConsumeTraces(context.Background(), td); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var page listPage
		te.get(t, "/api/v1/records", &page)
		if page.ids() == "2001" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 15s the records are %q, want only the recent one", page.ids())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
