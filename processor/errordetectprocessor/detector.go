package errordetectprocessor

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// detector runs the built-in checks on one trace group. It holds only immutable,
// precompiled state, so one detector serves concurrent batches.
type detector struct {
	cfg       *Config
	refusal   *refusalMatcher
	denyTerms []string
	markers   []string
}

func newDetector(cfg *Config) *detector {
	d := &detector{cfg: cfg, refusal: newRefusalMatcher(cfg.Refusal.ExtraPhrases)}
	for _, t := range cfg.SafetyViolation.DenyTerms {
		d.denyTerms = append(d.denyTerms, normalizeSpace(t))
	}
	for _, m := range cfg.WorkflowInterruption.IterationMarkers {
		d.markers = append(d.markers, strings.ToLower(m))
	}
	return d
}

func behavioral(c CheckConfig, code, message, evidence string) llmschema.Flag {
	return llmschema.Flag{Code: code, Category: llmschema.CategoryBehavioral, Severity: c.Severity, Message: message, Evidence: evidence}
}

// answerSpans are the spans whose output is a model answer: LLM calls, or, in a trace
// group without any LLM call that recorded an output, the spans that carry an output
// (e.g. an agent SDK that records only its run).
func answerSpans(g *traceGroup) []*spanView {
	var out []*spanView
	for _, v := range g.spans {
		if v.isLLM() && v.hasOutput {
			out = append(out, v)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, v := range g.spans {
		if !v.hasOutput {
			continue
		}
		switch v.kind {
		case llmschema.SpanKindTool, llmschema.SpanKindRetriever, llmschema.SpanKindEmbedding,
			llmschema.SpanKindReranker, llmschema.SpanKindGuardrail:
			continue
		}
		out = append(out, v)
	}
	return out
}

func (d *detector) detectTrace(g *traceGroup) {
	cfg := d.cfg
	if cfg.Technical.Enabled {
		for _, v := range g.spans {
			detectTechnical(v)
		}
	}
	answers := answerSpans(g)
	ground := &grounding{group: g}
	for _, v := range answers {
		// Only a model call's empty output is a failure: an agent or workflow span may
		// legitimately return nothing (its result went to a tool or a side effect).
		if cfg.EmptyOutput.Enabled && v.isLLM() {
			d.detectEmpty(v)
		}
		text := capText(v.outText, maxAnswerBytes)
		if !hasContent(text) {
			continue
		}
		refused := false
		if cfg.Refusal.Enabled {
			refused = d.detectRefusal(v, text)
		}
		if cfg.Repetition.Enabled {
			d.detectRepetition(v, text)
		}
		if cfg.OffTopic.Enabled && !refused {
			d.detectOffTopic(v, text)
		}
		var low string
		if cfg.SafetyViolation.Enabled || cfg.ContextLoss.Enabled {
			low = normalizeSpace(text)
		}
		digits := countDigits(text)
		if cfg.SafetyViolation.Enabled {
			d.detectSafety(v, text, low, digits)
		}
		if cfg.ContextLoss.Enabled {
			d.detectContextLoss(v, text, low)
		}
		if cfg.Hallucination.Enabled && !refused {
			d.detectHallucination(v, text, ground, digits)
		}
	}
	if cfg.WorkflowInterruption.Enabled {
		d.detectWorkflow(g)
	}
}

// detectEmpty flags a model call that recorded an output with nothing in it: no text and
// no tool call, without an error or a finish reason that already explains it.
func (d *detector) detectEmpty(v *spanView) {
	if hasContent(v.outText) || hasToolCall(v.out) || v.isError() {
		return
	}
	for _, fr := range v.finish {
		switch strings.ToLower(fr) {
		case "tool_calls", "tool_use", "function_call":
			return
		}
		if truncationReason(fr) || filterReason(fr) {
			return
		}
	}
	ev := "output recorded with no text and no tool call"
	if t := strings.TrimSpace(v.outText); t != "" {
		ev = "output has no words: " + t
	} else if !hasAttr(v.attrs, llmschema.OutputMessages) && !hasAttr(v.attrs, llmschema.Output) {
		ev = "gen_ai.usage.output_tokens=0"
	}
	v.add(behavioral(d.cfg.EmptyOutput, llmschema.FlagCodeEmptyOutput, "the model returned an empty answer", ev))
}

var codeFenceRE = regexp.MustCompile("```[A-Za-z0-9_+-]*")

// hasContent reports whether text has a letter, a digit or a symbol such as an emoji;
// whitespace, punctuation and empty markup ("...", "{}", an empty code fence) do not count.
func hasContent(text string) bool {
	if strings.Contains(text, "```") {
		text = codeFenceRE.ReplaceAllString(text, "")
	}
	for _, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.So, r) {
			return true
		}
	}
	return false
}

func hasAttr(a pcommon.Map, k string) bool {
	_, ok := a.Get(k)
	return ok
}

// maxAnswerBytes and maxContextBytes bound the text a check reads per span, so that one
// huge output or system prompt cannot stall the pipeline; failures show in the first part.
const (
	maxAnswerBytes  = 64 << 10
	maxContextBytes = 32 << 10
)

// capText cuts s to at most n bytes at a rune boundary.
func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
