package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/anthropics/anthropic-sdk-go/v2"
	anthropicoption "github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"
)

// runGoProxyClient is the Go client of the matrix: the official openai-go and
// anthropic-sdk-go clients pointed at tracehound's llmproxy receiver, which forwards to the
// fake LLM server. As the receiver's README tells a user, the only changes are the base URL
// and the x-tracehound-api-key header; the run, user and session travel in x-tracehound-*
// headers, and a traceparent header (what an instrumented app propagates) puts the two calls
// of the tool scenario into one trace and tells the test each scenario's trace ID.
func (h *compatHarness) runGoProxyClient(cl compatClient, key string) (map[string]scenarioReport, error) {
	ctx := context.Background()
	sc := h.sc
	common := func(traceID string) []option.RequestOption {
		return []option.RequestOption{
			option.WithBaseURL("http://" + h.proxyAddr + "/v1/"),
			option.WithAPIKey("sk-fake"),
			option.WithMaxRetries(0),
			option.WithHeader("x-tracehound-api-key", key),
			option.WithHeader("x-tracehound-run-id", compatRunID(cl)),
			option.WithHeader("x-tracehound-user-id", "user-compat"),
			option.WithHeader("x-tracehound-session-id", "session-compat"),
			option.WithHeader("traceparent", "00-"+traceID+"-"+randomHex(8)+"-01"),
		}
	}
	anthropicOpts := func(traceID string) []anthropicoption.RequestOption {
		return []anthropicoption.RequestOption{
			anthropicoption.WithBaseURL("http://" + h.proxyAddr + "/"),
			anthropicoption.WithAPIKey("sk-ant-fake"),
			anthropicoption.WithMaxRetries(0),
			anthropicoption.WithHeader("x-tracehound-api-key", key),
			anthropicoption.WithHeader("x-tracehound-run-id", compatRunID(cl)),
			anthropicoption.WithHeader("x-tracehound-user-id", "user-compat"),
			anthropicoption.WithHeader("x-tracehound-session-id", "session-compat"),
			anthropicoption.WithHeader("traceparent", "00-"+traceID+"-"+randomHex(8)+"-01"),
		}
	}
	oa := func(traceID string) *openai.Client {
		c := openai.NewClient(common(traceID)...)
		return &c
	}
	model := shared.ChatModel(sc.ChatModel)
	user := func(prompt string) openai.ChatCompletionNewParams {
		return openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)}}
	}
	scriptedStatus := func(err error, want int) error {
		var apiErr *openai.Error
		if errors.As(err, &apiErr) && apiErr.StatusCode == want {
			return nil
		}
		return fmt.Errorf("want HTTP %d from the proxy, got %v", want, err)
	}
	steps := []struct {
		name string
		run  func(traceID string) error
	}{
		{"chat", func(tid string) error {
			_, err := oa(tid).Chat.Completions.New(ctx, user(sc.Chat.Prompt))
			return err
		}},
		{"stream", func(tid string) error {
			params := user(sc.Stream.Prompt)
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			stream := oa(tid).Chat.Completions.NewStreaming(ctx, params)
			for stream.Next() {
				_ = stream.Current()
			}
			return stream.Err()
		}},
		{"responses", func(tid string) error {
			_, err := oa(tid).Responses.New(ctx, responses.ResponseNewParams{
				Model: shared.ResponsesModel(sc.ChatModel),
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(sc.Responses.Prompt)},
			})
			return err
		}},
		{"responses_stream", func(tid string) error {
			stream := oa(tid).Responses.NewStreaming(ctx, responses.ResponseNewParams{
				Model: shared.ResponsesModel(sc.ChatModel),
				Input: responses.ResponseNewParamsInputUnion{OfString: openai.String(sc.ResponsesStream.Prompt)},
			})
			for stream.Next() {
				_ = stream.Current()
			}
			return stream.Err()
		}},
		{"tools", func(tid string) error {
			c := oa(tid)
			params := user(sc.Tools.Prompt)
			params.Tools = []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
				Name:        sc.Tools.ToolName,
				Description: openai.String("Current weather in a city"),
				Parameters: shared.FunctionParameters{"type": "object",
					"properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
			})}
			first, err := c.Chat.Completions.New(ctx, params)
			if err != nil {
				return err
			}
			msg := first.Choices[0].Message
			if len(msg.ToolCalls) != 1 {
				return fmt.Errorf("want one tool call, got %+v", msg)
			}
			params.Messages = append(params.Messages, msg.ToParam(), openai.ToolMessage(sc.Tools.ToolResult, msg.ToolCalls[0].ID))
			_, err = c.Chat.Completions.New(ctx, params)
			return err
		}},
		{"embeddings", func(tid string) error {
			_, err := oa(tid).Embeddings.New(ctx, openai.EmbeddingNewParams{
				Model: openai.EmbeddingModel(sc.Embeddings.Model),
				Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String(sc.Embeddings.Input)},
			})
			return err
		}},
		{"anthropic", func(tid string) error {
			a := sc.Anthropic
			c := anthropic.NewClient(anthropicOpts(tid)...)
			_, err := c.Messages.New(ctx, anthropic.MessageNewParams{
				Model:     anthropic.Model(a.Model),
				MaxTokens: 64,
				System:    []anthropic.TextBlockParam{{Text: a.System}},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(a.Prompt))},
			})
			return err
		}},
		{"anthropic_stream", func(tid string) error {
			a := sc.AnthropicStream
			c := anthropic.NewClient(anthropicOpts(tid)...)
			stream := c.Messages.NewStreaming(ctx, anthropic.MessageNewParams{
				Model:     anthropic.Model(a.Model),
				MaxTokens: 64,
				System:    []anthropic.TextBlockParam{{Text: a.System}},
				Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(a.Prompt))},
			})
			for stream.Next() {
				_ = stream.Current()
			}
			return stream.Err()
		}},
		{"error", func(tid string) error {
			_, err := oa(tid).Chat.Completions.New(ctx, user(sc.Error.Prompt))
			return scriptedStatus(err, http.StatusTooManyRequests)
		}},
		{"server_error", func(tid string) error {
			_, err := oa(tid).Chat.Completions.New(ctx, user(sc.ServerError.Prompt))
			return scriptedStatus(err, http.StatusInternalServerError)
		}},
	}
	reports := map[string]scenarioReport{}
	for _, st := range steps {
		tid := randomHex(16)
		if err := st.run(tid); err != nil {
			h.t.Logf("%s/%s: %v", cl.ID, st.name, err)
			return nil, fmt.Errorf("the %s call through the proxy failed; the error is in the test log", st.name)
		}
		reports[st.name] = scenarioReport{traceIDs: []string{tid}}
	}
	return reports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
