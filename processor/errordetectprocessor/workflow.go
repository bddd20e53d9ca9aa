package errordetectprocessor

import (
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// detectWorkflow flags an agent or workflow trace that ends without a final answer. It
// needs the trace's root span in the group: without it the trace is not known to have
// ended, and a missing tool result may simply be in a later batch.
func (d *detector) detectWorkflow(g *traceGroup) {
	var root *spanView
	agentic := false
	for _, v := range g.spans {
		if v.root && root == nil {
			root = v
		}
		switch v.kind {
		case llmschema.SpanKindAgent, llmschema.SpanKindWorkflow, llmschema.SpanKindChain, llmschema.SpanKindTask, llmschema.SpanKindTool:
			agentic = true
		}
		if hasToolCall(v.out) {
			agentic = true
		}
	}
	// A trace that is a single model call (no workflow span around it) may end in a tool
	// call legitimately: the application runs the tool in its next trace.
	if root == nil || !agentic || root.isLLM() {
		return
	}
	c := d.cfg.WorkflowInterruption
	flag := func(msg, ev string) {
		root.add(behavioral(c.CheckConfig, llmschema.FlagCodeWorkflowInterruption, msg, ev))
	}

	if ev, ok := d.iterationMarker(g); ok {
		flag("the agent stopped at its iteration limit", ev)
		return
	}

	var lastLLM *spanView
	for _, v := range g.spans {
		if v.isLLM() && (lastLLM == nil || v.span.EndTimestamp() > lastLLM.span.EndTimestamp()) {
			lastLLM = v
		}
	}
	if lastLLM != nil {
		if call, ok := lastLLM.endsWithToolCall(); ok && !toolRanAfter(g, lastLLM, call) {
			flag("the last model call asked for a tool that never returned", "tool_call "+call.Name+" "+truncate(anyText(call.Arguments), 120))
			return
		}
	}

	for _, v := range g.spans {
		if !v.isTool() || !toolFailed(v) {
			continue
		}
		if !llmAfter(g, v.span.EndTimestamp()) {
			flag("a tool failed and the agent did not recover", toolLabel(v)+": "+failureText(v))
			return
		}
	}

	if root.isError() {
		partial := 0
		for _, v := range g.spans {
			if v != root && !v.isError() && (v.isLLM() || v.isTool()) {
				partial++
			}
		}
		if partial > 0 {
			ev := root.span.Status().Message()
			if ev == "" {
				ev = str(root.attrs, llmschema.ErrorType)
			}
			flag("the run failed after partial work", strings.TrimSpace(root.span.Name()+": "+ev))
		}
	}
}

// maxMarkerOutputChars: a framework's stop message is short ("Agent stopped due to
// iteration limit or time limit."); a long output that mentions iteration limits is an
// answer about them.
const maxMarkerOutputChars = 300

func (d *detector) iterationMarker(g *traceGroup) (string, bool) {
	// Only an answer as short as a stop message can be mistaken for one.
	answers := map[string]bool{}
	for _, v := range g.spans {
		if t := strings.TrimSpace(v.outText); v.isLLM() && v.outText != "" && len(t) <= maxMarkerOutputChars {
			answers[t] = true
		}
	}
	for _, v := range g.spans {
		texts := []string{v.span.Status().Message(), str(v.attrs, llmschema.ErrorType)}
		if out := strings.TrimSpace(str(v.attrs, llmschema.Output)); !v.isLLM() && len(out) <= maxMarkerOutputChars && !answers[out] {
			texts = append(texts, out)
		}
		events := v.span.Events()
		for i := 0; i < events.Len(); i++ {
			if e := events.At(i); e.Name() == llmschema.ExceptionEventName {
				texts = append(texts, str(e.Attributes(), llmschema.ExceptionType), str(e.Attributes(), llmschema.ExceptionMessage))
			}
		}
		for _, t := range texts {
			// Markers are not empty (Validate), so an empty text holds none.
			if t == "" {
				continue
			}
			lt := strings.ToLower(t)
			for _, m := range d.markers {
				if strings.Contains(lt, m) {
					return truncate(t, 160), true
				}
			}
		}
	}
	return "", false
}

// toolRanAfter reports whether the tool call was answered: a tool span with the call's ID,
// or any tool span or tool result that started after the model asked.
func toolRanAfter(g *traceGroup, llm *spanView, call llmschema.Part) bool {
	for _, v := range g.spans {
		if v == llm {
			continue
		}
		if v.isTool() {
			if call.ID != "" && str(v.attrs, llmschema.ToolCallID) == call.ID {
				return true
			}
			if v.span.StartTimestamp() >= llm.span.EndTimestamp() {
				return true
			}
		}
		for _, m := range v.in {
			for _, p := range m.Parts {
				if p.Type == llmschema.PartToolCallResponse && call.ID != "" && p.ID == call.ID {
					return true
				}
			}
		}
	}
	return false
}

func toolFailed(v *spanView) bool {
	if v.isError() {
		return true
	}
	_, ok := toolResultError(v.toolResult())
	return ok
}

func failureText(v *spanView) string {
	if m := v.span.Status().Message(); m != "" {
		return m
	}
	if t := str(v.attrs, llmschema.ErrorType); t != "" {
		return t
	}
	return truncate(v.toolResult(), 120)
}

func toolLabel(v *spanView) string {
	if n := str(v.attrs, llmschema.ToolName); n != "" {
		return n
	}
	return v.span.Name()
}

// llmAfter reports whether a model call started at or after t: the agent saw the failure
// and carried on.
func llmAfter(g *traceGroup, t pcommon.Timestamp) bool {
	for _, v := range g.spans {
		if v.isLLM() && v.span.StartTimestamp() >= t {
			return true
		}
	}
	return false
}
