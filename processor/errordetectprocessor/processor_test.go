package errordetectprocessor

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestTechnical_Codes checks which technical flag each kind of standard error data raises.
func TestTechnical_Codes(t *testing.T) {
	exc := func(typ, msg string) []testEvent {
		return []testEvent{{Name: "exception", Attrs: map[string]string{"exception.type": typ, "exception.message": msg}}}
	}
	tests := []struct {
		name string
		span testSpan
		want []string
	}{
		{"ok span raises nothing", testSpan{Kind: "llm", Output: []testMsg{{Role: "assistant", Text: "Paris.", FinishReason: "stop"}}}, nil},
		{"error status", testSpan{Kind: "chain", Status: "error", StatusMessage: "boom"}, []string{"span_error"}},
		{"http 429", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 429.0}}, []string{"span_error", "rate_limit"}},
		{"http 429 as string", testSpan{Kind: "llm", Attrs: map[string]any{"http.response.status_code": "429"}}, []string{"rate_limit"}},
		{"http 504", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 504.0}}, []string{"span_error", "timeout"}},
		{"http 408", testSpan{Kind: "llm", Attrs: map[string]any{"http.response.status_code": 408.0}}, []string{"timeout"}},
		{"http 401", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 401.0}}, []string{"span_error", "auth"}},
		{"http 403", testSpan{Kind: "llm", Attrs: map[string]any{"http.response.status_code": 403.0}}, []string{"auth"}},
		{"http 503", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 503.0}}, []string{"span_error", "provider_error"}},
		{"http 400 is only an error", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"http.response.status_code": 400.0}}, []string{"span_error"}},
		{"error.type RateLimitError", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"error.type": "openai.RateLimitError"}}, []string{"span_error", "rate_limit"}},
		{"error.type deadline", testSpan{Kind: "llm", Status: "error", Attrs: map[string]any{"error.type": "context.DeadlineExceeded"}}, []string{"span_error", "timeout"}},
		{"error.type numeric", testSpan{Kind: "llm", Attrs: map[string]any{"error.type": "500"}}, []string{"provider_error"}},
		{"anthropic overloaded", testSpan{Kind: "llm", Status: "error", StatusMessage: "overloaded_error: Overloaded"}, []string{"span_error", "provider_error"}},
		// OpenAI's 500 body as Vercel AI SDK 5/6 report it: a message, no HTTP status.
		{"openai 500 message only", testSpan{Kind: "llm", Status: "error", StatusMessage: "The server had an error while processing your request. Sorry about that!"}, []string{"span_error", "provider_error"}},
		{"exception event with auth error", testSpan{Kind: "llm", Status: "error", Events: exc("openai.AuthenticationError", "Incorrect API key provided")}, []string{"span_error", "exception", "auth"}},
		{"exception without error status", testSpan{Kind: "chain", Events: exc("ValueError", "bad json")}, []string{"exception"}},
		{"finish length", testSpan{Kind: "llm", Output: []testMsg{{Role: "assistant", Text: "The first three reasons are", FinishReason: "length"}}}, []string{"truncated"}},
		{"finish max_tokens", testSpan{Kind: "llm", FinishReasons: []string{"max_tokens"}, Output: []testMsg{{Role: "assistant", Text: "Step 1"}}}, []string{"truncated"}},
		{"gemini SAFETY", testSpan{Kind: "llm", FinishReasons: []string{"SAFETY"}}, []string{"content_filtered"}},
		{"content_filter", testSpan{Kind: "llm", Output: []testMsg{{Role: "assistant", Text: "", FinishReason: "content_filter"}}}, []string{"content_filtered"}},
		{"tool span error", testSpan{Kind: "tool", ToolName: "search", Status: "error", StatusMessage: "timeout after 10s"}, []string{"tool_error", "timeout"}},
		{"tool result error object", testSpan{Kind: "tool", ToolName: "search", ToolResult: `{"error": "index not found"}`}, []string{"tool_error"}},
		{"tool result is_error", testSpan{Kind: "tool", ToolName: "bash", ToolResult: `{"is_error": true, "content": "exit 1"}`}, []string{"tool_error"}},
		{"tool result traceback", testSpan{Kind: "tool", ToolName: "python", ToolResult: "Traceback (most recent call last):\n  File \"x.py\""}, []string{"tool_error"}},
		{"tool result with null error", testSpan{Kind: "tool", ToolName: "search", ToolResult: `{"results": [], "error": null}`}, nil},
		{"tool result mentioning errors", testSpan{Kind: "tool", ToolName: "search", ToolResult: "Found 3 articles about error handling in Go"}, nil},
	}
	cfg := createDefaultConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.span.ID = "s"
			tt.span.Name = "span"
			td := runProcessor(t, cfg, buildTraces(testCase{ID: "t", Spans: []testSpan{tt.span}}))
			var got []string
			for _, f := range flagsOf(t, td)["span"] {
				if f.Category == llmschema.CategoryTechnical {
					got = append(got, f.Code)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("technical flags = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestGolden_FlagsJSON pins the exact flags written for a mixed batch: codes, categories,
// severities, messages and evidence. Regenerate with go test -run TestGolden -update.
func TestGolden_FlagsJSON(t *testing.T) {
	cases := loadCorpus(t)
	pick := []string{
		"refusal-de-2", "empty-agent-final", "repetition-json-loop", "offtopic-bank-mortgage",
		"workflow-openai-max-turns", "safety-card-number", "halluc-order-eta", "ctxloss-wrong-name",
	}
	var sel []testCase
	for _, id := range pick {
		i := slices.IndexFunc(cases, func(c testCase) bool { return c.ID == id })
		if i < 0 {
			t.Fatalf("corpus case %s not found", id)
		}
		sel = append(sel, cases[i])
	}
	td := runProcessor(t, createDefaultConfig(), buildTraces(sel...))
	got := map[string]map[string][]llmschema.Flag{}
	byTrace := map[int]map[string][]llmschema.Flag{}
	forEachFlaggedSpan(t, td, func(s ptrace.Span, fs []llmschema.Flag) {
		idx := int(s.TraceID()[15])
		if byTrace[idx] == nil {
			byTrace[idx] = map[string][]llmschema.Flag{}
		}
		byTrace[idx][s.Name()] = fs
	})
	for i, c := range sel {
		got[c.ID] = byTrace[i]
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "flags.golden.json")
	if _, same := readGolden(t, golden, b); !same {
		t.Errorf("flags differ from %s (run with -update if the change is intended):\n%s", golden, b)
	}
}

func TestFlags_MergeKeepsExistingAndSkipsDuplicateCodes(t *testing.T) {
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{{
		ID: "s", Name: "span", Kind: "llm", Status: "error", StatusMessage: "upstream 500",
		Attrs: map[string]any{
			llmschema.Flags: `[{"code":"span_error","category":"technical","severity":"error","message":"set by the SDK","evidence":"sdk"},` +
				`{"code":"toxicity","category":"behavioral","severity":"warning","message":"judge","source":"judge"}]`,
			llmschema.HTTPResponseStatus: 500.0,
		},
	}}})
	out := runProcessor(t, createDefaultConfig(), td)
	fs := flagsOf(t, out)["span"]
	var codes []string
	for _, f := range fs {
		codes = append(codes, f.Code)
	}
	want := []string{"span_error", "toxicity", "provider_error"}
	if !slices.Equal(codes, want) {
		t.Fatalf("codes = %v, want %v", codes, want)
	}
	if fs[0].Message != "set by the SDK" || fs[1].Source != "judge" {
		t.Errorf("existing flags were rewritten: %+v", fs[:2])
	}
	if fs[2].Source != llmschema.FlagSourceRule {
		t.Errorf("new flag source = %q, want rule", fs[2].Source)
	}
}

func TestFlags_RunningTwiceIsIdempotent(t *testing.T) {
	cases := loadCorpus(t)
	once := runProcessor(t, createDefaultConfig(), buildTraces(cases...))
	first := flagsOf(t, once)
	twice := runProcessor(t, createDefaultConfig(), once)
	second := flagsOf(t, twice)
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if string(a) != string(b) {
		t.Error("a second pass changed the flags")
	}
}

func TestFlags_InvalidExistingValueIsKeptAsEvidence(t *testing.T) {
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{{
		ID: "s", Name: "span", Kind: "chain", Status: "error", Attrs: map[string]any{llmschema.Flags: "not json"},
	}}})
	fs := flagsOf(t, runProcessor(t, createDefaultConfig(), td))["span"]
	if len(fs) != 2 || fs[0].Code != "invalid_flags" || fs[0].Evidence != "not json" || fs[1].Code != "span_error" {
		t.Errorf("flags = %+v", fs)
	}
}

func TestFlags_EvidenceIsCapped(t *testing.T) {
	long := strings.Repeat("x", 1000)
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{{ID: "s", Name: "span", Kind: "chain", Status: "error", StatusMessage: long}}})
	cfg := createDefaultConfig()
	cfg.MaxEvidenceChars = 50
	fs := flagsOf(t, runProcessor(t, cfg, td))["span"]
	if n := len([]rune(fs[0].Evidence)); n != 50 {
		t.Errorf("evidence has %d runes, want 50", n)
	}
}

func TestRules_OTTLConditionsRaiseFlags(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Rules = []RuleConfig{
		{Name: "long", Code: "long_output", Severity: "info", Condition: `attributes["gen_ai.usage.output_tokens"] > 2000`},
		{Name: "gpt4", Code: "expensive_model", Category: "technical", Message: "gpt-4 used", Condition: `span.attributes["gen_ai.request.model"] == "gpt-4"`},
		{Name: "prod", Code: "prod_only", Condition: `resource.attributes["service.name"] == "corpus" and IsMatch(name, "^chat")`},
	}
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{
		{ID: "a", Name: "chat a", Kind: "llm", Attrs: map[string]any{"gen_ai.usage.output_tokens": 4096.0, "gen_ai.request.model": "gpt-4"}},
		{ID: "b", Name: "other b", Kind: "llm", Attrs: map[string]any{"gen_ai.usage.output_tokens": 10.0}},
	}})
	flags := flagsOf(t, runProcessor(t, cfg, td))
	var a []string
	for _, f := range flags["chat a"] {
		a = append(a, f.Code+"/"+f.Category+"/"+f.Severity)
	}
	sort.Strings(a)
	want := []string{"expensive_model/technical/warning", "long_output/behavioral/info", "prod_only/behavioral/warning"}
	if !slices.Equal(a, want) {
		t.Errorf("span a flags = %v, want %v", a, want)
	}
	if len(flags["other b"]) != 0 {
		t.Errorf("span b flags = %+v, want none", flags["other b"])
	}
}

func TestRules_EvaluationErrorDoesNotMatchOrFail(t *testing.T) {
	cfg := createDefaultConfig()
	// Comparing a string attribute with ">" is a runtime type error on this span.
	cfg.Rules = []RuleConfig{{Name: "bad_type", Code: "x", Condition: `Int(attributes["gen_ai.request.model"]) > 3`}}
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{{ID: "a", Name: "a", Kind: "llm", Attrs: map[string]any{"gen_ai.request.model": "gpt-4"}}}})
	if fs := flagsOf(t, runProcessor(t, cfg, td))["a"]; len(fs) != 0 {
		t.Errorf("flags = %+v, want none", fs)
	}
}

func TestCreate_InvalidRuleFailsWithRuleName(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Rules = []RuleConfig{{Name: "oops", Code: "x", Condition: `attributes[`}}
	_, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(componentType), cfg, consumertest.NewNop())
	if err == nil || !strings.Contains(err.Error(), "rules[0] (oops).condition") {
		t.Fatalf("create error = %v", err)
	}
}

// TestTraceGrouping_AcrossResourceSpans checks that trace-level checks see spans of one
// trace that arrive under different resources in the same batch (e.g. an agent service and
// a tool service).
func TestTraceGrouping_AcrossResourceSpans(t *testing.T) {
	cases := loadCorpus(t)
	i := slices.IndexFunc(cases, func(c testCase) bool { return c.ID == "workflow-dangling-tool-call" })
	one := buildTraces(cases[i])
	split := ptrace.NewTraces()
	src := one.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for k := 0; k < src.Len(); k++ {
		rs := split.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr(llmschema.ServiceName, "svc-"+src.At(k).Name())
		src.At(k).CopyTo(rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty())
	}
	if fs := codesByTrace(t, runProcessor(t, createDefaultConfig(), split))[0]; fs[llmschema.FlagCodeWorkflowInterruption].Code == "" {
		t.Errorf("workflow interruption not found across resources: %+v", fs)
	}
}

func TestChecks_CanBeSwitchedOff(t *testing.T) {
	cases := loadCorpus(t)
	cfg := createDefaultConfig()
	cfg.Technical.Enabled = false
	cfg.Refusal.Enabled = false
	cfg.EmptyOutput.Enabled = false
	cfg.Repetition.Enabled = false
	cfg.OffTopic.Enabled = false
	cfg.WorkflowInterruption.Enabled = false
	cfg.SafetyViolation.Enabled = false
	cfg.Hallucination.Enabled = false
	cfg.ContextLoss.Enabled = false
	if fs := flagsOf(t, runProcessor(t, cfg, buildTraces(cases...))); len(fs) != 0 {
		t.Errorf("flags written with every check off: %d spans", len(fs))
	}
}

func TestSafety_DenyTerms(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.SafetyViolation.DenyTerms = []string{"Project Nightingale"}
	answer := "The launch of project  nightingale is planned for Q3."
	ok := "The nightingales are singing."
	td := buildTraces(
		testCase{ID: "a", Input: []testMsg{{Role: "user", Text: "What's next on the roadmap?"}}, Answer: &answer},
		testCase{ID: "b", Input: []testMsg{{Role: "user", Text: "What's that sound?"}}, Answer: &ok},
	)
	got := codesByTrace(t, runProcessor(t, cfg, td))
	if got[0][llmschema.FlagCodeSafetyViolation].Evidence != "project nightingale" {
		t.Errorf("deny term not flagged: %+v", got[0])
	}
	if _, bad := got[1][llmschema.FlagCodeSafetyViolation]; bad {
		t.Errorf("partial word flagged: %+v", got[1])
	}
}

func TestRefusal_ExtraPhrases(t *testing.T) {
	cfg := createDefaultConfig()
	cfg.Refusal.ExtraPhrases = []string{"Computer says no"}
	answer := "Computer says no. Please try again later."
	td := buildTraces(testCase{ID: "a", Input: []testMsg{{Role: "user", Text: "Can I upgrade my seat?"}}, Answer: &answer})
	if _, ok := codesByTrace(t, runProcessor(t, cfg, td))[0][llmschema.FlagCodeRefusal]; !ok {
		t.Error("extra phrase not detected")
	}
}

func TestFactory_Capabilities(t *testing.T) {
	p, err := NewFactory().CreateTraces(context.Background(), processortest.NewNopSettings(componentType), createDefaultConfig(), consumertest.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Capabilities().MutatesData {
		t.Error("processor must declare MutatesData")
	}
	if err := p.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if NewFactory().Type().String() != "errordetect" {
		t.Errorf("type = %s", NewFactory().Type())
	}
}

func TestEmptyOutput_OnlyModelCallsCount(t *testing.T) {
	empty := ""
	td := buildTraces(testCase{ID: "t", Spans: []testSpan{
		{ID: "root", Name: "notify_workflow", Kind: "workflow", InputText: "send the weekly digest", OutputText: &empty},
		{ID: "tool", Name: "send_email", Parent: "root", Kind: "tool", ToolName: "send_email", ToolResult: `{"sent": true}`},
	}})
	if fs := flagsOf(t, runProcessor(t, createDefaultConfig(), td)); len(fs) != 0 {
		t.Errorf("a workflow that returns nothing was flagged: %+v", fs)
	}
}

// readGolden rewrites the golden file with got under -update, and returns the file's
// content and whether it equals got (surrounding white space aside).
func readGolden(t *testing.T, path string, got []byte) (want []byte, same bool) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	return want, strings.TrimSpace(string(want)) == strings.TrimSpace(string(got))
}
