package judge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/bboltstore"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

const testKeyEnv = "TRACEHOUND_TEST_JUDGE_KEY"
const testKey = "sk-test-0123456789abcdef"

// testFilterParser stands in for the records API's parser (which lives in the exporter and
// is tested there): it knows a few parameters and refuses the rest, naming them.
func testFilterParser(v url.Values, _ time.Time) (store.Filter, error) {
	var f store.Filter
	for k, vals := range v {
		val := vals[len(vals)-1]
		switch {
		case k == "source":
			f.Source = val
		case k == "model":
			f.Model = val
		case k == "service":
			f.Service = val
		case k == "q":
			f.Text = val
		case k == "metric":
			name, cond, ok := strings.Cut(val, "=")
			if !ok || cond != "fail" {
				return f, fmt.Errorf("metric: only name=fail in tests")
			}
			pass := false
			f.Metrics = append(f.Metrics, store.MetricCond{Name: name, Op: "=", Pass: &pass})
		case strings.HasPrefix(k, "meta."):
			if f.Meta == nil {
				f.Meta = map[string]string{}
			}
			f.Meta[strings.TrimPrefix(k, "meta.")] = val
		default:
			return f, fmt.Errorf("%s: unknown query parameter", k)
		}
	}
	return f, nil
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeJudge is an OpenAI-compatible chat completions server that checks each request and
// answers with reply (status, content).
type fakeJudge struct {
	t        *testing.T
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	prompts  []string
	reply    func(n int64) (int, string)
	wantKey  string
	wantIn   []string
}

func newFakeJudge(t *testing.T, reply func(n int64) (int, string)) *fakeJudge {
	f := &fakeJudge{t: t, reply: reply, wantKey: testKey}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeJudge) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("judge got %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.wantKey {
		f.t.Errorf("Authorization = %q, want the key from %s", got, testKeyEnv)
	}
	var body struct {
		Model          string `json:"model"`
		Temperature    *float64
		ResponseFormat struct {
			Type       string `json:"type"`
			JSONSchema struct {
				Name   string         `json:"name"`
				Schema map[string]any `json:"schema"`
			} `json:"json_schema"`
		} `json:"response_format"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("judge request is not JSON: %v", err)
	}
	if body.Model != "judge-model" {
		f.t.Errorf("model = %q, want judge-model", body.Model)
	}
	if body.ResponseFormat.Type != "json_schema" || body.ResponseFormat.JSONSchema.Schema["required"] == nil {
		f.t.Errorf("response_format = %+v, want a json_schema with score and reason", body.ResponseFormat)
	}
	if len(body.Messages) != 2 || body.Messages[0].Role != "system" || body.Messages[1].Role != "user" {
		f.t.Fatalf("messages = %+v, want system then user", body.Messages)
	}
	prompt := body.Messages[1].Content
	for _, want := range f.wantIn {
		if !strings.Contains(prompt, want) {
			f.t.Errorf("rendered prompt lacks %q:\n%s", want, prompt)
		}
	}
	f.mu.Lock()
	f.prompts = append(f.prompts, prompt)
	f.mu.Unlock()
	status, content := f.reply(n)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status != http.StatusOK {
		_, _ = io.WriteString(w, content)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      "chatcmpl-1",
		"object":  "chat.completion",
		"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": content}, "finish_reason": "stop"}},
	})
}

type harness struct {
	t     *testing.T
	st    store.Store
	svc   *Service
	clock *clock
	api   http.Handler
}

// newHarness opens a real bbolt store and a Service whose judge is the fake server.
func newHarness(t *testing.T, judgeURL string, mutate func(*Config)) *harness {
	t.Helper()
	t.Setenv(testKeyEnv, testKey)
	st, err := bboltstore.Open(t.TempDir(), zap.NewNop(), bboltstore.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := NewDefaultConfig()
	cfg.Judge.Endpoint = judgeURL + "/v1"
	cfg.Judge.Model = "judge-model"
	cfg.Judge.APIKeyEnv = testKeyEnv
	cfg.Judge.MaxRetries = 2
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// The records of storetest start at 2026-11-25T12:00Z.
	c := &clock{t: time.Date(2026, 11, 25, 12, 5, 0, 0, time.UTC)}
	svc, err := New(cfg, st, zaptest.NewLogger(t), Options{ParseFilter: testFilterParser, DefaultProject: "default", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc.client.backoff = time.Millisecond
	h := &harness{t: t, st: svc.Observe(st), svc: svc, clock: c}
	h.api = svc.Handler(func(r *http.Request) string {
		if p := r.Header.Get("X-Test-Project"); p != "" {
			return p
		}
		return "default"
	})
	return h
}

func (h *harness) write(project string, specs ...storetest.SpanSpec) {
	h.t.Helper()
	if err := h.st.WriteSpans(context.Background(), storetest.MakeSpans(h.t, project, specs...)); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) pass(project string) {
	h.t.Helper()
	if err := h.svc.pass(context.Background(), project); err != nil {
		h.t.Fatal(err)
	}
}

// do sends an API request and decodes the JSON answer into out (when not nil).
func (h *harness) do(method, path, project, body string, out any) int {
	h.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if project != "" {
		req.Header.Set("X-Test-Project", project)
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			h.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, path, err, rec.Body.String())
		}
	}
	return rec.Code
}

func (h *harness) metric(project, name string) metricView {
	h.t.Helper()
	var v metricView
	if code := h.do(http.MethodGet, "/api/v1/metrics/"+name, project, "", &v); code != http.StatusOK {
		h.t.Fatalf("GET metric %s: %d", name, code)
	}
	return v
}

const correctnessMetric = `{"name": "correct", "description": "is the answer right",
 "prompt": "Question: {{input}}\nAnswer: {{output}}\nTools: {{tool_calls}}\nIs the answer correct?",
 "output_type": "boolean", "flag": {"code": "wrong_answer", "severity": "warning"}}`

func TestEndToEnd_MetricFromAPIScoresRecord(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) {
		return http.StatusOK, "```json\n{\"reason\": \"Paris is the capital of France.\", \"score\": \"PASS\"}\n```"
	})
	j.wantIn = []string{"Question: What is the capital of France?", "Answer: The capital of France is Paris.", "lookup_capital.tool"}
	h := newHarness(t, j.srv.URL, nil)
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", correctnessMetric, nil); code != http.StatusCreated {
		t.Fatalf("POST metric: %d", code)
	}
	h.write("p1", storetest.AgentTrace(1, 0)...)
	trace := storetest.TraceHex(1)

	h.pass("p1")
	if n := j.requests.Load(); n != 0 {
		t.Fatalf("judged a record that was not quiet for settle yet: %d requests", n)
	}
	h.clock.Add(11 * time.Second)
	h.pass("p1")
	if n := j.requests.Load(); n != 1 {
		t.Fatalf("judge requests = %d, want 1", n)
	}
	rec, err := h.st.GetRecord(context.Background(), "p1", trace)
	if err != nil {
		t.Fatal(err)
	}
	sc, ok := rec.Scores["correct"]
	if !ok {
		t.Fatalf("no score on the record: %+v", rec.Scores)
	}
	if sc.Value != true || sc.Passed == nil || !*sc.Passed || sc.Source != "judge" || sc.Reason != "Paris is the capital of France." {
		t.Fatalf("score = %+v", sc)
	}
	st := h.metric("p1", "correct").Status
	if st.Evaluated != 1 || st.Passed != 1 || st.Errors != 0 || st.LastRun == nil {
		t.Fatalf("status = %+v", st)
	}

	// Unchanged: not judged again.
	h.clock.Add(11 * time.Second)
	h.pass("p1")
	if n := j.requests.Load(); n != 1 {
		t.Fatalf("re-judged an unchanged record: %d requests", n)
	}

	// A late span changes the record: judged again once it has settled.
	h.write("p1", storetest.SpanSpec{Trace: 1, ID: 9, Parent: 1, Name: "late.tool", StartMS: 2400, EndMS: 2500,
		Attrs: map[string]any{llmschema.SpanKind: "tool"}})
	h.pass("p1")
	if n := j.requests.Load(); n != 1 {
		t.Fatalf("judged a changed record before it settled: %d requests", n)
	}
	h.clock.Add(11 * time.Second)
	h.pass("p1")
	if n := j.requests.Load(); n != 2 {
		t.Fatalf("judge requests = %d, want 2 after the record changed", n)
	}

	// Another project sees neither the metric nor a score.
	h.write("p2", storetest.AgentTrace(1, 0)...)
	h.clock.Add(11 * time.Second)
	h.pass("p2")
	h.clock.Add(11 * time.Second)
	h.pass("p2")
	if n := j.requests.Load(); n != 2 {
		t.Fatalf("a metric of p1 ran in p2: %d requests", n)
	}
}

func TestEndToEnd_JudgeErrorRetriedThenReported(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) {
		return http.StatusInternalServerError, `{"error": {"message": "model overloaded"}}`
	})
	h := newHarness(t, j.srv.URL, nil)
	if code := h.do(http.MethodPost, "/api/v1/metrics", "default", correctnessMetric, nil); code != http.StatusCreated {
		t.Fatalf("POST metric: %d", code)
	}
	h.write("default", storetest.AgentTrace(1, 0)...)
	h.pass("default")
	h.clock.Add(11 * time.Second)
	h.pass("default")
	if n := j.requests.Load(); n != 3 {
		t.Fatalf("judge requests = %d, want 3 (1 + max_retries 2)", n)
	}
	rec, err := h.st.GetRecord(context.Background(), "default", storetest.TraceHex(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.Scores["correct"]; ok {
		t.Fatalf("a failed judge call produced a score: %+v", rec.Scores)
	}
	st := h.metric("default", "correct").Status
	if st.Errors != 1 || st.Evaluated != 0 || !strings.Contains(st.LastError, "HTTP 500") || !strings.Contains(st.LastError, "model overloaded") {
		t.Fatalf("status = %+v, want one error naming HTTP 500", st)
	}
	if strings.Contains(st.LastError, testKey) {
		t.Fatalf("status leaks the API key: %s", st.LastError)
	}
}
