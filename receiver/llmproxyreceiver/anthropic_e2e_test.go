package llmproxyreceiver

import (
	"context"
	"errors"
	"testing"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// anthropicClient authenticates to the proxy in one of two ways. With projectHeader
// empty, the provider key travels in x-api-key (as the Python and TypeScript SDKs send
// it) and the project key as the bearer token. Otherwise the SDK sends the provider key
// as its bearer token (this Go SDK's default) and the project key goes in projectHeader.
func (e *proxyEnv) anthropicClient(projectHeader string, extra ...anthropicoption.RequestOption) anthropic.Client {
	opts := []anthropicoption.RequestOption{
		anthropicoption.WithBaseURL(e.base + "/"),
		anthropicoption.WithMaxRetries(0),
	}
	if projectHeader == "" {
		opts = append(opts,
			anthropicoption.WithHeader("x-api-key", testAnthropic),
			anthropicoption.WithAuthToken(testProjectKey))
	} else {
		opts = append(opts,
			anthropicoption.WithAPIKey(testAnthropic),
			anthropicoption.WithHeader(projectHeader, testProjectKey))
	}
	return anthropic.NewClient(append(opts, extra...)...)
}

func messageParams(model string) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:         anthropic.Model(model),
		MaxTokens:     256,
		StopSequences: []string{"###"},
		System:        []anthropic.TextBlockParam{{Text: "You are terse."}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("What is the weather in Paris?")),
		},
	}
}

func TestAnthropicMessages(t *testing.T) {
	tests := []struct {
		name          string
		projectHeader string
		model         string
		stream        bool
		wantText      string
		want          attrWant
	}{
		{
			name:          "non-streaming with cache usage, project key in x-scorecard-api-key",
			projectHeader: "x-scorecard-api-key",
			model:         "claude-sonnet-4-5",
			wantText:      "Paris is the capital.",
			want: attrWant{
				llmschema.OutputMessages:     `[{"role":"assistant","parts":[{"type":"text","content":"Paris is the capital."}],"finish_reason":"end_turn"}]`,
				llmschema.FinishReasons:      []any{"end_turn"},
				llmschema.UsageInputTokens:   18,
				llmschema.UsageOutputTokens:  6,
				llmschema.UsageCacheRead:     5,
				llmschema.UsageCacheCreation: 3,
				llmschema.ResponseID:         "msg_1",
				llmschema.Output:             "Paris is the capital.",
				llmschema.ProxyStreaming:     false,
			},
		},
		{
			name:     "non-streaming tool use, project key as bearer token",
			model:    "tool-model",
			wantText: "Let me check.",
			want: attrWant{
				llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"text","content":"Let me check."},{"type":"tool_call","id":"toolu_1","name":"get_weather","arguments":{"city":"Paris"}}],"finish_reason":"tool_use"}]`,
				llmschema.FinishReasons:  []any{"tool_use"},
			},
		},
		{
			name:          "streaming text",
			projectHeader: "x-tracehound-api-key",
			model:         "claude-sonnet-4-5",
			stream:        true,
			wantText:      "Checking the weather.",
			want: attrWant{
				llmschema.Output:            "Checking the weather.",
				llmschema.FinishReasons:     []any{"end_turn"},
				llmschema.UsageInputTokens:  32,
				llmschema.UsageOutputTokens: 15,
				llmschema.UsageCacheRead:    7,
				llmschema.ResponseID:        "msg_2",
				llmschema.ProxyStreaming:    true,
			},
		},
		{
			name:     "streaming tool use from input_json_delta",
			model:    "tool-model",
			stream:   true,
			wantText: "Checking the weather.",
			want: attrWant{
				llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"text","content":"Checking the weather."},{"type":"tool_call","id":"toolu_2","name":"get_weather","arguments":{"city":"Paris"}}],"finish_reason":"tool_use"}]`,
				llmschema.FinishReasons:  []any{"tool_use"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startProxy(t, withAuth())
			c := env.anthropicClient(tt.projectHeader)
			var msg anthropic.Message
			if tt.stream {
				stream := c.Messages.NewStreaming(context.Background(), messageParams(tt.model))
				for stream.Next() {
					if err := msg.Accumulate(stream.Current()); err != nil {
						t.Fatal(err)
					}
				}
				if err := stream.Err(); err != nil {
					t.Fatalf("stream: %v", err)
				}
			} else {
				resp, err := c.Messages.New(context.Background(), messageParams(tt.model))
				if err != nil {
					t.Fatalf("messages: %v", err)
				}
				msg = *resp
			}
			if got := msg.Content[0].Text; got != tt.wantText {
				t.Fatalf("client got %q, want %q", got, tt.wantText)
			}
			span := env.onlySpan()
			want := attrWant{
				llmschema.OperationName:        "chat",
				llmschema.ProviderName:         "anthropic",
				llmschema.RequestModel:         tt.model,
				llmschema.ResponseModel:        "claude-sonnet-4-5-20250929",
				llmschema.ProjectID:            "proj-a",
				llmschema.SystemInstructions:   `[{"type":"text","content":"You are terse."}]`,
				llmschema.InputMessages:        `[{"role":"user","parts":[{"type":"text","content":"What is the weather in Paris?"}]}]`,
				llmschema.Input:                "What is the weather in Paris?",
				llmschema.RequestMaxTokens:     256,
				llmschema.RequestStopSequences: []any{"###"},
				llmschema.ErrorType:            nil,
			}
			for k, v := range tt.want {
				want[k] = v
			}
			checkAttrs(t, span, want)
			if tt.stream {
				if _, ok := span.Attributes().Get(llmschema.TTFTMillis); !ok {
					t.Error("TTFT missing")
				}
			}
			up := env.upstream.lastRequest()
			if up.path != "/v1/messages" {
				t.Errorf("upstream path %q", up.path)
			}
			projectHeaders := []string{"X-Scorecard-Api-Key", "X-Tracehound-Api-Key"}
			if tt.projectHeader == "" {
				if got := up.header.Get("X-Api-Key"); got != testAnthropic {
					t.Errorf("provider key not forwarded untouched: %q", got)
				}
				projectHeaders = append(projectHeaders, "Authorization")
			} else if got := up.header.Get("Authorization"); got != "Bearer "+testAnthropic {
				t.Errorf("provider key not forwarded untouched: %q", got)
			}
			for _, h := range projectHeaders {
				if v := up.header.Get(h); v != "" {
					t.Errorf("project key header %s forwarded upstream: %q", h, v)
				}
			}
			env.assertNoSecrets()
		})
	}
}

func TestAnthropicMessages_RateLimitPassesThrough(t *testing.T) {
	env := startProxy(t, withAuth())
	c := env.anthropicClient("")
	_, err := c.Messages.New(context.Background(), messageParams("rate-limited"))
	var apiErr *anthropic.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 {
		t.Fatalf("want a 429 API error, got %v", err)
	}
	span := env.onlySpan()
	checkAttrs(t, span, attrWant{
		llmschema.ErrorType:          "rate_limit_error",
		llmschema.HTTPResponseStatus: 429,
	})
	if span.Status().Code() != ptrace.StatusCodeError || span.Status().Message() != "Number of requests has exceeded your rate limit" {
		t.Errorf("status %v %q", span.Status().Code(), span.Status().Message())
	}
}
