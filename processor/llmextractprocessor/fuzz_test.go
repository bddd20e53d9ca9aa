package llmextractprocessor

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/pricing"
)

// fuzzKeys are the attributes whose values the extractor parses; every fuzz value is also
// offered under one of them so that the JSON and index parsers see arbitrary input.
var fuzzKeys = []string{
	llmschema.InputMessages, llmschema.OutputMessages, llmschema.AIPrompt, llmschema.AIPromptMessages,
	llmschema.AIResponseToolCalls, llmschema.TraceloopEntityInput, llmschema.OIInputValue,
	llmschema.OIMetadata, llmschema.OIInvocationParameters, llmschema.LangfuseUsageDetails,
	llmschema.ClaudeNewContext, llmschema.LangfuseObservationInput, "gen_ai.prompt.0.content",
	"llm.input_messages.0.message.content",
}

// FuzzExtract feeds arbitrary span names, keys and values to the normalizer, on top of
// each real or synthetic span from testdata, and checks that it never panics, always
// sets a valid span kind, and leaves only valid, bounded UTF-8 strings behind.
func FuzzExtract(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "*.otlp.json"))
	more, _ := filepath.Glob(filepath.Join("testdata", "synthetic", "*.otlp.json"))
	for _, path := range append(files, more...) {
		td := readTraces(f, path)
		forEachSpan(td, func(s ptrace.Span) {
			s.Attributes().Range(func(k string, v pcommon.Value) bool {
				f.Add(s.Name(), k, v.AsString(), uint8(len(k)))
				return true
			})
		})
	}
	table, err := pricing.Builtin()
	if err != nil {
		f.Fatal(err)
	}
	ex := &extractor{maxBytes: 2048, keepOriginal: true, prices: table, runIDKeys: []string{"custom.run"}}
	seeds := make([]ptrace.Traces, 0)
	for _, path := range append(files, more...) {
		seeds = append(seeds, readTraces(f, path))
	}
	validKinds := map[string]bool{}
	for _, k := range []string{llmschema.SpanKindLLM, llmschema.SpanKindEmbedding, llmschema.SpanKindTool, llmschema.SpanKindAgent,
		llmschema.SpanKindChain, llmschema.SpanKindWorkflow, llmschema.SpanKindTask, llmschema.SpanKindRetriever,
		llmschema.SpanKindReranker, llmschema.SpanKindGuardrail, llmschema.SpanKindOther} {
		validKinds[k] = true
	}

	f.Fuzz(func(t *testing.T, name, key, value string, pick uint8) {
		td := ptrace.NewTraces()
		seeds[int(pick)%len(seeds)].CopyTo(td)
		var spans []ptrace.Span
		forEachSpan(td, func(s ptrace.Span) { spans = append(spans, s) })
		span := spans[int(pick)%len(spans)]
		span.SetName(name)
		span.Attributes().PutStr(key, value)
		span.Attributes().PutStr(fuzzKeys[int(pick)%len(fuzzKeys)], value)
		ev := span.Events().AppendEmpty()
		ev.SetName([]string{llmschema.GenAIEventChoice, llmschema.GenAIEventUserMessage, llmschema.DBQueryResultEvent}[int(pick)%3])
		ev.Attributes().PutStr(llmschema.EventAttrMessage, value)
		ev.Attributes().PutStr(llmschema.EventAttrToolCalls, value)

		ri := ex.resourceInfo(td.ResourceSpans().At(0).Resource())
		ex.extractSpan(span, &ri, "p")

		kind, ok := span.Attributes().Get(llmschema.SpanKind)
		if !ok || !validKinds[kind.Str()] {
			t.Fatalf("span kind %q", kind.Str())
		}
		span.Attributes().Range(func(k string, v pcommon.Value) bool {
			if v.Type() == pcommon.ValueTypeStr {
				if !utf8.ValidString(v.Str()) {
					t.Fatalf("%s: invalid UTF-8", k)
				}
				if len(v.Str()) > ex.maxBytes {
					t.Fatalf("%s: %d bytes over limit %d", k, len(v.Str()), ex.maxBytes)
				}
			}
			return true
		})
		for _, k := range []string{llmschema.RetrievalDocuments} {
			if v, ok := span.Attributes().Get(k); ok && !json.Valid([]byte(v.Str())) {
				t.Fatalf("%s is not valid JSON: %s", k, v.Str())
			}
		}
	})
}
