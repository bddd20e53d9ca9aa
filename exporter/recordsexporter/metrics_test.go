package recordsexporter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracehound/tracehound/internal/store"
)

// TestMetrics_JudgeScoreReachesRecordDetail runs the whole path in a started exporter: spans
// in, a metric created through the API with a records filter, the worker asking a fake
// OpenAI-compatible judge, the score in GET /api/v1/records/{id}.
func TestMetrics_JudgeScoreReachesRecordDetail(t *testing.T) {
	t.Setenv("TH_EXPORTER_TEST_JUDGE_KEY", "sk-exporter-test")
	var calls atomic.Int64
	judge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		raw, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-exporter-test" {
			t.Errorf("judge request %s with Authorization %q", r.URL.Path, r.Header.Get("Authorization"))
		}
		if !strings.Contains(string(raw), "question 0") || !strings.Contains(string(raw), `"model":"tiny-judge"`) {
			t.Errorf("judge request lacks the record's input or the model: %s", raw)
		}
		_, _ = io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"{\"score\": 0.9, \"reason\": \"helpful\"}"}}]}`)
	}))
	defer judge.Close()
	te := startExporterWith(t, func(c *Config) {
		c.Metrics.Judge.Endpoint = judge.URL + "/v1"
		c.Metrics.Judge.Model = "tiny-judge"
		c.Metrics.Judge.APIKeyEnv = "TH_EXPORTER_TEST_JUDGE_KEY"
		c.Metrics.PollInterval = 100 * time.Millisecond
		c.Metrics.Settle = 200 * time.Millisecond
		// The test traces have fixed dates.
		c.Metrics.Lookback = 24 * 365 * time.Hour
	})
	if err := te.ConsumeTraces(context.Background(), agentTraces(1)); err != nil {
		t.Fatal(err)
	}

	code, body := te.do(t, http.MethodPost, "/api/v1/metrics", `{"name": "helpful", "filter": "status=nope"}`)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "prompt:") {
		t.Fatalf("metric without a prompt: %d %s", code, body)
	}
	code, body = te.do(t, http.MethodPost, "/api/v1/metrics", `{"name": "helpful", "prompt": "Q: {{input}} A: {{output}}", "output_type": "float_0_1", "filter": "status=nope"}`)
	if code != http.StatusBadRequest || !strings.Contains(string(body), "filter: status:") {
		t.Fatalf("metric with a bad filter: %d %s", code, body)
	}
	code, body = te.do(t, http.MethodPost, "/api/v1/metrics",
		`{"name": "helpful", "prompt": "Q: {{input}} A: {{output}}", "output_type": "float_0_1", "filter": "source=otlp model=gpt-4o-mini service=quiz-app"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST metric: %d %s", code, body)
	}
	code, body = te.do(t, http.MethodPost, "/api/v1/metrics",
		`{"name": "other_service", "prompt": "Q: {{input}}", "filter": "service=not-this-one"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST metric: %d %s", code, body)
	}

	id := "10000000000000000000000000000000"
	deadline := time.Now().Add(10 * time.Second)
	var rec struct {
		Scores map[string]store.Score `json:"scores"`
	}
	for {
		if got := te.get(t, "/api/v1/records/"+id, &rec); got != http.StatusOK {
			t.Fatalf("GET record: %d", got)
		}
		if _, ok := rec.Scores["helpful"]; ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no judge score on the record after 10s: %+v", rec.Scores)
		}
		time.Sleep(50 * time.Millisecond)
	}
	sc := rec.Scores["helpful"]
	if sc.Value != 0.9 || sc.Passed == nil || !*sc.Passed || sc.Source != "judge" || sc.Reason != "helpful" {
		t.Fatalf("score = %+v", sc)
	}
	if _, ok := rec.Scores["other_service"]; ok {
		t.Fatalf("a metric whose filter excludes the record scored it")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("judge calls = %d, want 1", n)
	}
	var list struct {
		Metrics []struct {
			Name   string `json:"name"`
			Status struct {
				Evaluated int `json:"evaluated"`
			} `json:"status"`
		} `json:"metrics"`
	}
	code, body = te.do(t, http.MethodGet, "/api/v1/metrics", "")
	if err := json.Unmarshal(body, &list); err != nil || code != http.StatusOK {
		t.Fatalf("GET metrics: %d %s", code, body)
	}
	if len(list.Metrics) != 2 || list.Metrics[0].Name != "helpful" || list.Metrics[0].Status.Evaluated != 1 {
		t.Fatalf("metrics = %s", body)
	}
}
