package llmproxyreceiver

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeUpstream plays OpenAI and Anthropic on 127.0.0.1. The model name in the request
// picks the behaviour, so the real SDKs can drive every case.
type fakeUpstream struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []recordedRequest

	// release lets a "slow-stream" response send its remaining chunks.
	release chan struct{}
	// cancelled is closed when a "hang-stream" request sees its context end.
	cancelled chan struct{}
	// lastChunkSent is when a streaming response wrote its final chunk.
	lastChunkSent time.Time
}

type recordedRequest struct {
	method, path, rawQuery string
	header                 http.Header
	body                   []byte
}

func newFakeUpstream(t *testing.T) *fakeUpstream {
	f := &fakeUpstream{t: t, release: make(chan struct{}), cancelled: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeUpstream) URL() string { return f.srv.URL }

func (f *fakeUpstream) lastRequest() recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		f.t.Fatal("upstream received no request")
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeUpstream) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recordedRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
	f.mu.Unlock()

	var req struct {
		Model         string `json:"model"`
		Stream        bool   `json:"stream"`
		StreamOptions *struct {
			IncludeUsage bool `json:"include_usage"`
		} `json:"stream_options"`
	}
	_ = json.Unmarshal(body, &req)
	includeUsage := req.StreamOptions != nil && req.StreamOptions.IncludeUsage

	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/models":
		writeJSON(w, 200, `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"openai"}]}`)
	case req.Model == "rate-limited":
		w.Header().Set("Retry-After", "7")
		if r.URL.Path == "/v1/messages" {
			writeJSON(w, 429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}`)
			return
		}
		writeJSON(w, 429, `{"error":{"message":"Rate limit reached for gpt-4o-mini","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
	case req.Model == "no-answer":
		<-r.Context().Done()
	case req.Model == "gzip-model":
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			writeJSON(w, 400, `{"error":{"message":"expected gzip","type":"invalid_request_error","code":null}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		_, _ = io.WriteString(zw, `{"id":"chatcmpl-gz","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"compressed answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`)
		_ = zw.Close()
	case req.Model == "abort-stream":
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: "+chatChunk(`{"role":"assistant","content":"partial"}`, "")+"\n\n")
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	case req.Model == "broken":
		writeJSON(w, 500, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}`)
	case req.Model == "bad-key":
		writeJSON(w, 401, `{"error":{"message":"Incorrect API key provided: sk-test-********************1234.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
	case r.URL.Path == "/v1/chat/completions" && req.Stream:
		f.chatStream(w, r, req.Model, includeUsage)
	case r.URL.Path == "/v1/chat/completions":
		f.chat(w, req.Model)
	case r.URL.Path == "/v1/completions" && req.Stream:
		f.sse(w, r, []string{
			`{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"Paris","finish_reason":null}]}`,
			`{"id":"cmpl-1","object":"text_completion","model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":" it is.","finish_reason":"stop"}]}`,
			`[DONE]`,
		}, "")
	case r.URL.Path == "/v1/completions":
		writeJSON(w, 200, `{"id":"cmpl-1","object":"text_completion","created":1,"model":"gpt-3.5-turbo-instruct","choices":[{"index":0,"text":"Paris it is.","finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}}`)
	case r.URL.Path == "/v1/embeddings":
		writeJSON(w, 200, `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2,0.3]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":6,"total_tokens":6}}`)
	case r.URL.Path == "/v1/responses" && req.Stream:
		f.sse(w, r, []string{
			`{"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","created_at":1,"status":"in_progress","model":"gpt-4o-2024-08-06","output":[]}}`,
			`{"type":"response.output_text.delta","sequence_number":1,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Paris"}`,
			`{"type":"response.output_text.delta","sequence_number":2,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"."}`,
			`{"type":"response.completed","sequence_number":3,"response":` + responsesObject + `}`,
		}, "responses")
	case r.URL.Path == "/v1/responses":
		writeJSON(w, 200, responsesObject)
	case r.URL.Path == "/v1/messages" && req.Stream:
		f.messagesStream(w, r, req.Model)
	case r.URL.Path == "/v1/messages":
		f.messages(w, req.Model)
	default:
		writeJSON(w, 200, fmt.Sprintf(`{"passthrough":true,"path":%q}`, r.URL.Path))
	}
}

const responsesObject = `{"id":"resp_1","object":"response","created_at":1,"status":"completed","model":"gpt-4o-2024-08-06","output":[{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Paris.","annotations":[]}]}],"usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":2},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":15},"parallel_tool_calls":true,"tool_choice":"auto","tools":[],"temperature":1,"top_p":1,"instructions":null,"metadata":{},"text":{"format":{"type":"text"}},"truncation":"disabled","error":null,"incomplete_details":null}`

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_fake")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (f *fakeUpstream) chat(w http.ResponseWriter, model string) {
	if model == "tool-model" {
		writeJSON(w, 200, `{"id":"chatcmpl-tool","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls","logprobs":null}],"usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30}}`)
		return
	}
	writeJSON(w, 200, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris.","refusal":null},"finish_reason":"stop","logprobs":null}],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26,"prompt_tokens_details":{"cached_tokens":4}}}`)
}

func chatChunk(delta string, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return `{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + fr + `,"logprobs":null}]}`
}

func (f *fakeUpstream) chatStream(w http.ResponseWriter, r *http.Request, model string, includeUsage bool) {
	var chunks []string
	switch model {
	case "tool-model":
		chunks = []string{
			chatChunk(`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"get_weather","arguments":""}}]}`, ""),
			chatChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"ci"}}]}`, ""),
			chatChunk(`{"tool_calls":[{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]}`, ""),
			chatChunk(`{}`, "tool_calls"),
		}
	default:
		chunks = []string{
			chatChunk(`{"role":"assistant","content":""}`, ""),
			chatChunk(`{"content":"The capital"}`, ""),
			chatChunk(`{"content":" of France"}`, ""),
			chatChunk(`{"content":" is Paris."}`, ""),
			chatChunk(`{}`, "stop"),
		}
	}
	if includeUsage {
		chunks = append(chunks, `{"id":"chatcmpl-2","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26}}`)
	}
	chunks = append(chunks, "[DONE]")
	f.sse(w, r, chunks, model)
}

func (f *fakeUpstream) messages(w http.ResponseWriter, model string) {
	if model == "tool-model" {
		writeJSON(w, 200, `{"id":"msg_tool","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":30,"output_tokens":12}}`)
		return
	}
	writeJSON(w, 200, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"Paris is the capital."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":10,"output_tokens":6,"cache_creation_input_tokens":3,"cache_read_input_tokens":5}}`)
}

func (f *fakeUpstream) messagesStream(w http.ResponseWriter, r *http.Request, model string) {
	events := []string{
		`event: message_start` + "\n" + `data: {"type":"message_start","message":{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":7,"cache_creation_input_tokens":0}}}`,
		`event: ping` + "\n" + `data: {"type":"ping"}`,
		`event: content_block_start` + "\n" + `data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Checking"}}`,
		`event: content_block_delta` + "\n" + `data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather."}}`,
		`event: content_block_stop` + "\n" + `data: {"type":"content_block_stop","index":0}`,
	}
	stop := "end_turn"
	if model == "tool-model" {
		stop = "tool_use"
		events = append(events,
			`event: content_block_start`+"\n"+`data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_2","name":"get_weather","input":{}}}`,
			`event: content_block_delta`+"\n"+`data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}}`,
			`event: content_block_delta`+"\n"+`data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}}`,
			`event: content_block_stop`+"\n"+`data: {"type":"content_block_stop","index":1}`,
		)
	}
	events = append(events,
		`event: message_delta`+"\n"+`data: {"type":"message_delta","delta":{"stop_reason":"`+stop+`","stop_sequence":null},"usage":{"output_tokens":15}}`,
		`event: message_stop`+"\n"+`data: {"type":"message_stop"}`,
	)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	for i, e := range events {
		if i == len(events)-1 {
			f.stampLastChunk()
		}
		_, _ = io.WriteString(w, e+"\n\n")
		_ = rc.Flush()
	}
	_ = r
}

// stampLastChunk records when a streaming response starts writing its final chunk.
// It is taken before the write: once the bytes are flushed the client can finish
// reading the stream before this handler runs another line.
func (f *fakeUpstream) stampLastChunk() {
	f.mu.Lock()
	f.lastChunkSent = time.Now()
	f.mu.Unlock()
}

// sse writes chunks as data events. mode "slow-stream" holds everything after the
// first chunk until release is closed; "hang-stream" sends one chunk and then waits
// for the request to be cancelled.
func (f *fakeUpstream) sse(w http.ResponseWriter, r *http.Request, chunks []string, mode string) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(200)
	rc := http.NewResponseController(w)
	for i, c := range chunks {
		if mode == "responses" {
			var ev struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal([]byte(c), &ev)
			_, _ = io.WriteString(w, "event: "+ev.Type+"\n")
		}
		if i == len(chunks)-1 {
			f.stampLastChunk()
		}
		_, _ = io.WriteString(w, "data: "+c+"\n\n")
		_ = rc.Flush()
		if i == 1 {
			switch mode {
			case "slow-stream":
				select {
				case <-f.release:
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Second):
					return
				}
			case "hang-stream":
				<-r.Context().Done()
				close(f.cancelled)
				return
			}
		}
	}
}

func (f *fakeUpstream) headerValues(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		out = append(out, r.header.Values(name)...)
	}
	return out
}

func bodyContains(r recordedRequest, s string) bool { return strings.Contains(string(r.body), s) }
