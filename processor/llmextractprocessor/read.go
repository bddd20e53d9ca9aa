// Reading: one pass over a span's attributes and events fills facts.

package llmextractprocessor

import (
	"encoding/json"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

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
	case llmschema.LogfireEvents, llmschema.LogfireAllMessagesEvents:
		if in, out, ok := logfireEvents(v.Str()); ok {
			f.eventIn, f.eventOut = append(f.eventIn, in...), append(f.eventOut, out...)
			f.agentHistory = f.agentHistory || k == llmschema.LogfireAllMessagesEvents
		}
	case llmschema.PydanticAIAllMessages:
		f.historyMsgs = str()
		f.agentHistory = true
	case llmschema.PydanticAIFinalResult:
		f.outText.offer(str(), rankOther)
	case llmschema.ADKLLMRequest:
		f.adkRequest = str()
	case llmschema.ADKLLMResponse:
		f.adkResponse = str()
	case llmschema.ADKToolCallArgs:
		f.toolArgs.offer(str(), rankOther)
	case llmschema.ADKToolResponse:
		f.toolResult.offer(str(), rankOther)
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

// logfireEvents converts a Pydantic AI v1 event list into input and output messages.
func logfireEvents(s string) (in, out []llmschema.Message, ok bool) {
	if !looksJSON(s) || !strings.HasPrefix(strings.TrimSpace(s), "[") {
		return nil, nil, false
	}
	var events []map[string]any
	if json.Unmarshal([]byte(s), &events) != nil {
		return nil, nil, false
	}
	for _, ev := range events {
		name, isEvent := ev[llmschema.LogfireEventName].(string)
		if !isEvent {
			return nil, nil, false
		}
		switch name {
		case llmschema.GenAIEventChoice:
			msg := ev
			if inner, ok := ev["message"].(map[string]any); ok {
				msg = inner
			}
			m := eventBody(llmschema.RoleAssistant, msg)
			m.FinishReason, _ = ev["finish_reason"].(string)
			out = append(out, m)
		case llmschema.GenAIEventSystemMessage, llmschema.GenAIEventUserMessage,
			llmschema.GenAIEventAssistantMessage, llmschema.GenAIEventToolMessage:
			role := strings.TrimSuffix(strings.TrimPrefix(name, "gen_ai."), ".message")
			in = append(in, eventBody(role, ev))
		}
	}
	return in, out, true
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
