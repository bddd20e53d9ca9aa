package errordetectprocessor

import (
	"encoding/json"
	"testing"

	"github.com/tracehound/tracehound/internal/llmschema"
)

// FuzzDetect feeds arbitrary text into every text-reading check (as the user message, the
// system instructions, a retrieved document and the answer) and arbitrary bytes as raw
// message JSON. The processor must not panic and must always write a valid flag list.
func FuzzDetect(f *testing.F) {
	f.Add("Where is my order 55120?", "Could you provide your order number?", "Order 55120 shipped.", `[{"role":"assistant","parts":[{"type":"text","content":"hi"}]}]`)
	f.Add("¿Cómo estás?", "Lo siento, pero no puedo ayudar con eso.", "", "")
	f.Add("写一首诗", "抱歉，我无法帮助", "长城", "[")
	f.Add("x", "```\n```", "4242 4242 4242 4242 sk-proj-aaaaaaaaaaaaaaaaaaaaaaaa", `[{"role":"assistant","parts":[{"type":"tool_call","id":"1","name":"f","arguments":{"a":[1,2]}}]}]`)
	f.Add("my name is Ann", "Thanks, Bob! what's your name? ", "https://a.b/c 10:30 1,200.50", `[{"parts":null}]`)
	cfg := createDefaultConfig()
	cfg.SafetyViolation.DenyTerms = []string{"secret project"}
	f.Fuzz(func(t *testing.T, user, answer, doc, rawOut string) {
		c := testCase{ID: "fuzz", Spans: []testSpan{
			{ID: "root", Kind: "agent", InputText: user, OutputText: &answer},
			{ID: "r", Parent: "root", Kind: "retriever", Docs: []string{doc}},
			{ID: "l", Parent: "root", Kind: "llm", System: doc, Input: []testMsg{{Role: "user", Text: user}, {Role: "assistant", Text: doc}, {Role: "user", Text: user}},
				Output: []testMsg{{Role: "assistant", Text: answer, FinishReason: "stop"}}},
			{ID: "raw", Parent: "root", Kind: "llm", Attrs: map[string]any{llmschema.OutputMessages: rawOut, llmschema.InputMessages: rawOut, llmschema.SystemInstructions: rawOut}},
			{ID: "t", Parent: "root", Kind: "tool", ToolName: "search", ToolResult: answer},
		}}
		td := runProcessor(t, cfg, buildTraces(c))
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := 0; i < spans.Len(); i++ {
			v, ok := spans.At(i).Attributes().Get(llmschema.Flags)
			if !ok {
				continue
			}
			var fs []llmschema.Flag
			if err := json.Unmarshal([]byte(v.AsString()), &fs); err != nil {
				t.Fatalf("invalid flags JSON %q: %v", v.AsString(), err)
			}
			for _, fl := range fs {
				if fl.Code == "" || fl.Category == "" || !validSeverity(fl.Severity) {
					t.Fatalf("incomplete flag %+v", fl)
				}
				if len([]rune(fl.Evidence)) > cfg.MaxEvidenceChars {
					t.Fatalf("evidence longer than %d runes: %q", cfg.MaxEvidenceChars, fl.Evidence)
				}
			}
		}
	})
}
