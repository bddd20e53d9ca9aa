package llmextractprocessor

import (
	"encoding/json"
	"path/filepath"
	"reflect"
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

		_, hadIn := span.Attributes().Get(llmschema.InputMessages)
		_, hadOut := span.Attributes().Get(llmschema.OutputMessages)

		ri := ex.resourceInfo(td.ResourceSpans().At(0).Resource())
		ex.extractSpan(span, &ri, "p")

		// Message lists that llmextract wrote (rather than kept) must be valid JSON.
		for k, had := range map[string]bool{llmschema.InputMessages: hadIn, llmschema.OutputMessages: hadOut} {
			if v, ok := span.Attributes().Get(k); ok && !had {
				var msgs []llmschema.Message
				if err := json.Unmarshal([]byte(v.Str()), &msgs); err != nil {
					t.Fatalf("written %s is not a message list: %v\n%s", k, err, v.Str())
				}
			}
		}

		kind, ok := span.Attributes().Get(llmschema.SpanKind)
		if !ok || !validKinds[kind.Str()] {
			t.Fatalf("span kind %q", kind.Str())
		}
		if !utf8.ValidString(span.Name()) || len(span.Name()) > ex.maxBytes {
			t.Fatalf("span name not cleaned: %q", span.Name())
		}
		span.Attributes().Range(func(k string, v pcommon.Value) bool {
			if !utf8.ValidString(k) {
				t.Fatalf("invalid UTF-8 key %q", k)
			}
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

// FuzzScanMessages checks the in-place message reader against encoding/json: whenever a
// message list decodes with plain string text contents, both must agree on the texts.
func FuzzScanMessages(f *testing.F) {
	for _, seed := range []string{
		`[]`, `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`,
		`[{"role":"user","parts":[{"type":"text","content":"a\"b\u00e9"},{"type":"text","content":"c"}]},{"parts":[{"type":"text","content":"x"}],"role":"assistant"}]`,
		`[{"role":"assistant","parts":[{"type":"tool_call","id":"1","name":"f","arguments":{"a":[1,{"b":"]"}]}}]}]`,
		`[{"role":"user","parts":[{"type":"blob","content":{"k":1}},{"type":"text","content":"t"}],"extra":[1,2,{"x":null}]}]`,
		`[{"role":"user"`, `{"role":"user"}`, `[1]`,
		// Duplicate keys: the last value wins, as in encoding/json.
		`[{"role":[],"role":""}]`, `[{"parts":"x","parts":[{"type":"text","content":"a"}],"role":"user"}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		user, assistant, _, ok := scanMessages(s, false)
		// Decode into maps: struct decoding would match keys case-insensitively.
		var list []map[string]any
		if json.Unmarshal([]byte(s), &list) != nil {
			return
		}
		var conv []llmschema.Message
		for _, m := range list {
			if m == nil {
				return
			}
			role, isStr := m["role"].(string)
			if _, has := m["role"]; has && !isStr {
				return
			}
			cm := llmschema.Message{Role: role}
			if rawParts, has := m["parts"]; has {
				parts, isList := rawParts.([]any)
				if !isList {
					return
				}
				for _, el := range parts {
					p, isObj := el.(map[string]any)
					if !isObj {
						return
					}
					typ, _ := p["type"].(string)
					if _, has := p["type"]; has {
						if _, isStr := p["type"].(string); !isStr {
							return
						}
					}
					if typ == "tool_call" {
						return // argument rendering is compared by the golden tests
					}
					if _, isStr := p["content"].(string); !isStr && typ == "text" && p["content"] != nil {
						return // non-string text content: the readers are allowed to differ
					}
					cm.Parts = append(cm.Parts, llmschema.Part{Type: typ, Content: p["content"]})
				}
			}
			conv = append(conv, cm)
		}
		if !ok {
			t.Fatalf("scanMessages rejected a list encoding/json accepts: %s", s)
		}
		if want := lastUserText(conv); user != want {
			t.Fatalf("user text %q, encoding/json says %q for %s", user, want, s)
		}
		if want := assistantText(conv); assistant != want {
			t.Fatalf("assistant text %q, encoding/json says %q for %s", assistant, want, s)
		}
	})
}

// FuzzFastMessages checks the map-free message decoder against the general converter:
// wherever the fast path accepts valid JSON, both must produce the same messages.
func FuzzFastMessages(f *testing.F) {
	for _, seed := range []string{
		`[{"role":"system","content":"You are a concise geography assistant."},{"role":"user","content":[{"type":"text","text":"What is the capital of France?"}]}]`,
		`[{"role":"user","content":[{"type":"text","text":"a\"b","providerOptions":{"x":{"y":[1]}}},{"type":"text","text":""}]}]`,
		`[{"role":"assistant","content":""},{"role":"user","content":[]},{"role":"user"}]`,
		`[{"role":"tool","content":"x"}]`, `[{"role":"user","content":"x","name":"n"}]`, `[]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := fastMessages(s)
		if !ok || !json.Valid([]byte(s)) {
			return
		}
		var list []any
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			t.Fatalf("valid JSON the fast path accepted is not a list: %v", err)
		}
		slow, ok := messagesFromAny(list)
		if !ok {
			t.Fatalf("fast path accepted what the general converter rejects: %s", s)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("fast %#v\nslow %#v\nfor %s", fast, slow, s)
		}
	})
}
