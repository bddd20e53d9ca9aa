package errordetectprocessor

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// spanView is the canonical view of one span that the checks read, decoded once.
type spanView struct {
	rs    ptrace.ResourceSpans
	ss    ptrace.ScopeSpans
	span  ptrace.Span
	kind  string
	root  bool
	attrs pcommon.Map

	in     []llmschema.Message
	out    []llmschema.Message
	system string
	// outText is the text the span produced: the text parts of its output messages, or
	// tracehound.output. hasOutput tells an empty output from an output not recorded.
	outText   string
	hasOutput bool
	finish    []string
	// docsJSON is the retrieval documents attribute, decoded into docs on first use:
	// most answers need no grounding.
	docsJSON    string
	docsDecoded bool
	docs        []llmschema.Document

	flags []llmschema.Flag
}

// load fills the zero view v with the span's view; the views of a batch live in one slice
// and are filled in place.
func (v *spanView) load(rs ptrace.ResourceSpans, ss ptrace.ScopeSpans, span ptrace.Span) {
	v.rs, v.ss, v.span, v.attrs, v.root = rs, ss, span, span.Attributes(), span.ParentSpanID().IsEmpty()
	a := v.attrs
	v.kind = str(a, llmschema.SpanKind)
	if s, ok := a.Get(llmschema.InputMessages); ok {
		v.in = decodeMessages(s.AsString())
	}
	if s, ok := a.Get(llmschema.OutputMessages); ok {
		v.hasOutput = true
		v.out = decodeMessages(s.AsString())
		var texts []string
		for _, m := range v.out {
			if m.Role != "" && m.Role != llmschema.RoleAssistant {
				continue
			}
			texts = appendTexts(texts, m.Parts)
		}
		v.outText = strings.Join(texts, "\n")
	}
	if s, ok := a.Get(llmschema.Output); ok {
		v.hasOutput = true
		if v.outText == "" && !hasToolCall(v.out) {
			v.outText = s.AsString()
		}
	}
	if !v.hasOutput && v.kind == llmschema.SpanKindLLM {
		// Content capture is often off; a reported zero output-token count still tells
		// that the call produced nothing.
		if n, ok := a.Get(llmschema.UsageOutputTokens); ok && n.Type() == pcommon.ValueTypeInt && n.Int() == 0 {
			v.hasOutput = true
		}
	}
	if s, ok := a.Get(llmschema.SystemInstructions); ok {
		v.system = decodeSystem(s.AsString())
	}
	if s, ok := a.Get(llmschema.FinishReasons); ok {
		switch s.Type() {
		case pcommon.ValueTypeSlice:
			for i := 0; i < s.Slice().Len(); i++ {
				v.finish = append(v.finish, s.Slice().At(i).AsString())
			}
		default:
			v.finish = append(v.finish, s.AsString())
		}
	}
	for _, m := range v.out {
		if m.FinishReason != "" {
			v.finish = append(v.finish, m.FinishReason)
		}
	}
	if s, ok := a.Get(llmschema.RetrievalDocuments); ok {
		v.docsJSON = s.AsString()
	}
}

// documents returns the span's retrieval documents.
func (v *spanView) documents() []llmschema.Document {
	// "" (no attribute, or one no list decodes from) leaves docs nil.
	if !v.docsDecoded && v.docsJSON != "" {
		v.docsDecoded = true
		if docs, ok := decodeDocumentsFast(v.docsJSON); ok {
			v.docs = docs
		} else {
			_ = json.Unmarshal([]byte(v.docsJSON), &v.docs)
		}
	}
	return v.docs
}

func str(a pcommon.Map, k string) string {
	if v, ok := a.Get(k); ok {
		return v.AsString()
	}
	return ""
}

// decodeMessages reads a canonical message list; malformed JSON reads as no messages,
// since llmextract owns the format and a bad value must not stop the other checks.
func decodeMessages(s string) []llmschema.Message {
	if ms, ok := decodeMessagesFast(s); ok {
		return ms
	}
	var ms []llmschema.Message
	if err := json.Unmarshal([]byte(s), &ms); err != nil {
		return nil
	}
	return ms
}

// decodeSystem reads gen_ai.system_instructions: a JSON list of parts, or plain text.
func decodeSystem(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "[") {
		var parts []llmschema.Part
		if json.Unmarshal([]byte(t), &parts) == nil {
			return strings.Join(appendTexts(nil, parts), "\n")
		}
	}
	return s
}

// appendTexts appends the non-empty text parts; joined with newlines they are the parts'
// text. A single part's text is used as is, without a copy.
func appendTexts(texts []string, parts []llmschema.Part) []string {
	for _, p := range parts {
		if p.Type != llmschema.PartText && p.Type != "" {
			continue
		}
		if t := anyText(p.Content); t != "" {
			texts = append(texts, t)
		}
	}
	return texts
}

// anyText renders a part's free-form field (content, arguments, response) as text.
func anyText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Sprint(t)
		}
		return string(b)
	}
}

func hasToolCall(ms []llmschema.Message) bool {
	for _, m := range ms {
		for _, p := range m.Parts {
			if p.Type == llmschema.PartToolCall {
				return true
			}
		}
	}
	return false
}

// messageText returns the text parts of one message.
func messageText(m llmschema.Message) string {
	return strings.Join(appendTexts(nil, m.Parts), "\n")
}

// userTexts returns the text of every user message of the span's input, oldest first.
func (v *spanView) userTexts() []string {
	var out []string
	for _, m := range v.in {
		if m.Role == llmschema.RoleUser {
			if t := messageText(m); t != "" {
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		if t := str(v.attrs, llmschema.Input); t != "" && len(v.in) == 0 {
			out = append(out, t)
		}
	}
	return out
}

// lastUserText is the question the output answers.
func (v *spanView) lastUserText() string {
	u := v.userTexts()
	if len(u) == 0 {
		return ""
	}
	return u[len(u)-1]
}

// isError reports whether the span's status is error.
func (v *spanView) isError() bool {
	return v.span.Status().Code() == ptrace.StatusCodeError
}

// isLLM reports whether the span is a model call whose output the behavioral checks read.
// Wrapper spans that llmextract marks as not the billable call are skipped so that one
// answer is not flagged twice.
func (v *spanView) isLLM() bool {
	if v.kind != llmschema.SpanKindLLM {
		return false
	}
	if c, ok := v.attrs.Get(llmschema.LLMCall); ok && c.Type() == pcommon.ValueTypeBool && !c.Bool() {
		return false
	}
	return true
}

func (v *spanView) isTool() bool {
	return v.kind == llmschema.SpanKindTool || str(v.attrs, llmschema.OperationName) == llmschema.OperationExecuteTool
}

// toolResult is what a tool span returned.
func (v *spanView) toolResult() string {
	if r := str(v.attrs, llmschema.ToolCallResult); r != "" {
		return r
	}
	if v.isTool() {
		return str(v.attrs, llmschema.Output)
	}
	return ""
}

// endsWithToolCall reports whether the last output message asks for a tool call, and
// returns the call.
func (v *spanView) endsWithToolCall() (llmschema.Part, bool) {
	if len(v.out) == 0 {
		return llmschema.Part{}, false
	}
	last := v.out[len(v.out)-1]
	for i := len(last.Parts) - 1; i >= 0; i-- {
		if last.Parts[i].Type == llmschema.PartToolCall {
			return last.Parts[i], true
		}
	}
	return llmschema.Part{}, false
}

func (v *spanView) add(f llmschema.Flag) {
	for _, g := range v.flags {
		if g.Code == f.Code {
			return
		}
	}
	v.flags = append(v.flags, f)
}
