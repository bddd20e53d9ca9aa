package e2e

import (
	"bytes"
	"encoding/base64"
	encbin "encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// compatScenarios mirrors e2e/clients/scenarios.json: what every client script asks and
// what the fake LLM server answers, so the checks know the exact numbers the clients saw.
type compatScenarios struct {
	Chat struct {
		Prompt       string `json:"prompt"`
		Answer       string `json:"answer"`
		InputTokens  int64  `json:"input_tokens"`
		OutputTokens int64  `json:"output_tokens"`
	} `json:"chat"`
	Stream struct {
		Prompt       string `json:"prompt"`
		Answer       string `json:"answer"`
		InputTokens  int64  `json:"input_tokens"`
		OutputTokens int64  `json:"output_tokens"`
	} `json:"stream"`
	Responses struct {
		Prompt       string `json:"prompt"`
		Answer       string `json:"answer"`
		InputTokens  int64  `json:"input_tokens"`
		OutputTokens int64  `json:"output_tokens"`
	} `json:"responses"`
	ResponsesStream struct {
		Prompt       string `json:"prompt"`
		Answer       string `json:"answer"`
		InputTokens  int64  `json:"input_tokens"`
		OutputTokens int64  `json:"output_tokens"`
	} `json:"responses_stream"`
	Tools struct {
		Prompt           string  `json:"prompt"`
		ToolName         string  `json:"tool_name"`
		ToolArguments    string  `json:"tool_arguments"`
		ToolResult       string  `json:"tool_result"`
		Answer           string  `json:"answer"`
		CallInputTokens  []int64 `json:"call_input_tokens"`
		CallOutputTokens []int64 `json:"call_output_tokens"`
	} `json:"tools"`
	Embeddings struct {
		Input       string `json:"input"`
		Model       string `json:"model"`
		InputTokens int64  `json:"input_tokens"`
		Dimensions  int    `json:"dimensions"`
	} `json:"embeddings"`
	Error struct {
		Prompt string `json:"prompt"`
		Status int    `json:"status"`
	} `json:"error"`
	ServerError struct {
		Prompt string `json:"prompt"`
		Status int    `json:"status"`
	} `json:"server_error"`
	Anthropic struct {
		System        string `json:"system"`
		Prompt        string `json:"prompt"`
		Answer        string `json:"answer"`
		Model         string `json:"model"`
		ResponseModel string `json:"response_model"`
		InputTokens   int64  `json:"input_tokens"`
		OutputTokens  int64  `json:"output_tokens"`
	} `json:"anthropic"`
	AnthropicStream struct {
		System        string `json:"system"`
		Prompt        string `json:"prompt"`
		Answer        string `json:"answer"`
		Model         string `json:"model"`
		ResponseModel string `json:"response_model"`
		InputTokens   int64  `json:"input_tokens"`
		OutputTokens  int64  `json:"output_tokens"`
	} `json:"anthropic_stream"`
	ChatModel         string `json:"chat_model"`
	ChatResponseModel string `json:"chat_response_model"`
}

func loadCompatScenarios(t *testing.T, path string) *compatScenarios {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s compatScenarios
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &s
}

// fakeLLM is a deterministic OpenAI-compatible server (chat completions with and without
// streaming, tool calls, embeddings, responses with and without streaming; 429/500 on magic
// prompts)
// that also answers Anthropic's /v1/messages (with and without streaming), on 127.0.0.1.
type fakeLLM struct {
	sc       *compatScenarios
	srv      *http.Server
	addr     string
	requests atomic.Int64
	seq      atomic.Int64
}

func startFakeLLM(t *testing.T, sc *compatScenarios) *fakeLLM {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLLM{sc: sc, addr: l.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", f.chat)
	mux.HandleFunc("POST /v1/embeddings", f.embeddings)
	mux.HandleFunc("POST /v1/messages", f.messages)
	mux.HandleFunc("POST /v1/responses", f.responses)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("fake LLM: unexpected request %s %s", r.Method, r.URL.Path)
		openAIError(w, http.StatusNotFound, "not_found", "the fake LLM server does not serve "+r.URL.Path)
	})
	f.srv = &http.Server{Handler: mux}
	go func() { _ = f.srv.Serve(l) }()
	t.Cleanup(func() { _ = f.srv.Close() })
	return f
}

// baseURL is what an OpenAI client takes as its base URL.
func (f *fakeLLM) baseURL() string { return "http://" + f.addr + "/v1" }

type chatRequest struct {
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Tools         []json.RawMessage `json:"tools"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// text flattens a message content that is a string or a list of {type:"text",text} parts.
func messageText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func openAIError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": code, "param": nil, "code": code,
	}})
}

type usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

func mkUsage(in, out int64) usage { return usage{in, out, in + out} }

func (f *fakeLLM) chat(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	var req chatRequest
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("fake LLM: bad chat request: %v: %s", err, body))
		return
	}
	var all strings.Builder
	for _, m := range req.Messages {
		all.WriteString(messageText(m.Content))
		all.WriteByte('\n')
	}
	last := req.Messages[len(req.Messages)-1]
	sc := f.sc
	switch {
	case strings.Contains(all.String(), "TRIGGER_429"):
		openAIError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Rate limit reached for "+req.Model+" (fake server)")
		return
	case strings.Contains(all.String(), "TRIGGER_500"):
		openAIError(w, http.StatusInternalServerError, "server_error", "The server had an error while processing your request (fake server)")
		return
	}
	var (
		content  string
		toolCall bool
		u        usage
	)
	switch {
	case last.Role == "tool":
		content, u = sc.Tools.Answer, mkUsage(sc.Tools.CallInputTokens[1], sc.Tools.CallOutputTokens[1])
	case len(req.Tools) > 0:
		toolCall, u = true, mkUsage(sc.Tools.CallInputTokens[0], sc.Tools.CallOutputTokens[0])
	case strings.Contains(all.String(), sc.Chat.Prompt):
		content, u = sc.Chat.Answer, mkUsage(sc.Chat.InputTokens, sc.Chat.OutputTokens)
	case strings.Contains(all.String(), sc.Stream.Prompt):
		content, u = sc.Stream.Answer, mkUsage(sc.Stream.InputTokens, sc.Stream.OutputTokens)
	default:
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "fake LLM: no scripted answer for: "+all.String())
		return
	}
	n := f.seq.Add(1)
	id := fmt.Sprintf("chatcmpl-fake%04d", n)
	callID := fmt.Sprintf("call_fake%04d", n)
	finish := "stop"
	if toolCall {
		finish = "tool_calls"
	}
	if req.Stream {
		f.streamChat(w, id, callID, content, toolCall, finish, u, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
		return
	}
	msg := map[string]any{"role": "assistant", "content": nil, "refusal": nil}
	if toolCall {
		msg["tool_calls"] = []any{map[string]any{
			"id": callID, "type": "function",
			"function": map[string]any{"name": sc.Tools.ToolName, "arguments": sc.Tools.ToolArguments},
		}}
	} else {
		msg["content"] = content
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": id, "object": "chat.completion", "created": 1764072000, "model": sc.ChatResponseModel,
		"system_fingerprint": "fp_fake",
		"choices":            []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage":              u,
	})
}

func (f *fakeLLM) streamChat(w http.ResponseWriter, id, callID, content string, toolCall bool, finish string, u usage, includeUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fl, _ := w.(http.Flusher)
	send := func(choices []any, u *usage) {
		chunk := map[string]any{
			"id": id, "object": "chat.completion.chunk", "created": 1764072000,
			"model": f.sc.ChatResponseModel, "system_fingerprint": "fp_fake", "choices": choices,
		}
		if includeUsage {
			chunk["usage"] = u
		}
		b, _ := json.Marshal(chunk)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	delta := func(d map[string]any, finish any) []any {
		return []any{map[string]any{"index": 0, "delta": d, "logprobs": nil, "finish_reason": finish}}
	}
	send(delta(map[string]any{"role": "assistant", "content": ""}, nil), nil)
	if toolCall {
		send(delta(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": callID, "type": "function",
			"function": map[string]any{"name": f.sc.Tools.ToolName, "arguments": ""}}}}, nil), nil)
		send(delta(map[string]any{"tool_calls": []any{map[string]any{"index": 0,
			"function": map[string]any{"arguments": f.sc.Tools.ToolArguments}}}}, nil), nil)
	} else {
		words := strings.SplitAfter(content, " ")
		for _, word := range words {
			send(delta(map[string]any{"content": word}, nil), nil)
		}
	}
	send(delta(map[string]any{}, finish), nil)
	if includeUsage {
		send([]any{}, &u)
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (f *fakeLLM) embeddings(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("fake LLM: bad embeddings request: %v", err))
		return
	}
	var inputs []string
	var one string
	if json.Unmarshal(req.Input, &one) == nil {
		inputs = []string{one}
	} else if err := json.Unmarshal(req.Input, &inputs); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "fake LLM: input must be a string or a list of strings")
		return
	}
	sc := f.sc.Embeddings
	data := make([]any, len(inputs))
	for i := range inputs {
		vec := make([]float32, sc.Dimensions)
		for j := range vec {
			vec[j] = float32(j+1) / float32(sc.Dimensions)
		}
		var emb any = vec
		if req.EncodingFormat == "base64" {
			var buf bytes.Buffer
			for _, v := range vec {
				_ = encbin.Write(&buf, encbin.LittleEndian, math.Float32bits(v))
			}
			emb = base64.StdEncoding.EncodeToString(buf.Bytes())
		}
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": emb}
	}
	tokens := sc.InputTokens * int64(len(inputs))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": data, "model": sc.Model,
		"usage": map[string]any{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}

// messages answers Anthropic's Messages API for the anthropic scenario.
func (f *fakeLLM) messages(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	var req struct {
		Model    string          `json:"model"`
		System   json.RawMessage `json:"system"`
		Stream   bool            `json:"stream"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	body, _ := io.ReadAll(r.Body)
	anthropicError := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
	}
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		anthropicError(http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("fake LLM: bad messages request: %v: %s", err, body))
		return
	}
	last := messageText(req.Messages[len(req.Messages)-1].Content)
	sc := f.sc.Anthropic
	switch {
	case !req.Stream && strings.Contains(last, f.sc.Anthropic.Prompt):
	case req.Stream && strings.Contains(last, f.sc.AnthropicStream.Prompt):
		sc = f.sc.AnthropicStream
	default:
		anthropicError(http.StatusBadRequest, "invalid_request_error", "fake LLM: no scripted answer for: "+string(body))
		return
	}
	id := fmt.Sprintf("msg_fake%04d", f.seq.Add(1))
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": sc.ResponseModel,
			"content":     []any{map[string]any{"type": "text", "text": sc.Answer}},
			"stop_reason": "end_turn", "stop_sequence": nil,
			"usage": map[string]any{"input_tokens": sc.InputTokens, "output_tokens": sc.OutputTokens,
				"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
		})
		return
	}
	// Anthropic's event sequence: message_start carries the input tokens and a placeholder
	// output count of 1; message_delta carries the final output count (not an increment).
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	send := func(typ string, fields map[string]any) {
		fields["type"] = typ
		b, _ := json.Marshal(fields)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		if fl != nil {
			fl.Flush()
		}
	}
	send("message_start", map[string]any{"message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": sc.ResponseModel, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]any{"input_tokens": sc.InputTokens, "output_tokens": 1,
			"cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
	}})
	send("content_block_start", map[string]any{"index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	send("ping", map[string]any{})
	for _, word := range strings.SplitAfter(sc.Answer, " ") {
		send("content_block_delta", map[string]any{"index": 0, "delta": map[string]any{"type": "text_delta", "text": word}})
	}
	send("content_block_stop", map[string]any{"index": 0})
	send("message_delta", map[string]any{"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": sc.OutputTokens}})
	send("message_stop", map[string]any{})
}

// responses answers OpenAI's Responses API for the responses scenario.
func (f *fakeLLM) responses(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model  string          `json:"model"`
		Input  json.RawMessage `json:"input"`
		Stream bool            `json:"stream"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		openAIError(w, http.StatusBadRequest, "invalid_request_error", fmt.Sprintf("fake LLM: bad responses request: %v", err))
		return
	}
	var answer string
	var in, out int64
	switch {
	case !req.Stream && strings.Contains(string(req.Input), f.sc.Responses.Prompt):
		answer, in, out = f.sc.Responses.Answer, f.sc.Responses.InputTokens, f.sc.Responses.OutputTokens
	case req.Stream && strings.Contains(string(req.Input), f.sc.ResponsesStream.Prompt):
		answer, in, out = f.sc.ResponsesStream.Answer, f.sc.ResponsesStream.InputTokens, f.sc.ResponsesStream.OutputTokens
	default:
		openAIError(w, http.StatusBadRequest, "invalid_request_error", "fake LLM: no scripted answer for: "+string(body))
		return
	}
	n := f.seq.Add(1)
	respID, msgID := fmt.Sprintf("resp_fake%04d", n), fmt.Sprintf("msg_fake%04d", n)
	textPart := map[string]any{"type": "output_text", "text": answer, "annotations": []any{}}
	message := map[string]any{"type": "message", "id": msgID, "status": "completed", "role": "assistant", "content": []any{textPart}}
	response := func(status string, output []any, usage any) map[string]any {
		return map[string]any{
			"id": respID, "object": "response", "created_at": 1764072000, "status": status,
			"model": f.sc.ChatResponseModel, "error": nil, "incomplete_details": nil, "output": output, "usage": usage,
		}
	}
	usage := map[string]any{
		"input_tokens": in, "input_tokens_details": map[string]any{"cached_tokens": 0},
		"output_tokens": out, "output_tokens_details": map[string]any{"reasoning_tokens": 0},
		"total_tokens": in + out,
	}
	if !req.Stream {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response("completed", []any{message}, usage))
		return
	}
	// The event sequence of a streamed Responses API call with one text message.
	w.Header().Set("Content-Type", "text/event-stream")
	fl, _ := w.(http.Flusher)
	seq := 0
	send := func(typ string, fields map[string]any) {
		fields["type"], fields["sequence_number"] = typ, seq
		seq++
		b, _ := json.Marshal(fields)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", typ, b)
		if fl != nil {
			fl.Flush()
		}
	}
	loc := func(extra map[string]any) map[string]any {
		m := map[string]any{"item_id": msgID, "output_index": 0, "content_index": 0}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	send("response.created", map[string]any{"response": response("in_progress", []any{}, nil)})
	send("response.in_progress", map[string]any{"response": response("in_progress", []any{}, nil)})
	send("response.output_item.added", map[string]any{"output_index": 0,
		"item": map[string]any{"type": "message", "id": msgID, "status": "in_progress", "role": "assistant", "content": []any{}}})
	send("response.content_part.added", loc(map[string]any{"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}}))
	for _, word := range strings.SplitAfter(answer, " ") {
		send("response.output_text.delta", loc(map[string]any{"delta": word, "logprobs": []any{}}))
	}
	send("response.output_text.done", loc(map[string]any{"text": answer, "logprobs": []any{}}))
	send("response.content_part.done", loc(map[string]any{"part": textPart}))
	send("response.output_item.done", map[string]any{"output_index": 0, "item": message})
	send("response.completed", map[string]any{"response": response("completed", []any{message}, usage)})
}
