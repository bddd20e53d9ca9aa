package errordetectprocessor

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// FuzzRuleLoader feeds arbitrary OTTL conditions to the rule loader: it must never panic, a
// refusal must name the rule, and a rule that compiles must evaluate on a span without panic.
func FuzzRuleLoader(f *testing.F) {
	for _, c := range []string{
		`attributes["gen_ai.usage.output_tokens"] > 2000`,
		`span.attributes["tracehound.span.kind"] == "llm" and IsMatch(name, "chat.*")`,
		`status.code == STATUS_CODE_ERROR`, `name == "x" or`, `IsMatch(attributes["a"], "(")`,
		`attributes["x"] == nil`, `Len(attributes) > 3`, `true`, `"`, `((((`,
	} {
		f.Add(c)
	}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	ss := rs.ScopeSpans().AppendEmpty()
	span := ss.Spans().AppendEmpty()
	span.SetName("chat gpt-4o")
	span.Attributes().PutInt("gen_ai.usage.output_tokens", 2500)
	span.Attributes().PutStr("tracehound.span.kind", "llm")
	f.Fuzz(func(t *testing.T, condition string) {
		rules, err := compileRules(nopTelemetry(), []RuleConfig{{Name: "fuzzed", Code: "fuzzed", Condition: condition}})
		if err != nil {
			if !strings.Contains(err.Error(), "rules[0] (fuzzed).condition") {
				t.Fatalf("refusal does not name the rule: %v", err)
			}
			return
		}
		_, _ = evalRules(context.Background(), rules, rs, ss, span)
	})
}
