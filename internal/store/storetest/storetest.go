// Package storetest is the conformance suite every store.Store backend must pass.
package storetest

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/tracehound/tracehound/internal/llmschema"
	"github.com/tracehound/tracehound/internal/store"
)

// Factory opens a fresh, empty store for one test.
type Factory func(t *testing.T) store.Store

// Run runs the whole suite against a backend.
func Run(t *testing.T, open Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"RecordAssembly_FieldsFromCanonicalAttributes", testFields},
		{"RecordAssembly_OutOfOrderSpansGiveSameRecord", testOutOfOrder},
		{"RecordAssembly_DuplicateSpansAreMerged", testDuplicates},
		{"RecordAssembly_CallRecordedTwiceCountsOnce", testNestedCalls},
		{"RecordAssembly_BatchingDoesNotChangeTheRecord", testBatching},
		{"RecordAssembly_LateSpanUpdatesRecord", testLateSpan},
		{"GetSpans_OrderedByStart", testGetSpans},
		{"WriteSpans_KeepsNoReferenceToRaw", testRawNotKept},
		{"ListRecords_WithMessagesGivesFirstInputAndLastOutput", testMessages},
		{"ListRecords_NewestFirstWithStableCursor", testPagination},
		{"ListRecords_BadCursor", testBadCursor},
		{"Tenancy_ProjectsAreIsolated", testTenancy},
		{"WriteSpans_ConcurrentWritersAllDurable", testConcurrent},
	}
	tests = append(tests, queryTests...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// SpanSpec describes a test span; IDs are small integers turned into IDs.
type SpanSpec struct {
	Trace, ID, Parent int
	Name              string
	StartMS, EndMS    int64
	Attrs             map[string]any
	Error             bool
	Service           string
}

var base = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// TraceID is the trace ID a SpanSpec's Trace number maps to.
func TraceID(n int) pcommon.TraceID {
	var id pcommon.TraceID
	id[0], id[15] = 0x4b, byte(n)
	id[14] = byte(n >> 8)
	return id
}

// TraceHex is TraceID as hex.
func TraceHex(n int) string {
	id := TraceID(n)
	return hex.EncodeToString(id[:])
}

func hexID(id pcommon.SpanID) string { return hex.EncodeToString(id[:]) }

func spanID(n int) pcommon.SpanID {
	var id pcommon.SpanID
	if n == 0 {
		return id
	}
	id[0], id[7] = 0xaa, byte(n)
	return id
}

// MakeSpans turns specs into store spans of a project.
func MakeSpans(t testing.TB, project string, specs ...SpanSpec) []store.Span {
	t.Helper()
	out := make([]store.Span, 0, len(specs))
	for _, sp := range specs {
		res := pcommon.NewResource()
		svc := sp.Service
		if svc == "" {
			svc = "test-app"
		}
		res.Attributes().PutStr(llmschema.ServiceName, svc)
		scope := pcommon.NewInstrumentationScope()
		scope.SetName("storetest")
		s := ptrace.NewSpan()
		s.SetTraceID(TraceID(sp.Trace))
		s.SetSpanID(spanID(sp.ID))
		s.SetParentSpanID(spanID(sp.Parent))
		s.SetName(sp.Name)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.StartMS) * time.Millisecond)))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(base.Add(time.Duration(sp.EndMS) * time.Millisecond)))
		if sp.Error {
			s.Status().SetCode(ptrace.StatusCodeError)
		}
		if err := s.Attributes().FromRaw(sp.Attrs); err != nil {
			t.Fatalf("attributes: %v", err)
		}
		st, err := store.FromPData(project, res, scope, s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

// AgentTrace is a 4-span agent trace: workflow root → llm call, tool, llm call.
func AgentTrace(trace int, startMS int64) []SpanSpec {
	return []SpanSpec{
		{Trace: trace, ID: 1, Name: "capital_quiz.workflow", StartMS: startMS, EndMS: startMS + 2333, Attrs: map[string]any{
			llmschema.SpanKind: "workflow", llmschema.RunID: "batch-job-123", llmschema.UserID: "user-42",
			llmschema.SessionID: "sess-1", llmschema.MetadataPrefix + "workflow": "capital_quiz",
		}},
		{Trace: trace, ID: 2, Parent: 1, Name: "chat gpt-4o-mini", StartMS: startMS + 10, EndMS: startMS + 900, Attrs: map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: "gpt-4o-mini-2024-07-18",
			llmschema.RequestModel: "gpt-4o-mini", llmschema.Input: "What is the capital of France?",
			llmschema.Output: "→ lookup_capital({\"country\":\"France\"})", llmschema.UsageInputTokens: 50,
			llmschema.UsageOutputTokens: 20, llmschema.CostUSD: 0.00002,
		}},
		{Trace: trace, ID: 3, Parent: 1, Name: "lookup_capital.tool", StartMS: startMS + 910, EndMS: startMS + 1000, Attrs: map[string]any{
			llmschema.SpanKind: "tool", llmschema.Input: "{\"country\":\"France\"}", llmschema.Output: "Paris",
		}},
		{Trace: trace, ID: 4, Parent: 1, Name: "chat gpt-4o-mini", StartMS: startMS + 1010, EndMS: startMS + 2300, Attrs: map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: "gpt-4o-mini-2024-07-18",
			llmschema.Input: "What is the capital of France?", llmschema.Output: "The capital of France is Paris.",
			llmschema.UsageInputTokens: 43, llmschema.UsageOutputTokens: 26, llmschema.UsageCacheRead: 5,
			llmschema.CostUSD: 0.0000215,
		}},
	}
}

func write(t *testing.T, s store.Store, spans []store.Span) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.WriteSpans(ctx, spans); err != nil {
		t.Fatalf("WriteSpans: %v", err)
	}
}

func get(t *testing.T, s store.Store, project string, trace int) *store.Record {
	t.Helper()
	r, err := s.GetRecord(context.Background(), project, TraceHex(trace))
	if err != nil {
		t.Fatalf("GetRecord(%s, %d): %v", project, trace, err)
	}
	return r
}

func recordJSON(t *testing.T, r *store.Record) string {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testFields(t *testing.T, open Factory) {
	s := open(t)
	write(t, s, MakeSpans(t, "p1", AgentTrace(1, 0)...))
	r := get(t, s, "p1", 1)
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"id", r.ID, TraceHex(1)},
		{"trace_id", r.TraceID, TraceHex(1)},
		{"project_id", r.ProjectID, "p1"},
		{"run_id", string(r.RunID), "batch-job-123"},
		{"source", r.Source, "otlp"},
		{"status", r.Status, store.StatusOK},
		{"name", r.Name, "capital_quiz.workflow"},
		{"service", r.Service, "test-app"},
		{"user_id", string(r.UserID), "user-42"},
		{"session_id", string(r.SessionID), "sess-1"},
		{"models", fmt.Sprint(r.Models), "[gpt-4o-mini-2024-07-18]"},
		{"start", r.Start, base},
		{"end", r.End, base.Add(2333 * time.Millisecond)},
		{"duration_ms", r.DurationMS, 2333.0},
		{"input", r.Input, "What is the capital of France?"},
		{"output", r.Output, "The capital of France is Paris."},
		{"usage", r.Usage, store.Usage{Input: 93, Output: 46, Total: 139, CacheRead: 5}},
		{"span_count", r.SpanCount, 4},
		{"llm_call_count", r.LLMCallCount, 2},
		{"metadata", fmt.Sprint(r.Metadata), "map[workflow:capital_quiz]"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if d := r.CostUSD - 0.0000415; d > 1e-12 || d < -1e-12 {
		t.Errorf("cost_usd = %v, want 0.0000415", r.CostUSD)
	}
}

func testOutOfOrder(t *testing.T, open Factory) {
	want := ""
	rng := rand.New(rand.NewSource(7))
	for round := 0; round < 6; round++ {
		s := open(t)
		spans := MakeSpans(t, "p1", AgentTrace(1, 0)...)
		rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
		// Children before parents, each span in its own batch, as unbatched SDKs send them.
		for i := range spans {
			write(t, s, spans[i:i+1])
		}
		got := recordJSON(t, get(t, s, "p1", 1))
		if round == 0 {
			want = got
			continue
		}
		if got != want {
			t.Fatalf("order %d gave a different record:\n got %s\nwant %s", round, got, want)
		}
	}
}

// testNestedCalls: an instrumentation's LLM span wrapping the provider SDK's own span for the
// same call, and a call span wrapping two steps, count their inner calls only, whatever the
// order the spans arrive in.
func testNestedCalls(t *testing.T, open Factory) {
	call := func(id, parent int, model string, in, out int64, cost float64) SpanSpec {
		return SpanSpec{Trace: 1, ID: id, Parent: parent, Name: fmt.Sprint("call ", id), StartMS: int64(10 * id), EndMS: int64(10*id + 5),
			Attrs: map[string]any{llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.ResponseModel: model,
				llmschema.UsageInputTokens: in, llmschema.UsageOutputTokens: out, llmschema.CostUSD: cost}}
	}
	specs := []SpanSpec{
		{Trace: 1, ID: 1, Name: "agent", StartMS: 0, EndMS: 200, Attrs: map[string]any{llmschema.SpanKind: "agent"}},
		call(2, 1, "claude-sonnet-4-5", 100, 20, 0.5),          // OpenInference "Anthropic Messages"
		call(3, 2, "claude-sonnet-4-5-20250929", 100, 20, 0.5), // the SDK's own span of the same call
		call(4, 1, "gpt-4o", 30, 10, 0.25),                     // Vercel-style call of two steps
		call(5, 4, "gpt-4o-2024-08-06", 10, 5, 0.125),
		call(6, 4, "gpt-4o-2024-08-06", 20, 5, 0.125),
		call(7, 1, "gpt-4o-mini", 1, 1, 0), // a plain call
	}
	rng := rand.New(rand.NewSource(3))
	for round := 0; round < 8; round++ {
		s := open(t)
		spans := MakeSpans(t, "p1", specs...)
		if round > 0 {
			rng.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
		}
		for i := range spans {
			write(t, s, spans[i:i+1])
		}
		r := get(t, s, "p1", 1)
		models := append([]string(nil), r.Models...)
		sort.Strings(models)
		if r.LLMCallCount != 4 || r.Usage.Input != 131 || r.Usage.Output != 31 || r.Usage.Total != 162 || r.CostUSD != 0.75 ||
			strings.Join(models, ",") != "claude-sonnet-4-5-20250929,gpt-4o-2024-08-06,gpt-4o-mini" {
			t.Fatalf("order %d: calls=%d usage=%+v cost=%v models=%v; want 4 calls, 131/31/162 tokens, $0.75, the inner calls' models",
				round, r.LLMCallCount, r.Usage, r.CostUSD, models)
		}
	}
}

// testBatching writes the same spans in one request, one span per request, and in two
// requests with duplicates and two traces mixed: every record must come out the same.
func testBatching(t *testing.T, open Factory) {
	specs := append(AgentTrace(1, 0), AgentTrace(2, 50)...)
	one := open(t)
	write(t, one, MakeSpans(t, "p1", specs...))
	single := open(t)
	for _, sp := range MakeSpans(t, "p1", specs...) {
		write(t, single, []store.Span{sp})
	}
	mixed := open(t)
	all := MakeSpans(t, "p1", specs...)
	write(t, mixed, append(append([]store.Span{}, all[5:]...), all[0], all[5]))
	write(t, mixed, append(append([]store.Span{}, all[:5]...), all[2]))
	for _, trace := range []int{1, 2} {
		want := recordJSON(t, get(t, one, "p1", trace))
		for name, s := range map[string]store.Store{"span by span": single, "mixed": mixed} {
			if got := recordJSON(t, get(t, s, "p1", trace)); got != want {
				t.Errorf("trace %d written %s:\n got %s\nwant %s", trace, name, got, want)
			}
		}
	}
	for _, q := range []string{"capital", "paris"} {
		for name, s := range map[string]store.Store{"one request": one, "span by span": single, "mixed": mixed} {
			if got := ids(list(t, s, "p1", store.Query{Filter: store.Filter{Text: q}})); got != "2,1" {
				t.Errorf("%s: search %q finds %q, want 2,1", name, q, got)
			}
		}
	}
}

func testDuplicates(t *testing.T, open Factory) {
	s := open(t)
	spans := MakeSpans(t, "p1", AgentTrace(1, 0)...)
	write(t, s, spans)
	write(t, s, spans)
	write(t, s, append(append([]store.Span{}, spans...), spans...))
	r := get(t, s, "p1", 1)
	if r.SpanCount != 4 || r.LLMCallCount != 2 || r.Usage.Total != 139 {
		t.Fatalf("after duplicates: span_count=%d llm_call_count=%d total=%d, want 4, 2, 139", r.SpanCount, r.LLMCallCount, r.Usage.Total)
	}
	got, err := s.GetSpans(context.Background(), "p1", TraceHex(1))
	if err != nil || len(got) != 4 {
		t.Fatalf("GetSpans = %d spans, %v; want 4", len(got), err)
	}
}

func testLateSpan(t *testing.T, open Factory) {
	s := open(t)
	all := AgentTrace(1, 0)
	write(t, s, MakeSpans(t, "p1", all[1:3]...))
	r := get(t, s, "p1", 1)
	if r.Name != "chat gpt-4o-mini" || r.Output != "→ lookup_capital({\"country\":\"France\"})" {
		t.Fatalf("before late spans: name=%q output=%q", r.Name, r.Output)
	}
	write(t, s, MakeSpans(t, "p1", all[3]))
	write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 1, ID: 9, Parent: 4, Name: "guard", StartMS: 2400, EndMS: 3000, Error: true}))
	write(t, s, MakeSpans(t, "p1", all[0]))
	r = get(t, s, "p1", 1)
	if r.Name != "capital_quiz.workflow" || r.Output != "The capital of France is Paris." || r.SpanCount != 5 {
		t.Fatalf("after late spans: name=%q output=%q spans=%d", r.Name, r.Output, r.SpanCount)
	}
	if r.Status != store.StatusError || r.DurationMS != 3000 {
		t.Fatalf("late error span: status=%q duration=%v, want error, 3000", r.Status, r.DurationMS)
	}
	page, err := s.ListRecords(context.Background(), "p1", store.Query{})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("a record whose start moved must be listed once: %d records, %v", len(page.Records), err)
	}
}

// testRawNotKept holds stores to WriteSpans' promise that the caller may reuse the Raw
// forms' memory once it returns nil (the records exporter recycles it): the stored spans
// still decode to what was written after the written bytes are overwritten.
func testRawNotKept(t *testing.T, open Factory) {
	s := open(t)
	spans := MakeSpans(t, "p1", AgentTrace(1, 0)...)
	want := make([][]byte, len(spans))
	for i := range spans {
		want[i] = bytes.Clone(spans[i].Raw)
	}
	write(t, s, spans)
	for i := range spans {
		for j := range spans[i].Raw {
			spans[i].Raw[j] = 0xff
		}
	}
	got, err := s.GetSpans(context.Background(), "p1", TraceHex(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(spans) {
		t.Fatalf("read %d spans, wrote %d", len(got), len(spans))
	}
	for _, g := range got {
		found := false
		for _, w := range want {
			found = found || bytes.Equal(g.Raw, w)
		}
		if !found {
			t.Fatalf("span %s reads back as %x, not as written", g.SpanIDHex(), g.Raw)
		}
	}
}

// testMessages checks the message lists a test-case export reads: the first LLM call's input
// and the last one's output, whichever order and write the calls come in, with a late
// earlier call taking over the input.
func testMessages(t *testing.T, open Factory) {
	s := open(t)
	msgs := func(role, text string) string {
		return `[{"role":"` + role + `","parts":[{"type":"text","content":"` + text + `"}]}]`
	}
	call := func(id int, start int64, in, out string) SpanSpec {
		return SpanSpec{Trace: 1, ID: id, Parent: 1, Name: "chat", StartMS: start, EndMS: start + 100, Attrs: map[string]any{
			llmschema.SpanKind: "llm", llmschema.LLMCall: true, llmschema.Input: in, llmschema.Output: out,
			llmschema.InputMessages: msgs("user", in), llmschema.OutputMessages: msgs("assistant", out)}}
	}
	root := SpanSpec{Trace: 1, ID: 1, Name: "agent", StartMS: 0, EndMS: 1000, Attrs: map[string]any{llmschema.SpanKind: "agent"}}
	list := func() *store.Record {
		t.Helper()
		page, err := s.ListRecords(context.Background(), "p1", store.Query{Limit: 10, WithMessages: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Records) != 1 {
			t.Fatalf("listed %d records, want 1", len(page.Records))
		}
		return page.Records[0]
	}
	check := func(step string, wantIn, wantOut string) {
		t.Helper()
		a := list().Assembly
		if a.InputMessages != msgs("user", wantIn) || a.OutputMessages != msgs("assistant", wantOut) {
			t.Fatalf("%s: messages %s → %s, want %s → %s", step, a.InputMessages, a.OutputMessages,
				msgs("user", wantIn), msgs("assistant", wantOut))
		}
	}
	write(t, s, MakeSpans(t, "p1", root, call(3, 300, "third question", "third answer")))
	check("one call", "third question", "third answer")
	write(t, s, MakeSpans(t, "p1", call(2, 200, "second question", "second answer")))
	check("an earlier call later", "second question", "third answer")
	write(t, s, MakeSpans(t, "p1", call(4, 400, "fourth question", "fourth answer"), call(5, 50, "first question", "first answer")))
	check("calls on both sides", "first question", "fourth answer")
}

func testGetSpans(t *testing.T, open Factory) {
	s := open(t)
	specs := AgentTrace(1, 0)
	write(t, s, MakeSpans(t, "p1", specs[3], specs[0], specs[2], specs[1]))
	spans, err := s.GetSpans(context.Background(), "p1", TraceHex(1))
	if err != nil {
		t.Fatal(err)
	}
	for i, sp := range spans {
		if sp.Name != specs[i].Name || sp.SpanIDHex() != hexID(spanID(specs[i].ID)) {
			t.Fatalf("span %d = %s %s, want %s", i, sp.Name, sp.SpanIDHex(), specs[i].Name)
		}
	}
	if spans[1].ParentSpanIDHex() != spans[0].SpanIDHex() || spans[0].ParentSpanIDHex() != "" {
		t.Fatal("parent links lost")
	}
	if _, err := s.GetSpans(context.Background(), "p1", TraceHex(99)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown trace: %v, want ErrNotFound", err)
	}
}

func testPagination(t *testing.T, open Factory) {
	s := open(t)
	const n = 25
	for i := 1; i <= n; i++ {
		write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: i, ID: 1, Name: fmt.Sprint("t", i), StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 5}))
	}
	// Two records with the same start time must both be listed.
	write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 100, ID: 1, Name: "same", StartMS: 10000, EndMS: 10005}))
	seen := map[string]bool{}
	var prev time.Time
	cursor := ""
	pages := 0
	for {
		page, err := s.ListRecords(context.Background(), "p1", store.Query{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if pages == 1 {
			// A record arriving between pages is newer than the cursor and must not shift pages.
			write(t, s, MakeSpans(t, "p1", SpanSpec{Trace: 200, ID: 1, Name: "new", StartMS: 99000, EndMS: 99001}))
		}
		for _, r := range page.Records {
			if seen[r.ID] {
				t.Fatalf("record %s listed twice", r.ID)
			}
			seen[r.ID] = true
			if !prev.IsZero() && r.Start.After(prev) {
				t.Fatalf("not newest first: %v after %v", r.Start, prev)
			}
			prev = r.Start
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != n+1 || pages != 3 {
		t.Fatalf("listed %d records in %d pages, want %d in 3", len(seen), pages, n+1)
	}
	if seen[TraceHex(200)] {
		t.Fatal("record newer than the first page leaked into later pages")
	}
}

func testBadCursor(t *testing.T, open Factory) {
	s := open(t)
	for _, c := range []string{"!!", "AAAA", "not-base64-at-all-%%"} {
		if _, err := s.ListRecords(context.Background(), "p1", store.Query{Cursor: c}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func testTenancy(t *testing.T, open Factory) {
	s := open(t)
	write(t, s, MakeSpans(t, "alpha", AgentTrace(1, 0)...))
	write(t, s, MakeSpans(t, "beta", SpanSpec{Trace: 2, ID: 1, Name: "b", EndMS: 1}))
	// The same trace ID in two projects stays two records.
	write(t, s, MakeSpans(t, "alph", SpanSpec{Trace: 1, ID: 1, Name: "other", EndMS: 1}))
	if _, err := s.GetRecord(context.Background(), "beta", TraceHex(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("beta reads alpha's record: %v", err)
	}
	if _, err := s.GetSpans(context.Background(), "beta", TraceHex(1)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("beta reads alpha's spans: %v", err)
	}
	page, err := s.ListRecords(context.Background(), "beta", store.Query{})
	if err != nil || len(page.Records) != 1 || page.Records[0].ID != TraceHex(2) {
		t.Fatalf("beta lists %v, %v", page.Records, err)
	}
	if r := get(t, s, "alpha", 1); r.SpanCount != 4 {
		t.Fatalf("alpha's record mixed with another project's: %d spans", r.SpanCount)
	}
}

func testConcurrent(t *testing.T, open Factory) {
	s := open(t)
	const writers, traces = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < traces; i++ {
				spans := MakeSpans(t, "p1", AgentTrace(w*traces+i+1, int64(i))...)
				if err := s.WriteSpans(context.Background(), spans); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	total := 0
	cursor := ""
	for {
		page, err := s.ListRecords(context.Background(), "p1", store.Query{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			if r.SpanCount != 4 {
				t.Fatalf("record %s has %d spans, want 4", r.ID, r.SpanCount)
			}
		}
		total += len(page.Records)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if total != writers*traces {
		t.Fatalf("%d records, want %d", total, writers*traces)
	}
}
