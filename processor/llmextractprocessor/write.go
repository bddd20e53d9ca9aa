// Writing: the canonical attributes, from facts, in precedence order.

package llmextractprocessor

import (
	"encoding/json"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/pricing"
)

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
	if f.inMsgs == "" && f.historyMsgs != "" {
		f.inMsgs = f.historyMsgs
		attrs.PutStr(llmschema.InputMessages, f.inMsgs)
	}
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
	size := 2
	for _, d := range f.docs {
		if d.content == "" && d.id == "" {
			continue
		}
		docs = append(docs, llmschema.Document{ID: d.id, Content: d.content, Score: d.score})
		size += len(d.id) + len(d.content) + 48 // the keys, quotes and a score
	}
	if len(docs) == 0 {
		return
	}
	raw, ok := appendDocs(make([]byte, 0, size), docs)
	if !ok {
		return
	}
	for len(raw) > e.maxBytes && len(docs) > 0 {
		budget := e.maxBytes / (2 * len(docs))
		for i := range docs {
			if len(docs[i].Content) > budget {
				docs[i].Content = truncate(docs[i].Content, budget)
			}
		}
		raw, _ = appendDocs(raw[:0], docs)
		if len(raw) > e.maxBytes {
			docs = docs[:len(docs)-1]
			raw, _ = appendDocs(raw[:0], docs)
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
		llmschema.AIValue, llmschema.AIValues, llmschema.ClaudeUserSystemPrompt,
		llmschema.ADKLLMRequest, llmschema.ADKLLMResponse, llmschema.ADKToolCallArgs, llmschema.ADKToolResponse,
		llmschema.LogfireAllMessagesEvents, llmschema.PydanticAIAllMessages:
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
