package judge

import (
	"net/http"
	"strings"
	"testing"
)

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestAPI_CRUD(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:9", nil)
	var list metricList
	if code := h.do(http.MethodGet, "/api/v1/metrics", "p1", "", &list); code != http.StatusOK || len(list.Metrics) != 0 {
		t.Fatalf("empty list: %d %+v", code, list)
	}
	var created metricView
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"builtin": "off_topic"}`, &created); code != http.StatusCreated {
		t.Fatalf("POST builtin: %d", code)
	}
	if created.Name != "off_topic" || created.Origin != "api" || created.ReadOnly || created.OutputType != OutputBoolean ||
		!strings.Contains(created.Prompt, "stays on topic") || created.Flag == nil || created.Flag.Code != "off_topic" {
		t.Fatalf("created = %+v", created)
	}
	var e apiError
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"builtin": "off_topic"}`, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "PUT") {
		t.Fatalf("duplicate POST: %d %+v", code, e)
	}
	body := `{"prompt": "Rate {{output}}", "output_type": "scale_1_5", "pass_threshold": 3, "sample_rate": 0.5, "enabled": false}`
	var put metricView
	if code := h.do(http.MethodPut, "/api/v1/metrics/quality", "p1", body, &put); code != http.StatusCreated {
		t.Fatalf("PUT new: %d", code)
	}
	if put.Name != "quality" || put.EffectiveThreshold == nil || *put.EffectiveThreshold != 3 || put.Threshold() != 3 || put.Rate() != 0.5 || put.IsEnabled() {
		t.Fatalf("put = %+v", put)
	}
	var replaced metricView
	if code := h.do(http.MethodPut, "/api/v1/metrics/quality", "p1", `{"name": "quality", "prompt": "Rate {{output}}", "output_type": "scale_1_5"}`, &replaced); code != http.StatusOK || replaced.Threshold() != 4 || !replaced.IsEnabled() {
		t.Fatalf("PUT replace: %d %+v", code, replaced)
	}
	var got metricView
	if code := h.do(http.MethodGet, "/api/v1/metrics/quality", "p1", "", &got); code != http.StatusOK || got.Prompt != "Rate {{output}}" {
		t.Fatalf("GET: %d %+v", code, got)
	}
	if code := h.do(http.MethodGet, "/api/v1/metrics", "p1", "", &list); code != http.StatusOK || len(list.Metrics) != 2 ||
		list.Metrics[0].Name != "off_topic" || list.Metrics[1].Name != "quality" {
		t.Fatalf("list: %d %+v", code, list)
	}
	// What GET returns can be sent back with PUT.
	roundTrip := `{"name":"quality","prompt":"Rate {{output}}","output_type":"scale_1_5","enabled":true,"origin":"api","read_only":false,"threshold":4,"status":{"evaluated":0}}`
	if code := h.do(http.MethodPut, "/api/v1/metrics/quality", "p1", roundTrip, nil); code != http.StatusOK {
		t.Fatalf("PUT of a GET answer: %d", code)
	}
	if code := h.do(http.MethodDelete, "/api/v1/metrics/quality", "p1", "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	if code := h.do(http.MethodGet, "/api/v1/metrics/quality", "p1", "", &e); code != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Fatalf("GET deleted: %d %+v", code, e)
	}
	if code := h.do(http.MethodDelete, "/api/v1/metrics/quality", "p1", "", &e); code != http.StatusNotFound {
		t.Fatalf("DELETE again: %d", code)
	}
	if code := h.do(http.MethodPatch, "/api/v1/metrics/off_topic", "p1", "{}", &e); code != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d", code)
	}
}

func TestAPI_ProjectsAreIsolated(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:9", nil)
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"builtin": "safety"}`, nil); code != http.StatusCreated {
		t.Fatalf("POST: %d", code)
	}
	var list metricList
	if code := h.do(http.MethodGet, "/api/v1/metrics", "p2", "", &list); code != http.StatusOK || len(list.Metrics) != 0 {
		t.Fatalf("p2 sees p1's metrics: %+v", list)
	}
	if code := h.do(http.MethodGet, "/api/v1/metrics/safety", "p2", "", nil); code != http.StatusNotFound {
		t.Fatalf("GET p1's metric from p2: %d", code)
	}
	if code := h.do(http.MethodDelete, "/api/v1/metrics/safety", "p2", "", nil); code != http.StatusNotFound {
		t.Fatalf("DELETE p1's metric from p2: %d", code)
	}
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p2", `{"builtin": "safety", "description": "p2's own"}`, nil); code != http.StatusCreated {
		t.Fatalf("same name in another project: %d", code)
	}
	var got metricView
	h.do(http.MethodGet, "/api/v1/metrics/safety", "p1", "", &got)
	if got.Description == "p2's own" {
		t.Fatal("p2's metric replaced p1's")
	}
}

func TestAPI_ConfiguredMetricsAreReadOnlyEverywhere(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:9", func(c *Config) {
		c.Definitions = []Metric{{Builtin: "hallucination", Filter: "meta.env=prod"}}
	})
	for _, p := range []string{"p1", "p2"} {
		var list metricList
		if code := h.do(http.MethodGet, "/api/v1/metrics", p, "", &list); code != http.StatusOK || len(list.Metrics) != 1 ||
			list.Metrics[0].Name != "hallucination" || !list.Metrics[0].ReadOnly || list.Metrics[0].Origin != "config" {
			t.Fatalf("%s: %d %+v", p, code, list)
		}
	}
	var e apiError
	if code := h.do(http.MethodDelete, "/api/v1/metrics/hallucination", "p1", "", &e); code != http.StatusForbidden || e.Error.Code != "read_only" {
		t.Fatalf("DELETE configured: %d %+v", code, e)
	}
	if code := h.do(http.MethodPut, "/api/v1/metrics/hallucination", "p1", `{"prompt": "x"}`, &e); code != http.StatusForbidden {
		t.Fatalf("PUT configured: %d", code)
	}
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"builtin": "hallucination"}`, &e); code != http.StatusConflict {
		t.Fatalf("POST over configured: %d", code)
	}
}

func TestAPI_ValidationNamesTheField(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:9", func(c *Config) {
		c.Judge.AllowedAPIKeyEnvs = []string{"OPENAI_API_KEY"}
	})
	tests := []struct {
		name, body, field string
	}{
		{"not json", `{"name":`, "body:"},
		{"two objects", `{"builtin":"safety"}{}`, "body:"},
		{"unknown field", `{"builtin":"safety","treshold":0.5}`, "treshold: unknown field"},
		{"threshold alias disagrees", `{"name":"m","prompt":"x","output_type":"float_0_1","pass_threshold":0.5,"threshold":0.7}`, "threshold:"},
		{"threshold alias for boolean", `{"name":"m","prompt":"x","threshold":0.7}`, "pass_threshold:"},
		{"wrong type", `{"builtin":"safety","sample_rate":"half"}`, "sample_rate: want a float64"},
		{"no name", `{"prompt":"{{input}}"}`, "name:"},
		{"bad name", `{"name":"a b","prompt":"{{input}}"}`, "name:"},
		{"no prompt", `{"name":"m"}`, "prompt:"},
		{"broken template", `{"name":"m","prompt":"{{.Input"}`, "prompt:"},
		{"unknown template field", `{"name":"m","prompt":"{{.Answer}}"}`, "prompt:"},
		{"unknown builtin", `{"builtin":"toxicity"}`, "builtin:"},
		{"output type", `{"name":"m","prompt":"x","output_type":"stars"}`, "output_type:"},
		{"threshold for boolean", `{"name":"m","prompt":"x","pass_threshold":0.5}`, "pass_threshold:"},
		{"threshold range", `{"name":"m","prompt":"x","output_type":"scale_1_5","pass_threshold":7}`, "pass_threshold:"},
		{"sample rate", `{"name":"m","prompt":"x","sample_rate":1.5}`, "sample_rate:"},
		{"filter", `{"name":"m","prompt":"x","filter":"colour=red"}`, "filter: colour"},
		{"filter syntax", `{"name":"m","prompt":"x","filter":"source"}`, "filter:"},
		{"filter paging", `{"name":"m","prompt":"x","filter":"limit=5"}`, "filter: limit"},
		{"endpoint", `{"name":"m","prompt":"x","endpoint":"ftp://x"}`, "endpoint:"},
		{"endpoint not allowed", `{"name":"m","prompt":"x","endpoint":"https://evil.example/v1"}`, "endpoint:"},
		{"key env syntax", `{"name":"m","prompt":"x","api_key_env":"$HOME"}`, "api_key_env:"},
		{"key env not allowed", `{"name":"m","prompt":"x","api_key_env":"AWS_SECRET_ACCESS_KEY"}`, "api_key_env:"},
		{"flag code", `{"name":"m","prompt":"x","flag":{"code":""}}`, "flag.code:"},
		{"flag severity", `{"name":"m","prompt":"x","flag":{"code":"c","severity":"huge"}}`, "flag.severity:"},
		{"put name mismatch", `{"name":"other","prompt":"x"}`, "name:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := http.MethodPost, "/api/v1/metrics"
			if strings.HasPrefix(tt.name, "put") {
				method, path = http.MethodPut, "/api/v1/metrics/m"
			}
			var e apiError
			if code := h.do(method, path, "p1", tt.body, &e); code != http.StatusBadRequest || !strings.HasPrefix(e.Error.Message, tt.field) {
				t.Fatalf("%d %+v, want 400 with a message starting %q", code, e, tt.field)
			}
		})
	}
	var ok metricView
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"name":"m","prompt":"x","api_key_env":"OPENAI_API_KEY","endpoint":"http://127.0.0.1:9/v1/","filter":"source=otlp meta.env=prod q=\"refund policy\""}`, &ok); ok.Name != "m" || code != http.StatusCreated {
		t.Fatalf("allowed key env, configured endpoint and a quoted filter: %d %+v", code, ok)
	}
}

func TestAPI_CustomEndpointsWhenAllowed(t *testing.T) {
	h := newHarness(t, "http://127.0.0.1:9", func(c *Config) { c.Judge.AllowCustomEndpoints = true })
	if code := h.do(http.MethodPost, "/api/v1/metrics", "p1", `{"name":"m","prompt":"x","endpoint":"http://ollama.internal:11434/v1","model":"llama3.1"}`, nil); code != http.StatusCreated {
		t.Fatalf("custom endpoint: %d", code)
	}
	endpoint, model, keyEnv := h.svc.target(&Metric{Endpoint: "http://ollama.internal:11434/v1", Model: "llama3.1"})
	if endpoint != "http://ollama.internal:11434/v1" || model != "llama3.1" || keyEnv != "" {
		t.Fatalf("a metric with its own endpoint must not inherit the default key: %s %s %q", endpoint, model, keyEnv)
	}
	_, model, keyEnv = h.svc.target(&Metric{})
	if model != "judge-model" || keyEnv != testKeyEnv {
		t.Fatalf("defaults: %s %s", model, keyEnv)
	}
}
