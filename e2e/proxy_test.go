package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// fakeOpenAI answers chat completions like OpenAI does and remembers the last request's
// headers, so the test can check what the proxy forwarded.
func fakeOpenAI(t *testing.T) (*httptest.Server, *atomic.Value) {
	var lastHeaders atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastHeaders.Store(r.Header.Clone())
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path != "/v1/chat/completions" || !strings.Contains(string(body), "capital of France") {
			http.Error(w, `{"error":{"message":"unexpected request","type":"invalid_request_error"}}`, http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer sk-provider-secret-123456789" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":{"message":"bad provider key","type":"invalid_request_error"}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1764072000,"model":"gpt-4o-mini-2024-07-18",
"choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}],
"usage":{"prompt_tokens":21,"completion_tokens":7,"total_tokens":28}}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &lastHeaders
}

// TestE2E_ProxyWithOfficialOpenAIClient: an app changes only its base URL and adds the
// project key header; the call reaches the provider unchanged and becomes a record.
func TestE2E_ProxyWithOfficialOpenAIClient(t *testing.T) {
	upstream, lastHeaders := fakeOpenAI(t)
	c := newCollector(t, "TRACEHOUND_OPENAI_URL="+upstream.URL)
	client := openai.NewClient(
		option.WithBaseURL("http://"+c.proxyAddr+"/v1/"),
		option.WithAPIKey("sk-provider-secret-123456789"),
		option.WithHeader("x-tracehound-api-key", c.key),
		option.WithHeader("x-tracehound-run-id", "proxy-run-1"),
		option.WithMaxRetries(0),
	)
	resp, err := client.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model:    "gpt-4o-mini",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the capital of France?")},
	})
	if err != nil {
		t.Fatalf("chat through the proxy: %v\n%s", err, c.log.String())
	}
	if resp.Choices[0].Message.Content != "The capital of France is Paris." {
		t.Fatalf("the proxy changed the answer: %q", resp.Choices[0].Message.Content)
	}
	h := lastHeaders.Load().(http.Header)
	if h.Get("x-tracehound-api-key") != "" || h.Get("x-tracehound-run-id") != "" {
		t.Fatalf("tracehound headers reached the provider: %v", h)
	}

	var list struct {
		Records []struct {
			ID      string  `json:"id"`
			Source  string  `json:"source"`
			Status  string  `json:"status"`
			Input   string  `json:"input"`
			Output  string  `json:"output"`
			RunID   string  `json:"run_id"`
			CostUSD float64 `json:"cost_usd"`
			Models  []string
			Usage   struct{ Input, Output int64 } `json:"usage"`
		} `json:"records"`
	}
	// The proxy answers first and emits the span after, so the record may trail the response.
	waitFor(t, "proxy record", func() bool {
		return c.apiGet("/api/v1/records", &list) == http.StatusOK && len(list.Records) == 1
	})
	r := list.Records[0]
	if r.Source != "proxy" || r.Status != "ok" || r.Input != "What is the capital of France?" ||
		r.Output != "The capital of France is Paris." || r.RunID != "proxy-run-1" ||
		r.Usage.Input != 21 || r.Usage.Output != 7 || r.CostUSD <= 0 || len(r.Models) != 1 || r.Models[0] != "gpt-4o-mini-2024-07-18" {
		t.Fatalf("proxy record: %+v", r)
	}
	raw, _ := json.Marshal(list)
	var trace json.RawMessage
	if code := c.apiGet("/api/v1/traces/"+r.ID, &trace); code != http.StatusOK {
		t.Fatalf("raw trace: %d", code)
	}
	// The store's files: tracehound.db and the span log's segments (their bodies are
	// compressed, which "stored spans" above covers decompressed).
	var files []byte
	if err := filepath.WalkDir(filepath.Join(c.dataDir, "data"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files = append(files, b...)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for what, b := range map[string][]byte{"record": raw, "stored spans": trace, "log": c.log.Bytes(), "store files": files} {
		if bytes.Contains(b, []byte("sk-provider-secret")) {
			t.Fatalf("the provider key reached the %s", what)
		}
	}
	// A wrong project key is refused before anything reaches the provider.
	bad := openai.NewClient(option.WithBaseURL("http://"+c.proxyAddr+"/v1/"), option.WithAPIKey("sk-provider-secret-123456789"),
		option.WithHeader("x-tracehound-api-key", "th_wrong"), option.WithMaxRetries(0))
	_, err = bad.Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
		Model: "gpt-4o-mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the capital of France?")},
	})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong project key: %v, want 401", err)
	}
}
