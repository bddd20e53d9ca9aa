package llmproxyreceiver

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type sseEvent struct{ event, data string }

func parseAll(input string, limit int, chunks ...int) ([]sseEvent, bool) {
	var got []sseEvent
	p := newSSEParser(limit, func(event string, data []byte) {
		got = append(got, sseEvent{event, string(data)})
	})
	rest := input
	for _, n := range chunks {
		if n > len(rest) {
			n = len(rest)
		}
		p.Feed([]byte(rest[:n]))
		rest = rest[n:]
	}
	p.Feed([]byte(rest))
	p.Close()
	return got, p.overflow
}

func TestSSEParser_Events(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []sseEvent
	}{
		{"openai data lines", "data: {\"a\":1}\n\ndata: [DONE]\n\n", []sseEvent{{"message", `{"a":1}`}, {"message", "[DONE]"}}},
		{"anthropic named events", "event: message_start\ndata: {}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n", []sseEvent{{"message_start", "{}"}, {"ping", `{"type":"ping"}`}}},
		{"CRLF line endings", "event: x\r\ndata: 1\r\n\r\n", []sseEvent{{"x", "1"}}},
		{"CR line endings", "data: 1\r\rdata: 2\r\r", []sseEvent{{"message", "1"}, {"message", "2"}}},
		{"multi-line data joined with LF", "data: a\ndata: b\n\n", []sseEvent{{"message", "a\nb"}}},
		{"comments and unknown fields ignored", ": keep-alive\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n", []sseEvent{{"message", "x"}}},
		{"no space after colon", "data:x\n\n", []sseEvent{{"message", "x"}}},
		{"only one leading space is stripped", "data:  x\n\n", []sseEvent{{"message", " x"}}},
		{"field without colon", "data\n\n", []sseEvent{{"message", ""}}},
		{"blank line without data dispatches nothing", "event: x\n\n\n", nil},
		{"event name resets after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", []sseEvent{{"a", "1"}, {"message", "2"}}},
		{"truncated stream still yields its last event", "data: 1\n\ndata: 2", []sseEvent{{"message", "1"}, {"message", "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole, _ := parseAll(tt.input, 1<<20)
			if !reflect.DeepEqual(whole, tt.want) {
				t.Fatalf("got %q, want %q", whole, tt.want)
			}
			for split := 1; split < len(tt.input); split++ {
				got, _ := parseAll(tt.input, 1<<20, split)
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("split at %d: got %q, want %q", split, got, tt.want)
				}
			}
			ones := make([]int, len(tt.input))
			for i := range ones {
				ones[i] = 1
			}
			if got, _ := parseAll(tt.input, 1<<20, ones...); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("byte by byte: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSSEParser_OverflowStopsParsing(t *testing.T) {
	input := "data: small\n\ndata: " + strings.Repeat("x", 100) + "\n\ndata: after\n\n"
	got, overflow := parseAll(input, 64, 7, 13)
	if !overflow {
		t.Fatal("overflow not reported")
	}
	if want := []sseEvent{{"message", "small"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// FuzzSSEParser checks that the parser never panics, never exceeds its limit, and
// yields the same events however the stream is cut into reads.
func FuzzSSEParser(f *testing.F) {
	f.Add("data: {\"a\":1}\n\ndata: [DONE]\n\n", 3, 9)
	f.Add("event: message_start\r\ndata: {}\r\n\r\n: c\r\rdata:x\r", 1, 2)
	f.Add("data: a\ndata: b\n\nevent:\ndata\n\n", 5, 0)
	f.Fuzz(func(t *testing.T, input string, a, b int) {
		const limit = 256
		whole, overflowWhole := parseAll(input, limit)
		if a < 0 {
			a = -a
		}
		if b < 0 {
			b = -b
		}
		split, overflowSplit := parseAll(input, limit, a%(len(input)+1), b%(len(input)+1))
		if overflowWhole != overflowSplit {
			t.Fatalf("overflow differs: whole %v, split %v", overflowWhole, overflowSplit)
		}
		if !overflowWhole && !reflect.DeepEqual(whole, split) {
			t.Fatalf("events depend on read boundaries:\nwhole %q\nsplit %q", whole, split)
		}
		for _, e := range whole {
			if len(e.data) > limit {
				t.Fatalf("event of %d bytes passed a %d byte limit", len(e.data), limit)
			}
			if strings.ContainsAny(e.event, "\r\n") {
				t.Fatalf("event name holds a line break: %q", e.event)
			}
		}
	})
}

func TestParseTraceparent(t *testing.T) {
	tests := []struct {
		in        string
		wantTrace string
		wantSpan  string
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "", ""},
		{"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", ""},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", ""},
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", "", ""},
		{"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "", ""},
		{"garbage", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			tid, sid := parseTraceparent(tt.in)
			gotTrace, gotSpan := "", ""
			if !tid.IsEmpty() {
				gotTrace, gotSpan = tid.String(), sid.String()
			}
			if gotTrace != tt.wantTrace || gotSpan != tt.wantSpan {
				t.Errorf("got %q/%q, want %q/%q", gotTrace, gotSpan, tt.wantTrace, tt.wantSpan)
			}
		})
	}
}

// FuzzStreamAssemblers feeds arbitrary event streams to every assembler: whatever an
// upstream sends, assembling and building the span must not panic.
func FuzzStreamAssemblers(f *testing.F) {
	f.Add("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":3,\"function\":{\"arguments\":\"{\"}}]}}]}\n\n")
	f.Add("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":-1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"[\"}}\n\n")
	f.Add("event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"failed\",\"output\":[{\"type\":\"function_call\"}]}}\n\n")
	f.Fuzz(func(t *testing.T, stream string) {
		for _, kind := range []routeKind{routeChat, routeCompletions, routeResponses, routeMessages} {
			c := &call{kind: kind, status: 200, streaming: true, upstream: &upstream{name: "u", provider: "u"}}
			c.assembler = c.newAssembler()
			p := newSSEParser(1<<16, func(event string, data []byte) { c.assembler.event(event, data) })
			p.Feed([]byte(stream))
			p.Close()
			td := c.traces()
			if td.SpanCount() != 1 {
				t.Fatalf("%d spans", td.SpanCount())
			}
		}
	})
}
