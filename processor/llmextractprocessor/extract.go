package llmextractprocessor

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
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
	hasTTFT                                              bool
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

// runKeyRank ranks a configured run-ID key after tracehound.run.id (1) and
// scorecard.tracing_group_id (2); 0 means k is not one.
func (e *extractor) runKeyRank(k string) int8 {
	for i, rk := range e.runIDKeys {
		if rk == k {
			return int8(3 + min(i, 100))
		}
	}
	return 0
}

func (e *extractor) readAttr(f *facts, k string, v pcommon.Value) {
	str := func() string {
		if v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
		return v.AsString()
	}
	switch k {
	// Kind and operation signals.
	case llmschema.OpenInferenceSpanKind:
		f.oiKind = strings.ToUpper(v.Str())
	case llmschema.TraceloopSpanKind:
		f.tlKind = strings.ToLower(v.Str())
	case llmschema.LangfuseObservationType:
		f.lfKind = strings.ToLower(v.Str())
	case llmschema.LangSmithSpanKind:
		f.lsKind = strings.ToLower(v.Str())
	case llmschema.OperationName:
		f.opName = v.Str()
	case llmschema.LLMRequestType:
		f.reqType = strings.ToLower(v.Str())
	case llmschema.AIOperationID:
		f.aiOp = v.Str()
	case llmschema.DBSystem, llmschema.DBSystemName:
		f.dbSystem = strings.ToLower(v.Str())
	case llmschema.DBVectorQueryTopK:
		f.hasTopK = true

	// Provider and model.
	case llmschema.ProviderName:
		f.provider.offer(v.Str(), rankSemconv)
	case llmschema.GenAISystem:
		f.provider.offer(normalizeProvider(v.Str()), rankSemconvAlt)
	case llmschema.OIProvider:
		f.provider.offer(normalizeProvider(v.Str()), rankOpenInference)
	case llmschema.OISystem:
		f.provider.offer(normalizeProvider(v.Str()), rankLegacy)
	case llmschema.AIModelProvider:
		f.provider.offer(normalizeProvider(v.Str()), rankVercel)
	case llmschema.RequestModel:
		f.model.offer(v.Str(), rankSemconv)
	case llmschema.OIRequestModelName:
		f.model.offer(v.Str(), rankOpenInference)
	case llmschema.OIModelName:
		f.model.offer(v.Str(), rankLegacy)
		f.respModel.offer(v.Str(), rankLegacy)
	case llmschema.AIModelID:
		f.model.offer(v.Str(), rankVercel)
	case llmschema.OIEmbeddingModelName:
		f.model.offer(v.Str(), rankVercel)
	case llmschema.LangfuseObservationModel:
		f.model.offer(v.Str(), rankLangfuse)
	case llmschema.ResponseModel:
		f.respModel.offer(v.Str(), rankSemconv)
	case llmschema.OIResponseModelName:
		f.respModel.offer(v.Str(), rankOpenInference)
	case llmschema.AIResponseModel:
		f.respModel.offer(v.Str(), rankVercel)
	case llmschema.ResponseID:
		f.responseID.offer(v.Str(), rankSemconv)
	case llmschema.AIResponseID:
		f.responseID.offer(v.Str(), rankVercel)

	// Usage.
	case llmschema.UsageInputTokens:
		f.input.offer(v, rankSemconv)
	case llmschema.GenAIUsagePromptTokens:
		f.input.offer(v, rankSemconvAlt)
	case llmschema.OITokenPrompt:
		f.input.offer(v, rankOpenInference)
	case llmschema.AIUsageInputTokens, llmschema.AIUsagePromptTokens, llmschema.AIUsageTokens:
		f.input.offer(v, rankVercel)
	case llmschema.UsageOutputTokens:
		f.output.offer(v, rankSemconv)
	case llmschema.GenAIUsageCompletionToks:
		f.output.offer(v, rankSemconvAlt)
	case llmschema.OITokenCompletion:
		f.output.offer(v, rankOpenInference)
	case llmschema.AIUsageOutputTokens, llmschema.AIUsageCompletionTokens:
		f.output.offer(v, rankVercel)
	case llmschema.UsageCacheRead:
		f.cacheRead.offer(v, rankSemconv)
	case llmschema.GenAIUsageCacheReadAlt:
		f.cacheRead.offer(v, rankSemconvAlt)
	case llmschema.OITokenCacheRead:
		f.cacheRead.offer(v, rankOpenInference)
	case llmschema.AIUsageCachedInputTokens, llmschema.AIUsageCacheReadTokens:
		f.cacheRead.offer(v, rankVercel)
	case llmschema.AIUsageCacheWriteTokens:
		f.cacheCreate.offer(v, rankVercel)
	case llmschema.UsageCacheCreation:
		f.cacheCreate.offer(v, rankSemconv)
	case llmschema.GenAIUsageCacheCreateAlt, llmschema.GenAIUsageCacheWriteAlt:
		f.cacheCreate.offer(v, rankSemconvAlt)
	case llmschema.OITokenCacheWrite:
		f.cacheCreate.offer(v, rankOpenInference)
	case llmschema.LangfuseUsageDetails:
		f.lfUsage = v.Str()

	// Finish reasons.
	case llmschema.FinishReasons:
		f.hasFinishReasons = true
	case llmschema.OIFinishReason:
		f.finish.offer(v.Str(), rankOpenInference)
	case llmschema.AIResponseFinishReason:
		f.finish.offer(v.Str(), rankVercel)
	case llmschema.ClaudeStopReason:
		f.finish.offer(v.Str(), rankClaude)
	case llmschema.TTFTMillis:
		f.hasTTFT = true
	case llmschema.AIResponseMsToFirstChunk, llmschema.ClaudeTTFTMillis:
		f.ttft = numberOf(v)

	// Messages.
	case llmschema.InputMessages:
		f.inMsgs = str()
	case llmschema.OutputMessages:
		f.outMsgs = str()
	case llmschema.SystemInstructions:
		f.sysInstr = str()
	case llmschema.AIPromptMessages:
		f.aiPromptMsgs = v.Str()
	case llmschema.AIPrompt:
		f.aiPrompt = v.Str()
	case llmschema.AIResponseText:
		f.aiText = v.Str()
	case llmschema.AIResponseToolCalls:
		f.aiToolCalls = v.Str()
	case llmschema.AIResponseObject:
		f.aiObject = v.Str()
	case llmschema.ClaudeNewContext:
		f.claudeCtx = v.Str()
	case llmschema.ClaudeResponseOutput:
		f.claudeOut = v.Str()
	case llmschema.ClaudeUserPrompt:
		if s := v.Str(); s != llmschema.ClaudeRedacted {
			f.claudePrompt = s
		}
	case llmschema.ClaudeToolInput:
		f.claudeTool = v.Str()
	case llmschema.ClaudeUserSystemPrompt:
		f.claudeSystem = v.Str()

	// Generic input / output values.
	case llmschema.LLMCall:
		f.hadLLMCall = true
	case llmschema.CostUSD:
		f.hadCost = true
	case llmschema.PriceUnknown:
		f.hadUnknown = true
	case llmschema.ScorecardProjectID:
		f.hadScorecardProject = true
	case llmschema.Input:
		f.hasCanonicalIn = true
	case llmschema.Output:
		f.hasCanonicalOut = true
	case llmschema.OIInputValue:
		f.inText.offer(str(), rankOpenInference)
	case llmschema.OIOutputValue:
		f.outText.offer(str(), rankOpenInference)
	case llmschema.TraceloopEntityInput:
		f.inText.offer(str(), rankTraceloop)
	case llmschema.TraceloopEntityOutput:
		f.outText.offer(str(), rankTraceloop)
	case llmschema.LangfuseObservationInput:
		f.inText.offer(str(), rankLangfuse)
	case llmschema.LangfuseObservationOutput:
		f.outText.offer(str(), rankLangfuse)
	case llmschema.LangfuseTraceInput:
		f.inText.offer(str(), rankLangfuse+1)
	case llmschema.LangfuseTraceOutput:
		f.outText.offer(str(), rankLangfuse+1)
	case llmschema.MLflowSpanInputs:
		f.inText.offer(str(), rankOther)
	case llmschema.MLflowSpanOutputs:
		f.outText.offer(str(), rankOther)

	// Tools.
	case llmschema.ToolName:
		f.hasToolName = true
		f.toolName.offer(v.Str(), rankSemconv)
	case llmschema.OIToolName:
		f.toolName.offer(v.Str(), rankOpenInference)
	case llmschema.TraceloopEntityName:
		f.toolName.offer(v.Str(), rankTraceloop)
	case llmschema.AIToolCallName:
		f.toolName.offer(v.Str(), rankVercel)
	case llmschema.ToolCallID:
		f.toolCallID.offer(v.Str(), rankSemconv)
	case llmschema.OIToolID:
		f.toolCallID.offer(v.Str(), rankOpenInference)
	case llmschema.AIToolCallID:
		f.toolCallID.offer(v.Str(), rankVercel)
	case llmschema.ToolCallArguments:
		f.hasToolArgs = true
		f.toolArgs.offer(str(), rankSemconv)
	case llmschema.AIToolCallArgs:
		f.toolArgs.offer(str(), rankVercel)
	case llmschema.ToolCallResult:
		f.hasToolResp = true
		f.toolResult.offer(str(), rankSemconv)
	case llmschema.AIToolCallResult:
		f.toolResult.offer(str(), rankVercel)

	// Identity, run and test-case linkage.
	case llmschema.SessionID:
		f.session.offer(str(), rankSemconv)
	case llmschema.ConversationID:
		f.session.offer(str(), rankSemconvAlt)
	case llmschema.LangfuseSessionID:
		f.session.offer(str(), rankLangfuse)
	case llmschema.GenAIPromptJSON:
		f.jsonPrompt = str()
	case llmschema.GenAICompletionJSON:
		f.jsonCompletion = str()
	case llmschema.AIValue, llmschema.AIValues:
		f.inText.offer(str(), rankVercel)
	case llmschema.UserID:
		f.user.offer(str(), rankSemconv)
	case llmschema.LangfuseUserID:
		f.user.offer(str(), rankLangfuse)
	case llmschema.RunID:
		f.runID.offer(str(), 1)
	case llmschema.ScorecardTracingGroupID:
		f.runID.offer(str(), 2)
	case llmschema.TestcaseID:
		f.testcase.offer(str(), 1)
	case llmschema.ScorecardTestcaseID:
		f.testcase.offer(str(), 2)
	case llmschema.TestcaseIDAlt:
		f.testcase.offer(str(), 3)
	case llmschema.Expected:
		f.expect.offer(str(), 1)
	case llmschema.ScorecardExpected:
		f.expect.offer(str(), 2)
	case llmschema.OIMetadata:
		f.oiMetadata = v.Str()
	case llmschema.OIInvocationParameters:
		if m := invocationModel(v.Str()); m != "" {
			f.model.offer(m, rankOpenInference)
		}
	case llmschema.TraceloopWorkflowName:
		f.metadata = append(f.metadata, kv{"workflow", str()})

	default:
		e.readPrefixed(f, k, v, str)
		if r := e.runKeyRank(k); r != 0 {
			f.runID.offer(str(), r)
		}
	}
}

// invocationModel reads "model" from OpenInference llm.invocation_parameters, the model
// the caller asked for (llm.model_name is usually the one that answered).
func invocationModel(s string) string {
	r := jsonReader{s: s}
	if !r.consume('{') || r.consume('}') {
		return ""
	}
	for {
		key, ok := r.str()
		if !ok || !r.consume(':') {
			return ""
		}
		if key == "model" && r.peek() == '"' {
			m, _ := r.str()
			return m
		}
		if _, ok := r.skip(); !ok || !r.consume(',') {
			return ""
		}
	}
}

func (e *extractor) readPrefixed(f *facts, k string, v pcommon.Value, str func() string) {
	switch {
	case strings.HasPrefix(k, llmschema.GenAIPromptPrefix):
		readLegacy(&f.legacyIn, k[len(llmschema.GenAIPromptPrefix):], str())
	case strings.HasPrefix(k, llmschema.GenAICompletionPrefix):
		readLegacy(&f.legacyOut, k[len(llmschema.GenAICompletionPrefix):], str())
	case strings.HasPrefix(k, llmschema.OIInputMessagesPrefix):
		readOIMessage(&f.oiIn, k[len(llmschema.OIInputMessagesPrefix):], str())
	case strings.HasPrefix(k, llmschema.OIOutputMessagesPrefix):
		readOIMessage(&f.oiOut, k[len(llmschema.OIOutputMessagesPrefix):], str())
	case strings.HasPrefix(k, llmschema.OIPromptsPrefix):
		if i, rest, ok := splitIndex(k[len(llmschema.OIPromptsPrefix):]); ok && rest == llmschema.OIPromptText {
			f.oiPrompts = setIndexed(f.oiPrompts, i, str())
		}
	case strings.HasPrefix(k, llmschema.OIChoicesPrefix):
		if i, rest, ok := splitIndex(k[len(llmschema.OIChoicesPrefix):]); ok && rest == llmschema.OICompletionText {
			f.oiChoices = setIndexed(f.oiChoices, i, str())
		}
	case strings.HasPrefix(k, llmschema.OIRetrievalDocsPrefix):
		readOIDoc(&f.docs, k[len(llmschema.OIRetrievalDocsPrefix):], v)
	case strings.HasPrefix(k, llmschema.TraceloopAssociationProps):
		name := k[len(llmschema.TraceloopAssociationProps):]
		switch name {
		case llmschema.AssocSessionID:
			f.session.offer(str(), rankTraceloop)
		case llmschema.AssocUserID:
			f.user.offer(str(), rankTraceloop)
		default:
			f.metadata = append(f.metadata, kv{name, str()})
		}
	case strings.HasPrefix(k, llmschema.AITelemetryMetadata):
		name := k[len(llmschema.AITelemetryMetadata):]
		switch name {
		case llmschema.AIMetadataSessionID, llmschema.AssocSessionID:
			f.session.offer(str(), rankVercel)
		case llmschema.AIMetadataUserID, llmschema.AssocUserID:
			f.user.offer(str(), rankVercel)
		default:
			f.metadata = append(f.metadata, kv{name, str()})
		}
	case strings.HasPrefix(k, llmschema.LangfuseTraceMetadata):
		f.metadata = append(f.metadata, kv{k[len(llmschema.LangfuseTraceMetadata):], str()})
	case strings.HasPrefix(k, llmschema.LangfuseObsMetadata):
		f.metadata = append(f.metadata, kv{k[len(llmschema.LangfuseObsMetadata):], str()})
	case strings.HasPrefix(k, llmschema.LangSmithMetadata):
		name := k[len(llmschema.LangSmithMetadata):]
		switch name {
		case llmschema.LSMetaThreadID, llmschema.AssocSessionID, llmschema.LSMetaConversation:
			f.session.offer(str(), rankLangfuse+1)
		case llmschema.AssocUserID:
			f.user.offer(str(), rankLangfuse+1)
		default:
			f.metadata = append(f.metadata, kv{name, str()})
		}
	}
}

// splitIndex parses "<N>.<rest>".
func splitIndex(s string) (int, string, bool) {
	dot := strings.IndexByte(s, '.')
	if dot <= 0 || dot > 5 {
		return 0, "", false
	}
	n := 0
	for i := 0; i < dot; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, "", false
		}
		n = n*10 + int(c-'0')
	}
	if n >= maxIndex {
		return 0, "", false
	}
	return n, s[dot+1:], true
}

func grow[T any](s []T, i int) []T {
	if i < len(s) {
		return s
	}
	if i < cap(s) {
		return s[:i+1]
	}
	n := make([]T, i+1, max(i+1, 2*cap(s)))
	copy(n, s)
	return n
}

func setIndexed(s []string, i int, v string) []string {
	s = grow(s, i)
	s[i] = v
	return s
}

func readLegacy(msgs *[]legacyMsg, rest, val string) {
	i, field, ok := splitIndex(rest)
	if !ok {
		return
	}
	*msgs = grow(*msgs, i)
	m := &(*msgs)[i]
	switch field {
	case "role":
		m.role = val
	case "content":
		m.content = val
	case "finish_reason":
		m.finishReason = val
	case "tool_call_id":
		m.toolCallID = val
	default:
		if strings.HasPrefix(field, "tool_calls.") {
			if j, tf, ok := splitIndex(field[len("tool_calls."):]); ok {
				m.toolCalls = grow(m.toolCalls, j)
				tc := &m.toolCalls[j]
				switch tf {
				case "id":
					tc.id = val
				case "name":
					tc.name = val
				case "arguments":
					tc.args = val
				}
			}
		}
	}
}

func readOIMessage(msgs *[]oiMsg, rest, val string) {
	i, field, ok := splitIndex(rest)
	if !ok {
		return
	}
	*msgs = grow(*msgs, i)
	m := &(*msgs)[i]
	switch field {
	case llmschema.OIMessageRole:
		m.role = val
	case llmschema.OIMessageContent:
		m.content = val
	case llmschema.OIMessageName:
		m.name = val
	case llmschema.OIMessageToolCallID:
		m.toolCallID = val
	case llmschema.OIMessageFuncCallName:
		m.funcName = val
	case llmschema.OIMessageFuncCallArgs:
		m.funcArgs = val
	default:
		switch {
		case strings.HasPrefix(field, llmschema.OIMessageContentsPart):
			if j, cf, ok := splitIndex(field[len(llmschema.OIMessageContentsPart):]); ok {
				m.contents = grow(m.contents, j)
				c := &m.contents[j]
				switch cf {
				case llmschema.OIContentType:
					c.typ = val
				case llmschema.OIContentText:
					c.text = val
				case llmschema.OIContentImageURL:
					c.imageURL = val
				}
			}
		case strings.HasPrefix(field, llmschema.OIMessageToolCallsPart):
			if j, tf, ok := splitIndex(field[len(llmschema.OIMessageToolCallsPart):]); ok {
				m.toolCalls = grow(m.toolCalls, j)
				tc := &m.toolCalls[j]
				switch tf {
				case llmschema.OIToolCallID:
					tc.id = val
				case llmschema.OIToolCallFuncName:
					tc.name = val
				case llmschema.OIToolCallFuncArgs:
					tc.args = val
				}
			}
		}
	}
}

func readOIDoc(docs *[]oiDoc, rest string, v pcommon.Value) {
	i, field, ok := splitIndex(rest)
	if !ok {
		return
	}
	*docs = grow(*docs, i)
	d := &(*docs)[i]
	switch field {
	case llmschema.OIDocumentID:
		d.id = v.AsString()
	case llmschema.OIDocumentContent:
		d.content = v.AsString()
	case llmschema.OIDocumentScore:
		d.score = numberOf(v)
	}
}

// readEvents collects the event-based gen_ai message forms and vector-DB results.
func (e *extractor) readEvents(f *facts, events ptrace.SpanEventSlice) {
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		attrs := ev.Attributes()
		switch name := ev.Name(); name {
		case llmschema.GenAIEventSystemMessage, llmschema.GenAIEventUserMessage,
			llmschema.GenAIEventAssistantMessage, llmschema.GenAIEventToolMessage:
			role := strings.TrimSuffix(strings.TrimPrefix(name, "gen_ai."), ".message")
			if r, ok := attrs.Get(llmschema.EventAttrRole); ok && r.Str() != "" {
				role = r.Str()
			}
			f.eventIn = append(f.eventIn, eventMessage(role, attrs))
		case llmschema.GenAIEventChoice:
			m := eventMessage(llmschema.RoleAssistant, attrs)
			if fr, ok := attrs.Get(llmschema.EventAttrFinishReason); ok && m.FinishReason == "" {
				m.FinishReason = fr.AsString()
			}
			f.eventOut = append(f.eventOut, m)
		case llmschema.GenAIEventContentPrompt:
			if v, ok := attrs.Get(llmschema.GenAIPromptJSON); ok {
				f.eventIn = append(f.eventIn, genericMessages(v.AsString())...)
			}
		case llmschema.GenAIEventContentCompletion:
			if v, ok := attrs.Get(llmschema.GenAICompletionJSON); ok {
				if msgs := genericMessages(v.AsString()); msgs != nil {
					f.eventOut = append(f.eventOut, msgs...)
				} else {
					f.eventOut = append(f.eventOut, textMessage(llmschema.RoleAssistant, v.AsString()))
				}
			}
		case llmschema.GenAIEventOperationDetails:
			if v, ok := attrs.Get(llmschema.InputMessages); ok && f.inMsgs == "" {
				f.inMsgs = v.AsString()
			}
			if v, ok := attrs.Get(llmschema.OutputMessages); ok && f.outMsgs == "" {
				f.outMsgs = v.AsString()
			}
			if v, ok := attrs.Get(llmschema.SystemInstructions); ok && f.sysInstr == "" {
				f.sysInstr = v.AsString()
			}
		case llmschema.DBQueryResultEvent:
			var d oiDoc
			if v, ok := attrs.Get(llmschema.DBQueryResultID); ok {
				d.id = v.AsString()
			}
			if v, ok := attrs.Get(llmschema.DBQueryResultDoc); ok {
				d.content = v.AsString()
			}
			if v, ok := attrs.Get(llmschema.DBQueryResultScore); ok {
				d.score = numberOf(v)
			} else if v, ok := attrs.Get(llmschema.DBQueryResultDist); ok {
				// Smaller distance means closer; kept as the score only when nothing better exists.
				d.score = numberOf(v)
			}
			f.docs = append(f.docs, d)
		}
	}
}

// eventMessage reads one gen_ai message event. The body is either separate attributes
// (content, tool_calls, id) or one JSON document in gen_ai.event.content or message
// ({role, content, tool_calls} or, for a choice, {message, finish_reason}).
func eventMessage(role string, attrs pcommon.Map) llmschema.Message {
	for _, k := range []string{llmschema.EventAttrGenAIContent, llmschema.EventAttrMessage} {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		body := v.AsString()
		var obj map[string]any
		if looksJSON(body) && json.Unmarshal([]byte(body), &obj) == nil && obj != nil {
			if inner, ok := obj["message"].(map[string]any); ok {
				m := eventBody(role, inner)
				m.FinishReason, _ = obj["finish_reason"].(string)
				return m
			}
			return eventBody(role, obj)
		}
		return textMessage(role, body)
	}
	m := map[string]any{}
	if c, ok := attrs.Get(llmschema.EventAttrContent); ok {
		m["content"] = c.AsString()
	}
	if id, ok := attrs.Get(llmschema.EventAttrID); ok {
		m["tool_call_id"] = id.AsString()
	}
	if tc, ok := attrs.Get(llmschema.EventAttrToolCalls); ok {
		var calls []any
		if json.Unmarshal([]byte(tc.AsString()), &calls) == nil {
			m["tool_calls"] = calls
		}
	}
	return convertMessage(role, m)
}

func eventBody(role string, obj map[string]any) llmschema.Message {
	if r, ok := obj["role"].(string); ok && r != "" {
		role = r
	}
	if id, ok := obj["id"].(string); ok && role == llmschema.RoleTool {
		if _, has := obj["tool_call_id"]; !has {
			obj["tool_call_id"] = id
		}
	}
	return convertMessage(role, obj)
}

func numberOf(v pcommon.Value) float64 {
	switch v.Type() {
	case pcommon.ValueTypeDouble:
		return v.Double()
	case pcommon.ValueTypeInt:
		return float64(v.Int())
	case pcommon.ValueTypeStr:
		x, _ := strconv.ParseFloat(v.Str(), 64)
		return x
	}
	return 0
}

// vercelCallOps are the Vercel AI operation IDs of provider calls; their parents
// (ai.generateText, ...) repeat the usage and must not be counted again.
func vercelIsCall(op string) bool {
	return strings.HasSuffix(op, ".doGenerate") || strings.HasSuffix(op, ".doStream") || strings.HasSuffix(op, ".doEmbed")
}

var vectorDBs = map[string]bool{
	"chroma": true, "chromadb": true, "pinecone": true, "qdrant": true, "weaviate": true,
	"milvus": true, "lancedb": true, "marqo": true, "pgvector": true, "redis.vector": true,
}

// classify decides the span kind and whether the span is a billable provider call.
func classify(f *facts, name string) (kind string, llmCall bool) {
	hasUsage := f.input.set() || f.output.set()
	switch {
	case f.oiKind != "":
		kind = map[string]string{
			"LLM": llmschema.SpanKindLLM, "EMBEDDING": llmschema.SpanKindEmbedding,
			"CHAIN": llmschema.SpanKindChain, "TOOL": llmschema.SpanKindTool,
			"AGENT": llmschema.SpanKindAgent, "RETRIEVER": llmschema.SpanKindRetriever,
			"RERANKER": llmschema.SpanKindReranker, "GUARDRAIL": llmschema.SpanKindGuardrail,
		}[f.oiKind]
	case f.aiOp != "" || strings.HasPrefix(name, "ai."):
		op := f.aiOp
		if op == "" {
			op = name
		}
		switch {
		case op == "ai.toolCall":
			kind = llmschema.SpanKindTool
		case strings.HasSuffix(op, ".doEmbed"):
			kind, llmCall = llmschema.SpanKindEmbedding, true
		case vercelIsCall(op):
			kind, llmCall = llmschema.SpanKindLLM, true
		case strings.HasPrefix(op, "ai.embed"):
			kind = llmschema.SpanKindChain
		case strings.HasPrefix(op, "ai."):
			kind = llmschema.SpanKindChain
		}
		if kind != "" {
			return kind, llmCall
		}
	case name == llmschema.ClaudeSpanLLMRequest:
		return llmschema.SpanKindLLM, true
	case name == llmschema.ClaudeSpanInteraction:
		return llmschema.SpanKindAgent, false
	case name == llmschema.ClaudeSpanTool:
		return llmschema.SpanKindTool, false
	case name == llmschema.ClaudeSpanToolExecution:
		return llmschema.SpanKindTask, false
	}
	if kind == "" && f.tlKind != "" {
		switch f.tlKind {
		case "workflow", "task", "agent", "tool":
			kind = f.tlKind
		}
	}
	if kind == "" && f.lfKind != "" {
		switch f.lfKind {
		case "generation":
			kind = llmschema.SpanKindLLM
		case "embedding", "agent", "tool", "chain", "retriever", "guardrail":
			kind = f.lfKind
		}
	}
	if kind == "" && f.lsKind != "" {
		switch f.lsKind {
		case "llm":
			kind = llmschema.SpanKindLLM
		case "chain", "tool", "retriever", "embedding":
			kind = f.lsKind
		}
	}
	if kind == "" {
		switch f.opName {
		case llmschema.OperationChat, llmschema.OperationTextCompletion, llmschema.OperationGenerateContent:
			kind = llmschema.SpanKindLLM
		case llmschema.OperationEmbeddings:
			kind = llmschema.SpanKindEmbedding
		case llmschema.OperationExecuteTool:
			kind = llmschema.SpanKindTool
		case llmschema.OperationCreateAgent, llmschema.OperationInvokeAgent:
			kind = llmschema.SpanKindAgent
		case llmschema.OperationInvokeWorkflow:
			kind = llmschema.SpanKindWorkflow
		}
	}
	if kind == "" {
		switch f.reqType {
		case "chat", "completion":
			kind = llmschema.SpanKindLLM
		case "embedding":
			kind = llmschema.SpanKindEmbedding
		case "rerank":
			kind = llmschema.SpanKindReranker
		}
	}
	if kind == "" && (len(f.legacyIn) > 0 || len(f.legacyOut) > 0 || len(f.eventIn) > 0 || len(f.eventOut) > 0 || len(f.oiIn) > 0 || f.inMsgs != "") && (f.model.s != "" || hasUsage) {
		kind = llmschema.SpanKindLLM
	}
	if kind == "" && (vectorDBs[f.dbSystem] || f.hasTopK || (len(f.docs) > 0 && f.dbSystem != "")) {
		kind = llmschema.SpanKindRetriever
	}
	if kind == "" && f.hasToolName && (f.hasToolArgs || f.hasToolResp) {
		kind = llmschema.SpanKindTool
	}
	if kind == "" {
		return llmschema.SpanKindOther, false
	}
	// A provider call is an llm or embedding span of a leaf kind; agent spans that sum
	// their children's usage (invoke_agent) never reach here as llm.
	if kind == llmschema.SpanKindLLM || kind == llmschema.SpanKindEmbedding {
		llmCall = f.opName != llmschema.OperationInvokeAgent
	}
	return kind, llmCall
}

// normalizeProvider maps instrumentation-specific provider spellings (Vercel AI
// "openai.chat", "google.generative-ai", ...) onto gen_ai.provider.name values.
func normalizeProvider(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "az.ai.inference":
		return "azure.ai.inference"
	case "az.ai.openai":
		return "azure.ai.openai"
	}
	head, _, _ := strings.Cut(s, ".")
	switch head {
	case "google":
		if strings.Contains(s, "vertex") {
			return "gcp.vertex_ai"
		}
		return "gcp.gemini"
	case "vertex":
		return "gcp.vertex_ai"
	case "amazon-bedrock", "bedrock":
		return "aws.bedrock"
	case "azure-openai":
		return "azure.ai.openai"
	case "mistral", "mistralai":
		return "mistral_ai"
	case "xai":
		return "x_ai"
	case "openai", "anthropic", "groq", "deepseek", "cohere", "perplexity", "togetherai",
		"fireworks", "cerebras", "deepinfra", "ollama", "openrouter":
		// Vercel AI spells the API next to the provider: "openai.chat", "anthropic.messages".
		return head
	}
	// Anything else is kept: it is a semconv name ("aws.bedrock", "gcp.gemini") or unknown.
	return s
}

func (e *extractor) writeModelInfo(attrs pcommon.Map, f *facts) {
	if f.provider.s != "" && f.provider.rank != rankSemconv {
		attrs.PutStr(llmschema.ProviderName, clean(f.provider.s, e.maxBytes))
	}
	if f.model.s != "" && f.model.rank != rankSemconv {
		attrs.PutStr(llmschema.RequestModel, clean(f.model.s, e.maxBytes))
	}
	if f.respModel.s != "" && f.respModel.rank != rankSemconv {
		attrs.PutStr(llmschema.ResponseModel, clean(f.respModel.s, e.maxBytes))
	}
	if f.responseID.s != "" && f.responseID.rank != rankSemconv {
		attrs.PutStr(llmschema.ResponseID, clean(f.responseID.s, e.maxBytes))
	}
	if f.opName == "" {
		if op := operationFor(f); op != "" {
			attrs.PutStr(llmschema.OperationName, op)
		}
	}
}

// writeFinishReasons fills gen_ai.response.finish_reasons from the best source: the
// family's own finish-reason key, else the converted output messages.
func (e *extractor) writeFinishReasons(attrs pcommon.Map, f *facts, out msgText) {
	if f.hasFinishReasons {
		return
	}
	reasons := out.finishReasons
	if f.finish.s != "" {
		reasons = []string{f.finish.s}
	}
	if len(reasons) == 0 {
		return
	}
	sl := attrs.PutEmptySlice(llmschema.FinishReasons)
	sl.EnsureCapacity(len(reasons))
	for _, r := range reasons {
		sl.AppendEmpty().SetStr(clean(r, e.maxBytes))
	}
}

func operationFor(f *facts) string {
	switch {
	case f.oiKind == "LLM" || f.reqType == "chat" || strings.HasSuffix(f.aiOp, ".doGenerate") || strings.HasSuffix(f.aiOp, ".doStream"):
		if len(f.oiPrompts) > 0 {
			return llmschema.OperationTextCompletion
		}
		return llmschema.OperationChat
	case f.reqType == "completion":
		return llmschema.OperationTextCompletion
	case f.oiKind == "EMBEDDING" || f.reqType == "embedding" || strings.HasSuffix(f.aiOp, ".doEmbed"):
		return llmschema.OperationEmbeddings
	case f.aiOp == "ai.toolCall" || f.oiKind == "TOOL":
		return llmschema.OperationExecuteTool
	}
	return ""
}

func (e *extractor) writeUsage(attrs pcommon.Map, f *facts) pricing.Usage {
	if f.lfUsage != "" && !f.input.set() && !f.output.set() {
		var d map[string]float64
		if json.Unmarshal([]byte(f.lfUsage), &d) == nil {
			for _, k := range []string{"input", "prompt_tokens", "input_tokens"} {
				if n, ok := d[k]; ok {
					f.input = intAttr{int64(n), rankLangfuse}
					break
				}
			}
			for _, k := range []string{"output", "completion_tokens", "output_tokens"} {
				if n, ok := d[k]; ok {
					f.output = intAttr{int64(n), rankLangfuse}
					break
				}
			}
			for _, k := range []string{"input_cache_read", "cache_read_input_tokens", "cache_read"} {
				if n, ok := d[k]; ok {
					f.cacheRead = intAttr{int64(n), rankLangfuse}
					break
				}
			}
			for _, k := range []string{"input_cache_creation", "cache_creation_input_tokens", "cache_write"} {
				if n, ok := d[k]; ok {
					f.cacheCreate = intAttr{int64(n), rankLangfuse}
					break
				}
			}
		}
	}
	put := func(key string, a intAttr) {
		if a.set() && a.rank != rankSemconv {
			attrs.PutInt(key, a.v)
		}
	}
	put(llmschema.UsageInputTokens, f.input)
	put(llmschema.UsageOutputTokens, f.output)
	put(llmschema.UsageCacheRead, f.cacheRead)
	put(llmschema.UsageCacheCreation, f.cacheCreate)
	return pricing.Usage{Input: f.input.v, Output: f.output.v, CacheRead: f.cacheRead.v, CacheWrite: f.cacheCreate.v}
}

// msgText is what the text view needs from a message list.
type msgText struct {
	user, assistant string
	present         bool
	finishReasons   []string
}

// writeMessages writes gen_ai.input.messages / gen_ai.output.messages from the best
// source and returns the texts the display view needs.
func (e *extractor) writeMessages(attrs pcommon.Map, f *facts) (in, out msgText) {
	var sys string
	completion := isCompletion(f)
	if f.inMsgs != "" {
		in = canonicalText(f.inMsgs, completion)
	} else {
		var msgs []llmschema.Message
		msgs, sys = e.inputMessages(f)
		if len(msgs) > 0 {
			in = msgText{user: lastUserText(msgs), assistant: assistantText(msgs), present: true}
			if completion {
				in.user = allUserText(msgs)
			}
			if s, ok := fitMessages(msgs, e.maxBytes); ok {
				attrs.PutStr(llmschema.InputMessages, s)
			}
		}
	}
	if f.sysInstr == "" && sys != "" {
		if raw, err := json.Marshal([]llmschema.Part{{Type: llmschema.PartText, Content: sys}}); err == nil {
			attrs.PutStr(llmschema.SystemInstructions, clean(string(raw), e.maxBytes))
		}
	}
	if f.outMsgs != "" {
		out = canonicalText(f.outMsgs, false)
	} else if msgs := e.outputMessages(f); len(msgs) > 0 {
		out = msgText{user: lastUserText(msgs), assistant: assistantText(msgs), present: true}
		for _, m := range msgs {
			if m.FinishReason != "" {
				out.finishReasons = append(out.finishReasons, m.FinishReason)
			}
		}
		if s, ok := fitMessages(msgs, e.maxBytes); ok {
			attrs.PutStr(llmschema.OutputMessages, s)
		}
	}
	return in, out
}

// canonicalText reads an existing semantic-convention message list without decoding it.
func canonicalText(s string, completion bool) msgText {
	user, assistant, n, ok := scanMessages(s, completion)
	return msgText{user: user, assistant: assistant, present: ok && n > 0}
}

// isCompletion reports whether the span is a text-completion call, whose input is the
// whole prompt rather than the last user turn.
func isCompletion(f *facts) bool {
	return f.opName == llmschema.OperationTextCompletion || f.reqType == "completion" || len(f.oiPrompts) > 0
}

func allUserText(msgs []llmschema.Message) string {
	var b strings.Builder
	for _, m := range msgs {
		if m.Role == llmschema.RoleUser {
			if t := joinText(m.Parts); t != "" {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(t)
			}
		}
	}
	return b.String()
}

func (e *extractor) inputMessages(f *facts) (msgs []llmschema.Message, system string) {
	switch {
	case len(f.oiIn) > 0:
		return oiMessages(f.oiIn), ""
	case len(f.legacyIn) > 0:
		return legacyMessages(f.legacyIn), ""
	case len(f.eventIn) > 0:
		return f.eventIn, ""
	case len(f.oiPrompts) > 0:
		for _, p := range f.oiPrompts {
			msgs = append(msgs, textMessage(llmschema.RoleUser, p))
		}
		return msgs, ""
	case f.aiPromptMsgs != "":
		return jsonMessages(f.aiPromptMsgs), ""
	case f.aiPrompt != "":
		return vercelPrompt(f.aiPrompt)
	case f.claudeCtx != "":
		if m := jsonMessages(f.claudeCtx); m != nil {
			return m, f.claudeSystem
		}
		return claudeContextMessages(f.claudeCtx), f.claudeSystem
	case f.jsonPrompt != "":
		return genericMessages(f.jsonPrompt), ""
	case f.inText.rank == rankLangfuse && f.lfKind == "generation":
		return genericMessages(f.inText.s), ""
	}
	return nil, f.claudeSystem
}

func (e *extractor) outputMessages(f *facts) []llmschema.Message {
	switch {
	case len(f.oiOut) > 0:
		return oiMessages(f.oiOut)
	case len(f.legacyOut) > 0:
		return legacyMessages(f.legacyOut)
	case len(f.eventOut) > 0:
		return f.eventOut
	case len(f.oiChoices) > 0:
		var msgs []llmschema.Message
		for _, c := range f.oiChoices {
			msgs = append(msgs, textMessage(llmschema.RoleAssistant, c))
		}
		return msgs
	case f.aiText != "" || f.aiToolCalls != "" || f.aiObject != "":
		m := llmschema.Message{Role: llmschema.RoleAssistant, FinishReason: f.finish.s, Parts: []llmschema.Part{}}
		if f.aiText != "" {
			m.Parts = append(m.Parts, llmschema.Part{Type: llmschema.PartText, Content: f.aiText})
		} else if f.aiObject != "" {
			m.Parts = append(m.Parts, llmschema.Part{Type: llmschema.PartText, Content: f.aiObject})
		}
		if looksJSON(f.aiToolCalls) {
			var calls []map[string]any
			if json.Unmarshal([]byte(f.aiToolCalls), &calls) == nil {
				for _, c := range calls {
					m.Parts = append(m.Parts, openAIToolCall(c))
				}
			}
		}
		return []llmschema.Message{m}
	case f.claudeOut != "":
		if m := jsonMessages(f.claudeOut); m != nil {
			return m
		}
		m := textMessage(llmschema.RoleAssistant, f.claudeOut)
		m.FinishReason = f.finish.s
		return []llmschema.Message{m}
	case f.jsonCompletion != "":
		return genericMessages(f.jsonCompletion)
	case f.outText.rank == rankLangfuse && f.lfKind == "generation":
		return genericMessages(f.outText.s)
	}
	return nil
}

func textMessage(role, text string) llmschema.Message {
	return llmschema.Message{Role: role, Parts: []llmschema.Part{{Type: llmschema.PartText, Content: text}}}
}

func jsonMessages(s string) []llmschema.Message {
	if !looksJSON(s) {
		return nil
	}
	var list []any
	if json.Unmarshal([]byte(s), &list) != nil {
		return nil
	}
	msgs, ok := messagesFromAny(list)
	if !ok {
		return nil
	}
	return msgs
}

// genericMessages reads the message shapes that framework exporters put in one JSON
// attribute: a message list, {"messages": [...]} (LangChain nests one list per prompt),
// an OpenAI response {"choices": [{"message": {...}}]}, or a single message object.
func genericMessages(s string) []llmschema.Message {
	if !looksJSON(s) {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return nil
	}
	return messagesFromValue(v, 0)
}

func messagesFromValue(v any, depth int) []llmschema.Message {
	if depth > 3 {
		return nil
	}
	switch x := v.(type) {
	case []any:
		if msgs, ok := messagesFromAny(x); ok {
			return msgs
		}
		if len(x) == 1 {
			return messagesFromValue(x[0], depth+1)
		}
	case map[string]any:
		if role, ok := x["role"].(string); ok {
			return []llmschema.Message{convertMessage(role, x)}
		}
		if msgs, ok := x["messages"]; ok {
			return messagesFromValue(msgs, depth+1)
		}
		if choices, ok := x["choices"].([]any); ok {
			var out []llmschema.Message
			for _, c := range choices {
				if cm, ok := c.(map[string]any); ok {
					if m, ok := cm["message"].(map[string]any); ok {
						role, _ := m["role"].(string)
						msg := convertMessage(role, m)
						msg.FinishReason, _ = cm["finish_reason"].(string)
						out = append(out, msg)
					}
				}
			}
			return out
		}
	}
	return nil
}

// claudeContextMessages reads Claude Code's new_context: the user turns added since the
// previous request, joined by "\n\n---\n\n", each "[USER]\n<text>" or
// "[TOOL RESULT: <tool_use_id>]\n<content>". Unmarked text is one user message.
func claudeContextMessages(s string) []llmschema.Message {
	const sep = "\n\n---\n\n"
	var msgs []llmschema.Message
	for part := range strings.SplitSeq(s, sep) {
		switch {
		case strings.HasPrefix(part, "[USER]\n"):
			msgs = append(msgs, textMessage(llmschema.RoleUser, part[len("[USER]\n"):]))
		case strings.HasPrefix(part, "[TOOL RESULT: "):
			header, body, _ := strings.Cut(part, "\n")
			id := strings.TrimSuffix(strings.TrimPrefix(header, "[TOOL RESULT: "), "]")
			msgs = append(msgs, llmschema.Message{Role: llmschema.RoleTool, Parts: []llmschema.Part{
				{Type: llmschema.PartToolCallResponse, ID: id, Response: body},
			}})
		case len(msgs) > 0:
			// A separator inside user content: keep it with the previous part.
			last := &msgs[len(msgs)-1].Parts[0]
			if t, ok := last.Content.(string); ok {
				last.Content = t + sep + part
			} else if r, ok := last.Response.(string); ok {
				last.Response = r + sep + part
			}
		default:
			msgs = append(msgs, textMessage(llmschema.RoleUser, part))
		}
	}
	return msgs
}

// vercelPrompt reads ai.prompt: {"system": "...", "prompt": "..." | "messages": [...]}.
func vercelPrompt(s string) ([]llmschema.Message, string) {
	if !looksJSON(s) {
		return []llmschema.Message{textMessage(llmschema.RoleUser, s)}, ""
	}
	var p struct {
		System   any   `json:"system"`
		Prompt   any   `json:"prompt"`
		Messages []any `json:"messages"`
	}
	if json.Unmarshal([]byte(s), &p) != nil {
		return nil, ""
	}
	var msgs []llmschema.Message
	switch x := p.Prompt.(type) {
	case string:
		msgs = append(msgs, textMessage(llmschema.RoleUser, x))
	case []any:
		if m, ok := messagesFromAny(x); ok {
			msgs = append(msgs, m...)
		}
	}
	if m, ok := messagesFromAny(p.Messages); ok {
		msgs = append(msgs, m...)
	}
	sys, _ := p.System.(string)
	return msgs, sys
}

func oiMessages(src []oiMsg) []llmschema.Message {
	msgs := make([]llmschema.Message, 0, len(src))
	for _, m := range src {
		if m.role == "" && m.content == "" && len(m.contents) == 0 && len(m.toolCalls) == 0 {
			continue
		}
		msg := llmschema.Message{Role: m.role, Name: m.name, Parts: make([]llmschema.Part, 0, 1+len(m.contents)+len(m.toolCalls))}
		if m.role == llmschema.RoleTool && m.toolCallID != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: m.toolCallID, Response: m.content})
		} else if m.content != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: m.content})
		}
		for _, c := range m.contents {
			switch {
			case c.typ == "image" || c.imageURL != "":
				msg.Parts = append(msg.Parts, mediaPart("image", c.imageURL, ""))
			case c.text != "" && c.typ == llmschema.PartReasoning:
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartReasoning, Content: c.text})
			case c.text != "":
				msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: c.text})
			}
		}
		for _, tc := range m.toolCalls {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: tc.id, Name: tc.name, Arguments: jsonArg(tc.args)})
		}
		if m.funcName != "" {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, Name: m.funcName, Arguments: jsonArg(m.funcArgs)})
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

func legacyMessages(src []legacyMsg) []llmschema.Message {
	msgs := make([]llmschema.Message, 0, len(src))
	for _, m := range src {
		if m.role == "" && m.content == "" && len(m.toolCalls) == 0 {
			continue
		}
		msg := llmschema.Message{Role: m.role, FinishReason: m.finishReason, Parts: make([]llmschema.Part, 0, 1+len(m.toolCalls))}
		switch {
		case m.role == llmschema.RoleTool && m.toolCallID != "":
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCallResponse, ID: m.toolCallID, Response: m.content})
		case m.content != "":
			// Some instrumentations put a JSON list of content blocks in .content.
			if looksJSON(m.content) && m.content[0] == '[' {
				var blocks []any
				if json.Unmarshal([]byte(m.content), &blocks) == nil {
					conv := convertMessage(m.role, map[string]any{"content": blocks})
					if len(conv.Parts) > 0 {
						msg.Parts = append(msg.Parts, conv.Parts...)
						break
					}
				}
			}
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartText, Content: m.content})
		}
		for _, tc := range m.toolCalls {
			msg.Parts = append(msg.Parts, llmschema.Part{Type: llmschema.PartToolCall, ID: tc.id, Name: tc.name, Arguments: jsonArg(tc.args)})
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

func (e *extractor) writeText(attrs pcommon.Map, f *facts, kind string, in, out msgText) {
	var input, output string
	isModel := kind == llmschema.SpanKindLLM || kind == llmschema.SpanKindEmbedding
	if isModel {
		input = in.user
		output = out.assistant
	}
	if input == "" {
		switch {
		case f.claudePrompt != "":
			input = f.claudePrompt
		case f.claudeTool != "":
			input = displayText(f.claudeTool)
		case f.toolArgs.s != "" && kind == llmschema.SpanKindTool:
			input = f.toolArgs.s
		case f.inText.s != "":
			input = displayText(f.inText.s)
		case in.present:
			input = in.user
		}
	}
	if output == "" {
		switch {
		case f.toolResult.s != "" && kind == llmschema.SpanKindTool:
			output = displayText(f.toolResult.s)
		case f.outText.s != "" && !(isModel && f.outText.rank == rankOpenInference && out.present):
			output = displayText(f.outText.s)
		case out.present:
			output = out.assistant
		case f.aiText != "":
			output = f.aiText
		}
	}
	if input != "" && !f.hasCanonicalIn {
		attrs.PutStr(llmschema.Input, clean(input, e.maxBytes))
	}
	if output != "" && !f.hasCanonicalOut {
		attrs.PutStr(llmschema.Output, clean(output, e.maxBytes))
	}
}

func (e *extractor) writeTool(attrs pcommon.Map, f *facts, kind string) {
	if kind != llmschema.SpanKindTool {
		return
	}
	if f.toolName.s != "" && f.toolName.rank != rankSemconv {
		attrs.PutStr(llmschema.ToolName, clean(f.toolName.s, e.maxBytes))
	}
	if f.toolCallID.s != "" && f.toolCallID.rank != rankSemconv {
		attrs.PutStr(llmschema.ToolCallID, clean(f.toolCallID.s, e.maxBytes))
	}
	if !f.hasToolArgs {
		args := f.toolArgs.s
		if args == "" {
			args = f.claudeTool
		}
		if args == "" && f.inText.rank == rankOpenInference {
			args = f.inText.s
		}
		if args != "" {
			attrs.PutStr(llmschema.ToolCallArguments, clean(args, e.maxBytes))
		}
	}
	if !f.hasToolResp {
		res := f.toolResult.s
		if res == "" && f.outText.rank == rankOpenInference {
			res = f.outText.s
		}
		if res != "" {
			attrs.PutStr(llmschema.ToolCallResult, clean(res, e.maxBytes))
		}
	}
}

func (e *extractor) writeIdentity(attrs pcommon.Map, f *facts, ri *resourceInfo) {
	if f.session.s == "" && ri != nil {
		f.session.offer(ri.sessionID, rankOther)
	}
	if f.user.s == "" && ri != nil {
		f.user.offer(ri.userID, rankOther)
	}
	if f.session.s != "" && f.session.rank != rankSemconv {
		attrs.PutStr(llmschema.SessionID, clean(f.session.s, e.maxBytes))
	}
	if f.user.s != "" && f.user.rank != rankSemconv {
		attrs.PutStr(llmschema.UserID, clean(f.user.s, e.maxBytes))
	}
	run := f.runID.s
	if run == "" && ri != nil {
		run = ri.runID
	}
	if run != "" && f.runID.rank != 1 {
		attrs.PutStr(llmschema.RunID, clean(run, e.maxBytes))
	}
	tc := f.testcase.s
	if tc == "" && ri != nil {
		tc = ri.testcaseID
	}
	if tc != "" && f.testcase.rank != 1 {
		attrs.PutStr(llmschema.TestcaseID, clean(tc, e.maxBytes))
	}
	if f.expect.s != "" && f.expect.rank != 1 {
		attrs.PutStr(llmschema.Expected, clean(displayText(f.expect.s), e.maxBytes))
	}
	if f.oiMetadata != "" && looksJSON(f.oiMetadata) {
		var md map[string]any
		if json.Unmarshal([]byte(f.oiMetadata), &md) == nil {
			for k, v := range md {
				s, ok := v.(string)
				if !ok {
					raw, err := json.Marshal(v)
					if err != nil {
						continue
					}
					s = string(raw)
				}
				f.metadata = append(f.metadata, kv{k, s})
			}
		}
	}
	for _, m := range f.metadata {
		if m.k == "" {
			continue
		}
		key := llmschema.MetadataPrefix + m.k
		if _, exists := attrs.Get(key); exists {
			continue
		}
		attrs.PutStr(clean(key, e.maxBytes), clean(m.v, e.maxBytes))
	}
}

func (e *extractor) writeDocs(attrs pcommon.Map, f *facts) {
	if len(f.docs) == 0 {
		return
	}
	docs := make([]llmschema.Document, 0, len(f.docs))
	for _, d := range f.docs {
		if d.content == "" && d.id == "" {
			continue
		}
		docs = append(docs, llmschema.Document{ID: d.id, Content: d.content, Score: d.score})
	}
	if len(docs) == 0 {
		return
	}
	raw, err := json.Marshal(docs)
	if err != nil {
		return
	}
	for len(raw) > e.maxBytes && len(docs) > 0 {
		budget := e.maxBytes / (2 * len(docs))
		for i := range docs {
			if len(docs[i].Content) > budget {
				docs[i].Content = truncate(docs[i].Content, budget)
			}
		}
		if raw, err = json.Marshal(docs); err != nil {
			return
		}
		if len(raw) > e.maxBytes {
			docs = docs[:len(docs)-1]
			if raw, err = json.Marshal(docs); err != nil {
				return
			}
		}
	}
	attrs.PutStr(llmschema.RetrievalDocuments, string(raw))
}

func (e *extractor) writeCost(attrs pcommon.Map, f *facts, u pricing.Usage, at time.Time) {
	if at.IsZero() || at.Unix() <= 0 {
		at = time.Now()
	}
	m, ok := e.prices.Lookup(f.provider.s, f.respModel.s, f.model.s)
	if !ok {
		attrs.PutBool(llmschema.PriceUnknown, true)
		if f.hadCost {
			attrs.Remove(llmschema.CostUSD)
		}
		if e.unknownPrice != nil {
			model := f.respModel.s
			if model == "" {
				model = f.model.s
			}
			e.unknownPrice(model)
		}
		return
	}
	attrs.PutDouble(llmschema.CostUSD, m.Cost(u, at))
	if f.hadUnknown {
		attrs.Remove(llmschema.PriceUnknown)
	}
}

// isSourceKey reports whether k is a source-convention key that the canonical view
// replaces (removed when keep_original_attributes is false).
func (e *extractor) isSourceKey(k string) bool {
	switch k {
	case llmschema.GenAISystem, llmschema.GenAIUsagePromptTokens, llmschema.GenAIUsageCompletionToks,
		llmschema.GenAIUsageCacheReadAlt, llmschema.GenAIUsageCacheCreateAlt, llmschema.GenAIUsageCacheWriteAlt,
		llmschema.LLMRequestType, llmschema.LLMUsageTotalTokens,
		llmschema.OpenInferenceSpanKind, llmschema.OIInputValue, llmschema.OIOutputValue,
		llmschema.OIInputMimeType, llmschema.OIOutputMimeType, llmschema.OIModelName,
		llmschema.OIRequestModelName, llmschema.OIResponseModelName, llmschema.OIProvider,
		llmschema.OISystem, llmschema.OIFinishReason, llmschema.OIEmbeddingModelName, llmschema.OIMetadata,
		llmschema.TraceloopSpanKind, llmschema.TraceloopEntityInput, llmschema.TraceloopEntityOutput,
		llmschema.AIPrompt, llmschema.AIPromptMessages, llmschema.AIResponseText, llmschema.AIResponseToolCalls,
		llmschema.AIResponseObject, llmschema.AIResponseFinishReason, llmschema.AIResponseModel,
		llmschema.AIResponseID, llmschema.AIModelID, llmschema.AIModelProvider,
		llmschema.AIToolCallName, llmschema.AIToolCallID, llmschema.AIToolCallArgs, llmschema.AIToolCallResult,
		llmschema.ClaudeNewContext, llmschema.ClaudeResponseOutput, llmschema.ClaudeToolInput,
		llmschema.ClaudeUserPrompt, llmschema.ClaudeStopReason,
		llmschema.LangfuseObservationType, llmschema.LangfuseObservationInput, llmschema.LangfuseObservationOutput,
		llmschema.LangfuseObservationModel, llmschema.LangfuseUsageDetails, llmschema.LangfuseTraceInput,
		llmschema.LangfuseTraceOutput, llmschema.LangfuseSessionID, llmschema.LangfuseUserID,
		llmschema.MLflowSpanInputs, llmschema.MLflowSpanOutputs,
		llmschema.ScorecardTracingGroupID, llmschema.ScorecardTestcaseID, llmschema.ScorecardExpected,
		llmschema.TestcaseIDAlt, llmschema.GenAIPromptJSON, llmschema.GenAICompletionJSON,
		llmschema.OITokenPrompt, llmschema.OITokenCompletion, llmschema.OITokenCacheRead, llmschema.OITokenCacheWrite,
		llmschema.AIUsagePromptTokens, llmschema.AIUsageCompletionTokens, llmschema.AIUsageInputTokens,
		llmschema.AIUsageOutputTokens, llmschema.AIUsageCachedInputTokens, llmschema.AIUsageTokens,
		llmschema.AIUsageCacheReadTokens, llmschema.AIUsageCacheWriteTokens, llmschema.TraceloopWorkflowName,
		llmschema.AIValue, llmschema.AIValues:
		return true
	}
	for _, p := range []string{
		llmschema.GenAIPromptPrefix, llmschema.GenAICompletionPrefix,
		llmschema.OIInputMessagesPrefix, llmschema.OIOutputMessagesPrefix, llmschema.OIPromptsPrefix,
		llmschema.OIChoicesPrefix, llmschema.OIRetrievalDocsPrefix, llmschema.TraceloopAssociationProps,
		llmschema.AITelemetryMetadata, llmschema.LangfuseTraceMetadata,
		llmschema.LangfuseObsMetadata, llmschema.LangSmithMetadata,
	} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	for _, rk := range e.runIDKeys {
		if k == rk && k != llmschema.RunID {
			return true
		}
	}
	return false
}
