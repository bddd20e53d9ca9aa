// Package benchcorpus generates the fixed, seeded corpus of realistic LLM traces that the
// benchmarks send: agent traces with multi-KB prompts, tool calls and retrieval, plus plain calls.
package benchcorpus

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var words = strings.Fields(`the a customer order refund policy shipping invoice account password reset
delivery address warehouse product return window days business support ticket escalation priority
agent tool search database record payment card subscription plan upgrade downgrade cancel renewal
billing period discount coupon region europe america asia latency timeout error retry model answer
question context document retrieval vector embedding score summary translate french german spanish
report quarterly revenue growth forecast budget approval manager team project deadline milestone`)

// Corpus builds a fixed, seeded set of requests so that every system under test gets the
// same bytes.
type Corpus struct {
	rng *rand.Rand
	seq uint64
}

// New returns a corpus for a seed.
func New(seed int64) *Corpus { return &Corpus{rng: rand.New(rand.NewSource(seed))} }

func (c *Corpus) text(minBytes, maxBytes int) string {
	n := minBytes + c.rng.Intn(maxBytes-minBytes+1)
	var b strings.Builder
	b.Grow(n + 16)
	for b.Len() < n {
		b.WriteString(words[c.rng.Intn(len(words))])
		b.WriteByte(' ')
	}
	return b.String()
}

func msgJSON(role, text string) string {
	b, _ := json.Marshal([]map[string]any{{"role": role, "parts": []map[string]any{{"type": "text", "content": text}}}})
	return string(b)
}

// nextTraceID is unique per corpus and run, and looks random, as SDKs make them (W3C trace
// context asks for random IDs): a store that keys by trace ID sees the insert pattern of real
// traffic, not one that only grows at a few points. Both halves are bijective mixes, of the
// sequence number (so IDs of one run differ) and of it with the run tag (so runs differ).
func (c *Corpus) nextTraceID(runTag uint32) pcommon.TraceID {
	c.seq++
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], mix64(c.seq^uint64(runTag)<<32))
	binary.BigEndian.PutUint64(id[8:], mix64(c.seq))
	return id
}

// mix64 is the SplitMix64 finalizer, a bijection of uint64 that scatters its input's bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Batch builds one OTLP request of n traces: 3 of 4 are agent traces of 6 spans (workflow →
// agent → llm call with a 2–8 KB prompt and 0.5–2 KB completion, tool call, retrieval with
// documents, second llm call), 1 of 4 is a plain llm call.
func (c *Corpus) Batch(n int, runTag uint32, ids *[]pcommon.TraceID) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", fmt.Sprintf("bench-svc-%d", c.rng.Intn(4)))
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName("tracehound-bench")
	now := time.Now()
	for t := 0; t < n; t++ {
		tid := c.nextTraceID(runTag)
		if ids != nil {
			*ids = append(*ids, tid)
		}
		var sid byte
		span := func(parent pcommon.SpanID, name string, off, dur time.Duration) ptrace.Span {
			sid++
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(tid)
			s.SetSpanID(pcommon.SpanID{byte(c.seq), byte(c.seq >> 8), byte(c.seq >> 16), 0, 0, 0, 0, sid})
			s.SetParentSpanID(parent)
			s.SetName(name)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(off)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(off + dur)))
			return s
		}
		llm := func(parent pcommon.SpanID, off time.Duration) {
			s := span(parent, "chat gpt-4o-mini", off, 800*time.Millisecond)
			s.SetKind(ptrace.SpanKindClient)
			a := s.Attributes()
			a.PutStr("gen_ai.operation.name", "chat")
			a.PutStr("gen_ai.provider.name", "openai")
			a.PutStr("gen_ai.request.model", "gpt-4o-mini")
			a.PutStr("gen_ai.response.model", "gpt-4o-mini-2024-07-18")
			a.PutInt("gen_ai.usage.input_tokens", int64(500+c.rng.Intn(1500)))
			a.PutInt("gen_ai.usage.output_tokens", int64(100+c.rng.Intn(400)))
			a.PutStr("gen_ai.input.messages", msgJSON("user", c.text(2048, 8192)))
			a.PutStr("gen_ai.output.messages", msgJSON("assistant", c.text(512, 2048)))
			a.PutStr("scorecard.tracing_group_id", fmt.Sprintf("run-%d", c.rng.Intn(20)))
		}
		if t%4 == 3 {
			llm(pcommon.SpanID{}, 0)
			continue
		}
		root := span(pcommon.SpanID{}, "support.workflow", 0, 3*time.Second)
		root.Attributes().PutStr("traceloop.span.kind", "workflow")
		root.Attributes().PutStr("traceloop.entity.input", c.text(100, 300))
		root.Attributes().PutStr("traceloop.association.properties.user_id", fmt.Sprintf("user-%d", c.rng.Intn(100)))
		agent := span(root.SpanID(), "invoke_agent support", 10*time.Millisecond, 2900*time.Millisecond)
		agent.Attributes().PutStr("gen_ai.operation.name", "invoke_agent")
		llm(agent.SpanID(), 20*time.Millisecond)
		tool := span(agent.SpanID(), "execute_tool search_orders", 900*time.Millisecond, 50*time.Millisecond)
		tool.Attributes().PutStr("gen_ai.operation.name", "execute_tool")
		tool.Attributes().PutStr("gen_ai.tool.name", "search_orders")
		tool.Attributes().PutStr("gen_ai.tool.call.arguments", `{"query":"`+c.text(20, 60)+`"}`)
		tool.Attributes().PutStr("gen_ai.tool.call.result", c.text(200, 600))
		ret := span(agent.SpanID(), "retrieve documents", 960*time.Millisecond, 40*time.Millisecond)
		ret.Attributes().PutStr("openinference.span.kind", "RETRIEVER")
		for d := 0; d < 3; d++ {
			ret.Attributes().PutStr(fmt.Sprintf("retrieval.documents.%d.document.content", d), c.text(300, 800))
			ret.Attributes().PutDouble(fmt.Sprintf("retrieval.documents.%d.document.score", d), c.rng.Float64())
		}
		llm(agent.SpanID(), 1010*time.Millisecond)
	}
	return td
}
