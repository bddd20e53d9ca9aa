package llmproxyreceiver

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/client"
)

// BenchmarkStreamRelayParsing is the parsing work the proxy does per streamed chat
// chunk after it has flushed the chunk to the client.
func BenchmarkStreamRelayParsing(b *testing.B) {
	chunk := []byte("data: " + chatChunk(`{"content":" Paris"}`, "") + "\n\n")
	s := &oaChatStream{}
	p := newSSEParser(1<<20, func(event string, data []byte) { s.event(event, data) })
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		p.Feed(chunk)
	}
}

// BenchmarkSpanBuild is the work an emitter worker does per non-streamed chat call.
func BenchmarkSpanBuild(b *testing.B) {
	r := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(chatBody))
	up := &upstream{name: "openai", provider: "openai", host: "api.openai.com", port: 443}
	resp := []byte(`{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"The capital of France is Paris."},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":7,"total_tokens":26}}`)
	b.ReportAllocs()
	for b.Loop() {
		c := newCall(r, routeChat, up, []byte(chatBody), time.Now(), "p", client.Info{})
		c.respBody, c.status, c.end = resp, 200, time.Now()
		_ = c.traces()
	}
}
