package llmextractprocessor

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/pricing"
)

// maxIndex bounds the N of indexed keys such as gen_ai.prompt.N.content, so that a hostile
// key cannot make the extractor allocate a huge slice.
const maxIndex = 1024

// extractor writes the canonical view onto spans. It holds no per-span state and is safe
// for concurrent use.
type extractor struct {
	maxBytes     int
	keepOriginal bool
	runIDKeys    []string
	prices       *pricing.Table
	// unknownPrice is called once per LLM call whose model has no price.
	unknownPrice func(model string)
}

// resourceInfo holds the values a span may inherit from its resource.
type resourceInfo struct {
	runID, testcaseID, sessionID, userID string
}

func (e *extractor) resourceInfo(res pcommon.Resource) resourceInfo {
	var ri resourceInfo
	attrs := res.Attributes()
	ri.runID = e.firstString(attrs, append([]string{llmschema.RunID, llmschema.ScorecardTracingGroupID}, e.runIDKeys...))
	ri.testcaseID = e.firstString(attrs, []string{llmschema.TestcaseID, llmschema.ScorecardTestcaseID, llmschema.TestcaseIDAlt})
	ri.sessionID = e.firstString(attrs, []string{llmschema.SessionID})
	ri.userID = e.firstString(attrs, []string{llmschema.UserID})
	return ri
}

func (e *extractor) firstString(attrs pcommon.Map, keys []string) string {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if s := v.AsString(); s != "" {
				return clean(s, e.maxBytes)
			}
		}
	}
	return ""
}

// legacyMsg is one gen_ai.prompt.N / gen_ai.completion.N message.
type legacyMsg struct {
	role, content, finishReason, toolCallID string
	toolCalls                               []toolCallAttrs
}

type toolCallAttrs struct{ id, name, args string }

// oiMsg is one OpenInference llm.input_messages.N / llm.output_messages.N message.
type oiMsg struct {
	role, content, name, toolCallID, funcName, funcArgs string
	contents                                            []oiContent
	toolCalls                                           []toolCallAttrs
}

type oiContent struct{ typ, text, imageURL string }

type oiDoc struct {
	id, content string
	score       float64
}

// intAttr is a token count with the rank of the source it came from (lower wins).
type intAttr struct {
	v    int64
	rank int8
}

func (a *intAttr) offer(v pcommon.Value, rank int8) {
	n, ok := asInt(v)
	if !ok {
		return
	}
	if a.rank == 0 || rank < a.rank {
		a.v, a.rank = n, rank
	}
}

func (a intAttr) set() bool { return a.rank != 0 }

// strAttr is a string with the rank of its source (lower wins).
type strAttr struct {
	s    string
	rank int8
}

func (a *strAttr) offer(s string, rank int8) {
	if s == "" {
		return
	}
	if a.rank == 0 || rank < a.rank {
		a.s, a.rank = s, rank
	}
}

func asInt(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return int64(v.Double()), true
	case pcommon.ValueTypeStr:
		n, err := strconv.ParseInt(strings.TrimSpace(v.Str()), 10, 64)
		return n, err == nil
	}
	return 0, false
}

// facts is what one pass over a span's attributes found, per source family.
type facts struct {
	oiKind, tlKind, lfKind, lsKind, opName, reqType, aiOp, dbSystem string
	hasTopK, hasToolName                                            bool

	provider, model, respModel strAttr
	responseID                 strAttr
	input, output              intAttr
	cacheRead, cacheCreate     intAttr
	finish                     strAttr
	hasFinishReasons           bool

	inMsgs, outMsgs, sysInstr  string // current semconv JSON, already canonical
	eventIn, eventOut          []llmschema.Message
	legacyIn, legacyOut        []legacyMsg
	oiIn, oiOut                []oiMsg
	oiPrompts, oiChoices       []string
	aiPromptMsgs, aiPrompt     string
	aiText, aiToolCalls        string
	aiObject                   string
	claudeCtx, claudeOut       string
	claudePrompt, claudeTool   string
	claudeSystem               string
	jsonPrompt, jsonCompletion string // LangSmith-style gen_ai.prompt / gen_ai.completion JSON

	inText, outText strAttr // generic input/output values by family rank

	toolName, toolCallID     strAttr
	toolArgs, toolResult     strAttr
	hasToolArgs, hasToolResp bool

	session, user           strAttr
	runID, testcase, expect strAttr
	oiMetadata              string
	metadata                []kv
	docs                    []oiDoc
	hasCanonicalIn          bool
	hasCanonicalOut         bool
	// Canonical keys present before extraction, so they are removed only when there.
	hadLLMCall, hadCost, hadUnknown, hadScorecardProject bool
	lfUsage                                              string
	ttft                                                 float64
	// agentHistory marks a span carrying a whole run's conversation (Pydantic AI agent runs).
	agentHistory bool
	historyMsgs  string // semconv-format history under another key (pydantic_ai.all_messages)
	// Google ADK Gemini-format request and response JSON.
	adkRequest, adkResponse string
	hasTTFT                 bool
}

type kv struct{ k, v string }

// Source ranks: lower is preferred. The order is the precedence documented in README.md.
const (
	rankSemconv int8 = iota + 1
	rankSemconvAlt
	rankOpenInference
	rankLegacy
	rankVercel
	rankClaude
	rankTraceloop
	rankLangfuse
	rankOther
)

// extractSpan writes the canonical attributes onto span and returns its span kind.
func (e *extractor) extractSpan(span ptrace.Span, ri *resourceInfo, project string) string {
	attrs := span.Attributes()
	var f facts

	var badKeys []string
	attrs.Range(func(k string, v pcommon.Value) bool {
		if !utf8.ValidString(k) {
			badKeys = append(badKeys, k)
		}
		if v.Type() == pcommon.ValueTypeStr && len(v.Str()) > e.maxBytes && isMessageListKey(k) {
			// Cutting JSON blindly would leave an unreadable message list: fit it instead.
			v.SetStr(fitMessageJSON(clean(v.Str(), 0), e.maxBytes))
		}
		e.cleanValue(v, 0)
		e.readAttr(&f, k, v)
		return true
	})
	for _, k := range badKeys {
		// Protobuf rejects invalid UTF-8 in keys too; re-key rather than lose the value.
		if v, ok := attrs.Get(k); ok {
			v.CopyTo(attrs.PutEmpty(clean(k, e.maxBytes)))
			attrs.Remove(k)
		}
	}
	e.cleanSpanFields(span)
	e.readEvents(&f, span.Events())

	kind, llmCall := classify(&f, span.Name())
	if span.Name() == llmschema.ClaudeSpanLLMRequest {
		f.provider.offer("anthropic", rankOther)
	}
	attrs.PutStr(llmschema.SpanKind, kind)
	attrs.PutStr(llmschema.ProjectID, project)
	if f.hadScorecardProject {
		attrs.PutStr(llmschema.ScorecardProjectID, project)
	}

	e.writeModelInfo(attrs, &f)
	usage := e.writeUsage(attrs, &f)
	inMsgs, outMsgs := e.writeMessages(attrs, &f)
	e.writeFinishReasons(attrs, &f, outMsgs)
	e.writeText(attrs, &f, kind, inMsgs, outMsgs)
	e.writeTool(attrs, &f, kind)
	e.writeIdentity(attrs, &f, ri)
	e.writeDocs(attrs, &f)
	if f.ttft > 0 && !f.hasTTFT {
		attrs.PutDouble(llmschema.TTFTMillis, f.ttft)
	}

	priced := false
	if llmCall {
		attrs.PutBool(llmschema.LLMCall, true)
		if usage.Input > 0 || usage.Output > 0 || usage.CacheRead > 0 || usage.CacheWrite > 0 {
			e.writeCost(attrs, &f, usage, span.StartTimestamp().AsTime())
			priced = true
		}
	} else if f.hadLLMCall {
		attrs.Remove(llmschema.LLMCall)
	}
	// Cost is derived here only; a value the client sent on any other span is dropped so
	// that sums over spans cannot be inflated.
	if !priced {
		if f.hadCost {
			attrs.Remove(llmschema.CostUSD)
		}
		if f.hadUnknown {
			attrs.Remove(llmschema.PriceUnknown)
		}
	}
	if !e.keepOriginal {
		attrs.RemoveIf(func(k string, _ pcommon.Value) bool { return e.isSourceKey(k) })
	}
	return kind
}

// isMessageListKey reports whether k holds a JSON message list that must stay valid JSON
// when it is shortened.
func isMessageListKey(k string) bool {
	switch k {
	case llmschema.InputMessages, llmschema.OutputMessages, llmschema.PydanticAIAllMessages:
		return true
	}
	return false
}

// fitMessageJSON shortens a semconv message list to at most max bytes of valid JSON, or,
// when it is not such a list, cuts it like any other string.
func fitMessageJSON(s string, max int) string {
	var msgs []llmschema.Message
	if json.Unmarshal([]byte(s), &msgs) == nil {
		if out, ok := fitMessages(msgs, max); ok {
			return out
		}
	}
	return clean(s, max)
}

// cleanSpanFields applies cleanValue to the span's other strings: name, status message,
// and event and link attributes.
func (e *extractor) cleanSpanFields(span ptrace.Span) {
	if n := span.Name(); len(n) > e.maxBytes || !utf8.ValidString(n) {
		span.SetName(clean(n, e.maxBytes))
	}
	if m := span.Status().Message(); len(m) > e.maxBytes || !utf8.ValidString(m) {
		span.Status().SetMessage(clean(m, e.maxBytes))
	}
	cleanAttrs := func(_ string, v pcommon.Value) bool {
		e.cleanValue(v, 0)
		return true
	}
	events := span.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		if n := ev.Name(); len(n) > e.maxBytes || !utf8.ValidString(n) {
			ev.SetName(clean(n, e.maxBytes))
		}
		ev.Attributes().Range(cleanAttrs)
	}
	links := span.Links()
	for i := 0; i < links.Len(); i++ {
		links.At(i).Attributes().Range(cleanAttrs)
	}
}

// cleanScope applies cleanValue to the instrumentation scope's name, version and attributes.
func (e *extractor) cleanScope(sc pcommon.InstrumentationScope) {
	if n := sc.Name(); len(n) > e.maxBytes || !utf8.ValidString(n) {
		sc.SetName(clean(n, e.maxBytes))
	}
	if v := sc.Version(); len(v) > e.maxBytes || !utf8.ValidString(v) {
		sc.SetVersion(clean(v, e.maxBytes))
	}
	sc.Attributes().Range(func(_ string, v pcommon.Value) bool {
		e.cleanValue(v, 0)
		return true
	})
}

// cleanValue makes the strings in v valid UTF-8 and at most maxBytes long, also inside
// arrays and maps (to a bounded depth), so that no exporter rejects the span.
func (e *extractor) cleanValue(v pcommon.Value, depth int) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		if s := v.Str(); len(s) > e.maxBytes || !utf8.ValidString(s) {
			v.SetStr(clean(s, e.maxBytes))
		}
	case pcommon.ValueTypeSlice:
		if depth < 4 {
			sl := v.Slice()
			for i := 0; i < sl.Len(); i++ {
				e.cleanValue(sl.At(i), depth+1)
			}
		}
	case pcommon.ValueTypeMap:
		if depth < 4 {
			v.Map().Range(func(_ string, mv pcommon.Value) bool {
				e.cleanValue(mv, depth+1)
				return true
			})
		}
	}
}
