package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// The XSS probes the UI must show as text and never run.
const (
	uiXSSImg    = `<img src=x onerror=window.__xss=1>`
	uiXSSScript = `<script>window.__xss=1</script>`
)

// uiData is what seedUIData sent.
type uiData struct {
	capital, failed, flagged, xss, big string
	proxied                            string // an LLM call through the proxy, with text but no message lists
	total                              int    // records
	errors                             int    // records with status error, as the server classified them
	bigSpans                           int
	// newest is the start of the newest record; the agent, failed, flagged and XSS traces
	// started 0, 2, 4 and 6 minutes before it, the proxied one 8.5, the ordinary ones 10 or more.
	newest time.Time
}

// uiSpan is one span of a seeded trace; parent is an index into the trace's specs (-1: root).
type uiSpan struct {
	name     string
	parent   int
	offset   time.Duration
	duration time.Duration
	attrs    map[string]any
	err      string
}

type uiTrace struct {
	service string
	start   time.Time
	spans   []uiSpan
}

func uiMessages(msgs ...map[string]any) string {
	b, err := json.Marshal(msgs)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func uiTextMsg(role, text string) map[string]any {
	return map[string]any{"role": role, "parts": []any{map[string]any{"type": "text", "content": text}}}
}

// uiLLMAttrs are the attributes of a chat call in OTel GenAI semconv plus tracehound's
// canonical keys, so the record looks the same with or without llmextract in the pipeline.
// Other spans carry a convention's kind (Traceloop, OpenInference) for the same reason.
func uiLLMAttrs(model, in, out string, inTok, outTok int, cost float64, extra map[string]any) map[string]any {
	a := map[string]any{
		"gen_ai.operation.name":      "chat",
		"gen_ai.provider.name":       "openai",
		"gen_ai.request.model":       model,
		"gen_ai.response.model":      model,
		"gen_ai.usage.input_tokens":  inTok,
		"gen_ai.usage.output_tokens": outTok,
		"gen_ai.input.messages":      uiMessages(uiTextMsg("user", in)),
		"gen_ai.output.messages":     uiMessages(uiTextMsg("assistant", out)),
		"tracehound.span.kind":       "llm",
		"tracehound.llm.call":        true,
		"tracehound.input":           in,
		"tracehound.output":          out,
		"tracehound.cost.usd":        cost,
	}
	for k, v := range extra {
		a[k] = v
	}
	return a
}

func uiPutAttr(m pcommon.Map, k string, v any) {
	switch x := v.(type) {
	case string:
		m.PutStr(k, x)
	case int:
		m.PutInt(k, int64(x))
	case float64:
		m.PutDouble(k, x)
	case bool:
		m.PutBool(k, x)
	default:
		panic(fmt.Sprintf("attribute %s: unsupported %T", k, v))
	}
}

var uiTraceSeq byte

// uiBuild turns specs into OTLP traces and returns the trace IDs.
func uiBuild(td ptrace.Traces, specs ...uiTrace) []string {
	var ids []string
	for _, ts := range specs {
		uiTraceSeq++
		tid := pcommon.TraceID{0x0e, 0x2e, uiTraceSeq, byte(len(ts.spans) >> 8), byte(len(ts.spans)), 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, uiTraceSeq}
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", ts.service)
		ss := rs.ScopeSpans().AppendEmpty()
		ss.Scope().SetName("tracehound-ui-e2e")
		for i, sp := range ts.spans {
			s := ss.Spans().AppendEmpty()
			s.SetTraceID(tid)
			s.SetSpanID(pcommon.SpanID{uiTraceSeq, byte(i >> 16), byte(i >> 8), byte(i), 0xaa, 0xbb, 0xcc, 0xdd})
			if sp.parent >= 0 {
				p := sp.parent
				s.SetParentSpanID(pcommon.SpanID{uiTraceSeq, byte(p >> 16), byte(p >> 8), byte(p), 0xaa, 0xbb, 0xcc, 0xdd})
			}
			s.SetName(sp.name)
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(ts.start.Add(sp.offset)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(ts.start.Add(sp.offset + sp.duration)))
			for k, v := range sp.attrs {
				uiPutAttr(s.Attributes(), k, v)
			}
			if sp.err != "" {
				s.Status().SetCode(ptrace.StatusCodeError)
				s.Status().SetMessage(sp.err)
			}
		}
		ids = append(ids, tid.String())
	}
	return ids
}

// uiPostTraces sends traces as OTLP/JSON with the default project's key.
func uiPostTraces(t *testing.T, c *collector, td ptrace.Traces) {
	t.Helper()
	body, err := (&ptrace.JSONMarshaler{}).MarshalTraces(td)
	if err != nil {
		t.Fatal(err)
	}
	if code := c.post("/v1/traces", "application/json", body, c.bearer()); code != http.StatusOK {
		t.Fatalf("OTLP/JSON: status %d", code)
	}
}

// seedUIData sends a realistic mix: an agent trace with a tool call, a failed trace, a
// flagged one, one whose prompt and answer are XSS probes, a 5,000-span trace and enough
// ordinary records to need a second page.
func seedUIData(t *testing.T, c *collector) uiData {
	t.Helper()
	now := time.Now().Add(-time.Minute).Truncate(time.Second)
	d := uiData{newest: now}

	// The agent conversation: system prompt, user question, a tool call and its result, answer.
	convIn := uiMessages(
		uiTextMsg("user", "What is the capital of France?"),
		map[string]any{"role": "assistant", "parts": []any{map[string]any{"type": "tool_call", "id": "call_1", "name": "lookup_capital", "arguments": map[string]any{"country": "France"}}}},
		map[string]any{"role": "tool", "parts": []any{map[string]any{"type": "tool_call_response", "id": "call_1", "response": map[string]any{"capital": "Paris"}}}},
	)
	capital := uiTrace{service: "quiz-agent", start: now, spans: []uiSpan{
		{name: "capital_quiz.workflow", parent: -1, duration: 2300 * time.Millisecond, attrs: map[string]any{
			"traceloop.span.kind": "workflow", "tracehound.span.kind": "workflow", "tracehound.run.id": "batch-job-123", "user.id": "user-42", "session.id": "sess-1",
			"tracehound.metadata.workflow": "capital_quiz", "tracehound.input": "What is the capital of France?", "tracehound.output": "The capital of France is Paris.",
		}},
		{name: "invoke_agent quiz", parent: 0, offset: 20 * time.Millisecond, duration: 2250 * time.Millisecond, attrs: map[string]any{"tracehound.span.kind": "agent", "gen_ai.operation.name": "invoke_agent"}},
		{name: "chat gpt-4o-mini", parent: 1, offset: 40 * time.Millisecond, duration: 900 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", "What is the capital of France?", "", 61, 18, 0.0000199, map[string]any{
			"gen_ai.output.messages": uiMessages(map[string]any{"role": "assistant", "parts": []any{map[string]any{"type": "tool_call", "id": "call_1", "name": "lookup_capital", "arguments": map[string]any{"country": "France"}}}}),
			"tracehound.output":      "lookup_capital(country=France)",
		})},
		{name: "execute_tool lookup_capital", parent: 1, offset: 960 * time.Millisecond, duration: 180 * time.Millisecond, attrs: map[string]any{"tracehound.span.kind": "tool", "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_capital"}},
		{name: "chat gpt-4o-mini", parent: 1, offset: 1160 * time.Millisecond, duration: 1080 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", "What is the capital of France?", "The capital of France is Paris.", 93, 46, 0.0000415, map[string]any{
			"gen_ai.input.messages":      convIn,
			"gen_ai.system_instructions": `[{"type":"text","content":"You are a geography quiz assistant. Answer in one sentence."}]`,
		})},
	}}
	failed := uiTrace{service: "report-bot", start: now.Add(-2 * time.Minute), spans: []uiSpan{
		{name: "summarize.workflow", parent: -1, duration: 3100 * time.Millisecond, attrs: map[string]any{"traceloop.span.kind": "workflow", "tracehound.span.kind": "workflow", "tracehound.run.id": "batch-job-123", "user.id": "user-7"}},
		{name: "retrieve documents", parent: 0, offset: 10 * time.Millisecond, duration: 400 * time.Millisecond, attrs: map[string]any{"openinference.span.kind": "RETRIEVER", "tracehound.span.kind": "retriever"}},
		{name: "chat claude-sonnet-4-5", parent: 0, offset: 420 * time.Millisecond, duration: 2600 * time.Millisecond, err: "upstream 529: overloaded", attrs: uiLLMAttrs("claude-sonnet-4-5", "Summarize the quarterly report for the board.", "", 1840, 0, 0.00552, nil)},
	}}
	flagged := uiTrace{service: "quiz-agent", start: now.Add(-4 * time.Minute), spans: []uiSpan{
		{name: "chat gpt-4o-mini", parent: -1, duration: 700 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", "What is the capital of Australia?", "Paris is lovely in spring.", 40, 12, 0.0000132, map[string]any{
			"tracehound.flags": `[{"code":"off_topic","category":"behavioral","severity":"warning","message":"answer shares little with the question","evidence":"Paris is lovely in spring"}]`,
		})},
	}}
	xss := uiTrace{service: "quiz-agent", start: now.Add(-6 * time.Minute), spans: []uiSpan{
		{name: "chat gpt-4o-mini", parent: -1, duration: 500 * time.Millisecond, attrs: uiLLMAttrs("gpt-4o-mini", uiXSSImg, uiXSSScript, 20, 9, 0.00001, map[string]any{
			"gen_ai.input.messages":      uiMessages(uiTextMsg("user", uiXSSImg), uiTextMsg("user", uiXSSScript)),
			"gen_ai.system_instructions": uiXSSScript,
			"tracehound.metadata.note":   uiXSSImg,
		})},
	}}
	proxiedAttrs := uiLLMAttrs("gpt-4o-mini", "Name three primary colours.", "Red, yellow and blue.", 12, 6, 0.000005, map[string]any{"tracehound.source": "proxy"})
	delete(proxiedAttrs, "gen_ai.input.messages")
	delete(proxiedAttrs, "gen_ai.output.messages")
	proxied := uiTrace{service: "llmproxy", start: now.Add(-8*time.Minute - 30*time.Second), spans: []uiSpan{
		{name: "chat gpt-4o-mini", parent: -1, duration: 400 * time.Millisecond, attrs: proxiedAttrs},
	}}
	td := ptrace.NewTraces()
	ids := uiBuild(td, capital, failed, flagged, xss, proxied)
	d.capital, d.failed, d.flagged, d.xss, d.proxied = ids[0], ids[1], ids[2], ids[3], ids[4]

	// Ordinary traffic: varied services, models, users, runs, scores, a few failures.
	questions := [][2]string{
		{"How do I reset my password?", "Open Settings → Security and choose \"Reset password\"; we email you a link."},
		{"Translate 'good morning' into Spanish.", "Buenos días."},
		{"Which plan includes SSO?", "SSO is part of the Business and Enterprise plans."},
		{"Summarize this support ticket in one line.", "Customer cannot export invoices as PDF since the last update."},
		{"Write a haiku about tracing.", "Spans fall like leaves / each one a moment of thought / the tree remembers"},
		{"What's the refund window?", "You can ask for a refund within 30 days of purchase."},
	}
	models := []string{"gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.0-flash", "gpt-4.1"}
	services := []string{"support-bot", "rag-api", "agent-worker"}
	var fillers []uiTrace
	for i := 0; i < 120; i++ {
		q := questions[i%len(questions)]
		model := models[i%len(models)]
		dur := time.Duration(300+(i*137)%2900) * time.Millisecond
		extra := map[string]any{"user.id": fmt.Sprintf("user-%d", i%9), "tracehound.metadata.tier": []string{"free", "pro", "enterprise"}[i%3]}
		if i%4 == 0 {
			extra["tracehound.run.id"] = fmt.Sprintf("nightly-eval-%d", i%3)
		}
		sp := uiSpan{name: "chat " + model, parent: -1, duration: dur,
			attrs: uiLLMAttrs(model, q[0], q[1], 200+(i*53)%900, 20+(i*31)%300, 0.0001*float64(1+i%23), extra)}
		if i%17 == 5 {
			sp.err = "rate limited (429)"
		}
		fillers = append(fillers, uiTrace{service: services[i%len(services)], start: now.Add(-time.Duration(10+i*11) * time.Minute), spans: []uiSpan{sp}})
	}
	uiBuild(td, fillers...)
	uiPostTraces(t, c, td)

	// A 5,000-span trace: a root, 50 batches, 99 steps each.
	bigTD := ptrace.NewTraces()
	big := uiTrace{service: "bulk-indexer", start: now.Add(-30 * time.Hour)}
	big.spans = append(big.spans, uiSpan{name: "bulk.ingest", parent: -1, duration: 50 * 100 * time.Millisecond, attrs: map[string]any{"traceloop.span.kind": "workflow", "tracehound.span.kind": "workflow"}})
	for b := 0; b < 50; b++ {
		bi := len(big.spans)
		off := time.Duration(b) * 100 * time.Millisecond
		big.spans = append(big.spans, uiSpan{name: fmt.Sprintf("batch %d", b), parent: 0, offset: off, duration: 99 * time.Millisecond, attrs: map[string]any{"openinference.span.kind": "CHAIN", "tracehound.span.kind": "chain"}})
		for s := 0; s < 99; s++ {
			big.spans = append(big.spans, uiSpan{name: fmt.Sprintf("step %d", b*99+s), parent: bi, offset: off + time.Duration(s)*time.Millisecond, duration: 900 * time.Microsecond,
				attrs: map[string]any{"openinference.span.kind": "TOOL", "tracehound.span.kind": "tool", "doc.id": fmt.Sprintf("doc-%d", b*99+s)}})
		}
	}
	d.big = uiBuild(bigTD, big)[0]
	d.bigSpans = len(big.spans)
	uiPostTraces(t, c, bigTD)

	d.total = 5 + len(fillers) + 1
	waitFor(t, "seeded records", func() bool {
		var l struct {
			Records []json.RawMessage `json:"records"`
		}
		return c.apiGet("/api/v1/records?limit=200", &l) == http.StatusOK && len(l.Records) == d.total
	})
	// Error detection in the pipeline may classify more records than the failed spans sent
	// here; the UI must show what the server decided, so ask it.
	var errs struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	if code := c.apiGet("/api/v1/records?status=error&limit=1000", &errs); code != http.StatusOK {
		t.Fatalf("list errors: %d", code)
	}
	d.errors = len(errs.Records)
	if d.errors < 8 {
		t.Fatalf("%d error records; the seed sent 8 failed traces", d.errors)
	}
	return d
}
