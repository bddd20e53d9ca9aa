package judge

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
)

func testClient(cfg JudgeConfig) *client {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 2
	}
	c := newClient(cfg)
	c.backoff = time.Millisecond
	return c
}

func okReply(w http.ResponseWriter, content string) {
	_ = json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{"message": map[string]any{"content": content}}}})
}

func TestClient_RetriesRateLimitsAndServerErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.WriteHeader(http.StatusBadGateway)
		default:
			okReply(w, "PASS")
		}
	}))
	defer srv.Close()
	c := testClient(JudgeConfig{MaxRetries: 3})
	got, err := c.complete(context.Background(), chatRequest{Endpoint: srv.URL, Model: "m", System: "s", User: "u", OutputType: OutputBoolean})
	if err != nil || got != "PASS" || n.Load() != 3 {
		t.Fatalf("complete = %q, %v after %d requests; want PASS after 3", got, err, n.Load())
	}
}

func TestClient_DoesNotRetryClientErrorsAndHidesTheKey(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"error":{"message":"Incorrect API key provided: sk-secret-value-42"}}`)
	}))
	defer srv.Close()
	c := testClient(JudgeConfig{MaxRetries: 3})
	_, err := c.complete(context.Background(), chatRequest{Endpoint: srv.URL, Model: "m", APIKey: "sk-secret-value-42", APIKeyEnv: "MY_KEY", OutputType: OutputBoolean})
	if err == nil || n.Load() != 1 {
		t.Fatalf("err = %v after %d requests, want one failed request", err, n.Load())
	}
	if strings.Contains(err.Error(), "sk-secret-value-42") || !strings.Contains(err.Error(), "MY_KEY") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("error must name the variable, not the key: %v", err)
	}
}

func TestClient_FallsBackWithoutResponseFormat(t *testing.T) {
	var withFormat, without atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		if _, ok := body["response_format"]; ok {
			withFormat.Add(1)
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"message":"response_format json_schema is not supported by this model"}}`)
			return
		}
		without.Add(1)
		okReply(w, `{"score": 5, "reason": "done"}`)
	}))
	defer srv.Close()
	c := testClient(JudgeConfig{})
	req := chatRequest{Endpoint: srv.URL + "/v1", Model: "old-model", OutputType: OutputScale15}
	for i := 0; i < 2; i++ {
		if got, err := c.complete(context.Background(), req); err != nil || !strings.Contains(got, `"score": 5`) {
			t.Fatalf("complete = %q, %v", got, err)
		}
	}
	if withFormat.Load() != 1 || without.Load() != 2 {
		t.Fatalf("requests with response_format = %d (want 1, then remembered), without = %d (want 2)", withFormat.Load(), without.Load())
	}
}

func TestClient_AzureKeyHeaderAndQueryKept(t *testing.T) {
	if got, _ := chatURL("https://x.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21"); got != "https://x.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21" {
		t.Fatalf("chatURL = %s", got)
	}
	if got, _ := chatURL("http://127.0.0.1:11434/v1/"); got != "http://127.0.0.1:11434/v1/chat/completions" {
		t.Fatalf("chatURL = %s", got)
	}
	if got, _ := chatURL("http://litellm:4000/chat/completions"); got != "http://litellm:4000/chat/completions" {
		t.Fatalf("chatURL = %s", got)
	}
	if !isAzure("https://x.openai.azure.com/openai/deployments/d/chat/completions") || isAzure("https://api.openai.com/v1/chat/completions") {
		t.Fatal("isAzure")
	}
}

func TestClient_BoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		for {
			p := peak.Load()
			if now <= p || peak.CompareAndSwap(p, now) {
				break
			}
		}
		<-release
		inFlight.Add(-1)
		okReply(w, "PASS")
	}))
	defer srv.Close()
	c := testClient(JudgeConfig{Concurrency: 2})
	done := make(chan error, 5)
	for i := 0; i < 5; i++ {
		go func() {
			_, err := c.complete(context.Background(), chatRequest{Endpoint: srv.URL, Model: "m", OutputType: OutputBoolean})
			done <- err
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for inFlight.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for i := 0; i < 5; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Fatalf("peak requests in flight = %d, want 2", p)
	}
}

func TestClient_TimeoutIsRetriedThenReported(t *testing.T) {
	var n atomic.Int64
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop)
	c := testClient(JudgeConfig{Timeout: 50 * time.Millisecond, MaxRetries: 1})
	_, err := c.complete(context.Background(), chatRequest{Endpoint: srv.URL, Model: "m", OutputType: OutputBoolean})
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") || n.Load() != 2 {
		t.Fatalf("err = %v after %d requests, want a timeout after 2", err, n.Load())
	}
}

func TestRateLimiter_SpacesRequests(t *testing.T) {
	l := newRateLimiter(600) // one per 100ms
	start := time.Now()
	for i := 0; i < 3; i++ {
		if err := l.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 190*time.Millisecond {
		t.Fatalf("3 requests at 600/min took %s, want at least 200ms", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newRateLimiter(1).wait(ctx); err != nil {
		t.Fatalf("the first request must not wait: %v", err)
	}
}
