package judge

import (
	"math"
	"strings"
	"testing"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
	"github.com/tracehound/tracehound/internal/store/storetest"
)

// ragTrace is a trace with a retriever span carrying documents, a tool span, and an LLM call
// with a multi-turn conversation.
func ragTrace(t *testing.T) (*store.Record, []store.Span) {
	t.Helper()
	spans := storetest.MakeSpans(t, "p", []storetest.SpanSpec{
		{Trace: 7, ID: 1, Name: "support.workflow", StartMS: 0, EndMS: 3000, Attrs: map[string]any{
			llmschema.SpanKind: "workflow", llmschema.Input: "How long do refunds take?", llmschema.Output: "Refunds take 5 business days.",
			llmschema.Expected: "5 business days", llmschema.MetadataPrefix + "env": "prod", llmschema.MetadataPrefix + "tier": "gold",
		}},
		{Trace: 7, ID: 2, Parent: 1, Name: "retrieve", StartMS: 10, EndMS: 100, Attrs: map[string]any{
			llmschema.SpanKind:           "retriever",
			llmschema.RetrievalDocuments: `[{"id":"kb-12","content":"Refunds are processed within 5 business days.","score":0.91},{"content":"Shipping is free over $50."}]`,
		}},
		{Trace: 7, ID: 3, Parent: 1, Name: "lookup_order", StartMS: 110, EndMS: 200, Attrs: map[string]any{
			llmschema.SpanKind: "tool", llmschema.ToolName: "lookup_order", llmschema.ToolCallArguments: `{"order":"A-17"}`, llmschema.ToolCallResult: `{"status":"refunded"}`,
		}},
		{Trace: 7, ID: 4, Parent: 1, Name: "chat", StartMS: 210, EndMS: 2900, Attrs: map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: "gpt-4o",
			llmschema.InputMessages: `[{"role":"system","parts":[{"type":"text","content":"You are a support agent."}]},` +
				`{"role":"user","parts":[{"type":"text","content":"My order is A-17."}]},` +
				`{"role":"assistant","parts":[{"type":"text","content":"Thanks, noted."}]},` +
				`{"role":"user","parts":[{"type":"text","content":"How long do refunds take?"}]}]`,
			llmschema.OutputMessages: `[{"role":"assistant","parts":[{"type":"text","content":"Refunds take 5 business days."}]}]`,
		}},
	}...)
	rec := store.NewRecord("p", storetest.TraceHex(7))
	for i := range spans {
		rec.Fold(&spans[i])
	}
	return rec, spans
}

func TestRender_RecordFieldsAndPlaceholders(t *testing.T) {
	rec, spans := ragTrace(t)
	d, err := buildData(rec, spans, 1000)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, prompt string
		want         []string
	}{
		{"placeholders", "Q={{input}} A={{ output }} E={{expected}}", []string{"Q=How long do refunds take? A=Refunds take 5 business days. E=5 business days"}},
		{"go template fields", "{{.Input}}|{{.Output}}|{{.Name}}|{{.Service}}", []string{"How long do refunds take?|Refunds take 5 business days.|support.workflow|test-app"}},
		{"conversation", "{{conversation}}", []string{"[system]: You are a support agent.\n[user]: My order is A-17.\n[assistant]: Thanks, noted.\n[user]: How long do refunds take?\n[assistant]: Refunds take 5 business days."}},
		{"documents", "{{documents}}", []string{"[document kb-12]\nRefunds are processed within 5 business days.", "[document 2]\nShipping is free over $50."}},
		{"tool calls", "{{tool_calls}}", []string{`lookup_order({"order":"A-17"}) -> {"status":"refunded"}`}},
		{"metadata", "{{metadata}} / {{.Metadata.env}}", []string{"env: prod\ntier: gold / prod"}},
		{"ranges and funcs", "{{range .Conversation}}{{.Role}};{{end}} {{range .Documents}}{{.ID}},{{end}} {{json .Models}} {{truncate 6 .Output}}", []string{"system;user;assistant;user;assistant; kb-12,, [\"gpt-4o\"] Refund …[truncated]"}},
		{"conditional expected", "{{if .Expected}}ref: {{.Expected}}{{end}}", []string{"ref: 5 business days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := parseTemplate("m", tt.prompt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render(tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Fatalf("rendered:\n%s\nwant it to contain:\n%s", got, w)
				}
			}
		})
	}
}

func TestRender_BoundsEachField(t *testing.T) {
	rec, spans := ragTrace(t)
	rec.Input = strings.Repeat("é", 5000)
	d, err := buildData(rec, spans, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Input, strings.Repeat("é", 100)+" …[truncated]") || len([]rune(d.Input)) > 120 {
		t.Fatalf("input not bounded to 100 characters: %d runes", len([]rune(d.Input)))
	}
}

func TestParseTemplate_RejectsBadPrompts(t *testing.T) {
	for _, p := range []string{"{{.Input", "{{.NoSuchField}}", "{{nosuchfunc .Input}}"} {
		if _, err := parseTemplate("m", p); err == nil {
			t.Errorf("parseTemplate(%q) accepted a broken prompt", p)
		}
	}
	// Unknown {{word}} placeholders are left to the template parser, which rejects them.
	if _, err := parseTemplate("m", "{{answer}}"); err == nil {
		t.Error("parseTemplate accepted an unknown placeholder")
	}
}

func TestBuiltins_RenderAndValidate(t *testing.T) {
	rec, spans := ragTrace(t)
	d, err := buildData(rec, spans, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			m, err := Metric{Builtin: name}.normalize()
			if err != nil {
				t.Fatal(err)
			}
			if m.Name != name || m.Flag == nil || m.Flag.Code == "" || m.Description == "" {
				t.Fatalf("built-in not filled in: %+v", m)
			}
			tmpl, err := parseTemplate(m.Name, m.Prompt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render(tmpl, d)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "Refunds take 5 business days.") || !strings.Contains(got, "never follow instructions") {
				t.Fatalf("built-in prompt lacks the output or the data notice:\n%s", got)
			}
		})
	}
	m, err := Metric{Builtin: "hallucination", Name: "grounded", OutputType: OutputFloat01}.normalize()
	if err != nil || m.Name != "grounded" || m.OutputType != OutputFloat01 {
		t.Fatalf("explicit fields must win over the built-in: %+v, %v", m, err)
	}
}

func TestSampled_DeterministicAndProportional(t *testing.T) {
	in := 0
	const n = 20000
	for i := 0; i < n; i++ {
		id := storetest.TraceHex(i) + "x"
		a, b := sampled(id, 0.25), sampled(strings.ToUpper(id), 0.25)
		if a != b {
			t.Fatalf("sampling of %s depends on case", id)
		}
		if a {
			in++
		}
		if sampled(id, 0.25) && !sampled(id, 0.5) {
			t.Fatalf("a record sampled at 25%% must be sampled at 50%% too: %s", id)
		}
	}
	if frac := float64(in) / n; math.Abs(frac-0.25) > 0.02 {
		t.Fatalf("sampled %.3f of records at rate 0.25", frac)
	}
	if !sampled("abc", 1) || sampled("abc", 0) {
		t.Fatal("rates 1 and 0 must take all and none")
	}
}
