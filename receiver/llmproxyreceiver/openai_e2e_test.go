package llmproxyreceiver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

const (
	testTraceID  = "4bf92f3577b34da6a3ce929d0e0e4736"
	testParentID = "00f067aa0ba902b7"
)

func (e *proxyEnv) openAI(extra ...option.RequestOption) openai.Client {
	opts := []option.RequestOption{
		option.WithBaseURL(e.base + "/v1/"),
		option.WithAPIKey(testOpenAIKey),
		option.WithHeader("x-tracehound-api-key", testProjectKey),
		option.WithMaxRetries(0),
	}
	return openai.NewClient(append(opts, extra...)...)
}

func (e *proxyEnv) openAIChat(extra ...option.RequestOption) *openai.ChatCompletionService {
	c := e.openAI(extra...)
	return &c.Chat.Completions
}

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model: model,
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You answer geography questions."),
			openai.UserMessage("What is the capital of France?"),
		},
		Temperature: openai.Float(0.2),
		MaxTokens:   openai.Int(50),
	}
}

func TestOpenAIChat_NonStreamingSpanCarriesCanonicalView(t *testing.T) {
	env := startProxy(t, withAuth())
	c := env.openAI(
		option.WithHeader("traceparent", "00-"+testTraceID+"-"+testParentID+"-01"),
		option.WithHeader("x-tracehound-run-id", "batch-7"),
		option.WithHeader("x-tracehound-user-id", "user-42"),
		option.WithHeader("x-tracehound-session-id", "sess-1"),
		option.WithHeader("x-tracehound-metadata-workflow", "capital_quiz"),
	)
	resp, err := c.Chat.Completions.New(context.Background(), chatParams("gpt-4o-mini"))
	if err != nil {
		t.Fatalf("chat: %v", err)
	}
	if got := resp.Choices[0].Message.Content; got != "The capital of France is Paris." {
		t.Fatalf("client got %q", got)
	}

	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.Source:               llmschema.SourceProxy,
		llmschema.SpanKind:             llmschema.SpanKindLLM,
		llmschema.LLMCall:              true,
		llmschema.OperationName:        "chat",
		llmschema.ProviderName:         "openai",
		llmschema.RequestModel:         "gpt-4o-mini",
		llmschema.ResponseModel:        "gpt-4o-mini-2024-07-18",
		llmschema.ResponseID:           "chatcmpl-1",
		llmschema.ProjectID:            "proj-a",
		llmschema.RunID:                "batch-7",
		llmschema.UserID:               "user-42",
		llmschema.SessionID:            "sess-1",
		"tracehound.metadata.workflow": "capital_quiz",
		llmschema.RequestTemperature:   0.2,
		llmschema.RequestMaxTokens:     50,
		llmschema.SystemInstructions:   `[{"type":"text","content":"You answer geography questions."}]`,
		llmschema.InputMessages:        `[{"role":"user","parts":[{"type":"text","content":"What is the capital of France?"}]}]`,
		llmschema.OutputMessages:       `[{"role":"assistant","parts":[{"type":"text","content":"The capital of France is Paris."}],"finish_reason":"stop"}]`,
		llmschema.Input:                "What is the capital of France?",
		llmschema.Output:               "The capital of France is Paris.",
		llmschema.FinishReasons:        []any{"stop"},
		llmschema.UsageInputTokens:     19,
		llmschema.UsageOutputTokens:    7,
		llmschema.UsageCacheRead:       4,
		llmschema.HTTPResponseStatus:   200,
		llmschema.ProxyStreaming:       false,
		llmschema.ErrorType:            nil,
		llmschema.TTFTMillis:           nil,
	})
	if span.Name() != "chat gpt-4o-mini" {
		t.Errorf("span name %q", span.Name())
	}
	if span.Kind() != ptrace.SpanKindClient {
		t.Errorf("span kind %v", span.Kind())
	}
	if got := span.TraceID().String(); got != testTraceID {
		t.Errorf("trace ID %s, want the client's %s", got, testTraceID)
	}
	if got := span.ParentSpanID().String(); got != testParentID {
		t.Errorf("parent span ID %s, want the client's %s", got, testParentID)
	}
	if span.Status().Code() != ptrace.StatusCodeUnset {
		t.Errorf("status %v", span.Status().Code())
	}
	if _, ok := span.Attributes().Get(llmschema.ProxyUpstreamLatencyMillis); !ok {
		t.Error("upstream latency missing")
	}
	if !span.EndTimestamp().AsTime().After(span.StartTimestamp().AsTime()) {
		t.Error("span has no duration")
	}

	info := <-env.sink.infos
	if info.Auth == nil || info.Auth.GetAttribute(llmschema.ProjectAuthAttribute) != "proj-a" {
		t.Errorf("pipeline context lacks the authenticated project: %+v", info)
	}

	up := env.upstream.lastRequest()
	if up.path != "/v1/chat/completions" {
		t.Errorf("upstream path %q", up.path)
	}
	if got := up.header.Get("Authorization"); got != "Bearer "+testOpenAIKey {
		t.Errorf("provider key not forwarded untouched: %q", got)
	}
	for k := range up.header {
		if strings.HasPrefix(strings.ToLower(k), "x-tracehound-") {
			t.Errorf("tracehound header %s forwarded upstream", k)
		}
	}
	if got := up.header.Get("Traceparent"); got == "" {
		t.Error("traceparent was not forwarded")
	}
	env.assertNoSecrets()
}

func TestOpenAIChat_Streaming(t *testing.T) {
	tests := []struct {
		name         string
		model        string
		includeUsage bool
		want         attrWant
		wantText     string
	}{
		{
			name:     "text without usage",
			model:    "gpt-4o-mini",
			wantText: "The capital of France is Paris.",
			want: attrWant{
				llmschema.Output:            "The capital of France is Paris.",
				llmschema.OutputMessages:    `[{"role":"assistant","parts":[{"type":"text","content":"The capital of France is Paris."}],"finish_reason":"stop"}]`,
				llmschema.FinishReasons:     []any{"stop"},
				llmschema.UsageInputTokens:  nil,
				llmschema.UsageOutputTokens: nil,
				llmschema.ResponseModel:     "gpt-4o-mini-2024-07-18",
			},
		},
		{
			name:         "text with usage the client asked for",
			model:        "gpt-4o-mini",
			includeUsage: true,
			wantText:     "The capital of France is Paris.",
			want: attrWant{
				llmschema.Output:            "The capital of France is Paris.",
				llmschema.UsageInputTokens:  19,
				llmschema.UsageOutputTokens: 7,
			},
		},
		{
			name:  "tool call arguments assembled from deltas",
			model: "tool-model",
			want: attrWant{
				llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"tool_call","id":"call_9","name":"get_weather","arguments":{"city":"Paris"}}],"finish_reason":"tool_calls"}]`,
				llmschema.FinishReasons:  []any{"tool_calls"},
				llmschema.Output:         nil,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startProxy(t, withAuth())
			params := chatParams(tt.model)
			if tt.includeUsage {
				params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			stream := env.openAIChat().NewStreaming(context.Background(), params)
			var acc openai.ChatCompletionAccumulator
			for stream.Next() {
				acc.AddChunk(stream.Current())
			}
			if err := stream.Err(); err != nil {
				t.Fatalf("stream: %v", err)
			}
			if got := acc.Choices[0].Message.Content; got != tt.wantText {
				t.Fatalf("client assembled %q, want %q", got, tt.wantText)
			}
			span := env.onlySpan()
			want := attrWant{
				llmschema.ProxyStreaming:     true,
				llmschema.HTTPResponseStatus: 200,
				llmschema.RequestModel:       tt.model,
				llmschema.ErrorType:          nil,
			}
			for k, v := range tt.want {
				want[k] = v
			}
			checkAttrs(t, span, want)
			if v, ok := span.Attributes().Get(llmschema.TTFTMillis); !ok || v.Double() <= 0 {
				t.Errorf("time to first token missing or zero: %v", v.AsRaw())
			}
			body := env.upstream.lastRequest().body
			if !tt.includeUsage && strings.Contains(string(body), "stream_options") {
				t.Errorf("proxy changed the request: %s", body)
			}
			env.assertNoSecrets()
		})
	}
}

func TestOpenAIChat_StreamIsDeliveredIncrementally(t *testing.T) {
	env := startProxy(t, withAuth())
	stream := env.openAIChat().NewStreaming(context.Background(), chatParams("slow-stream"))
	first := make(chan time.Time, 1)
	go func() {
		if stream.Next() {
			first <- time.Now()
		}
		close(first)
	}()
	var firstAt time.Time
	select {
	case at, ok := <-first:
		if !ok {
			t.Fatalf("stream ended before its first chunk: %v", stream.Err())
		}
		firstAt = at
	case <-time.After(3 * time.Second):
		t.Fatal("first chunk did not reach the client while the upstream held the rest back: the proxy buffers")
	}
	close(env.upstream.release)
	text := ""
	for stream.Next() {
		for _, ch := range stream.Current().Choices {
			text += ch.Delta.Content
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	if text != "The capital of France is Paris." {
		t.Errorf("rest of stream %q", text)
	}
	env.upstream.mu.Lock()
	last := env.upstream.lastChunkSent
	env.upstream.mu.Unlock()
	if !firstAt.Before(last) {
		t.Errorf("client saw the first chunk at %v, after the upstream sent the last at %v", firstAt, last)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{llmschema.Output: "The capital of France is Paris."})
	ttft, _ := span.Attributes().Get(llmschema.TTFTMillis)
	lat, _ := span.Attributes().Get(llmschema.ProxyUpstreamLatencyMillis)
	if ttft.Double() >= lat.Double() {
		t.Errorf("TTFT %vms not before the end of the upstream response %vms", ttft.Double(), lat.Double())
	}
}

func TestOpenAIChat_ClientCancelCancelsUpstream(t *testing.T) {
	env := startProxy(t, withAuth())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := env.openAIChat().NewStreaming(ctx, chatParams("hang-stream"))
	// Read up to the last chunk the upstream sends before it hangs.
	for {
		if !stream.Next() {
			t.Fatalf("stream ended before the content chunk: %v", stream.Err())
		}
		if ch := stream.Current().Choices; len(ch) > 0 && ch[0].Delta.Content == "The capital" {
			break
		}
	}
	cancel()
	select {
	case <-env.upstream.cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream request was not cancelled after the client went away")
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.ErrorType:      llmschema.ErrorTypeClientCancelled,
		llmschema.ProxyStreaming: true,
		llmschema.Output:         "The capital",
	})
	if span.Status().Code() != ptrace.StatusCodeError {
		t.Errorf("status %v, want error", span.Status().Code())
	}
}

func TestOpenAIChat_ToolCallNonStreaming(t *testing.T) {
	env := startProxy(t, withAuth())
	params := chatParams("tool-model")
	params.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:       "get_weather",
		Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
	})}
	resp, err := env.openAIChat().New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.ToolCalls[0].Function.Name != "get_weather" {
		t.Fatalf("client got %+v", resp.Choices[0].Message)
	}
	checkAttrs(t, env.onlySpan(), attrWant{
		llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"tool_call","id":"call_1","name":"get_weather","arguments":{"city":"Paris"}}],"finish_reason":"tool_calls"}]`,
		llmschema.FinishReasons:  []any{"tool_calls"},
	})
}

func TestOpenAI_UpstreamErrorsPassThroughVerbatim(t *testing.T) {
	tests := []struct {
		model      string
		status     int
		errorType  string
		statusText string
	}{
		{"rate-limited", 429, "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini"},
		{"broken", 500, "server_error", "The server had an error while processing your request."},
		{"bad-key", 401, "invalid_api_key", "Incorrect API key provided: [REDACTED]"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			env := startProxy(t, withAuth())
			_, err := env.openAIChat().New(context.Background(), chatParams(tt.model))
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("want an API error, got %v", err)
			}
			if apiErr.StatusCode != tt.status {
				t.Errorf("client saw status %d, want %d", apiErr.StatusCode, tt.status)
			}
			if !strings.Contains(apiErr.Message, strings.TrimSuffix(strings.Split(tt.statusText, " [")[0], ".")) {
				t.Errorf("client saw message %q", apiErr.Message)
			}
			if tt.status == 429 && apiErr.Response.Header.Get("Retry-After") != "7" {
				t.Errorf("Retry-After not passed through: %v", apiErr.Response.Header)
			}
			span := env.onlySpan()
			checkAttrs(t, span, attrWant{
				llmschema.ErrorType:          tt.errorType,
				llmschema.HTTPResponseStatus: tt.status,
				llmschema.RequestModel:       tt.model,
			})
			if span.Status().Code() != ptrace.StatusCodeError || !strings.HasPrefix(span.Status().Message(), tt.statusText) {
				t.Errorf("status %v %q", span.Status().Code(), span.Status().Message())
			}
			env.assertNoSecrets()
		})
	}
}

func TestOpenAI_EmbeddingsCompletionsAndResponses(t *testing.T) {
	env := startProxy(t, withAuth())
	c := env.openAI()
	ctx := context.Background()

	emb, err := c.Embeddings.New(ctx, openai.EmbeddingNewParams{
		Model: "text-embedding-3-small",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("Paris is in France")},
	})
	if err != nil || len(emb.Data) != 1 {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.OperationName:     "embeddings",
		llmschema.SpanKind:          llmschema.SpanKindEmbedding,
		llmschema.RequestModel:      "text-embedding-3-small",
		llmschema.ResponseModel:     "text-embedding-3-small",
		llmschema.UsageInputTokens:  6,
		llmschema.Input:             "Paris is in France",
		llmschema.Output:            nil,
		llmschema.OutputMessages:    nil,
		llmschema.UsageOutputTokens: nil,
	})
	env.sink.Reset()

	cmp, err := c.Completions.New(ctx, openai.CompletionNewParams{
		Model:     "gpt-3.5-turbo-instruct",
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Capital of France?")},
		MaxTokens: openai.Int(5),
	})
	if err != nil || cmp.Choices[0].Text != "Paris it is." {
		t.Fatalf("completions: %v %+v", err, cmp)
	}
	checkAttrs(t, env.onlySpan(), attrWant{
		llmschema.OperationName:     "text_completion",
		llmschema.Input:             "Capital of France?",
		llmschema.Output:            "Paris it is.",
		llmschema.UsageInputTokens:  5,
		llmschema.UsageOutputTokens: 4,
		llmschema.RequestMaxTokens:  5,
	})
	env.sink.Reset()

	params := responses.ResponseNewParams{
		Model:        "gpt-4o",
		Instructions: openai.String("Be brief."),
		Input:        responses.ResponseNewParamsInputUnion{OfString: openai.String("Capital of France?")},
	}
	r, err := c.Responses.New(ctx, params)
	if err != nil || r.OutputText() != "Paris." {
		t.Fatalf("responses: %v", err)
	}
	want := attrWant{
		llmschema.OperationName:      "chat",
		llmschema.SystemInstructions: `[{"type":"text","content":"Be brief."}]`,
		llmschema.Input:              "Capital of France?",
		llmschema.Output:             "Paris.",
		llmschema.ResponseModel:      "gpt-4o-2024-08-06",
		llmschema.UsageInputTokens:   12,
		llmschema.UsageOutputTokens:  3,
		llmschema.UsageCacheRead:     2,
		llmschema.FinishReasons:      []any{"stop"},
	}
	checkAttrs(t, env.onlySpan(), want)
	env.sink.Reset()

	stream := c.Responses.NewStreaming(ctx, params)
	for stream.Next() {
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("responses stream: %v", err)
	}
	span = env.onlySpan()
	want[llmschema.ProxyStreaming] = true
	checkAttrs(t, span, want)
	if _, ok := span.Attributes().Get(llmschema.TTFTMillis); !ok {
		t.Error("TTFT missing on a streamed response")
	}
	env.assertNoSecrets()
}

func TestOpenAI_ModelsListIsForwardedWithoutSpan(t *testing.T) {
	env := startProxy(t, withAuth())
	c := env.openAI()
	page, err := c.Models.List(context.Background())
	if err != nil || len(page.Data) != 1 || page.Data[0].ID != "gpt-4o-mini" {
		t.Fatalf("models: %v %+v", err, page)
	}
	if got := env.upstream.lastRequest(); got.method != http.MethodGet || got.path != "/v1/models" {
		t.Errorf("upstream got %s %s", got.method, got.path)
	}
	// Shutdown waits for running handlers and drains the span queue.
	if err := env.recv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := env.sink.SpanCount(); n != 0 {
		t.Errorf("model listing produced %d spans", n)
	}
}
