package llmproxyreceiver

import (
	"encoding/json"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

func messagesJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseRequest_ConversationsBecomeSemconvMessages(t *testing.T) {
	tests := []struct {
		name       string
		kind       routeKind
		body       string
		wantSystem string
		wantInput  string
		wantText   string
		wantParams func(requestParams) bool
	}{
		{
			name: "openai tool round trip, image parts and developer role",
			kind: routeChat,
			body: `{"model":"gpt-4o","max_completion_tokens":99,"stop":"END","n":2,"seed":7,
				"messages":[
				{"role":"developer","content":[{"type":"text","text":"Be exact."}]},
				{"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
				{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
				{"role":"tool","tool_call_id":"c1","content":"18C"},
				{"role":"user","content":"And tomorrow?"}]}`,
			wantSystem: `[{"type":"text","content":"Be exact."}]`,
			wantInput:  `[{"role":"user","parts":[{"type":"text","content":"Weather?"},{"type":"blob","mime_type":"image/png","modality":"image"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"c1","name":"get_weather","arguments":{"city":"Paris"}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"c1","response":"18C"}]},{"role":"user","parts":[{"type":"text","content":"And tomorrow?"}]}]`,
			wantText:   "And tomorrow?",
			wantParams: func(p requestParams) bool {
				return *p.maxTokens == 99 && len(p.stop) == 1 && p.stop[0] == "END" && *p.choiceCount == 2 && *p.seed == 7
			},
		},
		{
			name: "responses api items",
			kind: routeResponses,
			body: `{"model":"gpt-4o","instructions":"Be brief.","max_output_tokens":20,"input":[
				{"role":"user","content":[{"type":"input_text","text":"Weather?"}]},
				{"type":"function_call","call_id":"c2","name":"get_weather","arguments":"{}"},
				{"type":"function_call_output","call_id":"c2","output":"sunny"}]}`,
			wantSystem: `[{"type":"text","content":"Be brief."}]`,
			wantInput:  `[{"role":"user","parts":[{"type":"text","content":"Weather?"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"c2","name":"get_weather","arguments":{}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"c2","response":"sunny"}]}]`,
			wantText:   "Weather?",
			wantParams: func(p requestParams) bool { return *p.maxTokens == 20 },
		},
		{
			name: "anthropic tool_result turn and image source",
			kind: routeMessages,
			body: `{"model":"claude-sonnet-4-5","max_tokens":512,"top_k":40,"system":[{"type":"text","text":"Terse."}],
				"messages":[
				{"role":"user","content":[{"type":"text","text":"Weather?"},{"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAAA"}}]},
				{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}}]},
				{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"18C"}]}]}]}`,
			wantSystem: `[{"type":"text","content":"Terse."}]`,
			wantInput:  `[{"role":"user","parts":[{"type":"text","content":"Weather?"},{"type":"blob","mime_type":"image/jpeg","modality":"image"}]},{"role":"assistant","parts":[{"type":"tool_call","id":"t1","name":"get_weather","arguments":{"city":"Paris"}}]},{"role":"tool","parts":[{"type":"tool_call_response","id":"t1","response":"18C"}]}]`,
			wantText:   "Weather?",
			wantParams: func(p requestParams) bool { return *p.maxTokens == 512 && *p.topK == 40 },
		},
		{
			name:       "malformed body leaves the exchange empty",
			kind:       routeChat,
			body:       `{"model":`,
			wantParams: func(p requestParams) bool { return p.maxTokens == nil },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &call{kind: tt.kind, reqBody: []byte(tt.body)}
			ex := c.exchange()
			if tt.wantSystem != "" {
				if got := messagesJSON(t, ex.systemInstructions); got != tt.wantSystem {
					t.Errorf("system\n got %s\nwant %s", got, tt.wantSystem)
				}
			}
			if tt.wantInput != "" {
				if got := messagesJSON(t, ex.inputMessages); got != tt.wantInput {
					t.Errorf("input\n got %s\nwant %s", got, tt.wantInput)
				}
			}
			if ex.inputText != tt.wantText {
				t.Errorf("input text %q, want %q", ex.inputText, tt.wantText)
			}
			if !tt.wantParams(ex.params) {
				t.Errorf("params %+v", ex.params)
			}
		})
	}
}

func TestOpenAIStream_ParallelChoicesAndToolCalls(t *testing.T) {
	s := &oaChatStream{}
	for _, ev := range []string{
		`{"id":"x","model":"m","choices":[{"index":1,"delta":{"role":"assistant","content":"B"}},{"index":0,"delta":{"role":"assistant","content":"A"}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"t2","function":{"name":"g","arguments":"{}"}},{"index":0,"id":"t1","function":{"name":"f","arguments":"{\"a\""}}]}}]}`,
		`{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":":1}"}}]},"finish_reason":"tool_calls"},{"index":1,"delta":{},"finish_reason":"stop"}]}`,
		`[DONE]`,
	} {
		s.event("message", []byte(ev))
	}
	if !s.done() {
		t.Error("[DONE] not seen")
	}
	ex := &exchange{}
	s.finish(ex)
	want := `[{"role":"assistant","parts":[{"type":"text","content":"A"},{"type":"tool_call","id":"t1","name":"f","arguments":{"a":1}},{"type":"tool_call","id":"t2","name":"g","arguments":{}}],"finish_reason":"tool_calls"},{"role":"assistant","parts":[{"type":"text","content":"B"}],"finish_reason":"stop"}]`
	if got := messagesJSON(t, ex.outputMessages); got != want {
		t.Errorf("output\n got %s\nwant %s", got, want)
	}
	if messagesJSON(t, ex.finishReasons) != `["tool_calls","stop"]` || ex.outputText != "A" {
		t.Errorf("finish %v text %q", ex.finishReasons, ex.outputText)
	}
}

func TestScrubSecret(t *testing.T) {
	got := scrubSecret("Incorrect API key provided: sk-proj-abc***wxyz. Also my-secret-token-123 leaked", "my-secret-token-123")
	want := "Incorrect API key provided: [REDACTED]. Also [REDACTED] leaked"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStreamErrorEvents_MarkTheSpanFailed(t *testing.T) {
	tests := []struct {
		name     string
		kind     routeKind
		stream   string
		wantType string
		wantMsg  string
	}{
		{
			name:     "anthropic overloaded mid-stream",
			kind:     routeMessages,
			stream:   "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\",\"usage\":{\"input_tokens\":3}}}\n\nevent: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
			wantType: "overloaded_error",
			wantMsg:  "Overloaded",
		},
		{
			name:     "openai error object in a chunk",
			kind:     routeChat,
			stream:   "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n",
			wantType: "server_error",
			wantMsg:  "The server had an error",
		},
		{
			name:     "responses api failed response",
			kind:     routeResponses,
			stream:   "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"r\",\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"},\"output\":[]}}\n\n",
			wantType: "server_error",
			wantMsg:  "boom",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &call{kind: tt.kind, status: 200, streaming: true, upstream: &upstream{name: "u", provider: "u"}}
			c.assembler = c.newAssembler()
			p := newSSEParser(1<<16, func(event string, data []byte) { c.assembler.event(event, data) })
			p.Feed([]byte(tt.stream))
			p.Close()
			span := c.traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
			checkAttrs(t, span, attrWant{"error.type": tt.wantType})
			if span.Status().Code() != ptrace.StatusCodeError || span.Status().Message() != tt.wantMsg {
				t.Errorf("status %v %q", span.Status().Code(), span.Status().Message())
			}
		})
	}
}
