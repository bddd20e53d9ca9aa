package judge

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// settle writes nothing and runs two passes a settle period apart, so that every record
// written before is judged.
func (h *harness) settle(project string) {
	h.t.Helper()
	h.pass(project)
	h.clock.Add(11 * time.Second)
	h.pass(project)
}

func (h *harness) scores(project string, trace int) map[string]store.Score {
	h.t.Helper()
	rec, err := h.st.GetRecord(context.Background(), project, storetest.TraceHex(trace))
	if err != nil {
		h.t.Fatal(err)
	}
	return rec.Scores
}

func TestWorker_ConfiguredBuiltinFailsWithFlagNote(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) {
		return http.StatusOK, `{"reason": "The response talks about cooking.", "score": "FAIL"}`
	})
	j.wantIn = []string{"What is the capital of France?", "The capital of France is Paris.", "<<<OUTPUT"}
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{{Builtin: "off_topic"}, {Name: "never", Prompt: "{{input}}", Enabled: new(bool)}}
	})
	h.write("any-project", storetest.AgentTrace(1, 0)...)
	h.settle("any-project")
	sc := h.scores("any-project", 1)["off_topic"]
	if sc.Value != false || sc.Passed == nil || *sc.Passed || sc.Source != "judge" || sc.Reason != "The response talks about cooking." {
		t.Fatalf("score = %+v", sc)
	}
	if f := sc.Flag; f == nil || f.Code != "off_topic" || f.Category != "behavioral" || f.Severity != "warning" ||
		f.Source != "judge" || f.Message != "the judge found the response off topic" || f.Evidence != "The response talks about cooking." {
		t.Fatalf("raised flag = %+v", sc.Flag)
	}
	if _, ok := h.scores("any-project", 1)["never"]; ok || j.requests.Load() != 1 {
		t.Fatalf("a disabled metric ran (%d requests)", j.requests.Load())
	}
	if st := h.svc.snapshotStatus("any-project", "off_topic"); st.Failed != 1 || st.Evaluated != 1 {
		t.Fatalf("status = %+v", st)
	}
}

func TestWorker_FilterAndSampleRate(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, `{"score": 0.8, "reason": "ok"}` })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{
			{Name: "prod_only", Prompt: "{{output}}", OutputType: OutputFloat01, Filter: "meta.env=prod"},
			{Name: "sampled", Prompt: "{{output}}", OutputType: OutputFloat01, SampleRate: ptr(0.5)},
		}
	})
	const n = 40
	want := 0
	for i := 1; i <= n; i++ {
		attrs := map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.Input: "q", llmschema.Output: "a"}
		if i%4 == 0 {
			attrs[llmschema.MetadataPrefix+"env"] = "prod"
		}
		h.write("p", storetest.SpanSpec{Trace: i, ID: 1, Name: "chat", StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 500, Attrs: attrs})
		if sampled(storetest.TraceHex(i), 0.5) {
			want++
		}
	}
	h.settle("p")
	prod, sampledCount := 0, 0
	for i := 1; i <= n; i++ {
		sc := h.scores("p", i)
		if _, ok := sc["prod_only"]; ok != (i%4 == 0) {
			t.Errorf("trace %d: prod_only scored = %v", i, ok)
		} else if ok {
			prod++
		}
		if _, ok := sc["sampled"]; ok != sampled(storetest.TraceHex(i), 0.5) {
			t.Errorf("trace %d: sampled scored = %v against the deterministic sample", i, ok)
		} else if ok {
			sampledCount++
		}
	}
	if prod != n/4 || sampledCount != want || want == 0 || want == n {
		t.Fatalf("prod_only %d (want %d), sampled %d (want %d)", prod, n/4, sampledCount, want)
	}
	if got := j.requests.Load(); got != int64(prod+sampledCount) {
		t.Fatalf("judge requests = %d, want %d", got, prod+sampledCount)
	}
}

func TestWorker_RestartDoesNotRejudgeAndCatchesUp(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "PASS" })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{{Name: "ok", Prompt: "{{output}}"}}
	})
	h.write("p", storetest.AgentTrace(1, 0)...)
	h.settle("p")
	if j.requests.Load() != 1 {
		t.Fatalf("requests = %d", j.requests.Load())
	}
	var st persistedState
	body, err := h.st.GetObject(context.Background(), "p", kindState, "worker")
	if err != nil || json.Unmarshal(body, &st) != nil || st.Watermark.IsZero() {
		t.Fatalf("watermark not persisted: %s %v", body, err)
	}

	// A new Service on the same store (a restart) two hours later: the judged record is
	// outside the lookback but behind the persisted watermark, and is not judged again; a
	// record that arrived while nothing ran is.
	svc2, err := New(h.svc.cfg, h.st, h.svc.logger, Options{ParseFilter: testFilterParser, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	svc2.client = h.svc.client
	h.write("p", storetest.AgentTrace(2, 60_000)...)
	h.clock.Add(2 * time.Hour)
	h.svc = svc2
	h.settle("p")
	if j.requests.Load() != 2 {
		t.Fatalf("requests after restart = %d, want 2 (only the new record)", j.requests.Load())
	}
	if _, ok := h.scores("p", 2)["ok"]; !ok {
		t.Fatal("the record that arrived before the restart was not judged")
	}
}

func TestWorker_InvalidStoredMetricIsReported(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "PASS" })
	h := newHarness(t, j.srv.URL, nil)
	// As if written by an older version or with a key variable the operator later removed.
	if err := h.st.PutObject(context.Background(), "p", kindMetric, "broken", []byte(`{"name":"broken","prompt":"{{.Nope}}"}`)); err != nil {
		t.Fatal(err)
	}
	h.write("p", storetest.AgentTrace(1, 0)...)
	h.settle("p")
	if st := h.svc.snapshotStatus("p", "broken"); !strings.Contains(st.LastError, "prompt:") || j.requests.Load() != 0 {
		t.Fatalf("status = %+v, requests = %d", st, j.requests.Load())
	}
}

func TestService_RunsInTheBackground(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "PASS" })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{{Name: "ok", Prompt: "{{output}}"}}
		c.PollInterval = 100 * time.Millisecond
		c.Settle = time.Nanosecond
	})
	h.svc.opts.Now = time.Now
	h.svc.cfg.Lookback = 24 * 365 * time.Hour
	h.svc.Start()
	h.write("bg", storetest.AgentTrace(1, 0)...)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, ok := h.scores("bg", 1)["ok"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background worker did not judge the record within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.svc.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestWorker_FilterOnAnotherScoreRunsOnceItExists(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "FAIL" })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{
			{Name: "explain_failure", Prompt: "Why did {{output}} fail?", Filter: "metric=first=fail"},
			{Name: "first", Prompt: "{{output}}"},
		}
	})
	h.write("p", storetest.AgentTrace(1, 0)...)
	h.settle("p")
	if _, ok := h.scores("p", 1)["first"]; !ok {
		t.Fatal("first not scored")
	}
	h.pass("p")
	if _, ok := h.scores("p", 1)["explain_failure"]; !ok || j.requests.Load() != 2 {
		t.Fatalf("the metric filtered on first's failure did not run once first failed (%d requests)", j.requests.Load())
	}
}

func TestWorker_BacklogSpreadsOverPasses(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "PASS" })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{{Name: "ok", Prompt: "{{output}}"}}
		c.Judge.Concurrency = 1
		c.Lookback = time.Minute
	})
	h.clock.t = time.Date(2026, 11, 25, 12, 1, 0, 0, time.UTC)
	const n = 40 // more than 16 jobs per pass at concurrency 1
	for i := 1; i <= n; i++ {
		h.write("p", storetest.SpanSpec{Trace: i, ID: 1, Name: "chat", StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 10,
			Attrs: map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.Output: "a"}})
	}
	h.settle("p")
	if got := j.requests.Load(); got != 16 {
		t.Fatalf("first pass judged %d records, want 16", got)
	}
	if wm := h.svc.states["p"].watermark; !wm.Before(time.Date(2026, 11, 25, 12, 0, 17, 0, time.UTC)) {
		t.Fatalf("watermark %s passed records not judged yet", wm)
	}
	// The rest is now older than the lookback; the watermark still covers it.
	h.clock.Add(time.Minute)
	h.pass("p")
	h.pass("p")
	if got := j.requests.Load(); got != n {
		t.Fatalf("after three passes %d records judged, want %d", got, n)
	}
	for i := 1; i <= n; i++ {
		if _, ok := h.scores("p", i)["ok"]; !ok {
			t.Fatalf("trace %d not judged", i)
		}
	}
}

func TestWorker_NeverOverwritesAHumanScore(t *testing.T) {
	j := newFakeJudge(t, func(int64) (int, string) { return http.StatusOK, "FAIL" })
	h := newHarness(t, j.srv.URL, func(c *Config) {
		c.Definitions = []Metric{{Name: "helpful", Prompt: "{{output}}"}}
	})
	h.write("p", storetest.AgentTrace(1, 0)...)
	h.write("p", storetest.AgentTrace(2, 10_000)...)
	yes := true
	if err := h.st.PutScore(context.Background(), "p", storetest.TraceHex(1), "helpful", store.Score{Value: true, Passed: &yes, Source: "human"}); err != nil {
		t.Fatal(err)
	}
	h.settle("p")
	if sc := h.scores("p", 1)["helpful"]; sc.Source != "human" || sc.Value != true {
		t.Fatalf("the judge overwrote a human score: %+v", sc)
	}
	if sc := h.scores("p", 2)["helpful"]; sc.Source != "judge" || j.requests.Load() != 1 {
		t.Fatalf("the other record: %+v, %d requests", sc, j.requests.Load())
	}
}

func ptr[T any](v T) *T { return &v }
