package llmextractprocessor

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/tracehound/tracehound/internal/llmschema"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// canonicalKeys are the attributes a golden file records: the canonical view only, so
// that goldens show what llmextract decided rather than repeat the input.
var canonicalKeys = map[string]bool{
	llmschema.OperationName: true, llmschema.ProviderName: true, llmschema.RequestModel: true,
	llmschema.ResponseModel: true, llmschema.ResponseID: true, llmschema.InputMessages: true,
	llmschema.OutputMessages: true, llmschema.SystemInstructions: true, llmschema.UsageInputTokens: true,
	llmschema.UsageOutputTokens: true, llmschema.UsageCacheRead: true, llmschema.UsageCacheCreation: true,
	llmschema.FinishReasons: true, llmschema.ToolName: true, llmschema.ToolCallID: true,
	llmschema.ToolCallArguments: true, llmschema.ToolCallResult: true, llmschema.SessionID: true,
	llmschema.UserID: true, llmschema.ScorecardProjectID: true,
}

func isCanonical(k string) bool {
	return canonicalKeys[k] || strings.HasPrefix(k, "tracehound.")
}

type authData map[string]any

func (a authData) GetAttribute(k string) any { return a[k] }
func (a authData) GetAttributeNames() []string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	return names
}

func authContext(project string) context.Context {
	return authContextFrom(authData{llmschema.ProjectAuthAttribute: project})
}

func authContextFrom(a client.AuthData) context.Context {
	return client.NewContext(context.Background(), client.Info{Auth: a})
}

func readTraces(t testing.TB, path string) ptrace.Traces {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(raw)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return td
}

// runProcessor sends td through a processor built by the factory, as the collector would.
func runProcessor(t testing.TB, ctx context.Context, cfg *Config, td ptrace.Traces) ptrace.Traces {
	t.Helper()
	sink := &consumertest.TracesSink{}
	p, err := NewFactory().CreateTraces(ctx, processortest.NewNopSettings(componentType), cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx, componenttest.NewNopHost()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	}()
	if err := p.ConsumeTraces(ctx, td); err != nil {
		t.Fatal(err)
	}
	all := sink.AllTraces()
	if len(all) != 1 {
		t.Fatalf("sink got %d batches, want 1", len(all))
	}
	return all[0]
}

type goldenSpan struct {
	Name       string         `json:"name"`
	SpanID     string         `json:"span_id"`
	Attributes map[string]any `json:"attributes"`
}

type goldenDoc struct {
	Resource map[string]any `json:"resource_project_keys,omitempty"`
	Spans    []goldenSpan   `json:"spans"`
}

func canonicalView(td ptrace.Traces) goldenDoc {
	var doc goldenDoc
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		rs.Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
			if k == llmschema.ScorecardProjectID || k == llmschema.ProjectID || k == llmschema.TracehoundProjectIDRes {
				if doc.Resource == nil {
					doc.Resource = map[string]any{}
				}
				doc.Resource[k] = v.AsRaw()
			}
			return true
		})
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				s := spans.At(k)
				gs := goldenSpan{Name: s.Name(), SpanID: s.SpanID().String(), Attributes: map[string]any{}}
				s.Attributes().Range(func(key string, v pcommon.Value) bool {
					if isCanonical(key) {
						raw := v.AsRaw()
						// JSON-valued canonical attributes are decoded so goldens are readable.
						if str, ok := raw.(string); ok && (key == llmschema.InputMessages || key == llmschema.OutputMessages ||
							key == llmschema.SystemInstructions || key == llmschema.RetrievalDocuments) {
							var decoded any
							if json.Unmarshal([]byte(str), &decoded) == nil {
								raw = decoded
							}
						}
						gs.Attributes[key] = raw
					}
					return true
				})
				doc.Spans = append(doc.Spans, gs)
			}
		}
	}
	return doc
}

func goldenInputs(t *testing.T) []string {
	t.Helper()
	var inputs []string
	for _, pattern := range []string{"testdata/fixtures/*/*.otlp.json", "testdata/synthetic/*.otlp.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, m...)
	}
	sort.Strings(inputs)
	if len(inputs) < 15 {
		t.Fatalf("found only %d golden inputs", len(inputs))
	}
	return inputs
}

func goldenPath(input string) string {
	rel := strings.TrimPrefix(input, "testdata/")
	rel = strings.TrimSuffix(rel, ".otlp.json") + ".golden.json"
	return filepath.Join("testdata", "golden", rel)
}

// TestGolden_CanonicalViewPerConvention runs every captured payload and synthetic case
// through the processor (authenticated as project "proj-auth") and compares the canonical
// attributes with testdata/golden. Run with -update to regenerate after a reviewed change.
func TestGolden_CanonicalViewPerConvention(t *testing.T) {
	for _, input := range goldenInputs(t) {
		t.Run(strings.TrimPrefix(input, "testdata/"), func(t *testing.T) {
			out := runProcessor(t, authContext("proj-auth"), createDefaultConfig(), readTraces(t, input))
			got, err := json.MarshalIndent(canonicalView(out), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := goldenPath(input)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("canonical view of %s differs from %s (run with -update after review)\n--- got\n%s", input, path, got)
			}
		})
	}
}

// TestGolden_ProtobufBodiesMatchJSON feeds the captured protobuf request bodies (what the
// OTLP receiver actually decodes) and checks they yield the same canonical view as their
// OTLP/JSON twins, so the goldens hold for both encodings.
func TestGolden_ProtobufBodiesMatchJSON(t *testing.T) {
	pbs, err := filepath.Glob(filepath.Join("testdata", "fixtures", "*", "*.pb"))
	if err != nil || len(pbs) < 9 {
		t.Fatalf("found %d protobuf fixtures: %v", len(pbs), err)
	}
	for _, pb := range pbs {
		t.Run(pb, func(t *testing.T) {
			raw, err := os.ReadFile(pb)
			if err != nil {
				t.Fatal(err)
			}
			fromPB, err := (&ptrace.ProtoUnmarshaler{}).UnmarshalTraces(raw)
			if err != nil {
				t.Fatal(err)
			}
			fromJSON := readTraces(t, strings.TrimSuffix(pb, ".pb")+".otlp.json")
			ctx := authContext("proj-auth")
			a, _ := json.Marshal(canonicalView(runProcessor(t, ctx, createDefaultConfig(), fromPB)))
			b, _ := json.Marshal(canonicalView(runProcessor(t, ctx, createDefaultConfig(), fromJSON)))
			if !bytes.Equal(a, b) {
				t.Errorf("protobuf and JSON bodies differ:\n%s\n%s", a, b)
			}
		})
	}
}
