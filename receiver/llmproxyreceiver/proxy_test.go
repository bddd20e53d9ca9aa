package llmproxyreceiver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

const chatBody = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi <there>"}],"temperature":0.7}`

func projectHeaders() map[string]string {
	return map[string]string{
		"Authorization":        "Bearer " + testOpenAIKey,
		"X-Tracehound-Api-Key": testProjectKey,
		"Content-Type":         "application/json",
	}
}

func TestRouting_SelectsConfiguredUpstreamsOnly(t *testing.T) {
	tests := []struct {
		name         string
		path         string
		header       string
		wantStatus   int
		wantUpstream string // path the upstream saw, "" when it must see nothing
		wantProvider string
		wantErrShape string // "openai" or "anthropic" for proxy-made errors
	}{
		{name: "unprefixed chat goes to openai", path: "/v1/chat/completions", wantStatus: 200, wantUpstream: "/v1/chat/completions", wantProvider: "openai"},
		{name: "name prefix selects upstream", path: "/ollama/v1/chat/completions", wantStatus: 200, wantUpstream: "/v1/chat/completions", wantProvider: "ollama"},
		{name: "openai prefix is the documented base_url", path: "/openai/v1/chat/completions", wantStatus: 200, wantUpstream: "/v1/chat/completions", wantProvider: "openai"},
		{name: "header selects upstream", path: "/v1/chat/completions", header: "ollama", wantStatus: 200, wantUpstream: "/v1/chat/completions", wantProvider: "ollama"},
		{name: "unknown prefix is 404 in OpenAI format", path: "/evil.example.com/v1/chat/completions", wantStatus: 404, wantErrShape: "openai"},
		{name: "unknown header is 404", path: "/v1/chat/completions", header: "http://169.254.169.254", wantStatus: 404, wantErrShape: "openai"},
		{name: "unknown prefix on messages is 404 in Anthropic format", path: "/nope/v1/messages", wantStatus: 404, wantErrShape: "anthropic"},
		{name: "dot segments cannot escape", path: "/ollama/../evil/v1/chat/completions", wantStatus: 404, wantErrShape: "openai"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startProxy(t, withAuth())
			h := projectHeaders()
			if tt.header != "" {
				h["X-Tracehound-Upstream"] = tt.header
			}
			body := chatBody
			if strings.HasSuffix(tt.path, "/messages") {
				body = `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[{"role":"user","content":"Hi"}]}`
			}
			resp := doRequest(t, http.MethodPost, env.base+tt.path, body, h)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, data)
			}
			if tt.wantUpstream == "" {
				if n := env.upstream.requestCount(); n != 0 {
					t.Errorf("upstream saw %d requests", n)
				}
				assertErrorShape(t, data, tt.wantErrShape)
				return
			}
			if got := env.upstream.lastRequest().path; got != tt.wantUpstream {
				t.Errorf("upstream path %q, want %q", got, tt.wantUpstream)
			}
			checkAttrs(t, env.onlySpan(), attrWant{
				llmschema.ProviderName: tt.wantProvider,
				llmschema.URLPath:      tt.path,
			})
		})
	}
}

func assertErrorShape(t *testing.T, data []byte, shape string) {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatalf("error body is not JSON: %s", data)
	}
	errObj, _ := body["error"].(map[string]any)
	if errObj == nil || errObj["message"] == "" {
		t.Fatalf("no error object: %s", data)
	}
	if shape == "anthropic" && body["type"] != "error" {
		t.Errorf("want Anthropic error shape, got %s", data)
	}
	if shape == "openai" {
		if _, ok := body["type"]; ok {
			t.Errorf("want OpenAI error shape, got %s", data)
		}
	}
}

func TestRequest_ForwardedUnchanged(t *testing.T) {
	env := startProxy(t, withAuth())
	h := projectHeaders()
	h["X-Scorecard-Api-Key"] = testProjectKey2
	h["X-Tracehound-Metadata-Team"] = "search"
	h["OpenAI-Organization"] = "org-1"
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions?api-version=2024", chatBody, h)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	up := env.upstream.lastRequest()
	if string(up.body) != chatBody {
		t.Errorf("body changed:\n got %s\nwant %s", up.body, chatBody)
	}
	if up.rawQuery != "api-version=2024" {
		t.Errorf("query %q", up.rawQuery)
	}
	if up.header.Get("Openai-Organization") != "org-1" || up.header.Get("Authorization") != "Bearer "+testOpenAIKey {
		t.Errorf("client headers not forwarded: %v", up.header)
	}
	for _, name := range []string{"X-Scorecard-Api-Key", "X-Tracehound-Api-Key", "X-Tracehound-Metadata-Team"} {
		if up.header.Get(name) != "" {
			t.Errorf("%s forwarded", name)
		}
	}
	if resp.Header.Get("X-Request-Id") != "req_fake" {
		t.Errorf("upstream response headers not passed back: %v", resp.Header)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		"tracehound.metadata.team":      "search",
		llmschema.Input:                 "Hi <there>",
		llmschema.InputMessages:         `[{"role":"user","parts":[{"type":"text","content":"Hi <there>"}]}]`,
		llmschema.RequestTemperature:    0.7,
		llmschema.ProjectID:             "proj-a",
		llmschema.HTTPRequestMethod:     "POST",
		llmschema.ServerAddress:         "127.0.0.1",
		llmschema.ProxyUpstream:         "openai",
		llmschema.ProxyCaptureTruncated: nil,
	})
	if _, ok := span.Attributes().Get(llmschema.ServerPort); !ok {
		t.Error("server.port missing")
	}
}

func TestAuth(t *testing.T) {
	tests := []struct {
		name        string
		path        string
		headers     map[string]string
		wantStatus  int
		wantShape   string
		wantProject string
	}{
		{name: "missing project key", path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + testOpenAIKey}, wantStatus: 401, wantShape: "openai"},
		{name: "invalid project key", path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + testOpenAIKey, "X-Tracehound-Api-Key": "wrong"}, wantStatus: 401, wantShape: "openai"},
		{name: "invalid key on messages answers in Anthropic format", path: "/v1/messages", headers: map[string]string{"X-Api-Key": testAnthropic, "Authorization": "Bearer wrong"}, wantStatus: 401, wantShape: "anthropic"},
		{name: "scorecard header selects its project", path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer " + testOpenAIKey, "X-Scorecard-Api-Key": testProjectKey2}, wantStatus: 200, wantProject: "proj-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startProxy(t, withAuth())
			body := chatBody
			if tt.path == "/v1/messages" {
				body = `{"model":"claude-sonnet-4-5","max_tokens":10,"messages":[]}`
			}
			resp := doRequest(t, http.MethodPost, env.base+tt.path, body, tt.headers)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, data)
			}
			if tt.wantStatus == 401 {
				assertErrorShape(t, data, tt.wantShape)
				if env.upstream.requestCount() != 0 {
					t.Error("unauthenticated request reached the upstream")
				}
				if strings.Contains(string(data), testOpenAIKey) || strings.Contains(string(data), testAnthropic) {
					t.Errorf("error echoes a key: %s", data)
				}
				return
			}
			checkAttrs(t, env.onlySpan(), attrWant{llmschema.ProjectID: tt.wantProject})
		})
	}
	t.Run("authenticator sees only the project key header", func(t *testing.T) {
		env := startProxy(t, withAuth())
		resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", chatBody, projectHeaders())
		resp.Body.Close()
		if len(env.auth.seen) != 1 {
			t.Fatalf("authenticator called %d times", len(env.auth.seen))
		}
		for k, v := range env.auth.seen[0] {
			if k != "X-Tracehound-Api-Key" || v[0] != testProjectKey {
				t.Errorf("authenticator was shown %s: %v", k, v)
			}
		}
	})
}

func TestAuth_NoAuthenticatorUsesDefaultProject(t *testing.T) {
	env := startProxy(t)
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", chatBody, map[string]string{"Authorization": "Bearer " + testOpenAIKey})
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	checkAttrs(t, env.onlySpan(), attrWant{llmschema.ProjectID: llmschema.DefaultProject})
	if env.upstream.lastRequest().header.Get("Authorization") != "Bearer "+testOpenAIKey {
		t.Error("provider key not forwarded")
	}
}

func TestAuth_MissingAuthenticatorFailsStart(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	withAuth()(cfg)
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	r, err := NewFactory().CreateTraces(context.Background(), receivertest.NewNopSettings(componentType), cfg, &ctxSink{})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Start(context.Background(), componenttest.NewNopHost())
	if err == nil || !strings.Contains(err.Error(), "fakeauth") {
		t.Fatalf("want an error naming the authenticator, got %v", err)
	}
	_ = r.Shutdown(context.Background())
}

func TestRequestBodyLimit(t *testing.T) {
	env := startProxy(t, withAuth(), func(c *Config) { c.MaxRequestBodyBytes = 64 })
	big := `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"` + strings.Repeat("x", 200) + `"}]}`
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", big, projectHeaders())
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	assertErrorShape(t, data, "openai")
	if env.upstream.requestCount() != 0 {
		t.Error("oversized request reached the upstream")
	}
}

func TestUnreachableUpstream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	env := startProxy(t, withAuth(), func(c *Config) {
		c.Upstreams["openai"] = UpstreamConfig{URL: dead}
		c.Upstreams["anthropic"] = UpstreamConfig{URL: dead}
	})
	for _, tc := range []struct{ path, body, shape string }{
		{"/v1/chat/completions", chatBody, "openai"},
		{"/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[]}`, "anthropic"},
	} {
		resp := doRequest(t, http.MethodPost, env.base+tc.path, tc.body, projectHeaders())
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("%s: status %d", tc.path, resp.StatusCode)
		}
		assertErrorShape(t, data, tc.shape)
		if !strings.Contains(string(data), "unreachable") {
			t.Errorf("%s: message does not say what happened: %s", tc.path, data)
		}
	}
	spans := env.waitSpans(2)
	for _, s := range spans {
		checkAttrs(t, s, attrWant{
			llmschema.ErrorType:          llmschema.ErrorTypeUpstreamUnreachable,
			llmschema.HTTPResponseStatus: 502,
		})
		if s.Status().Code() != ptrace.StatusCodeError {
			t.Errorf("status %v", s.Status().Code())
		}
	}
}

func TestPassthrough(t *testing.T) {
	for _, on := range []bool{true, false} {
		env := startProxy(t, withAuth(), func(c *Config) { c.Passthrough = on })
		resp := doRequest(t, http.MethodPost, env.base+"/v1/files", `{}`, projectHeaders())
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if on {
			if resp.StatusCode != 200 || !strings.Contains(string(data), `"passthrough":true`) {
				t.Errorf("passthrough on: %d %s", resp.StatusCode, data)
			}
		} else {
			if resp.StatusCode != 404 || env.upstream.requestCount() != 0 {
				t.Errorf("passthrough off: %d %s", resp.StatusCode, data)
			}
			assertErrorShape(t, data, "openai")
		}
		if err := env.recv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := env.sink.SpanCount(); n != 0 {
			t.Errorf("passthrough produced %d spans", n)
		}
	}
}

// blockingSink holds every ConsumeTraces call until released.
type blockingSink struct {
	ctxSink
	release chan struct{}
	once    sync.Once
	err     error
}

func (b *blockingSink) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	<-b.release
	if b.err != nil {
		return b.err
	}
	return b.ctxSink.ConsumeTraces(ctx, td)
}

func TestSlowPipeline_DoesNotDelayClientsAndDropsBeyondQueue(t *testing.T) {
	sink := &blockingSink{ctxSink: ctxSink{infos: make(chan client.Info, 100)}, release: make(chan struct{})}
	recv, _ := startProxyWith(t, testHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{}}, sink,
		func(c *Config) { c.Queue = QueueConfig{Size: 2, MaxBytes: 1 << 20, Workers: 1} })
	base := "http://" + recv.listener.Addr().String()
	const calls = 10
	start := time.Now()
	for range calls {
		resp := doRequest(t, http.MethodPost, base+"/v1/chat/completions", chatBody, map[string]string{"Authorization": "Bearer " + testOpenAIKey})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("%d calls took %v while the pipeline was blocked", calls, d)
	}
	// One call is held by the worker, two wait in the queue, the rest are dropped. A
	// handler enqueues after its response is flushed, so the last one may still be on
	// its way.
	deadline := time.Now().Add(5 * time.Second)
	for recv.emitter.dropped.Load() < calls-3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := recv.emitter.dropped.Load(); got != calls-3 {
		t.Errorf("dropped %d, want %d", got, calls-3)
	}
	close(sink.release)
	deadline = time.Now().Add(5 * time.Second)
	for sink.SpanCount() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := sink.SpanCount(); n != 3 {
		t.Errorf("pipeline got %d spans, want 3", n)
	}
}

func TestPipelineError_NeverReachesClient(t *testing.T) {
	sink := &blockingSink{ctxSink: ctxSink{infos: make(chan client.Info, 100)}, release: make(chan struct{}), err: errors.New("store is full")}
	close(sink.release)
	recv, _ := startProxyWith(t, testHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{}}, sink)
	base := "http://" + recv.listener.Addr().String()
	for range 3 {
		resp := doRequest(t, http.MethodPost, base+"/v1/chat/completions", chatBody, map[string]string{"Authorization": "Bearer " + testOpenAIKey})
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for recv.emitter.failed.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := recv.emitter.failed.Load(); got != 3 {
		t.Errorf("failed %d, want 3", got)
	}
}

func TestUpstreamCompressionAndInterruption(t *testing.T) {
	env := startProxy(t, withAuth())

	h := projectHeaders()
	h["Accept-Encoding"] = "br"
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", `{"model":"gzip-model","messages":[{"role":"user","content":"hi"}]}`, h)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(data), "compressed answer") || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("client got %d %v %q", resp.StatusCode, resp.Header, data)
	}
	checkAttrs(t, env.onlySpan(), attrWant{llmschema.Output: "compressed answer", llmschema.UsageOutputTokens: 2})
	env.sink.Reset()

	resp = doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", `{"model":"abort-stream","stream":true,"messages":[{"role":"user","content":"hi"}]}`, projectHeaders())
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("the client's response looked complete although the upstream broke off")
	}
	if !strings.Contains(string(data), "partial") {
		t.Errorf("client did not get the relayed part: %q", data)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.ErrorType: llmschema.ErrorTypeUpstreamInterrupted,
		llmschema.Output:    "partial",
	})
	if span.Status().Code() != ptrace.StatusCodeError {
		t.Errorf("status %v", span.Status().Code())
	}
}

func TestUpstreamTimeout(t *testing.T) {
	env := startProxy(t, withAuth(), func(c *Config) {
		u := c.Upstreams["openai"]
		u.Timeout = 100 * time.Millisecond
		c.Upstreams["openai"] = u
	})
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", `{"model":"no-answer","messages":[]}`, projectHeaders())
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(data), "timeout") {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	assertErrorShape(t, data, "openai")
	checkAttrs(t, env.onlySpan(), attrWant{
		llmschema.ErrorType:          llmschema.ErrorTypeUpstreamTimeout,
		llmschema.HTTPResponseStatus: 504,
	})
}

func TestIncludeMetadata_CredentialsStayOutOfThePipeline(t *testing.T) {
	env := startProxy(t, withAuth(), func(c *Config) { c.IncludeMetadata = true })
	h := projectHeaders()
	h["X-Team"] = "search"
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", chatBody, h)
	resp.Body.Close()
	env.onlySpan()
	info := <-env.sink.infos
	for _, k := range []string{"authorization", "x-tracehound-api-key"} {
		if v := info.Metadata.Get(k); len(v) != 0 {
			t.Errorf("metadata %s reached the pipeline: %v", k, v)
		}
	}
	if got := info.Metadata.Get("x-team"); len(got) != 1 || got[0] != "search" {
		t.Errorf("other metadata lost: %v", got)
	}
	if info.Auth == nil {
		t.Error("auth data lost")
	}
}

func TestClassify_RoutesByPathEnding(t *testing.T) {
	tests := []struct {
		method, path string
		want         routeKind
	}{
		{"POST", "/v1/chat/completions", routeChat},
		{"POST", "/openai/deployments/gpt4o/chat/completions", routeChat},
		{"POST", "/v1beta/openai/chat/completions", routeChat},
		{"POST", "/v1/completions", routeCompletions},
		{"POST", "/v1/embeddings", routeEmbeddings},
		{"POST", "/v1/responses", routeResponses},
		{"POST", "/v1/messages", routeMessages},
		{"POST", "/v1/threads/thread_1/messages", routePassthrough},
		{"POST", "/v1/messages/count_tokens", routePassthrough},
		{"POST", "/v1/responses/resp_1/cancel", routePassthrough},
		{"GET", "/v1/chat/completions", routePassthrough},
		{"GET", "/v1/models", routeModels},
		{"GET", "/v1/models/gpt-4o", routeModels},
		{"POST", "/v1/files", routePassthrough},
	}
	for _, tt := range tests {
		if got := classify(tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s: got %d, want %d", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestAzureStylePathIsTraced(t *testing.T) {
	env := startProxy(t, withAuth(), func(c *Config) {
		c.Upstreams["azure"] = UpstreamConfig{URL: c.Upstreams["openai"].URL, Provider: "azure.ai.openai"}
	})
	resp := doRequest(t, http.MethodPost, env.base+"/azure/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21",
		`{"messages":[{"role":"user","content":"Hi"}]}`,
		map[string]string{"Api-Key": "azure-secret-key-123456", "X-Tracehound-Api-Key": testProjectKey})
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, data)
	}
	up := env.upstream.lastRequest()
	if up.path != "/openai/deployments/gpt4o-prod/chat/completions" || up.header.Get("Api-Key") != "azure-secret-key-123456" {
		t.Errorf("upstream got %s %v", up.path, up.header)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.ProviderName:  "azure.ai.openai",
		llmschema.RequestModel:  "gpt4o-prod",
		llmschema.OperationName: "chat",
		llmschema.Input:         "Hi",
	})
	if span.Name() != "chat gpt4o-prod" {
		t.Errorf("span name %q", span.Name())
	}
}

func TestCaptureLimit_ClientGetsEverythingSpanSaysTruncated(t *testing.T) {
	env := startProxy(t, withAuth(), func(c *Config) { c.MaxCaptureBytes = 64 })
	resp := doRequest(t, http.MethodPost, env.base+"/v1/chat/completions", chatBody, projectHeaders())
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(data), "The capital of France is Paris.") {
		t.Fatalf("client got a cut response: %s", data)
	}
	checkAttrs(t, env.onlySpan(), attrWant{
		llmschema.ProxyCaptureTruncated: true,
		llmschema.Output:                nil,
		llmschema.Input:                 "Hi <there>",
	})
}
